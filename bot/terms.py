"""Word-level text helpers shared by retrieval checks, citation verification and the topic gate.

Lowercasing, dropping possessives and Snowball stemming (PyStemmer) is enough to compare a model
sentence with a passage: both come from the same small vocabulary, and the check only needs to tell
"says what the passage says" from "invented".
"""

from __future__ import annotations

import re
import threading
from collections.abc import Set as AbstractSet
from functools import lru_cache

import Stemmer

WORD_RE = re.compile(r"[A-Za-z0-9]+(?:[-'’][A-Za-z0-9]+)*")

STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are aren't as at be because been before
    being below between both but by can cannot could did do does doing down during each else ever few
    for from further had has have having he her here hers herself him himself his how however i if in
    into is isn't it its itself just let me more most much must my myself no nor not now of off on once
    one only or other our ours ourselves out over own per please same say says said she should so some
    such tell than that the their theirs them themselves then there these they this those through thus
    to too under until up upon us very via was we were what when where which while who whom whose why
    will with within without would you your yours yourself yourselves get got give given know like make
    made many may might need really thing things think way well yes yet according article articles
    source sources briefing
    """.split()
)
# "us" is a stopword as a pronoun; the country is matched as "u.s."/"usa"/"united states" by callers.

_STEMMERS = threading.local()  # a PyStemmer object is not safe to share between threads


def _stemmer() -> Stemmer.Stemmer:
    stemmer = getattr(_STEMMERS, "english", None)
    if stemmer is None:
        stemmer = _STEMMERS.english = Stemmer.Stemmer("english")
    return stemmer


def words(text: str) -> list[str]:
    """Lowercased words (hyphenated words kept whole), in order."""
    return [w.lower().replace("’", "'") for w in WORD_RE.findall(text)]


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball (Porter 2) stem of a lowercased word, possessive dropped: 'racing'/'races' ->
    'race', 'proposal'/'proposes' -> 'propos'. The same algorithm as the index's Porter tokenizer,
    from a maintained library rather than a hand-written suffix list."""
    stemmed: str = _stemmer().stemWord(word.removesuffix("'s"))
    return stemmed


def content_terms(text: str) -> set[str]:
    """Stemmed words that carry meaning (no stopwords, no one/two-letter words except digits)."""
    return {stem(w) for w in words(text) if w not in STOPWORDS and (len(w) > 2 or w.isdigit())}


def match_terms(text: str) -> frozenset[str]:
    """`content_terms`, plus the parts of hyphenated words ("track-two" also gives "track"), so a
    question that spells a compound apart still meets the passage that hyphenates it."""
    found = set(content_terms(text))
    for word in words(text):
        if len(word) == 2 and word.isalpha() and word not in STOPWORDS:
            found.add(word)  # "AI", "EU": two letters, but the subject itself
        if "-" in word:
            found.update(stem(part) for part in word.split("-") if len(part) > 2 and part not in STOPWORDS)
    return frozenset(found)


def overlap(sentence_terms: AbstractSet[str], passage_terms: AbstractSet[str]) -> float:
    """Share of the sentence's content terms found in the passage (0..1)."""
    if not sentence_terms:
        return 0.0
    return len(sentence_terms & passage_terms) / len(sentence_terms)


_SENTENCE_END_RE = re.compile(r"(?<=[.!?])(?:\s*\[[\d,\s]+\])*\s+(?=[\"“'A-Z0-9(\[*-])")


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences; citation markers like '[1]' stay with the sentence they follow."""
    pieces: list[str] = []
    for block in re.split(r"\n+", text):
        block = block.strip()
        if not block:
            continue
        start = 0
        for match in _SENTENCE_END_RE.finditer(block):
            end = match.start() + len(match.group(0).rstrip())
            pieces.append(block[start:end].strip())
            start = match.end()
        pieces.append(block[start:].strip())
    return [p for p in pieces if p]


_AFTER_CLOSING_QUOTE_RE = re.compile(r"(?<=[.!?][\"”’])\s+(?=[\"“A-Z0-9])")


def sentences_of(text: str) -> list[str]:
    """`split_sentences`, also splitting after a closing quote ('...a "Sputnik moment." Liu adds')."""
    return [part for s in split_sentences(text) for part in _AFTER_CLOSING_QUOTE_RE.split(s) if part.strip()]


def is_question(sentence: str) -> bool:
    """A question informs nobody as a finding ("Can the US and China cooperate?"): briefings, answers
    and speeches leave questions out of what they present as checked."""
    return sentence.rstrip().endswith("?")


_LEANING_RE = re.compile(r"^(?:it|this|these|those|they|he|she|also|both)\b", re.I)


def leans_on_previous(sentence: str) -> bool:
    """Whether a sentence starts with a word that points back ("They cannot call for..."): what it
    is about is in the sentence before."""
    return bool(_LEANING_RE.match(sentence))
