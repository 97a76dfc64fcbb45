"""The word lists the briefing reads, from data, not written in code: the fact-check's
(`data/factcheck_lexicon.toml`) and those of retrieval, selection and the debate (`data/words.toml`).

Why data: the lists grow as sources are added (a new antonym pair, a synonym the sources use, a word
that names the subject), and that must not need a code change or hide inside a function. Each file is
validated when loaded; a malformed file fails loudly at start-up with the file and key, never later on
a request. Both files are hashed into the briefing cache key (code_version.py).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from bot.stems import stem

LEXICON_FILE = "factcheck_lexicon.toml"
WORDS_FILE = "words.toml"


class LexiconError(ValueError):
    """The lexicon file is malformed: the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class Lexicon:
    generic: frozenset[str]  # stems
    synonyms: dict[str, str]  # stem -> canonical stem
    negations: frozenset[str]
    not_negating_next: frozenset[str]
    wide_scope_next: frozenset[str]
    positive: frozenset[str]  # stems
    negative: frozenset[str]  # stems
    negative_phrases: re.Pattern[str]
    misreading: frozenset[str]
    appearance: frozenset[str]
    reporting: frozenset[str]
    antonyms: tuple[tuple[frozenset[str], frozenset[str]], ...]
    numbers: dict[str, str]


def _words(data: dict[str, Any], key: str, where: str, file: str = LEXICON_FILE) -> list[str]:
    value = data.get(key)
    if not isinstance(value, str) or not value.split():
        raise LexiconError(f"{file}: {where}{key} must be a non-empty string of words")
    return value.lower().split()


def _table(data: dict[str, Any], key: str, file: str = LEXICON_FILE) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise LexiconError(f"{file}: [{key}] table is missing")
    return value


def parse(data: dict[str, Any]) -> Lexicon:
    """Validate the parsed TOML and build the lookup sets."""
    synonyms = {
        stem(word): stem(canonical)
        for canonical, group in _table(data, "synonyms").items()
        for word in _words({canonical: group}, canonical, "synonyms.")
    }
    negation, polarity = _table(data, "negation"), _table(data, "polarity")
    phrases = polarity.get("negative_phrases")
    if not isinstance(phrases, list) or not all(isinstance(p, str) and p.strip() for p in phrases):
        raise LexiconError(f"{LEXICON_FILE}: polarity.negative_phrases must be a list of phrases")
    pairs = data.get("antonyms")
    if not isinstance(pairs, list) or not pairs:
        raise LexiconError(f"{LEXICON_FILE}: [[antonyms]] must hold at least one pair")
    numbers = _table(data, "numbers")
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in numbers.values()):
        raise LexiconError(f"{LEXICON_FILE}: [numbers] values must be positive whole numbers")
    return Lexicon(
        generic=frozenset(stem(w) for w in _words(data, "generic", "")),
        synonyms=synonyms,
        negations=frozenset(_words(negation, "words", "negation.")),
        not_negating_next=frozenset(_words(negation, "not_after", "negation.")),
        wide_scope_next=frozenset(_words(negation, "wide_before", "negation.")),
        positive=frozenset(stem(w) for w in _words(polarity, "positive", "polarity.")),
        negative=frozenset(stem(w) for w in _words(polarity, "negative", "polarity.")),
        negative_phrases=re.compile(
            r"\b(?:" + "|".join(re.escape(p.strip()) for p in phrases) + r")\b", re.I
        ),
        misreading=frozenset(_words(_table(data, "misreading"), "cues", "misreading.")),
        appearance=frozenset(_words(_table(data, "misreading"), "appearance", "misreading.")),
        reporting=frozenset(_words(_table(data, "misreading"), "reporting", "misreading.")),
        antonyms=tuple(
            (frozenset(_words(pair, "left", "antonyms.")), frozenset(_words(pair, "right", "antonyms.")))
            for pair in pairs
        ),
        numbers={word.lower(): str(value) for word, value in numbers.items()},
    )


def _load(file: str) -> dict[str, Any]:
    text = resources.files("bot.briefing").joinpath("data", file).read_text(encoding="utf-8")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LexiconError(f"{file}: {exc}") from None


@cache
def lexicon() -> Lexicon:
    """The packaged fact-check lexicon, loaded and validated once per process."""
    return parse(_load(LEXICON_FILE))
