"""The topic menu for quick briefings: the moderators' named topics, then the sources' own sections.

Why named topics first: section headings are written for reading an article ("Key facts: main
update and impact"), not for choosing what to be briefed on. A moderator names the topics people
ask about in `prompts/lexicon/topics.toml` (each a name, and optionally words it is `about`, which
matching by meaning reads too), validated with the prompt set like every prompt file, so a broken
file never replaces a working one. The sections stay as the fallback: each source's title and its
headings, which change by themselves when a moderator edits the sources and reloads. Discord
autocomplete allows at most 25 choices of at most 100 characters each, so the matching respects both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from bot.language import LanguageModels
from bot.sources import Source
from bot.words.named_topics import MAX_TOPIC_CHARS, NamedTopic, normalise_topic

__all__ = ["MAX_CHOICES", "NamedTopic", "normalise_topic", "topic_choices", "topic_menu", "topics_matching"]

MAX_CHOICES = 25  # Discord autocomplete limit
ELLIPSIS = "…"
MEANING_MIN_CHARS = 3  # a letter or two says nothing of meaning yet
MEANING_MIN = 0.25  # cosine below which a topic is no suggestion for what was typed


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
    menu: Sequence[str],
    query: str,
    language: LanguageModels | None,
    found: Sequence[str],
    limit: int,
    meanings: Mapping[str, str] | None = None,
) -> list[str]:
    """`found` (the topics matching by spelling), then the topics closest in meaning to `query`
    ("chip" finds export controls and hardware dependence), while there is room; `meanings` gives
    the text read for a topic where it is more than its name. Without the sentence encoder, or for
    a query of a letter or two, spelling alone."""
    limit = max(0, min(limit, MAX_CHOICES))
    wanted = query.strip()
    if language is None or not language.semantic or len(wanted) < MEANING_MIN_CHARS or len(found) >= limit:
        return list(found[:limit])
    rest = [t for t in menu if t not in found]
    if not rest:
        return list(found[:limit])
    vectors = language.embed([wanted, *((meanings or {}).get(t, t) for t in rest)])
    scores = vectors[1:] @ vectors[0]
    close = [t for t, s in sorted(zip(rest, scores, strict=True), key=lambda p: -p[1]) if s >= MEANING_MIN]
    return [*found, *close][:limit]


def topic_choices(
    named: Sequence[NamedTopic],
    sections: Sequence[str],
    query: str,
    language: LanguageModels | None,
    limit: int = MAX_CHOICES,
) -> list[str]:
    """Autocomplete: the named topics that match `query` by spelling or meaning, then the sections
    that do, while there is room (every named topic first for an empty query)."""
    limit = max(0, min(limit, MAX_CHOICES))
    names = [t.name for t in named]
    meanings = {t.name: t.meaning for t in named}
    chosen = topics_by_meaning(names, query, language, topics_matching(names, query, limit), limit, meanings)
    taken = {normalise_topic(n) for n in names}
    rest = [s for s in sections if normalise_topic(s) not in taken]
    room = limit - len(chosen)
    return chosen + topics_by_meaning(rest, query, language, topics_matching(rest, query, room), room)
