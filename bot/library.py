"""The live prompt set and its source index, swapped together and atomically on reload.

`reload()` builds and validates a complete new `PromptSet`, indexes its sources, and only then
replaces the live pair in one assignment; on any problem the old pair stays live and the problems
are returned. Requests take a snapshot (`current`) at their start, so a reload never mixes two
versions inside one answer.

The set's word lists (`prompts/lexicon/`) are read by plain functions all over the briefing, so they
are not passed along with the snapshot: building a snapshot installs them as the live word lists and
pins them for the building task before its index is built, since the index's terms rest on its stop
words; a request pins its own snapshot's lists (bot/words/wordlists.py says how).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.errors import PromptSetError
from bot.index import SourceIndex
from bot.language import LanguageModels
from bot.promptset import PromptSet, load_prompt_set
from bot.words.wordlists import live_word_lists


@dataclass(frozen=True, slots=True)
class Snapshot:
    prompts: PromptSet
    index: SourceIndex


@dataclass(frozen=True, slots=True)
class ReloadReport:
    """What a reload did, for the moderator: changed files, passage count, version, or problems."""

    ok: bool
    version: str
    previous_version: str
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    passages: int = 0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if not self.ok:
            return "Reload refused; the previous prompt set stays live:\n" + "\n".join(self.problems)
        parts = [f"Prompt set {self.version} live ({self.passages} passages indexed)."]
        for label, names in (("added", self.added), ("changed", self.changed), ("removed", self.removed)):
            if names:
                parts.append(f"{label.capitalize()}: {', '.join(names)}")
        if not (self.added or self.changed or self.removed):
            parts.append("No files changed.")
        return "\n".join(parts)


async def build_snapshot(root: Path, language: LanguageModels | None = None) -> Snapshot:
    """Load, validate and index `root`, installing its word lists; raises PromptSetError listing
    every problem (then nothing was installed). If indexing fails, the previous word lists go back.
    With `language`, the index also holds each passage's and sentence's vectors."""
    prompts, problems = await asyncio.to_thread(load_prompt_set, root)
    if prompts is None:
        raise PromptSetError(problems)
    previous = live_word_lists()
    prompts.word_lists.install()
    prompts.word_lists.pin()  # the index is built on these, even in a task that pinned others
    try:
        index = await SourceIndex.build(prompts.sources, language)
    except BaseException:
        previous.install()
        raise
    return Snapshot(prompts=prompts, index=index)


class Library:
    """Holds the live snapshot. Reloads are serialised so two moderators cannot interleave."""

    def __init__(self, root: Path, snapshot: Snapshot, language: LanguageModels | None = None) -> None:
        self.root = root
        self.language = language
        self._snapshot = snapshot
        self._lock = asyncio.Lock()
        # Indexes replaced by a reload stay open while anything still holds them: a request that
        # took its snapshot before the swap, or a debate started hours ago. Each is closed when the
        # last holder lets go (a weakref finalizer), and whatever is left at shutdown.
        self._retired: weakref.WeakSet[SourceIndex] = weakref.WeakSet()
        self._closing: set[asyncio.Task[None]] = set()

    @classmethod
    async def open(cls, root: Path, language: LanguageModels | None = None) -> Library:
        return cls(root, await build_snapshot(root, language), language)

    @property
    def current(self) -> Snapshot:
        return self._snapshot

    async def reload(self) -> ReloadReport:
        async with self._lock:
            old = self._snapshot
            try:
                new = await build_snapshot(self.root, self.language)
            except PromptSetError as exc:
                return ReloadReport(
                    ok=False,
                    version=old.prompts.version,
                    previous_version=old.prompts.version,
                    problems=exc.problems,
                )
            self._snapshot = new  # the atomic swap
            self._retire(old.index)
        before, after = old.prompts.file_hashes, new.prompts.file_hashes
        return ReloadReport(
            ok=True,
            version=new.prompts.version,
            previous_version=old.prompts.version,
            added=sorted(after.keys() - before.keys()),
            changed=sorted(k for k in after.keys() & before.keys() if after[k] != before[k]),
            removed=sorted(before.keys() - after.keys()),
            passages=len(new.index.passages),
        )

    def _retire(self, index: SourceIndex) -> None:
        self._retired.add(index)
        weakref.finalize(index, self._close_soon, index.closer(), asyncio.get_running_loop())

    def _close_soon(
        self, close: Callable[[], Coroutine[Any, Any, None]], loop: asyncio.AbstractEventLoop
    ) -> None:
        """Runs when a retired index is no longer referenced (in whatever thread drops it)."""

        def start() -> None:
            task = loop.create_task(close())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

        if not loop.is_closed():
            loop.call_soon_threadsafe(start)

    @property
    def retired(self) -> int:
        """Replaced indexes still in use (by old requests or running debates)."""
        return len(self._retired)

    async def aclose(self) -> None:
        for index in list(self._retired):
            await index.aclose()
        await asyncio.gather(*self._closing)
        await self._snapshot.index.aclose()
