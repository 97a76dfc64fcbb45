"""The word lists of retrieval, selection and the debate, from `prompts/lexicon/words.toml`.

Why data in the prompt set: a moderator who adds a source may need the topic gate to know a new word
for the subject (a product the source is about), or a selector to know a new cue; that must not need
a code change. The file is validated with the prompt set (`file:line: message`), and the vocabulary of
the set now live is what `vocabulary()` returns (installed by `WordLists.install` in wordlists.py).

Cue phrases are words or phrases matched as whole words, a trailing `*` standing for any ending; the
weights (a strong cue counts three weak ones) are scoring, so they stay here in code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.stems import stem
from bot.words.lexicon import (
    BUNDLED,
    WORDS_FILE,
    LexiconError,
    _table,
    _words,
    phrase_pattern,
    read_toml,
)
from bot.words.live import Live

# (pattern, weight) pairs: a sentence's cue score is the weighted count of their matches.
Cues = tuple[tuple[re.Pattern[str], int], ...]
CUE_WEIGHTS = {"strong": 3, "weak": 1, "critique": -4}
QUERIES = ("uncertainty", "race", "cooperation")


@dataclass(frozen=True, slots=True)
class Vocabulary:
    stopwords: frozenset[str]
    topic_words: frozenset[str]  # stems
    debate_generic: frozenset[str]  # stems
    figure_words: frozenset[str]  # number words and other amounts, lowercased
    money_words: frozenset[str]  # a "how much" question with one of these wants a sum of money
    currency_words: frozenset[str]
    lead_in_words: frozenset[str]  # "According to Singh, what ...": how a question's opening starts
    pointing_words: frozenset[str]  # a question using one points back at the conversation
    author_nouns: frozenset[str]  # "Which author warns ...?" asks for whose source it is
    abbreviations: frozenset[str]  # "St.", "Dr.": a full stop that ends no sentence
    leaning: frozenset[str]
    pronouns: frozenset[str]  # "it", "they": openers that always stand for a subject named before
    dangling: frozenset[str]
    consequence: frozenset[str]  # "So ...", "Therefore ...": a sentence that follows from the one before
    not_consequence: frozenset[str]  # "So far", "So many": the word after such an opener, which is none
    cues: Mapping[str, Cues]  # "uncertainty", "race", "cooperation"
    queries: Mapping[str, str]


def _cues(section: dict[str, Any], name: str) -> Cues:
    unknown = set(section) - set(CUE_WEIGHTS)
    if unknown or "strong" not in section:
        allowed = ", ".join(CUE_WEIGHTS)
        raise LexiconError(f"cues.{name}", f"cues.{name} needs 'strong', and may have only {allowed}")
    return tuple(
        (phrase_pattern(section[group], f"cues.{name}.{group}"), weight)
        for group, weight in CUE_WEIGHTS.items()
        if group in section
    )


def parse(data: dict[str, Any]) -> Vocabulary:
    """Validate the parsed TOML and build the lookup sets."""

    def words(table: dict[str, Any], key: str, where: str = "") -> list[str]:
        return _words(table, key, where)

    openers, queries, cues = _table(data, "openers"), _table(data, "queries"), _table(data, "cues")
    wanted = ("uncertainty", "race", "cooperation")
    return Vocabulary(
        stopwords=frozenset(words(data, "stopwords")),
        topic_words=frozenset(stem(w) for w in words(data, "topic_words")),
        debate_generic=frozenset(stem(w) for w in words(data, "debate_generic")),
        figure_words=frozenset(words(data, "figure_words")),
        money_words=frozenset(words(data, "money_words")),
        currency_words=frozenset(words(data, "currency_words")),
        lead_in_words=frozenset(words(data, "lead_in_words")),
        pointing_words=frozenset(words(data, "pointing_words")),
        author_nouns=frozenset(words(data, "author_nouns")),
        abbreviations=frozenset(words(data, "abbreviations")),
        leaning=frozenset(words(openers, "leaning", "openers.")),
        pronouns=frozenset(words(openers, "pronouns", "openers.")),
        dangling=frozenset(words(openers, "dangling", "openers.")),
        consequence=frozenset(words(openers, "consequence", "openers.")),
        not_consequence=frozenset(words(openers, "not_consequence", "openers.")),
        cues={name: _cues(_table(cues, name, "cues."), name) for name in wanted},
        queries={name: " ".join(words(queries, name, "queries.")) for name in QUERIES},
    )


def _shipped() -> Vocabulary:
    text = (BUNDLED / WORDS_FILE).read_text(encoding="utf-8")
    return parse(read_toml(text))


# The word lists now live (`WordLists.install`, once a set validated), or the running request's own
# (`WordLists.pin`).
_VOCABULARY: Live[Vocabulary] = Live("vocabulary", _shipped)


install = _VOCABULARY.install  # WordLists.install
pin = _VOCABULARY.pin  # WordLists.pin


def vocabulary() -> Vocabulary:
    """The word lists of the running request (`pin`), else the live ones (before any prompt set is
    installed: the shipped ones)."""
    return _VOCABULARY.get()
