"""Snowball stems, apart from `bot.terms` so the word-list data files (bot/words/lexicon.py,
vocabulary.py), which stem their entries, and `bot.terms`, which reads those lists, import in one
direction: terms -> vocabulary -> lexicon -> stems."""

from __future__ import annotations

import threading
from functools import lru_cache

import Stemmer

_STEMMERS = threading.local()  # a PyStemmer object is not safe to share between threads


def _stemmer() -> Stemmer.Stemmer:
    stemmer = getattr(_STEMMERS, "english", None)
    if stemmer is None:
        stemmer = _STEMMERS.english = Stemmer.Stemmer("english")
    return stemmer


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball (Porter 2) stem of a lowercased word, possessive dropped: 'racing'/'races' ->
    'race', 'proposal'/'proposes' -> 'propos'. The same algorithm as the index's Porter tokenizer,
    from a maintained library rather than a hand-written suffix list. A word form with one lemma that
    stems apart from it is stemmed as its lemma: irregular verbs ('wrote' -> 'write', 'took' ->
    'take'), and plurals Snowball splits from their singular ('buses' -> 'bus', 'crises' ->
    'crisis', 'children' -> 'child'). No suffix rule can join those, and a claim or question in the
    past tense or the plural must meet a source in the present or the singular."""
    word = word.removesuffix("'s")
    stemmed: str = _stemmer().stemWord(_single_lemma(word) or word)
    return stemmed


def _single_lemma(word: str) -> str | None:
    """The lemma of a word form that lemminflect's lexicon knows with one lemma only, whatever its
    part of speech ('wrote' -> 'write', 'buses' -> 'bus'), or None: for a form with several
    ('thought' is a noun and a verb of 'think', 'lives' is of 'life' and 'live'), an auxiliary
    ('was'), an adjective or adverb ('safer', 'faster': a comparison keeps its degree), or a form
    whose lemma is itself. Imported on first use."""
    if not word.isalpha():
        return None
    from lemminflect import getAllLemmas

    lemmas = getAllLemmas(word)
    found = {lemma for forms in lemmas.values() for lemma in forms}
    if not lemmas or {"AUX", "ADJ", "ADV"} & set(lemmas) or len(found) != 1:
        return None  # "faster" is no "fast": a comparison must keep its degree
    lemma = found.pop()
    return None if lemma == word else lemma
