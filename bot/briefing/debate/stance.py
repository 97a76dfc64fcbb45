"""Which side of the debate a sentence argues for, read from its meaning.

Why not the passage's framing tag: a passage tagged with both framings weighs one against the other
sentence by sentence, and even a passage tagged with one framing often reports that framing in order
to reject it. So each sentence is read on its own, against each framing's description
(`prompts/framings/*.md`, one claim a line, edited by moderators):

- *relevance*: its cosine (MiniLM) to the nearest claim of either description. A sentence far from
  every claim of both (a date, a method, a name) argues for neither side, however the two compare;
- *topic removed*: every claim of both descriptions is about AI, China and the United States, and
  that shared topic dominates a raw cosine. The mean of all the claims' vectors stands for it and is
  subtracted from the claims and the sentence before they are compared, so what is compared is what
  separates one claim from the others;
- *contrast*: the sentence's mean similarity to the race description's NEAREST nearest claims minus
  the same for the cooperation description's;
- *margin*: under `MARGIN` the sentence is neutral and supports neither side.

Not read: negation. The descriptions state each side's claims with their own negations where the
side puts them that way, so a negated sentence already sits near the claim it makes; flipping it on
the parse's negation only misread the labelled sentences (docs/debates.md).

The motion is read the same way (`motion_side`): the framing its text is nearer to is the one it
favours, so the race side argues for a motion near the race framing and against one near the
cooperation framing. Accuracy on hand-labelled source sentences: `tests/data/stance_sentences.jsonl`
and docs/debates.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bot.language import LanguageModels
from bot.terms import sentences_of

MARGIN = 0.08  # contrast under which a sentence argues for neither side (docs/debates.md)
RELEVANCE = 0.4  # cosine to the nearest claim of either side under which a sentence argues neither
NEAREST = 2  # a side's score: the mean of its description's NEAREST closest claims
Matrix = npt.NDArray[np.float32]  # sentence vectors, one a row (the encoder's own type is private)


@dataclass(frozen=True, slots=True)
class Stance:
    """A sentence's reading: `side` it argues for ("" when neutral) and its signed `contrast`
    (positive toward the first side)."""

    side: str
    contrast: float


class StanceReader:
    """Reads sentences against two framing descriptions (first side, second side)."""

    def __init__(self, models: LanguageModels, descriptions: Mapping[str, str]) -> None:
        self.models = models
        self.sides: tuple[str, str] = tuple(descriptions)  # type: ignore[assignment]
        claims = {side: models.embed(_claims(text)) for side, text in descriptions.items()}
        self._claims: dict[str, Matrix] = claims
        self._topic: Matrix = np.vstack(list(claims.values())).mean(axis=0)
        self._centred: dict[str, Matrix] = {side: self._off_topic(c) for side, c in claims.items()}

    @classmethod
    def of(cls, models: LanguageModels | None, descriptions: Mapping[str, str]) -> StanceReader | None:
        """A reader, or None without a sentence encoder (the bot then reads framing tags alone)."""
        if models is None or not models.semantic or len(descriptions) != 2:
            return None
        return cls(models, descriptions)

    def contrasts(self, texts: Sequence[str]) -> list[float]:
        """Signed contrast of each text, topic removed (first side minus second)."""
        return self._measure(texts)[0]

    def read(self, texts: Sequence[str]) -> list[Stance]:
        """Each text's stance: neutral when it is far from every claim or the contrast is small."""
        contrasts, relevance = self._measure(texts)
        readings = []
        for contrast, near in zip(contrasts, relevance, strict=True):
            neutral = near < RELEVANCE or abs(contrast) < MARGIN
            side = "" if neutral else self.sides[0 if contrast > 0 else 1]
            readings.append(Stance(side, round(contrast, 4)))
        return readings

    def stance(self, text: str) -> Stance:
        return self.read([text])[0]

    def motion_side(self, motion: str) -> str:
        """The framing the motion favours: the nearer one, however small the difference (a motion
        has a direction even when its words are shared by both framings)."""
        contrast = self.contrasts([motion])[0]
        return self.sides[0 if contrast >= 0 else 1]

    def _measure(self, texts: Sequence[str]) -> tuple[list[float], list[float]]:
        """Each text's contrast (topic removed) and its relevance (raw cosine to the nearest claim)."""
        if not texts:
            return [], []
        vectors = self.models.embed(list(texts))
        relevance = np.max([(vectors @ c.T).max(axis=1) for c in self._claims.values()], axis=0)
        centred = self._off_topic(vectors)
        first, second = (_nearest(centred @ self._centred[side].T) for side in self.sides)
        return [float(v) for v in first - second], [float(v) for v in relevance]

    def _off_topic(self, vectors: Matrix) -> Matrix:
        """Vectors less the shared topic, unit length again."""
        moved: Matrix = vectors - self._topic
        unit: Matrix = moved / np.linalg.norm(moved, axis=1, keepdims=True)
        return unit


def _claims(text: str) -> list[str]:
    """A description's claims: its lines, each split into sentences."""
    return [s for line in text.splitlines() if line.strip() for s in sentences_of(line.strip())]


def _nearest(similarities: Matrix) -> Matrix:
    """Mean of each row's NEAREST highest values."""
    take = min(NEAREST, similarities.shape[1])
    top: Matrix = np.sort(similarities, axis=1)[:, -take:].mean(axis=1)
    return top
