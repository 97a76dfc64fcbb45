"""`Pace`, the per-channel budget for creates and edits: never more than its limit in any window,
final answers before previews before queue positions, and a cancelled waiter uses no turn.

The pace reads a clock the test sets (`Clock`), so "when" is decided by the test, not by how busy the
machine is: while the clock stands before the end of a window, no turn can be granted however long
the test waits in real time. (The pace's timer still sleeps for real, so each wait is bounded by a
generous `asyncio.wait_for`.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.discord_app.courier import FINAL, PREVIEW, QUEUE, Pace

WITHIN_S = 10.0  # real time allowed for the pace's timer to fire: only a hang takes this long


class Clock:
    """A clock that moves only when the test says."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def until(condition: Callable[[], bool]) -> None:
    deadline = asyncio.get_running_loop().time() + WITHIN_S
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


async def test_pace_keeps_its_limit_and_serves_finals_first() -> None:
    clock = Clock()
    pace = Pace(limit=2, period=0.3, clock=clock)
    granted: list[tuple[str, float]] = []

    async def want(name: str, priority: int) -> None:
        await pace.turn(priority)
        granted.append((name, clock.now))

    tasks = [asyncio.create_task(want(f"queue{i}", QUEUE)) for i in range(4)]
    await until(lambda: len(granted) == 2)  # two queue updates get the two free turns at once
    tasks += [asyncio.create_task(want("preview", PREVIEW)), asyncio.create_task(want("final", FINAL))]
    await until(lambda: pace.waiting == 4)
    clock.now = 0.29  # before the window ends: the timer may fire, nobody gets a turn
    await asyncio.sleep(0.35)
    assert len(granted) == 2
    clock.now = 0.3
    await until(lambda: len(granted) == 4)
    clock.now = 0.6
    await asyncio.wait_for(asyncio.gather(*tasks), WITHIN_S)
    assert granted == [
        ("queue0", 0.0),
        ("queue1", 0.0),
        ("final", 0.3),
        ("preview", 0.3),
        ("queue2", 0.6),
        ("queue3", 0.6),
    ]


async def test_a_cancelled_waiter_uses_no_turn() -> None:
    clock = Clock()
    pace = Pace(limit=1, period=0.3, clock=clock)
    await pace.turn(QUEUE)
    gave_up = asyncio.create_task(pace.turn(FINAL))
    await until(lambda: pace.waiting == 1)
    gave_up.cancel()
    waiting = asyncio.create_task(pace.turn(QUEUE))
    clock.now = 0.3  # the next window, and it stays there: had the cancelled waiter taken its turn,
    # the one still waiting would need the window after (0.6) and wait_for would time out
    await asyncio.wait_for(waiting, WITHIN_S)
    assert pace.waiting == 0
