"""A full queue: the bot answers "busy, try again" at once instead of letting the line grow."""

from __future__ import annotations

import asyncio
from pathlib import Path

from discord_imitation import DiscordImitation
from discord_imitation.harness import bot_settings, final_reply, finished, running_bot

from bot.engine.scripted import ScriptedEngine
from bot.errors import QueueFullError

QUESTION = "What does the race framing say about speed and safety?"


async def test_busy_try_again_when_the_queue_is_full(tmp_path: Path) -> None:
    imitation = await DiscordImitation().start()
    # One answering, one waiting: the third request finds the line full.
    engine = ScriptedEngine(
        ["Speed comes before safety in the race framing [1]."], n_slots=1, max_queue=1, delay=0.1
    )
    try:
        async with running_bot(bot_settings(imitation, tmp_path), engine):
            questions = [
                await imitation.send(QUESTION, author=who, mention_bot=True)
                for who in ("alice", "bob", "carol")
            ]
            replies = await asyncio.gather(*(final_reply(imitation, q) for q in questions))
    finally:
        await imitation.stop()
    # The three are handled concurrently, so which one reaches the engine last is a race: exactly one
    # (whichever found the line full) is told "busy", the other two are answered.
    refused = [r for r in replies if not finished(r)]
    assert len(refused) == 1 and sum(finished(r) for r in replies) == 2
    assert refused[0].content == QueueFullError().user_message
    assert len(engine.requests) == 2, "the refused question never reached the model"
