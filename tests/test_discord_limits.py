"""The bot within Discord's real limits, with a scripted model (what is tested is the Discord side):
a burst in one channel causes no 429, a deleted question or reply or a lost channel stops the
generation without an error loop, a dropped connection does not freeze a reply, and /reset answers
within Discord's 3 seconds while the database is locked."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from discord_imitation import DiscordImitation
from discord_imitation.harness import (
    bot_settings,
    final_reply,
    final_response,
    finished,
    pending,
    running_bot,
)

from bot.discord_app.client import BriefingBot
from bot.discord_app.cogs.commands import RESET_DONE
from bot.discord_app.streaming import QUESTION_DELETED
from bot.engine.scripted import ScriptedEngine
from bot.errors import QueueFullError

QUESTION = "What does the race framing say about speed and safety?"
LONG_ANSWER = " ".join(["The race framing puts speed ahead of safety [1]."] * 12)


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[DiscordImitation, BriefingBot, ScriptedEngine]]:
    imitation = await DiscordImitation().start()
    engine = ScriptedEngine([LONG_ANSWER], n_slots=2, max_queue=16, delay=0.05)
    try:
        async with running_bot(bot_settings(imitation, tmp_path), engine) as bot:
            yield imitation, bot, engine
    finally:
        await imitation.stop()


async def test_a_burst_in_one_channel_causes_no_429(
    setup: tuple[DiscordImitation, BriefingBot, ScriptedEngine],
) -> None:
    im, _, _ = setup
    people = [im.world.add_person(f"burst{i}") for i in range(20)]
    asked = await asyncio.gather(*(im.send(QUESTION, author=p, mention_bot=True) for p in people))
    replies = await asyncio.gather(*(final_reply(im, q, within=180) for q in asked))
    busy = QueueFullError().user_message
    assert all(finished(r) or r.content == busy for r in replies)
    assert sum(finished(r) for r in replies) >= 16
    assert im.refused == []
    typing = [at for channel, at in im.world.typing if channel == im.world.general]
    assert len(typing) <= 1 + (typing[-1] - typing[0]) / 4 if typing else True, "one typing loop per channel"


async def stream_then(im: DiscordImitation, engine: ScriptedEngine) -> tuple[object, object]:
    """Ask, and wait until the answer is visibly streaming."""
    question = await im.send(QUESTION, mention_bot=True)
    reply = await im.wait_message(lambda m: m.reference_id == question.id and pending(m), within=30)
    await im.wait_for(lambda: "[1]" in reply.content, what="streamed text")
    return question, reply


async def test_a_deleted_question_stops_its_answer(
    setup: tuple[DiscordImitation, BriefingBot, ScriptedEngine],
) -> None:
    im, bot, engine = setup
    question, reply = await stream_then(im, engine)
    await im.delete(question)  # type: ignore[arg-type]
    await im.wait_for(lambda: reply.content.endswith(QUESTION_DELETED), what="the stopped reply")  # type: ignore[attr-defined]
    await im.wait_for(lambda: engine.status().active == 0 and not bot.courier.active, what="the stop")
    conversation = f"discord:msg:{question.id}"  # type: ignore[attr-defined]
    assert [status for *_, status in await bot.service.store.turns(conversation)] == ["cut_off", "cut_off"]


async def test_a_deleted_reply_or_a_lost_channel_stops_quietly(
    setup: tuple[DiscordImitation, BriefingBot, ScriptedEngine],
) -> None:
    im, bot, engine = setup
    _, reply = await stream_then(im, engine)
    await im.delete(reply)  # type: ignore[arg-type]
    await im.wait_for(lambda: engine.status().active == 0 and not bot.courier.active, what="the stop")

    _, reply = await stream_then(im, engine)
    im.revoke_access(im.world.general)
    before = len(im.world.requests)
    await im.wait_for(lambda: engine.status().active == 0 and not bot.courier.active, what="the stop")
    await asyncio.sleep(2)
    assert len(im.world.requests) - before <= 2, "one refused edit, and no error loop"
    assert not im.refused


async def test_a_dropped_connection_does_not_freeze_a_reply(
    setup: tuple[DiscordImitation, BriefingBot, ScriptedEngine],
) -> None:
    im, bot, _ = setup
    im.world.disconnect_edits = 2
    question = await im.send(QUESTION, mention_bot=True)
    assert finished(await final_reply(im, question, within=60))
    assert im.world.disconnect_edits == 0, "edits were dropped and the loop went on"
    assert await bot.service.store.open_replies() == []


async def test_reset_answers_in_time_while_the_database_is_locked(
    setup: tuple[DiscordImitation, BriefingBot, ScriptedEngine], tmp_path: Path
) -> None:
    im, _, _ = setup
    dm = im.world.dm_channel("carol")
    assert finished(await final_reply(im, await im.dm("What is the race framing?", author="carol")))
    # The lock is taken once the answer is final; the bot may still be writing its reply tracking,
    # and the locker waits for that (up to 120 s on a loaded machine) without blocking the loop.
    locker = sqlite3.connect(
        tmp_path / "bot.sqlite3", isolation_level=None, timeout=120, check_same_thread=False
    )
    # Taken in a thread: waiting for the lock on the event loop would stop the bot's own pending
    # commit (it needs the loop to run), and each would wait for the other until the timeout.
    await asyncio.to_thread(locker.execute, "BEGIN EXCLUSIVE")
    try:
        interaction = await im.command("reset", user="carol", channel_id=dm)
        await asyncio.sleep(3.5)
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert RESET_DONE in (await final_response(im, interaction)).content
    assert im.world.late_interactions == []
