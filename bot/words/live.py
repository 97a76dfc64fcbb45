"""One value the whole process reads, which a request may pin for itself.

The word lists are read from many plain functions that take no prompt set (see `wordlists`), so they
are module-level values: `install` sets the live one (a reload, once the whole set validated), `pin`
sets the running request's own (a `ContextVar`, so it belongs to that asyncio task and to the threads
`asyncio.to_thread` runs for it), and `get` returns the pinned value, else the live one, else the
shipped default, read the first time it is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Generic, TypeVar

T = TypeVar("T")


class Live(Generic[T]):
    def __init__(self, name: str, default: Callable[[], T]) -> None:
        self._live: T | None = None
        self._pinned: ContextVar[T | None] = ContextVar(name, default=None)
        self._default = default

    def install(self, value: T) -> None:
        self._live = value

    def pin(self, value: T) -> None:
        self._pinned.set(value)

    def get(self) -> T:
        if (pinned := self._pinned.get()) is not None:
            return pinned
        if self._live is None:
            self._live = self._default()
        return self._live


__all__ = ["Live"]
