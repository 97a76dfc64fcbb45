"""Snowball stems, apart from `bot.terms` so the word-list data files (bot/briefing/lexicon.py,
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
    from a maintained library rather than a hand-written suffix list."""
    stemmed: str = _stemmer().stemWord(word.removesuffix("'s"))
    return stemmed
