"""`python -m bot run` exactly as an operator starts it: settings from the environment, the bundled
model, pointed at the Discord imitation with DISCORD_API_BASE / DISCORD_GATEWAY_URL. Also the
one-sentence errors for a missing or refused token."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
from discord_imitation import DiscordImitation
from discord_imitation.harness import bot_env, final_reply, finished, start_process

from bot.discord_app.run import BAD_TOKEN, NO_TOKEN


async def test_python_m_bot_run_answers_a_mention(tmp_path: Path) -> None:
    imitation = await DiscordImitation().start()
    process = await start_process(bot_env(tmp_path, **imitation.env()), tmp_path)
    try:
        await imitation.wait_ready(within=90)
        assert {c["name"] for c in imitation.world.commands.values()} >= {"ask", "brief", "reload"}
        question = await imitation.send(
            "What is the race framing of US-China AI competition?", mention_bot=True
        )
        reply = await final_reply(imitation, question, within=120)
        assert finished(reply) and reply.versions[-1].allowed_mentions == {"parse": []}
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        stderr, _ = await asyncio.wait_for(process.communicate(), 60)
        await imitation.stop()
    assert process.returncode == 0, stderr.decode()[-2000:]


@pytest.mark.parametrize(
    ("token", "expected"), [("", NO_TOKEN), ("wrong-token", BAD_TOKEN)], ids=["missing", "refused"]
)
async def test_missing_or_refused_token_is_one_sentence(tmp_path: Path, token: str, expected: str) -> None:
    imitation = await DiscordImitation().start()
    try:
        env = bot_env(tmp_path, **{**imitation.env(), "DISCORD_TOKEN": token})
        process = await start_process(env, tmp_path)
        stderr, _ = await asyncio.wait_for(process.communicate(), 90)
    finally:
        await imitation.stop()
    text = stderr.decode()
    assert process.returncode == 2
    assert f"error: {expected}" in text and "Traceback" not in text
