"""What a debate produces: the events front ends stream, and the speech, judgement and result types
with their `--json` shapes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.briefing.models import Citation
from bot.briefing.sentences import Part, Sentence, render, render_sentences
from bot.engine.base import Queued
from bot.terms import words

SIDES = ("race", "cooperation")


def other_side(side: str) -> str:
    return SIDES[1 - SIDES.index(side)]


@dataclass(frozen=True, slots=True)
class MotionNote:
    """Sent first when the sources barely touch the motion (says so, and what they do cover), or
    when one side's framing alone says nothing on it."""

    text: str


@dataclass(frozen=True, slots=True)
class TurnStarted:
    """A speech begins, once: a second attempt of the model adds to what the first showed."""

    side: str
    round: int


@dataclass(slots=True)
class DebateTurn:
    """One speech: the model's checked sentences, then its side's source sentences where needed."""

    side: str
    round: int
    parts: list[Part]  # exactly what was streamed: the checked sentences, then any quotes
    citations: list[Citation]
    unsupported: list[str]
    own_framing_cited: bool  # the model's own checked sentences cite its framing
    regenerated: bool
    passage_ids: list[str]
    quoted: bool = False  # source sentences of its own framing (the extractive core) were added
    checked: int = 0  # model sentences long enough to check
    supported: int = 0  # ...that passed every check and were shown
    # (sentence, passage id) for each shown model sentence: the judge's candidates for the strongest point
    points: list[tuple[str, str]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return render(self.parts)

    @property
    def plain(self) -> str:
        """The speech without citation markers: what the other speakers and the judge read."""
        return render(self.parts, numbers=False)

    @property
    def argued(self) -> str:
        """The sentences the speech argued with (the model's checked ones and its quoted evidence),
        without the lines the bot composes around them: what the judge and the other side answer.
        The composed position and reasons come first in a speech and would fill any cut of it."""
        return " ".join(sentence.strip() for sentence, _ in self.points)

    @property
    def sentences(self) -> list[Sentence]:
        return [s for p in self.parts for s in p.sentences]

    @property
    def words(self) -> int:
        return len(words(self.plain))

    @property
    def grounded(self) -> float:
        return self.supported / self.checked if self.checked else 1.0

    def to_json(self) -> dict[str, Any]:
        return {
            "side": self.side,
            "round": self.round,
            "text": self.text,
            "citations": [c.to_json(with_framing=True) for c in self.citations],
            "unsupported": list(self.unsupported),
            "own_framing_cited": self.own_framing_cited,
            "regenerated": self.regenerated,
            "quoted": self.quoted,
            "words": self.words,
            "grounded": round(self.grounded, 3),
        }


@dataclass(frozen=True, slots=True)
class TurnFinished:
    turn: DebateTurn


@dataclass(frozen=True, slots=True)
class JudgeStarted:
    """The judge begins; the checked sentences of its model-written summary follow as `Part`s."""


@dataclass(slots=True)
class Judgement:
    """The judge's verdict-free summary: checked model sentences, then the deterministic structure."""

    citations: list[Citation]
    summary: list[Sentence]  # the model-written, checked part (empty when none of it passed)
    strongest: dict[str, list[Sentence]]  # side -> its strongest point, cited
    agreement: list[Sentence]
    open_question: list[Sentence]
    verdict: list[Sentence] = field(default_factory=list)  # who carried the motion on the sources
    unsupported: list[str] = field(default_factory=list)
    checked: int = 0
    supported: int = 0

    @property
    def parts(self) -> list[Part]:
        """The summary (exactly what was streamed), then a line per part of the structure."""
        lines = [
            ("**Strongest race point:**", self.strongest["race"]),
            ("**Strongest cooperation point:**", self.strongest["cooperation"]),
            ("**Where they agree:**", self.agreement),
            ("**What the sources leave open:**", self.open_question),
            ("**Verdict:**", self.verdict),
        ]
        summary = [Part(tuple(self.summary))] if self.summary else []
        # A section with nothing to say (no agreement found) is left out rather than filled.
        return summary + [
            Part(tuple(sentences), lead, separator="\n") for lead, sentences in lines if sentences
        ]

    @property
    def text(self) -> str:
        return render(self.parts)

    @property
    def grounded(self) -> float:
        return self.supported / self.checked if self.checked else 1.0

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "citations": [c.to_json(with_framing=True) for c in self.citations],
            "summary": render_sentences(self.summary),
            "strongest": {side: render_sentences(point) for side, point in self.strongest.items()},
            "agreement": render_sentences(self.agreement),
            "open": render_sentences(self.open_question),
            "verdict": render_sentences(self.verdict),
            "unsupported": list(self.unsupported),
            "grounded": round(self.grounded, 3),
        }


@dataclass(frozen=True, slots=True)
class Judged:
    judge: Judgement


@dataclass(slots=True)
class DebateResult:
    motion: str
    turns: list[DebateTurn]
    judge: Judgement | None
    model: str
    max_tokens_per_turn: int
    total_ms: float = 0.0
    note: str = ""  # how little the sources say about the motion ("" when they cover it)

    def balance(self) -> dict[str, dict[str, int]]:
        """Per side: words spoken, citations, unsupported sentences, turns, turns citing own framing."""
        figures = {}
        for side in SIDES:
            turns = [t for t in self.turns if t.side == side]
            figures[side] = {
                "words": sum(t.words for t in turns),
                "citations": sum(len(t.citations) for t in turns),
                "unsupported": sum(len(t.unsupported) for t in turns),
                "turns": len(turns),
                "own_framing_cited": sum(1 for t in turns if t.own_framing_cited),
                "max_tokens": self.max_tokens_per_turn,
            }
        return figures

    @property
    def grounded(self) -> float:
        """Supported sentences / checked sentences over every speech and the judge's summary."""
        parts: list[DebateTurn | Judgement] = [*self.turns, *([self.judge] if self.judge else [])]
        checked = sum(p.checked for p in parts)
        return sum(p.supported for p in parts) / checked if checked else 1.0

    def to_json(self) -> dict[str, Any]:
        return {
            "motion": self.motion,
            "note": self.note,
            "turns": [t.to_json() for t in self.turns],
            "judge": self.judge.to_json() if self.judge else None,
            "balance": self.balance(),
            "grounded": round(self.grounded, 3),
            "model": self.model,
            "total_ms": self.total_ms,
        }


@dataclass(frozen=True, slots=True)
class DebateFinished:
    result: DebateResult


DebateEvent = MotionNote | TurnStarted | Queued | Part | TurnFinished | JudgeStarted | Judged | DebateFinished
