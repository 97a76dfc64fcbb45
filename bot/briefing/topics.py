"""The topic menu for quick briefings, drawn from the briefing sources themselves.

Why from the sources: a briefing is only as good as the passages behind it, so the menu offers
exactly what the sources cover (each source's title and its section headings) and changes by itself
when a moderator edits the sources and reloads. Discord autocomplete allows at most 25 choices of at
most 100 characters each, so `topics_matching` respects both limits.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.language import LanguageModels
from bot.sources import Source

MAX_CHOICES = 25  # Discord autocomplete limit
MAX_TOPIC_CHARS = 100  # Discord choice name/value limit
ELLIPSIS = "…"
MEANING_MIN_CHARS = 3  # a letter or two says nothing of meaning yet
MEANING_MIN = 0.25  # cosine below which a topic is no suggestion for what was typed


def normalise_topic(topic: str) -> str:
    """The cache key of a topic: case, surrounding punctuation and whitespace runs do not matter."""
    text = re.sub(r"\s+", " ", topic).strip().strip(" .?!:;,").lower()
    return text.replace("’", "'").replace("“", '"').replace("”", '"')


def _fit(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) <= MAX_TOPIC_CHARS:
        return text
    return text[: MAX_TOPIC_CHARS - 1].rstrip() + ELLIPSIS


def topic_menu(sources: Sequence[Source]) -> list[str]:
    """Source titles and passage headings, in source order, without repeats (case-insensitive)."""
    seen: set[str] = set()
    menu: list[str] = []
    for source in sources:
        for candidate in (source.title, *(p.heading for p in source.passages)):
            topic = _fit(candidate)
            key = normalise_topic(topic)
            if key and key not in seen:
                seen.add(key)
                menu.append(topic)
    return menu


def topics_matching(menu: Sequence[str], prefix: str, limit: int = MAX_CHOICES) -> list[str]:
    """Autocomplete: topics starting with `prefix` first, then those with a word starting with it,
    then those containing it anywhere. An empty prefix gives the first `limit` topics."""
    limit = max(0, min(limit, MAX_CHOICES))
    wanted = normalise_topic(prefix)
    if not wanted:
        return list(menu[:limit])
    starts, word_starts, contains = [], [], []
    for topic in menu:
        lowered = normalise_topic(topic)
        if lowered.startswith(wanted):
            starts.append(topic)
        elif re.search(r"(?:^|[\s\"'(-])" + re.escape(wanted), lowered):
            word_starts.append(topic)
        elif wanted in lowered:
            contains.append(topic)
    return (starts + word_starts + contains)[:limit]


def topics_by_meaning(
    menu: Sequence[str], query: str, language: LanguageModels | None, found: Sequence[str], limit: int
) -> list[str]:
    """`found` (the topics matching by spelling), then the topics closest in meaning to `query`
    ("chip" finds export controls and hardware dependence), while there is room. Without the
    sentence encoder, or for a query of a letter or two, spelling alone."""
    limit = max(0, min(limit, MAX_CHOICES))
    wanted = query.strip()
    if language is None or not language.semantic or len(wanted) < MEANING_MIN_CHARS or len(found) >= limit:
        return list(found[:limit])
    rest = [t for t in menu if t not in found]
    if not rest:
        return list(found[:limit])
    vectors = language.embed([wanted, *rest])
    scores = vectors[1:] @ vectors[0]
    close = [t for t, s in sorted(zip(rest, scores, strict=True), key=lambda p: -p[1]) if s >= MEANING_MIN]
    return [*found, *close][:limit]
