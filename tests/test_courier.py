"""`Pace`, the per-channel budget for creates and edits: never more than its limit in any window,
final answers before previews before queue positions, and a cancelled waiter uses no turn."""

from __future__ import annotations

import asyncio
import time

from bot.discord_app.courier import FINAL, PREVIEW, QUEUE, Pace


async def test_pace_keeps_its_limit_and_serves_finals_first() -> None:
    pace = Pace(limit=2, period=0.3)
    granted: list[tuple[str, float]] = []

    async def want(name: str, priority: int) -> None:
        await pace.turn(priority)
        granted.append((name, time.monotonic()))

    tasks = [asyncio.create_task(want(f"queue{i}", QUEUE)) for i in range(4)]
    await asyncio.sleep(0)  # two queue updates get the two free turns at once
    tasks += [asyncio.create_task(want("preview", PREVIEW)), asyncio.create_task(want("final", FINAL))]
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert [name for name, _ in granted] == ["queue0", "queue1", "final", "preview", "queue2", "queue3"]
    times = [at for _, at in granted]
    assert all(later - earlier >= 0.29 for earlier, later in zip(times, times[2:], strict=False))


async def test_a_cancelled_waiter_uses_no_turn() -> None:
    pace = Pace(limit=1, period=0.3)
    await pace.turn(QUEUE)
    gave_up = asyncio.create_task(pace.turn(FINAL))
    await asyncio.sleep(0.05)
    gave_up.cancel()
    started = time.monotonic()
    await asyncio.wait_for(pace.turn(QUEUE), 2)
    assert time.monotonic() - started < 0.35  # the next window's turn went to the one still waiting
    assert pace.waiting == 0
