"""Alternatives that exclude each other: "an American company" is not "a Chinese company".

Why a module of its own: the other checks compare words a claim and a source share, or opposites
(antonyms); a nationality has many alternatives, and only one of them describes a given thing. The
groups are data (prompts/lexicon/factcheck.toml's [alternatives]).
"""

from __future__ import annotations

from itertools import pairwise

from bot.briefing.lexicon import lexicon
from bot.terms import words


def described(text: str) -> dict[str, set[str]]:
    """Each noun of `text` that a word of an [alternatives] group stands right before, with those
    words: {"company": {"chinese"}} for "a model from a Chinese company"."""
    tokens = words(text)
    found: dict[str, set[str]] = {}
    for word, noun in pairwise(tokens):
        if any(word in group for group in lexicon().alternatives):
            found.setdefault(noun, set()).add(word)
    return found


def swapped(claim: str, sentence: str) -> tuple[str, str] | None:
    """(the claim's word, the sentence's word) when the claim describes a thing with one word of a
    group and the sentence describes the same thing with another of that group and never with the
    claim's word; else None."""
    theirs = described(sentence)
    for noun, mine in described(claim).items():
        said = theirs.get(noun, set())
        if not said or mine & said:
            continue
        for group in lexicon().alternatives:
            if (claimed := mine & group) and (other := said & group):
                return min(claimed), min(other)
    return None
