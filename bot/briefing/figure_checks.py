"""Figures in a claim against the passage: years, counts, durations, decades, and the figures two
compared names are given.

Why a module of its own: a figure contradicts only a figure of the same thing ("founded in 2019"
against "appeared in 2026" does not), and telling which thing a figure is of (`figure_anchors`), what
units a stretch of time is in, and which name a figure goes with are rules of their own, tested on
their own (tests/test_factcheck.py's lighthouse figures).
"""

from __future__ import annotations

import re

from bot.briefing.claim_terms import (
    YEAR_RE,
    durations_in,
    figure_anchors,
    numbers_in,
    same_duration,
    terms_of,
)
from bot.briefing.negation import comparable
from bot.briefing.reading import MISMATCH_COVERAGE, Reading, share
from bot.names import bare

__all__ = ["DECADE_RE", "check_numbers", "in_decade"]


def check_numbers(r: Reading) -> bool:
    """A figure the passage gives differently, in a sentence about the same thing: "1996" against
    "1986". A figure the passage gives for something else (a date of publication against an age, a
    founding year against a publication date, told apart by the words near each figure:
    `figure_anchors`) is no contradiction. A decade ("the late 1970s") holds the years in it, and a
    stretch of time may be given in other units (`_check_durations`). Returns whether every figure
    of the claim is in the passage."""
    claim_numbers, text_numbers = numbers_in(r.claim), numbers_in(r.text)
    decades = {d: in_decade(d, text_numbers) for d in DECADE_RE.findall(r.claim)}
    missing = sorted(claim_numbers - text_numbers) + [d for d, held in decades.items() if not held]
    others = r.claim_terms - claim_numbers - set(decades)
    settled = _check_durations(r, others)
    name_terms = {comparable(bare(t)) for name in r.names for t in name}  # as figure_anchors reads words
    missing = [n for n in missing if n not in settled]
    for number in missing:
        kind = number in decades or bool(YEAR_RE.match(number))
        # what the figure is of, less the names it is said of ("News Headline Alert was founded")
        anchors = set() if number in decades else figure_anchors(r.claim, number) - name_terms
        for sentence in r.sentences:
            differing = sorted(
                n
                for n in numbers_in(sentence)
                if bool(YEAR_RE.match(n)) == kind
                and (not anchors or anchors & figure_anchors(sentence, n, wide=True))
            )
            if differing and share(terms_of(sentence), others) >= MISMATCH_COVERAGE:
                r.mismatch(f"number: the claim says {number}, the source {', '.join(differing)}", {number})
                r.show(sentence)
                break
    return not missing


def _check_durations(r: Reading, others: set[str]) -> set[str]:
    """A stretch of time the passage gives in other units ("two hours" against "60 minutes"): the
    same length is the claim's figure; a different one, in a sentence about the claim, contradicts
    it. Returns the claim's figures the durations settle, either way."""
    settled: set[str] = set()
    given = [(s, d) for s in r.sentences for d in durations_in(s)]
    claimed = durations_in(r.claim)
    others = others - terms_of(" ".join(surface for surface, _ in claimed))  # "year" in "a full year"
    for surface, minutes in claimed:
        if any(same_duration(minutes, m) for _, (_, m) in given):
            settled |= numbers_in(surface)
            continue
        about = [(s, d) for s, d in given if share(terms_of(s), others) >= MISMATCH_COVERAGE]
        if about:
            sentence, (theirs, _) = about[0]
            r.mismatch(f"duration: the claim says {surface}, the source {theirs}", numbers_in(surface))
            r.show(sentence)
            settled |= numbers_in(surface)
    return settled


DECADE_RE = re.compile(r"\b(1[5-9]\d0s|20\d0s)\b")


def in_decade(decade: str, numbers: set[str]) -> bool:
    """Whether `numbers` hold a year of `decade` ("1980s" holds 1986)."""
    return any(YEAR_RE.match(n) and n[:3] == decade[:3] for n in numbers)
