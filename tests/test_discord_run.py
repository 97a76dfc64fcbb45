"""`python -m bot run` exactly as an operator starts it: settings from the environment, the bundled
model, pointed at the Discord imitation with DISCORD_API_BASE / DISCORD_GATEWAY_URL. Also the
one-sentence errors for a missing or refused token."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
from discord_imitation import DiscordImitation
from discord_imitation.harness import final_reply, finished

from bot.discord_app.run import BAD_TOKEN, NO_TOKEN

REPO = Path(__file__).resolve().parent.parent


def bot_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A clean environment: no operator settings leak in; the run's files go to `tmp_path`."""
    keep = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TMPDIR", "SYSTEMROOT"}}
    return {
        **keep,
        "PYTHONPATH": str(REPO),
        "PROMPTS_DIR": str(REPO / "prompts"),
        "DATABASE_PATH": str(tmp_path / "run.sqlite3"),
        "N_CTX": "2048",
        "N_THREADS": "1",  # no thread barrier to spin on if the test machine is busy
        "N_SLOTS": "2",
        "KV_CACHE_MIB": "32",
        "MAX_ANSWER_TOKENS": "60",
        **extra,
    }


async def start(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_python_m_bot_run_answers_a_mention(tmp_path: Path) -> None:
    imitation = await DiscordImitation().start()
    process = await start(bot_env(tmp_path, **imitation.env()), tmp_path)
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
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
        await imitation.stop()
    assert process.returncode == 0, stderr.decode()[-2000:]


@pytest.mark.parametrize(
    ("token", "expected"), [("", NO_TOKEN), ("wrong-token", BAD_TOKEN)], ids=["missing", "refused"]
)
async def test_missing_or_refused_token_is_one_sentence(tmp_path: Path, token: str, expected: str) -> None:
    imitation = await DiscordImitation().start()
    try:
        env = bot_env(tmp_path, **{**imitation.env(), "DISCORD_TOKEN": token})
        process = await start(env, tmp_path)
        _, stderr = await asyncio.wait_for(process.communicate(), 90)
    finally:
        await imitation.stop()
    text = stderr.decode()
    assert process.returncode == 2
    assert f"error: {expected}" in text and "Traceback" not in text
