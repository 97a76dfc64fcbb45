"""Word-level text helpers shared by retrieval checks, citation verification and the topic gate.

Lowercasing, dropping possessives and Snowball stemming (PyStemmer) is enough to compare a model
sentence with a passage: both come from the same small vocabulary, and the check only needs to tell
"says what the passage says" from "invented".
"""

from __future__ import annotations

import functools
import re
from collections.abc import Set as AbstractSet

from bot.stems import stem as stem  # re-exported: callers take words and stems from here
from bot.words.vocabulary import vocabulary

WORD_RE = re.compile(r"[A-Za-z0-9]+(?:[-'’][A-Za-z0-9]+)*")
CLAUSE_RE = re.compile(r"[:;]\s+")  # where a sentence's clauses meet
PART_RE = re.compile(r"[,;:]\s+")  # ...and its comma-separated parts ("410,000" is one figure)


def stopwords() -> frozenset[str]:
    """Words that carry no meaning of their own here (the live prompt set's lexicon/words.toml; not
    cached here, so a reload that edits them takes effect)."""
    return vocabulary().stopwords


def words(text: str) -> list[str]:
    """Lowercased words (hyphenated words kept whole), in order."""
    return [w.lower().replace("’", "'") for w in WORD_RE.findall(text)]


def content_terms(text: str) -> set[str]:
    """Stemmed words that carry meaning (no stopwords, no one/two-letter words except digits)."""
    stop = stopwords()
    return {stem(w) for w in words(text) if w not in stop and (len(w) > 2 or w.isdigit())}


def match_terms(text: str) -> frozenset[str]:
    """`content_terms`, plus the parts of hyphenated words ("track-two" also gives "track"), so a
    question that spells a compound apart still meets the passage that hyphenates it."""
    found, stop = set(content_terms(text)), stopwords()
    for word in words(text):
        if len(word) == 2 and word.isalnum() and word not in stop:
            found.add(word)  # "AI", "EU", "5G": two characters, but the subject itself
        if "-" in word:
            found.update(stem(part) for part in word.split("-") if len(part) > 2 and part not in stop)
    return frozenset(found)


def overlap(sentence_terms: AbstractSet[str], passage_terms: AbstractSet[str]) -> float:
    """Share of the sentence's content terms found in the passage (0..1)."""
    if not sentence_terms:
        return 0.0
    return len(sentence_terms & passage_terms) / len(sentence_terms)


_SENTENCE_END_RE = re.compile(r"(?<=[.!?])(?:\s*\[[\d,\s]+\])*\s+(?=[\"“'A-Z0-9(\[*-])")


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences; citation markers like '[1]' stay with the sentence they follow.

    Why hand-written: measured on the 89 shipped passages and model-style text with markers, pysbd
    0.3.4 split 87 the same way and two better (a quoted title holding a full stop, "Dr. Singh"), but
    took 550-750 times as long, and it would run on every passage a selection scores; blingfire
    split all 89 the same way at 20 times the cost. Both keep the markers with their sentence."""
    pieces: list[str] = []
    for block in re.split(r"\n+", text):
        block = block.strip()
        if not block:
            continue
        start = 0
        quotes = _Quotes(block)
        for match in _SENTENCE_END_RE.finditer(block):
            if quotes.around(match.start()):
                continue  # "I Met With China's Top AI Experts. They're Freaking Out, Too" is one title
            if _abbreviated(block[start : match.start()], block[match.end() : match.end() + 1]):
                continue  # "the chief executive of St. Brenna"
            end = match.start() + len(match.group(0).rstrip())
            pieces.append(block[start:end].strip())
            start = match.end()
        pieces.append(block[start:].strip())
    return [p for p in pieces if p]


_LAST_TOKEN_RE = re.compile(r"([^\s(\[\"“']+)$")
_ABBREVIATION_RE = re.compile(r"\b([A-Za-z]+)\.$")


@functools.cache
def _english_abbreviations() -> frozenset[str]:
    """The abbreviations spaCy's English tokenizer keeps whole ("Oct.", "Inc.", "D.C.", "e.g."),
    as written: a library's list of English, not ours. Loaded once, without a model."""
    from spacy.lang.en.tokenizer_exceptions import TOKENIZER_EXCEPTIONS

    return frozenset(k for k in TOKENIZER_EXCEPTIONS if k.endswith(".") and k[:-1].replace(".", "").isalpha())


def _abbreviated(text: str, after: str = "") -> bool:
    """Whether `text` ends with an abbreviation's full stop, given the text `after` it: one of
    lexicon/words.toml ("Dr. Lena Moraes"), or one spaCy's English tokenizer knows followed by a
    figure ("signed on Nov. 3, 2024"). Before a capital, those end a sentence as often as not
    ("... a plant in Salem, Ore. Workers said ...")."""
    last = _LAST_TOKEN_RE.search(text)
    if after[:1].isdigit() and last is not None and last.group(1) in _english_abbreviations():
        return True
    match = _ABBREVIATION_RE.search(text)
    return match is not None and match.group(1).lower() in vocabulary().abbreviations


class _Quotes:
    """Whether a position of a block lies inside a quotation: an odd number of straight quotes before
    it with one after it, or more curly openings than closings before it with a closing after it
    ("I Met With China's Top AI Experts. They're Freaking Out, Too" is one title). An unbalanced
    quote splits as usual. Positions are asked in increasing order, so counting stays linear."""

    def __init__(self, block: str) -> None:
        self.block = block
        self.last_straight = block.rfind('"')
        self.last_closing = block.rfind("”")
        self.at = self.straight = self.opened = 0

    def around(self, at: int) -> bool:
        seen = self.block[self.at : at]
        self.straight += seen.count('"')
        self.opened += seen.count("“") - seen.count("”")
        self.at = at
        in_straight = self.straight % 2 == 1 and self.last_straight >= at
        return in_straight or (self.opened > 0 and self.last_closing >= at)


_AFTER_CLOSING_QUOTE_RE = re.compile(r"(?<=[.!?][\"”’])\s+(?=[\"“A-Z0-9])")


def sentences_of(text: str) -> list[str]:
    """`split_sentences`, also splitting after a closing quote ('...a "Sputnik moment." Liu adds')."""
    return [part for s in split_sentences(text) for part in _AFTER_CLOSING_QUOTE_RE.split(s) if part.strip()]


def is_question(sentence: str) -> bool:
    """A question informs nobody as a finding ("Can the US and China cooperate?"): briefings, answers
    and speeches leave questions out of what they present as checked."""
    return sentence.rstrip().endswith("?")


_FIRST_WORD_RE = re.compile(r"[A-Za-z0-9]+")


def first_word(sentence: str) -> str:
    """The word a sentence opens with, lowercased, up to any apostrophe or hyphen ("It's" -> "it");
    "" if the sentence does not open with a word."""
    match = _FIRST_WORD_RE.match(sentence)
    return match.group(0).lower() if match else ""


def leans_on_previous(sentence: str) -> bool:
    """Whether a sentence starts with a word that points back ("They cannot call for..."): what it
    is about is in the sentence before."""
    return first_word(sentence) in vocabulary().leaning
