"""The words of a claim and of a source text, as the fact-check compares them (verdicts.py).

Why a module of its own: how words are counted decides most verdicts before any check runs. A claim
is read as its content terms, synonyms merged and reporting verbs dropped; a source text also as
the ways a claim may spell its words (a compound's parts, two words hyphenated, the document it
belongs to). The word lists are data (prompts/lexicon/factcheck.toml).
"""

from __future__ import annotations

import calendar
import re
from functools import lru_cache
from itertools import pairwise

from bot.briefing.focus import informativeness
from bot.briefing.negation import comparable
from bot.spelled_numbers import number_value
from bot.terms import content_terms, stopwords, words
from bot.words.lexicon import lexicon

_ONE = ("a", "an", "one")  # "an hour", "one day": a single unit

__all__ = [
    "US_RE",
    "YEAR_RE",
    "figure_anchors",
    "numbers_in",
    "term_weights",
    "terms_of",
    "text_terms",
    "weighted_coverage",
]

US_RE = re.compile(r"\bU\.?S\b")  # the country, capitalised: "us" is a stopword
YEAR_RE = re.compile(r"^(1[5-9]|2[0-9])\d\d$")
ANCHOR_REACH = 4  # words either side of a figure in which to look for what it is a figure of
DURATION_TOLERANCE = 0.05
WIDE_ANCHOR_REACH = 6  # ...after a figure in a source sentence, whose list may run on
_MONTHS = frozenset(name.lower() for name in (*calendar.month_name, *calendar.month_abbr) if name)


def terms_of(text: str) -> set[str]:
    """Content terms with synonyms merged and reporting verbs dropped ("US" is the country, as
    "America" and "Washington" are)."""
    words_ = lexicon()
    found = {words_.synonyms.get(t, t) for t in content_terms(text)} - words_.generic
    if US_RE.search(text):
        found.add(comparable("usa"))
    return found


def text_terms(text: str) -> set[str]:
    """`terms_of` a source text, with what a claim may spell its compounds as: the parts of the
    text's hyphenated words ("city-wide" also gives "city") and each pair of adjacent words
    hyphenated ("traffic management" also gives "traffic-management"); and the words for the source
    itself ("essay"), which every passage of it stands for."""
    found = terms_of(text) | lexicon().document
    words_ = words(text)
    parts = (part for word in words_ if "-" in word for part in word.split("-"))
    found.update(comparable(part) for part in parts if len(part) > 2)
    found.update(comparable(f"{a}-{b}") for a, b in pairwise(words_) if "-" not in a + b)
    return found


def term_weights(text: str) -> dict[str, float]:
    """Each of `terms_of(text)` weighed by how informative its word is in general English, as the
    answer path weighs a question (focus.py): "took place" adds little to "the Chernobyl disaster
    took place in 1986", so a source that says it "happened in 1986" still covers the claim."""
    found: dict[str, float] = {}
    for word in words(text):
        term = comparable(word)
        found[term] = max(found.get(term, 0.0), informativeness(word.removesuffix("'s")))
    return found


def weighted_coverage(claim: str, claim_terms: set[str], matched: set[str]) -> float:
    """The share of the claim's terms in `matched`, each weighed by `term_weights`."""
    weights = term_weights(claim)
    total = sum(weights.get(t, 0.0) for t in claim_terms)
    return sum(weights.get(t, 0.0) for t in matched) / total if total else 0.0


def figure_anchors(text: str, number: str, *, wide: bool = False) -> set[str]:
    """What a figure of `text` is a figure of: the content word after a count ("five major dangers"
    -> major, danger), the few before a year ("founded in 2019" -> found; "the 2025 decision" ->
    decision when nothing comes before). Other figures and month names are skipped ("on Jun 24,
    2025" -> what appeared). `wide`, for a source sentence: every content word near the figure
    ("three clear risks, or main dangers"). A count compared with another that counts something
    else ("between the two countries" against "could do three things") is no contradiction."""
    tokens, stop = _figure_words(text), stopwords()

    def content(span: list[str]) -> list[str]:
        return [t for t in span if t not in stop and number_value(t) is None and t not in _MONTHS]

    year = bool(YEAR_RE.match(number))
    found: set[str] = set()
    for at, token in enumerate(tokens):
        if number_value(token) != number:
            continue
        before = content(tokens[max(0, at - ANCHOR_REACH) : at][::-1])
        after = content(tokens[at + 1 : at + 1 + (WIDE_ANCHOR_REACH if wide else ANCHOR_REACH)])
        # a year between a stopword and a content word dates what follows: "the 2025 decision"
        following = tokens[at + 1] if at + 1 < len(tokens) else ""
        attributive = at > 0 and tokens[at - 1] in stop and bool(content([following]))
        near, far = (before, after) if year and not attributive else (after, before)
        if wide:  # a count counts what follows it; a year may date what comes on either side
            chosen = near + far if year and not attributive else near or far
        elif year:  # "the disaster took place in 1996" -> disaster, place
            chosen = near or far
        else:
            chosen = (near or far)[:2]
        found.update(comparable(t) for t in chosen)
    return found


def durations_in(text: str) -> list[tuple[str, float]]:
    """Each stretch of time `text` gives, as written and in minutes ("two hours" -> 120, "a full
    year" -> 525600, "60-minute" -> 60), by factcheck.toml's [durations]; "riders a day" is a rate."""
    found = []
    for match in _duration_pattern(tuple(lexicon().durations)).finditer(text):
        count, unit = match.group("count").lower(), match.group("unit").lower()
        before = words(text[: match.start()])[-1:]
        if count in ("a", "an") and before and before[0] not in stopwords():
            continue  # a rate, not a stretch of time: "410,000 riders a day"
        if (value := _count_value(count)) is not None:  # "several minutes" gives no figure
            found.append((match.group(0), value * lexicon().durations[unit]))
    return found


def _count_value(count: str) -> float | None:
    """A duration's count as a number ("90", "1.5", "an", "forty"); None for a word that is none."""
    if count[0].isdigit():
        return float(count)
    if count in _ONE:
        return 1.0
    spelled = number_value(count)
    return float(spelled) if spelled is not None else None


def same_duration(a: float, b: float) -> bool:
    """Equal within a twentieth: "30 days" is "a month"."""
    return abs(a - b) <= DURATION_TOLERANCE * max(a, b)


@lru_cache(maxsize=8)
def _duration_pattern(units: tuple[str, ...]) -> re.Pattern[str]:
    counts = r"\d+(?:\.\d+)?|[a-z]+(?:-[a-z]+)?"  # a word counts when it spells a number
    return re.compile(
        rf"\b(?P<count>{counts})(?:[\s-]+(?:full|whole|entire))?[\s-]+(?P<unit>{'|'.join(units)})s?\b", re.I
    )


def numbers_in(text: str) -> set[str]:
    """Digits, plus small number words and magnitudes as digits: "five risks" must not be supported by
    "three risks", nor "millions of dollars" by "billions" ("one" is left out: "no one", "one path")."""
    return {figure for w in _figure_words(text) if (figure := number_value(w)) is not None}


def _figure_words(text: str) -> list[str]:
    """`words`, with a figure hyphenated to a word apart from it ("mid-2024" -> mid, 2024; "60-minute"
    -> 60, minute). A number word stays in its compound: "track-two" counts nothing."""
    found: list[str] = []
    for word in words(text):
        parts = word.split("-")
        found.extend(parts if len(parts) > 1 and any(p.isdigit() for p in parts) else [word])
    return found
