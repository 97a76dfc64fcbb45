"""Acronyms the sources use, and the phrases they stand for, read from the sources themselves.

Why: "Is it the same in the US?" must meet a passage that says "the United States", and "US" as a
question word would otherwise be the pronoun "us", a stop word. No list of acronyms is kept: an
acronym is an all-capitals word that some source writes, and its phrase is either a run of
capitalised words with those initials ("United States") or the words before it in brackets
("artificial general intelligence (AGI)"). A moderator's new source brings its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.names import names_in
from bot.terms import match_terms

_ACRONYM_RE = re.compile(r"\b[A-Z]{2,6}\b")
_BRACKETED_RE = re.compile(r"((?:[A-Za-z][\w-]*\s+){2,6})\(([A-Z]{2,6})\)")


def initials(words: Iterable[str]) -> str:
    return "".join(w[0] for w in words).upper()


def acronyms_of(texts: Iterable[str]) -> dict[str, frozenset[str]]:
    """Lowercased acronym -> the match terms of the phrase it stands for (see the module docstring)."""
    texts = list(texts)
    used = {a for text in texts for a in _ACRONYM_RE.findall(text)}
    found: dict[str, set[str]] = {}
    for text in texts:
        for run in names_in(text):
            for start in range(len(run)):  # "The United States": the run may open with another word
                phrase = run[start:]
                if 2 <= len(phrase) <= 6 and (acronym := initials(phrase)) in used:
                    found.setdefault(acronym.lower(), set()).update(match_terms(" ".join(phrase)))
                    break
        for match in _BRACKETED_RE.finditer(text):
            acronym = match.group(2)
            before = match.group(1).split()[-len(acronym) :]
            if len(before) == len(acronym) and initials(before) == acronym:
                found.setdefault(acronym.lower(), set()).update(match_terms(" ".join(before)))
    return {acronym: frozenset(terms) for acronym, terms in found.items() if terms}


def is_acronym(token: str, text: str) -> bool:
    """`token` as written in `text` is an acronym ("US"), not a shouted word of a shouted question."""
    return 2 <= len(token) <= 6 and token.isalpha() and token.isupper() and not text.isupper()
