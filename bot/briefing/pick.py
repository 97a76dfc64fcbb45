"""`Pick`: a source sentence chosen because it answers the question, what weighing the evidence
produces (evidence.py) and what deciding, answering and debating read (answerability.py, answer.py,
debate/)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.index import ScoredPassage


@dataclass(frozen=True, slots=True)
class Pick:
    """A source sentence chosen because it answers the question."""

    sentence: str
    scored: ScoredPassage
    score: float
    terms: frozenset[str]
    meaning: float = 0.0  # semantic similarity to the question (0.0 without the sentence encoder)
    before: frozenset[str] = frozenset()  # the words of the sentence before it in its passage
    gives: bool = False  # it gives the kind of thing the question asks for (a figure, a date, a name)
    in_role: bool = False  # it names a person in the role a who-question asks about
