"""Result types of the briefing domain, shared by every mode and front end.

They are plain dataclasses with a `to_json()` giving the documented `--json` shapes, so the console
prints them and the Discord layer formats them without knowing how they were produced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.engine.base import Queued
from bot.index import ScoredPassage


@dataclass(frozen=True, slots=True)
class Citation:
    """A verified citation: `quote` is a verbatim sentence of the passage `id`."""

    number: int  # the [n] used in the answer text
    id: str
    source: str
    title: str
    quote: str
    framing: tuple[str, ...] = ()

    def to_json(self, *, with_framing: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "source": self.source,
            "title": self.title,
            "quote": self.quote,
        }
        if with_framing:
            data["framing"] = (
                "both" if len(self.framing) > 1 else (self.framing[0] if self.framing else "neutral")
            )
        return data


def passage_json(scored: ScoredPassage, *, with_score: bool = True) -> dict[str, Any]:
    """The documented passage shape: {"id", "source", "title", "text", "score"}."""
    p = scored.passage
    data: dict[str, Any] = {"id": p.id, "source": p.source, "title": p.title, "text": p.text}
    if with_score:
        data["score"] = round(scored.score, 4)
    return data


@dataclass(slots=True)
class Answer:
    """A grounded answer: the cleaned text, its verified citations and what it was built from."""

    question: str
    text: str
    citations: list[Citation]
    passages: list[ScoredPassage]
    model: str
    timings: dict[str, float] = field(default_factory=dict)
    grounded: float = 1.0
    unsupported: list[str] = field(default_factory=list)
    kind: str = "answer"  # "answer", "off_topic", "not_covered", "no_sources"
    corrected_premise: bool = False  # the answer says the question's premise is contradicted

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.text,
            "citations": [c.to_json() for c in self.citations],
            "passages": [passage_json(p) for p in self.passages],
            "model": self.model,
            "timings": self.timings,
            "grounded": round(self.grounded, 3),
            "unsupported": self.unsupported,
            "corrected_premise": self.corrected_premise,
        }


@dataclass(frozen=True, slots=True)
class Answered:
    """Last event of an answer stream."""

    answer: Answer


AnswerEvent = Queued | str | Answered
