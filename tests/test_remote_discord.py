"""The remote backend behind the real bot on Discord: what a user sees when the model server fails.

The model server is the scripted one (`fake_model_server`): it fails on demand, mid-answer.
"""

from __future__ import annotations

from pathlib import Path

from discord_imitation import DiscordImitation
from discord_imitation.harness import bot_settings, final_reply, running_bot
from fake_model_server import SHOWN, FakeServer

from bot.config import load_settings
from bot.engine._remote_http import CUT_OFF
from bot.engine.remote import RemoteEngine

QUESTION = "What does the race framing say about speed and safety?"


async def test_an_answer_cut_off_mid_stream_keeps_its_text_and_says_so(tmp_path: Path) -> None:
    server, imitation = FakeServer(), await DiscordImitation().start()
    await server.start()
    engine = RemoteEngine(load_settings(llm_base_url=server.base("midstream-error")))
    try:
        await engine.start()
        async with running_bot(bot_settings(imitation, tmp_path), engine):
            question = await imitation.send(QUESTION, mention_bot=True)
            reply = await final_reply(imitation, question, within=30)
    finally:
        await engine.aclose()
        await imitation.stop()
        await server.stop()
    # The checked sentence shown before the failure stays; the unfinished one was never shown.
    assert reply.content.startswith(SHOWN.rstrip(".")) and reply.content.endswith(CUT_OFF)
    assert "Liu calls" not in reply.content
    assert "127.0.0.1" not in reply.content and "overflow" not in reply.content
