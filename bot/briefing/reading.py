"""One claim read against one passage: what every check of the fact-check comparison shares.

Why a module of its own: the checks live in several modules (verdicts.py for negation, stance and
misreadings, figure_checks.py for figures, name_checks.py for names), and each reads the claim the
same way and records its mismatches in the same place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.briefing.claim_terms import terms_of, text_terms
from bot.briefing.negation import denied_report, negated_terms

__all__ = ["MISMATCH_COVERAGE", "Reading", "share"]

MISMATCH_COVERAGE = 0.5  # for a contradiction, share of the claim's words other than the mismatched ones


@dataclass(slots=True)
class Reading:
    """One claim read against one passage: what the checks share."""

    claim: str
    claim_terms: set[str]
    sentence: str  # the passage sentence closest to the claim
    sentences: list[str]  # the passage's sentences, heading first
    text: str  # heading and text
    mismatches: list[str] = field(default_factory=list)
    mismatched_terms: set[str] = field(default_factory=set)
    quotable: frozenset[str] = frozenset()  # sentences of the passage text (not its heading)
    names: list[tuple[str, ...]] = field(default_factory=list)  # the claim's names (`names_in`)
    predicate: set[str] = field(init=False)  # the claim's terms less its names: what it says of them
    negated: set[str] = field(init=False)  # the claim's terms it negates itself (`negated_terms`)
    denied: str = field(init=False)  # the clause a negated reporting verb denies (`denied_report`)

    def __post_init__(self) -> None:
        self.predicate = self.claim_terms - terms_of(" ".join(" ".join(name) for name in self.names))
        self.negated = negated_terms(self.claim, self.claim_terms)
        self.denied = denied_report(self.claim)

    def show(self, sentence: str) -> None:
        """Make `sentence` the evidence shown, if it is quotable verbatim from the passage text."""
        if sentence in self.quotable:
            self.sentence = sentence

    def coverage_of(self, text: str) -> float:
        return len(text_terms(text) & self.claim_terms) / len(self.claim_terms) if self.claim_terms else 0.0

    def predicate_coverage(self, text: str) -> float:
        """`coverage_of` the claim less its names. "Liu lives in Beijing" shares both names with
        "little evidence that AGI is a priority for Beijing", but not "lives"."""
        rest = self.predicate
        return len(text_terms(text) & rest) / len(rest) if rest else 1.0

    def mismatch(self, reason: str, terms: set[str] | frozenset[str] = frozenset()) -> None:
        self.mismatches.append(reason)
        self.mismatched_terms |= terms


def share(terms: set[str], of: set[str]) -> float:
    """The share of `of` that `terms` hold (0.0 for nothing to hold)."""
    return len(terms & of) / len(of) if of else 0.0
