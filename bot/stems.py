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
    from a maintained library rather than a hand-written suffix list. An irregular verb form is
    stemmed as its lemma ('wrote' -> 'write', 'took' -> 'take', 'won' -> 'win'): no suffix rule
    can join those, and a claim or question in the past tense must meet a source in the present."""
    word = word.removesuffix("'s")
    stemmed: str = _stemmer().stemWord(_irregular_verb_lemma(word) or word)
    return stemmed


def _irregular_verb_lemma(word: str) -> str | None:
    """The lemma of a word form that lemminflect's lexicon knows only as a verb form with a single
    lemma ('wrote' -> 'write'); None for anything that can also be a noun or adjective ('thought',
    'left', 'saw'), an auxiliary ('was'), or a form whose lemma is itself. Imported on first use."""
    if not word.isalpha():
        return None
    from lemminflect import getAllLemmas

    lemmas = getAllLemmas(word)
    verbs = lemmas.get("VERB", ())
    if set(lemmas) != {"VERB"} or len(verbs) != 1 or verbs[0] == word:
        return None
    lemma: str = verbs[0]
    return lemma
