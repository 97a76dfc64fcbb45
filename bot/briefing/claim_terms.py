"""The words of a claim and of a source text, as the fact-check compares them (verdicts.py).

Why a module of its own: how words are counted decides most verdicts before any check runs. A claim
is read as its content terms, synonyms merged and reporting verbs dropped; a source text also as
the ways a claim may spell its words (a compound's parts, two words hyphenated, the document it
belongs to). The word lists are data (prompts/lexicon/factcheck.toml).
"""

from __future__ import annotations

import re
from itertools import pairwise

from bot.briefing.focus import informativeness
from bot.briefing.lexicon import lexicon
from bot.briefing.negation import comparable
from bot.terms import content_terms, stem, words

__all__ = ["US_RE", "numbers_in", "polarity", "term_weights", "terms_of", "text_terms", "weighted_coverage"]

US_RE = re.compile(r"\bU\.?S\b")  # the country, capitalised: "us" is a stopword


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


def numbers_in(text: str) -> set[str]:
    """Digits, plus small number words and magnitudes as digits: "five risks" must not be supported by
    "three risks", nor "millions of dollars" by "billions" ("one" is left out: "no one", "one path")."""
    found = set()
    for w in words(text):
        if w.isdigit():
            found.add(w)
        elif w in lexicon().numbers:
            found.add(lexicon().numbers[w])
    return found


def polarity(text: str) -> tuple[bool, bool]:
    """(says something improves, says something is weakened/harmed)."""
    lex = lexicon()
    stems = {stem(w) for w in words(text)}
    return bool(stems & lex.positive), bool(stems & lex.negative) or bool(lex.negative_phrases.search(text))
