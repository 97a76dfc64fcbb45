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
import concurrent.futures
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def in_own_thread(fn: Callable[[], T], *, name: str = "llama-oneshot") -> T:
    """`fn()` in a new thread, awaited without blocking the loop; the thread has ended on return."""
    done: concurrent.futures.Future[T] = concurrent.futures.Future()

    def target() -> None:
        if not done.set_running_or_notify_cancel():
            return  # the awaiting task was cancelled before the thread started (Ctrl-C in a bench)
        try:
            done.set_result(fn())
        except BaseException as exc:  # handed to the awaiting task, raised there
            done.set_exception(exc)

    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    try:
        return await asyncio.wrap_future(done)
    finally:
        await asyncio.to_thread(thread.join)  # its OpenMP pool is gone once it has exited


__all__ = ["in_own_thread"]
