"""Which side of the debate a sentence argues for, read from its meaning.

Why not the passage's framing tag: a passage tagged with both framings weighs one against the other
sentence by sentence, and even a passage tagged with one framing often reports that framing in order
to reject it ("... dangerous and a misreading"). So each sentence is read on its own:

- *contrast*: its cosine to the nearest claim of the race framing's description minus its cosine to
  the nearest claim of the cooperation framing's (`prompts/framings/*.md`, one claim a line, edited
  by moderators). Similarity to one description alone mostly measures the topic (every sentence
  here is about AI and China); the difference between two descriptions of the same topic is what
  is left of the stance;
- *negation*: a `neg` dependent on the sentence's main verb turns its claim round, so the contrast
  is flipped;
- *margin*: under `MARGIN` the sentence is neutral and supports neither side.

The motion is read the same way (`motion_side`): the framing its text is nearer to is the one it
favours, so the race side argues for a motion near the race framing and against one near the
cooperation framing. Accuracy on hand-labelled source sentences: `tests/data/stance_sentences.jsonl`
and docs/debates.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from bot.language import LanguageModels
from bot.language._minilm import Matrix
from bot.terms import sentences_of

MARGIN = 0.04  # contrast under which a sentence argues for neither side (docs/debates.md)
NEAREST = 2  # a side's score: the mean of its description's NEAREST closest claims


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
        self._claims: dict[str, Matrix] = {
            side: models.embed(_claims(text)) for side, text in descriptions.items()
        }

    @classmethod
    def of(cls, models: LanguageModels | None, descriptions: Mapping[str, str]) -> StanceReader | None:
        """A reader, or None without a sentence encoder (the bot then reads framing tags alone)."""
        if models is None or not models.semantic or len(descriptions) != 2:
            return None
        return cls(models, descriptions)

    def contrasts(self, texts: Sequence[str]) -> list[float]:
        """Signed contrast of each text (first side minus second), before negation."""
        if not texts:
            return []
        vectors = self.models.embed(list(texts))
        first, second = (_nearest(vectors @ self._claims[side].T) for side in self.sides)
        return [float(v) for v in first - second]

    def read(self, texts: Sequence[str], *, negation: bool = True) -> list[Stance]:
        """Each text's stance; a negated main verb flips it (with the parser loaded)."""
        readings = []
        for text, contrast in zip(texts, self.contrasts(texts), strict=True):
            if negation and self._negated(text):
                contrast = -contrast
            side = "" if abs(contrast) < MARGIN else self.sides[0 if contrast > 0 else 1]
            readings.append(Stance(side, round(contrast, 4)))
        return readings

    def stance(self, text: str) -> Stance:
        return self.read([text])[0]

    def motion_side(self, motion: str) -> str:
        """The framing the motion favours: the nearer one, however small the difference (a motion
        has a direction even when its words are shared by both framings). Not flipped on negation:
        a motion's "not" is mostly part of its claim ("must not fall behind" is the race framing's
        own claim), which the descriptions state the same way."""
        contrast = self.contrasts([motion])[0]
        return self.sides[0 if contrast >= 0 else 1]

    def _negated(self, text: str) -> bool:
        """Whether the main verb of the text's first sentence is negated in spaCy's parse."""
        if not self.models.parses:
            return False
        doc = self.models.parse(text)
        root = next(iter(doc.sents)).root if len(doc) else None
        return root is not None and any(child.dep_ == "neg" for child in root.children)


def _claims(text: str) -> list[str]:
    """A description's claims: its lines, each split into sentences."""
    return [s for line in text.splitlines() if line.strip() for s in sentences_of(line.strip())]


def _nearest(similarities: Matrix) -> Matrix:
    """Mean of each row's NEAREST highest values."""
    take = min(NEAREST, similarities.shape[1])
    top: Matrix = np.sort(similarities, axis=1)[:, -take:].mean(axis=1)
    return top
