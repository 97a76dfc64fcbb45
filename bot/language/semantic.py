"""Meaning-level search over a set of texts: one vector per text and one per sentence.

Built once per prompt-set version (its texts' vectors come from `LanguageModels`' cache, so a reload
re-embeds only what changed) and read by retrieval, the answerability gate, sentence choice and the
fact-check. Cosine similarity of unit vectors is a dot product; a few thousand passages are one
matrix product, so no approximate index is needed at this size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from bot.language._minilm import Matrix
from bot.language.models import LanguageModels


@dataclass(frozen=True, slots=True)
class SemanticIndex:
    """Vectors of `texts` (one per retrievable unit) and of each unit's `sentences`."""

    models: LanguageModels
    texts: Matrix  # one row per unit
    sentences: tuple[tuple[str, ...], ...]
    sentence_vectors: tuple[Matrix, ...]
    # every sentence vector in one matrix, and the unit each row belongs to: one product ranks all
    every_sentence: Matrix = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    owners: npt.NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, dtype=np.intp))

    @classmethod
    def build(
        cls, models: LanguageModels, texts: Sequence[str], sentences: Sequence[Sequence[str]]
    ) -> SemanticIndex:
        """Embed every unit and every sentence in one batch (CPU work: call it off the event loop)."""
        flat = [s for unit in sentences for s in unit]
        vectors = models.embed([*texts, *flat])
        units, rest = vectors[: len(texts)], vectors[len(texts) :]
        per_unit: list[Matrix] = []
        start = 0
        for unit in sentences:
            per_unit.append(rest[start : start + len(unit)])
            start += len(unit)
        owners = np.repeat(np.arange(len(sentences), dtype=np.intp), [len(unit) for unit in sentences])
        return cls(models, units, tuple(tuple(u) for u in sentences), tuple(per_unit), rest, owners)

    def vector(self, text: str) -> Matrix:
        row: Matrix = self.models.embed([text])[0]
        return row

    def rank(self, query: str, limit: int) -> list[tuple[int, float]]:
        """(unit number, cosine) of the `limit` units closest to `query`, closest first. A unit is as
        close as its own vector or its closest sentence, whichever is closer: a reporter's passage
        runs over several things and its one vector averages them all, so a question in other words
        about one sentence of it finds it by that sentence; a question about the passage as a
        whole still finds it by its vector (docs/language.md, twelfth round)."""
        if not len(self.texts) or limit <= 0:
            return []
        vector = self.vector(query)
        scores = self.texts @ vector
        if len(self.owners):
            np.maximum.at(scores, self.owners, self.every_sentence @ vector)
        order = np.argsort(-scores, kind="stable")[:limit]
        return [(int(i), float(scores[i])) for i in order]

    def unit_similarity(self, query: str, unit: int) -> float:
        return float(self.texts[unit] @ self.vector(query))

    def sentence_similarities(self, query: str, unit: int) -> dict[str, float]:
        """Cosine of `query` with each sentence of `unit`, by sentence text."""
        if not self.sentences[unit]:
            return {}
        scores = self.sentence_vectors[unit] @ self.vector(query)
        return {s: float(v) for s, v in zip(self.sentences[unit], scores, strict=True)}

    def similarity(self, a: str, b: str) -> float:
        """Cosine of two free texts (both embedded through the cache)."""
        pair = self.models.embed([a, b])
        return float(pair[0] @ pair[1])
