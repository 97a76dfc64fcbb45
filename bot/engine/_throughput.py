"""Recent generation speed (tokens per second over a sliding window), in bounded memory.

Why a class of its own: each engine kept a deque of (time, tokens) that grew on every decode step or
request and was trimmed only when someone asked for `/status`; a bot nobody asks grew it forever
(one entry per decode step: millions a day). Here old entries go on every `add`, and additions
within `resolution_s` of each other share one entry, so the size never exceeds
window_s / resolution_s + 1, however fast tokens come. Thread-safe: the llama.cpp worker thread adds,
the event loop reads.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

RECENT_WINDOW_S = 30.0
RESOLUTION_S = 0.5


class Throughput:
    """Tokens counted in the last `window_s` seconds."""

    def __init__(
        self,
        window_s: float = RECENT_WINDOW_S,
        *,
        resolution_s: float = RESOLUTION_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window_s = window_s
        self.resolution_s = resolution_s
        self._clock = clock
        self._entries: deque[list[float]] = deque()  # [started at, tokens]
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, tokens: int) -> None:
        now = self._clock()
        with self._lock:
            if self._entries and now - self._entries[-1][0] < self.resolution_s:
                self._entries[-1][1] += tokens
            else:
                self._entries.append([now, tokens])
            self._drop_old(now)

    def per_second(self) -> float:
        now = self._clock()
        with self._lock:
            self._drop_old(now)
            return sum(tokens for _, tokens in self._entries) / self.window_s

    def _drop_old(self, now: float) -> None:
        while self._entries and now - self._entries[0][0] > self.window_s:
            self._entries.popleft()


__all__ = ["RECENT_WINDOW_S", "Throughput"]
