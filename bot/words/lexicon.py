"""The fact-check's word lists (`prompts/lexicon/factcheck.toml`), read from the live prompt set.

Why data, and why in the prompt set: the lists grow as sources are added (a new antonym pair, a
synonym the sources use), and a moderator who adds a source must be able to extend them the way they
edit any prompt file (`/prompts put`, or on the host and `/reload`): validated with the rest of the set
(`file:line: message` problems; a broken file never replaces a working one) and hashed into the set's
version, which keys the briefing cache. The files are read with the set (`promptset`), validated together
and installed by wordlists.py; this module parses its own file and holds the lexicon now live (`lexicon()`).
"""

from __future__ import annotations

import calendar
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.stems import stem
from bot.words.live import Live

FOLDER = "lexicon"  # inside the prompts folder
LEXICON_FILE = "factcheck.toml"
WORDS_FILE = "words.toml"
# The shipped prompt set's lexicon: what `lexicon()` reads before any prompt set is installed
# (a plain function called from a test or a script, which opened no library).
BUNDLED = Path(__file__).resolve().parents[2] / "prompts" / FOLDER


# "Jun 24, 2026" is "June 24, 2026": a month and its short form are one word to the comparison.
# (calendar's names follow LC_TIME, which the bot never sets: the C locale's English names.)

MONTH_ABBREVIATIONS = {
    month.lower(): short.lower()
    for month, short in zip(calendar.month_name[1:], calendar.month_abbr[1:], strict=True)
    if month != short
}
_PHRASE_RE = re.compile(r"^[a-z0-9'-]+(?: [a-z0-9'-]+)*\*?$")  # words, spaces, a trailing *


class LexiconError(ValueError):
    """A lexicon file is malformed. `key` is the dotted TOML key at fault (to find its line)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True, slots=True)
class Lexicon:
    generic: frozenset[str]  # stems
    document: frozenset[str]  # stems: "essay", "article": every passage stands for its source
    synonyms: dict[str, str]  # stem -> canonical stem
    negations: frozenset[str]
    not_negating_next: frozenset[str]
    wide_scope_next: frozenset[str]
    wanting: frozenset[str]  # "neither wants to fall behind": a "not" stops at the wanting
    misreading: frozenset[str]
    appearance: frozenset[str]
    reporting: frozenset[str]
    naming: frozenset[str]  # "Liu calls DeepSeek-R1 ...": reports a name given, hedges and all
    set_aside: re.Pattern[str]  # "as an alternative to X", "rather than X": X is what the source rejects
    formerly: re.Pattern[str]  # "used to", "no longer": a claim that puts the set-aside thing in the past
    antonyms: tuple[tuple[frozenset[str], frozenset[str]], ...]
    modal: frozenset[str]  # "should": a claim that says what ought to be
    warning: frozenset[str]  # "warns", "risk": a source sentence against what it is about
    endorsing: frozenset[str]  # "recommends": a source sentence for what it is about
    durations: dict[str, int]  # a unit of time -> minutes


def phrase_pattern(phrases: object, where: str) -> re.Pattern[str]:
    """One case-insensitive pattern matching any of `phrases` as whole words ("compet*" = any ending)."""
    if (
        not isinstance(phrases, list)
        or not phrases
        or not all(isinstance(p, str) and _PHRASE_RE.match(p.strip().lower()) for p in phrases)
    ):
        raise LexiconError(where, f"{where} must list words or phrases (a-z 0-9 ' -)")
    cleaned = [p.strip().lower() for p in phrases]
    parts = [re.escape(p.removesuffix("*")) + (r"\w*" if p.endswith("*") else "") for p in cleaned]
    return re.compile(r"\b(?:" + "|".join(parts) + r")\b", re.I)


def _phrases(data: dict[str, Any], key: str, where: str) -> re.Pattern[str]:
    """A list of phrases, as one case-insensitive pattern matching any of them as whole words."""
    return phrase_pattern(data.get(key), f"{where}{key}")


def _words(data: dict[str, Any], key: str, where: str) -> list[str]:
    value = data.get(key)
    if not isinstance(value, str) or not value.split():
        raise LexiconError(f"{where}{key}", f"{where}{key} must be a non-empty string of words")
    return value.lower().split()


def _table(data: dict[str, Any], key: str, where: str = "") -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise LexiconError(f"{where}{key}", f"[{where}{key}] table is missing")
    return value


def read_toml(text: str) -> dict[str, Any]:
    """Parse a lexicon file; a syntax error is a `LexiconError` whose message holds the line."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LexiconError("", f"not valid TOML ({exc})") from None


def parse(data: dict[str, Any]) -> Lexicon:
    """Validate the parsed TOML and build the lookup sets."""
    synonyms = {
        stem(word): stem(canonical)
        for canonical, group in _table(data, "synonyms").items()
        for word in _words({canonical: group}, canonical, "synonyms.")
    }
    synonyms.update({stem(short): stem(month) for month, short in MONTH_ABBREVIATIONS.items()})
    negation, stance = _table(data, "negation"), _table(data, "stance")
    pairs = data.get("antonyms")
    if not isinstance(pairs, list) or not pairs or not all(isinstance(pair, dict) for pair in pairs):
        raise LexiconError("antonyms", "[[antonyms]] must hold at least one pair")
    durations = _table(data, "durations")
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in durations.values()):
        raise LexiconError("durations", "[durations] values must be positive whole numbers")
    return Lexicon(
        generic=frozenset(stem(w) for w in _words(data, "generic", "")),
        document=frozenset(stem(w) for w in _words(data, "document", "")),
        synonyms=synonyms,
        negations=frozenset(_words(negation, "words", "negation.")),
        not_negating_next=frozenset(_words(negation, "not_after", "negation.")),
        wide_scope_next=frozenset(_words(negation, "wide_before", "negation.")),
        wanting=frozenset(_words(negation, "stops_at", "negation.")),
        set_aside=_phrases(_table(data, "contrast"), "set_aside", "contrast."),
        formerly=_phrases(_table(data, "contrast"), "formerly", "contrast."),
        misreading=frozenset(_words(_table(data, "misreading"), "cues", "misreading.")),
        appearance=frozenset(_words(_table(data, "misreading"), "appearance", "misreading.")),
        reporting=frozenset(_words(_table(data, "misreading"), "reporting", "misreading.")),
        naming=frozenset(_words(_table(data, "misreading"), "naming", "misreading.")),
        antonyms=tuple(  # "antonyms[6].left": the pair's number, so the problem names its line
            (
                frozenset(_words(pair, "left", f"antonyms[{n}].")),
                frozenset(_words(pair, "right", f"antonyms[{n}].")),
            )
            for n, pair in enumerate(pairs, start=1)
        ),
        durations={unit.lower(): value for unit, value in durations.items()},
        modal=frozenset(_words(stance, "modal", "stance.")),
        warning=frozenset(_words(stance, "warning", "stance.")),
        endorsing=frozenset(_words(stance, "endorsing", "stance.")),
    )


def _shipped() -> Lexicon:
    return parse(read_toml((BUNDLED / LEXICON_FILE).read_text(encoding="utf-8")))


# The lexicon now live (`WordLists.install`, once a set validated), or the running request's own
# (`WordLists.pin`).
_LEXICON: Live[Lexicon] = Live("lexicon", _shipped)


install = _LEXICON.install  # WordLists.install
pin = _LEXICON.pin  # WordLists.pin


def lexicon() -> Lexicon:
    """The fact-check lexicon of the running request (`pin`), else the live one (before any prompt
    set is installed: the shipped one)."""
    return _LEXICON.get()
