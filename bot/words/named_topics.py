"""The moderators' named topics (`prompts/lexicon/topics.toml`), parsed and validated with the rest
of the prompt set: a name, and optionally words it is `about`. The menu and the matching that use
them are the briefing's (`bot.briefing.topics`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.words.lexicon import LexiconError

TOPICS_FILE = "topics.toml"  # in the lexicon folder: optional
MAX_TOPIC_CHARS = 100  # Discord choice name/value limit
MAX_NAMED = 200
MAX_ABOUT_CHARS = 300


@dataclass(frozen=True, slots=True)
class NamedTopic:
    """A topic a moderator named; `about` is what matching by meaning reads beside the name."""

    name: str
    about: str = ""

    @property
    def meaning(self) -> str:
        return f"{self.name}. {self.about}" if self.about else self.name


def normalise_topic(topic: str) -> str:
    """The cache key of a topic: case, surrounding punctuation and whitespace runs do not matter."""
    text = re.sub(r"\s+", " ", topic).strip().strip(" .?!:;,").lower()
    return text.replace("’", "'").replace("“", '"').replace("”", '"')


def parse_topics(data: Mapping[str, Any]) -> tuple[NamedTopic, ...]:
    """The `[[topic]]` tables of topics.toml; a `LexiconError` naming the key at fault otherwise."""
    if unknown := sorted(set(data) - {"topic"}):
        raise LexiconError(unknown[0], f"unknown key {unknown[0]!r}; topics are [[topic]] tables")
    entries = data.get("topic", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise LexiconError("topic", "topics are [[topic]] tables, each with a name")
    if len(entries) > MAX_NAMED:
        raise LexiconError("topic", f"{len(entries)} topics; at most {MAX_NAMED}")
    topics: list[NamedTopic] = []
    seen: set[str] = set()
    for n, entry in enumerate(entries, start=1):
        key = f"topic[{n}]"
        if unknown := sorted(set(entry) - {"name", "about"}):
            raise LexiconError(
                f"{key}.{unknown[0]}", f"unknown key {unknown[0]!r}; a topic has name and about"
            )
        name, about = entry.get("name"), entry.get("about", "")
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_TOPIC_CHARS:
            raise LexiconError(f"{key}.name", f"each topic needs a name of 1 to {MAX_TOPIC_CHARS} characters")
        if not isinstance(about, str) or len(about) > MAX_ABOUT_CHARS:
            raise LexiconError(f"{key}.about", f"about must be text of at most {MAX_ABOUT_CHARS} characters")
        if normalise_topic(name) in seen:
            raise LexiconError(f"{key}.name", f"the topic {name.strip()!r} is named twice")
        seen.add(normalise_topic(name))
        topics.append(NamedTopic(" ".join(name.split()), " ".join(about.split())))
    return tuple(topics)
