"""Result types of the briefing domain, shared by every mode and front end.

They are plain dataclasses with a `to_json()` giving the documented `--json` shapes, so the console
prints them and the Discord layer formats them without knowing how they were produced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.briefing.progress import Stage
from bot.briefing.sentences import Citation, Part, own_words, render
from bot.engine.base import Queued
from bot.index import ScoredPassage

__all__ = ["Answer", "AnswerEvent", "Answered", "Citation", "passage_json"]


def passage_json(scored: ScoredPassage, *, with_score: bool = True) -> dict[str, Any]:
    """The documented passage shape: {"id", "source", "title", "text", "score"}."""
    p = scored.passage
    data: dict[str, Any] = {"id": p.id, "source": p.source, "title": p.title, "text": p.text}
    if with_score:
        data["score"] = round(scored.score, 4)
    return data


@dataclass(slots=True)
class Answer:
    """A grounded answer: its parts (checked sentences and quotes), its verified citations and what it
    was built from. `text` is the parts rendered, exactly as they were streamed."""

    question: str
    parts: list[Part]
    citations: list[Citation]
    passages: list[ScoredPassage]
    model: str
    timings: dict[str, float] = field(default_factory=dict)
    grounded: float = 1.0
    unsupported: list[str] = field(default_factory=list)
    kind: str = "answer"  # "answer", "off_topic" or "not_covered" ("no_sources" for a brief)
    corrected_premise: bool = False  # the answer opens by saying the sources contradict the question
    reason: str = ""  # what the answerability decision rested on (for moderators and eval)

    @property
    def text(self) -> str:
        return render(self.parts)

    @classmethod
    def canned(cls, question: str, message: str, **fields: Any) -> Answer:
        """A reply in the bot's own words (a decline), with nothing cited."""
        return cls(question=question, parts=[Part((own_words(message),))], citations=[], **fields)

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
            "kind": self.kind,
            "corrected_premise": self.corrected_premise,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Answered:
    """Last event of an answer stream."""

    answer: Answer


AnswerEvent = Queued | Stage | Part | Answered  # a Part: checked text to show (render_part)
