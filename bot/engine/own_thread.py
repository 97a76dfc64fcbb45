"""Blocking llama.cpp work that must not leave threads behind: run it in a thread that then ends.

Why: llama.cpp's CPU backend runs each graph with OpenMP, and libgomp keeps a pool of worker threads
for every thread that ever ran a graph, for as long as that thread lives. It counts all of them, and
once they outnumber the cores it stops spinning at its barriers and sleeps and wakes at every graph
node instead. A one-token decode is hundreds of tiny nodes, so a second pool (say, the raw reference
loop run from `asyncio.to_thread`, whose executor threads never end) made the engine's own decoding
four times slower at 16 threads on 16 cores (282 → 67 tokens/s, `scripts/thread_probe.py`), and
throttled it on 2 cores as well. When the thread ends, libgomp frees its pool and the count drops.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def in_own_thread(fn: Callable[[], T], *, name: str = "llama-oneshot") -> T:
    """`fn()` in a new thread, awaited without blocking the loop; the thread has ended on return."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()

    def target() -> None:
        try:
            result = fn()
        except BaseException as exc:  # handed to the awaiting task, raised there
            loop.call_soon_threadsafe(_settle, done, None, exc)
        else:
            loop.call_soon_threadsafe(_settle, done, result, None)

    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    try:
        return await done
    finally:
        await asyncio.to_thread(thread.join)  # its OpenMP pool is gone once it has exited


def _settle(future: asyncio.Future[T], result: T | None, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)  # type: ignore[arg-type]


__all__ = ["in_own_thread"]
