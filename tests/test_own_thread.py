"""`in_own_thread`: the thread that ran llama.cpp work has ended when the caller gets the result.

That is the whole point (OpenMP keeps a thread pool per live thread; see bot/engine/own_thread.py),
so the tests check the thread's life, the result and the error, not speed.
"""

from __future__ import annotations

import threading

import pytest

from bot.engine.own_thread import in_own_thread


async def test_result_comes_back_and_the_thread_has_ended() -> None:
    seen: list[threading.Thread] = []

    def work() -> int:
        seen.append(threading.current_thread())
        return 42

    assert await in_own_thread(work) == 42
    assert seen and seen[0] is not threading.main_thread()
    assert not seen[0].is_alive()
    assert seen[0] not in threading.enumerate()


async def test_each_call_gets_a_fresh_thread() -> None:
    """asyncio.to_thread would reuse a long-lived executor thread: exactly what must not happen."""
    idents = [await in_own_thread(lambda: threading.current_thread()) for _ in range(3)]
    assert len({id(t) for t in idents}) == 3


async def test_errors_reach_the_caller_after_the_thread_ended() -> None:
    seen: list[threading.Thread] = []

    def fail() -> None:
        seen.append(threading.current_thread())
        raise ValueError("no model here")

    with pytest.raises(ValueError, match="no model here"):
        await in_own_thread(fail)
    assert not seen[0].is_alive()


async def test_a_cancelled_caller_leaves_no_error_in_the_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C during a bench's reference run cancels the awaiting task: the work still finishes in
    its thread, quietly (no InvalidStateError from handing a result to a cancelled future)."""
    import asyncio

    errors: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: errors.append(args.exc_value))
    started, finish = threading.Event(), threading.Event()

    def work() -> int:
        started.set()
        finish.wait(5)
        return 1

    task = asyncio.ensure_future(in_own_thread(work))
    await asyncio.to_thread(started.wait, 5)
    task.cancel()
    finish.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert errors == []
