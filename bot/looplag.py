"""How late the event loop runs: a task that asks to wake every `TICK_S` and records how much later
it actually woke.

Why: everything the bot does for Discord (heartbeats, gateway events, edits) runs on one event loop.
CPU work on it delays all of them; past about 10 s discord.py logs "Can't keep up", and past the
heartbeat interval Discord drops the connection. The figures are logged at shutdown and, with
LOOP_STATS_PATH set, written there as JSON (the chaos tests read them).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from pathlib import Path

log = logging.getLogger(__name__)

TICK_S = 0.02
MAX_MS = 60_000  # lags are counted per millisecond up to this; fixed memory however long it runs


class LoopLag:
    """Start with `start()`, stop with `await stop()`; `summary()` gives the percentiles in ms."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._counts = [0] * (MAX_MS + 1)
        self._ticks = 0
        self._max_ms = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="loop-lag")

    async def _run(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(TICK_S)
            lag_ms = max(0.0, (time.perf_counter() - before - TICK_S) * 1000)
            self._counts[min(MAX_MS, int(lag_ms))] += 1
            self._ticks += 1
            self._max_ms = max(self._max_ms, lag_ms)

    def percentile(self, fraction: float) -> float:
        """The lag (whole ms, rounded up) that `fraction` of the ticks stayed within."""
        wanted, seen = fraction * self._ticks, 0
        for ms, count in enumerate(self._counts):
            seen += count
            if seen >= wanted and count:
                return float(ms + 1)
        return 0.0

    def summary(self) -> dict[str, float]:
        return {
            "ticks": self._ticks,
            "p50_ms": self.percentile(0.50),
            "p99_ms": self.percentile(0.99),
            "max_ms": round(self._max_ms, 1),
        }

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        summary = self.summary()
        log.info("event loop lag: p50 %(p50_ms).0f ms, p99 %(p99_ms).0f ms, max %(max_ms).0f ms", summary)
        if self.path is not None:
            try:
                self.path.write_text(json.dumps(summary))
            except OSError:
                log.warning("could not write the loop lag figures to %s", self.path, exc_info=True)
