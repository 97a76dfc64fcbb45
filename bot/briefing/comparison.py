"""Which side of a comparison is ahead: "A outpaces B" and "B is faster than A" disagree, and so do
"A carries more riders than B" and "B carries 410,000 riders, A 170,000", and "from A to B" and
"from B to A".

Why a module of its own: the other checks compare the words a claim and a source share, and a
comparison with its sides swapped shares all of them ("capabilities outpace the evaluation
frameworks" against "evaluation frameworks are developed faster than capabilities improve"). Only
the order around the comparing word tells them apart. The comparing words are data
(prompts/lexicon/factcheck.toml's [comparison]).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.briefing.lexicon import lexicon
from bot.terms import PART_RE, words

COMPARATIVE_REACH = 4  # "more riders per day than": words between the comparing word and "than"
_FIGURE_RE = re.compile(
    r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?:\s+(thousand|million|billion))?\b", re.I
)
_MAGNITUDES = {"thousand": 1e3, "million": 1e6, "billion": 1e9}
_YEAR_RE = re.compile(r"^(1[5-9]|2[0-9])\d\d$")


@dataclass(frozen=True, slots=True)
class Ranked:
    """A comparison's two sides, as sets of terms: `ahead` is the greater one."""

    ahead: frozenset[str]
    behind: frozenset[str]
    word: str  # the comparing word, as written
    mover: frozenset[str] = frozenset()  # for "X moves from A to B": X, which the other must share


def comparisons(text: str, terms: Callable[[str], set[str]]) -> list[Ranked]:
    """Each comparison in `text`, clause by clause: the terms before the comparing word and after it,
    ordered by which the comparison puts ahead."""
    lex = lexicon()
    found = []
    for clause in PART_RE.split(text):
        tokens = words(clause)
        for at, word in enumerate(tokens):
            if word == "than" and at:
                # the comparing word may come a few words before: "more riders per day than"
                back = next(
                    (
                        t
                        for t in reversed(tokens[max(0, at - COMPARATIVE_REACH) : at])
                        if t in lex.greater | lex.lesser
                    ),
                    "",
                )
                sign = 1 if back in lex.greater else -1 if back in lex.lesser else 0
                word = f"{back} than"
            else:
                sign = 1 if word in lex.surpassing else -1 if word in lex.trailing else 0
            if not sign:
                continue
            before = frozenset(terms(" ".join(tokens[:at])))
            after = frozenset(terms(" ".join(tokens[at + 1 :])))
            found.append(Ranked(before, after, word) if sign > 0 else Ranked(after, before, word))
    return found


def reversed_in(claim: Ranked, other: Ranked) -> bool:
    """Whether `other` puts the claim's sides the other way round: more of the claim's terms sit on
    the opposite side than on the same side, and both sides cross."""
    if claim.mover and len(claim.mover & other.mover) * 2 <= len(claim.mover):
        return False  # another thing's move: "cardiac surgery moves from A to B", "births from B to A"
    crossed = (claim.ahead & other.behind, claim.behind & other.ahead)
    same = len(claim.ahead & other.ahead) + len(claim.behind & other.behind)
    return all(crossed) and len(crossed[0]) + len(crossed[1]) > same


def figure_of(text: str, side: frozenset[str], terms: Callable[[str], set[str]]) -> float | None:
    """The one figure `text` gives in the clauses that name `side` (a name's terms), or None:
    "Dornhafen's trams carry about 410,000 riders a day, compared with 170,000 in Veltmark" gives
    Dornhafen 410,000 and Veltmark 170,000. Years are dates, not amounts, and are left out."""
    found = {value for clause in PART_RE.split(text) if side & terms(clause) for value in _figures(clause)}
    return found.pop() if len(found) == 1 else None


def _figures(clause: str) -> list[float]:
    values = []
    for match in _FIGURE_RE.finditer(clause):
        digits, magnitude = match.group(1).replace(",", ""), match.group(2)
        if _YEAR_RE.match(digits) and not magnitude:
            continue
        values.append(float(digits) * _MAGNITUDES.get((magnitude or "").lower(), 1.0))
    return values


_FROM_TO_RE = re.compile(r"\bfrom\s+(?P<origin>[^,;:]+?)\s+to\s+(?P<goal>[^,;:]+)", re.I)  # "St. Brenna"


def movements(text: str, terms: Callable[[str], set[str]]) -> list[Ranked]:
    """Each "from A to B" in `text`, as a `Ranked` whose `ahead` is where it goes (B) and `behind`
    where it comes from (A): "births move from St. Brenna to Vestry Valley" and "births moving from
    Vestry Valley to St. Brenna" are the same move the other way round (`reversed_in`)."""
    return [
        Ranked(
            frozenset(terms(m.group("goal"))),
            frozenset(terms(m.group("origin"))),
            "from ... to",
            frozenset(terms(clause[: m.start()])),
        )
        for clause in PART_RE.split(text)
        for m in _FROM_TO_RE.finditer(clause)
    ]
