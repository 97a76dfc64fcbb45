"""Which side of a comparison is ahead: "A outpaces B" and "B is faster than A" disagree.

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
from bot.terms import words

_CLAUSE_RE = re.compile(r"[,;:]\s+")


@dataclass(frozen=True, slots=True)
class Ranked:
    """A comparison's two sides, as sets of terms: `ahead` is the greater one."""

    ahead: frozenset[str]
    behind: frozenset[str]
    word: str  # the comparing word, as written


def comparisons(text: str, terms: Callable[[str], set[str]]) -> list[Ranked]:
    """Each comparison in `text`, clause by clause: the terms before the comparing word and after it,
    ordered by which the comparison puts ahead."""
    lex = lexicon()
    found = []
    for clause in _CLAUSE_RE.split(text):
        tokens = words(clause)
        for at, word in enumerate(tokens):
            if word == "than" and at:
                sign = 1 if tokens[at - 1] in lex.greater else -1 if tokens[at - 1] in lex.lesser else 0
                word = f"{tokens[at - 1]} than"
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
    crossed = (claim.ahead & other.behind, claim.behind & other.ahead)
    same = len(claim.ahead & other.ahead) + len(claim.behind & other.behind)
    return all(crossed) and len(crossed[0]) + len(crossed[1]) > same
