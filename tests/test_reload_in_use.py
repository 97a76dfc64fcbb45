"""A reload never closes an index still in use: a debate started before two reloads keeps arguing
from its own snapshot, and the replaced index is closed once the debate lets go of it.

A worker thread drops a finished job's arguments a moment after the awaiting coroutine resumes, so
the test runs the loop's jobs on its own pool and joins that pool before it counts what is left:
without the join, a busy machine sometimes still holds the old index in a thread that has finished.
"""

from __future__ import annotations

import asyncio
import gc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from test_debate import first_source_sentence, settings_for

from bot.briefing.debate import TurnFinished
from bot.engine import ScriptedEngine
from bot.service import BriefingService


async def test_a_debate_survives_two_reloads(tmp_path: Path) -> None:
    loop = asyncio.get_running_loop()
    jobs = ThreadPoolExecutor()
    loop.set_default_executor(jobs)
    service = await BriefingService.open(settings_for(tmp_path), engine=ScriptedEngine(first_source_sentence))
    try:
        session = await service.debate_session(
            "The US must win the AI race against China", rounds=2, conversation_id="d", user_id="u"
        )
        first = [e async for e in session.next_round() if isinstance(e, TurnFinished)]
        for _ in range(2):
            assert (await service.reload(actor="test")).ok
        assert service.library.retired == 1, "the debate's index stays open; the one in between is closed"
        second = [e async for e in session.next_round() if isinstance(e, TurnFinished)]
        assert len(first) == len(second) == 2 and all(e.turn.citations for e in second)
        del session, first, second
        loop.set_default_executor(ThreadPoolExecutor())
        jobs.shutdown(wait=True)  # every finished job has let go of its arguments
        gc.collect()
        assert service.library.retired == 0
    finally:
        await service.aclose()
