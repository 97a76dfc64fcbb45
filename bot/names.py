"""Names of people in a text, for the checks that a sentence names the people its source names.

Why: content-word overlap cannot tell "Rajendra Singh Tanwar wrote it" from "Priya Singh wrote it";
a person named in a sentence must be named, in full, by the passage behind it.
"""

from __future__ import annotations

from collections.abc import Collection

from bot.terms import WORD_RE, sentences_of, stopwords


def names_in(text: str, known: Collection[str] = frozenset()) -> list[tuple[str, ...]]:
    """Runs of capitalised words inside a sentence ("Yi-Ling Liu", "DeepSeek-R1"), as written.

    A run never crosses punctuation. A lone sentence-initial capitalised word ("Many", "Liu" can both
    start a sentence) is taken for a name only if it is one of `known`, the lowercased words of the
    names the sources use (`Corpus.names`): "Singh recommends ..." names Singh, "Many fear ..." no one.
    """
    runs: list[tuple[str, ...]] = []
    for sentence in sentences_of(text):
        current: list[str] = []
        starts_sentence = False
        previous_end: int | None = None
        for match in WORD_RE.finditer(sentence):
            token = match.group(0)
            capital = token[0].isupper() and token.lower() not in stopwords()
            joined = previous_end is not None and not sentence[previous_end : match.start()].strip()
            if capital and current and joined:
                current.append(token)
            else:
                if current and not _lone_opener(current, starts_sentence, known):
                    runs.append(tuple(current))
                current = [token] if capital else []
                starts_sentence = previous_end is None
            previous_end = match.end()
        if current and not _lone_opener(current, starts_sentence, known):
            runs.append(tuple(current))
    return runs


def _lone_opener(run: list[str], starts_sentence: bool, known: Collection[str]) -> bool:
    """A single capitalised word opening a sentence that is not a known name: no name."""
    return starts_sentence and len(run) == 1 and bare(run[0]) not in known


def bare(token: str) -> str:
    """A name's word, lowercased, without a possessive: "Singh's" -> "singh"."""
    return token.lower().replace("’", "'").removesuffix("'s")


def is_person_like(name: tuple[str, ...]) -> bool:
    """Two or three capitalised words of 3+ letters, no acronyms ("Yi-Ling Liu", not "EU AI Act")."""
    return 2 <= len(name) <= 3 and all(len(t) >= 3 and not t.isupper() for t in name)


def people_in(text: str, alone: Collection[str] = frozenset()) -> list[tuple[str, ...]]:
    """The person-like names in `text`, and the words of `alone` (`Corpus.people`: "singh", "liu")
    where they name someone on their own ("Singh recommends ...")."""
    return [
        name
        for name in names_in(text, alone)
        if is_person_like(name) or (len(name) == 1 and bare(name[0]) in alone)
    ]


def names_missing(people: list[tuple[str, ...]], passage_text: str) -> bool:
    """Whether the passage lacks a word of one of the `people` (from `people_in`)."""
    lowered = passage_text.lower()
    return any(not all(bare(token) in lowered for token in name) for name in people)
