"""Two bot processes splitting two shards, sharing one llama-server and one prompt folder: each
process answers the events of its own shards, keeps its own SQLite database, and a /reload run in
one reaches the other (bot/reload_signal.py). Both are `python -m bot run` as an operator starts them.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from discord_imitation import DiscordImitation
from discord_imitation.harness import final_reply, final_response, finished
from model_servers import ModelServer

from bot.store import Store

REPO = Path(__file__).resolve().parent.parent
READY_LINE = b"logged in as"


def shard_env(folder: Path, imitation: DiscordImitation, server: ModelServer, shard: int) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TMPDIR", "SYSTEMROOT"}}
    return {
        **keep,
        **imitation.env(),
        "PYTHONPATH": str(REPO),
        "LLM_BASE_URL": server.url,
        "SHARD_COUNT": "2",
        "SHARD_IDS": str(shard),
        "PROMPTS_DIR": str(folder / "prompts"),  # shared by both processes
        "PROMPTS_POLL_S": "0.2",
        "DATABASE_PATH": str(folder / f"shard{shard}.sqlite3"),  # one per process
        "MODERATOR_ROLE_IDS": str(imitation.world.moderator_role_id),
        "N_CTX": "2048",
        "MAX_ANSWER_TOKENS": "40",
    }


async def wait_until(condition: Callable[[], bool], within: float, what: str) -> None:
    for _ in range(int(within / 0.1)):
        if condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def stop(process: asyncio.subprocess.Process) -> int:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    return await asyncio.wait_for(process.wait(), 60)


async def history_of(database: Path, conversation: str) -> int:
    store = await Store.open(database)
    try:
        return len(await store.history(conversation))
    finally:
        await store.aclose()


async def test_two_processes_split_the_shards(llama_server: ModelServer, tmp_path: Path) -> None:
    shutil.copytree(REPO / "prompts", tmp_path / "prompts")
    imitation = await DiscordImitation().start()
    world = imitation.world
    assert world.shard_of(world.guild_id, 2) == 1  # the guild on shard 1, DMs on shard 0
    logs = [tmp_path / f"shard{shard}.log" for shard in (0, 1)]
    processes = []
    try:
        for shard, log in enumerate(logs):
            env = shard_env(tmp_path, imitation, llama_server, shard)
            with log.open("wb") as out:
                run = (sys.executable, "-m", "bot", "run")
                process = await asyncio.create_subprocess_exec(
                    *run, cwd=tmp_path, stdout=out, stderr=out, env=env
                )
                processes.append(process)
        await wait_until(
            lambda: all(READY_LINE in log.read_bytes() for log in logs), 90, "both processes to be ready"
        )
        assert imitation.gateway.shards() == [(0, 2), (1, 2)]

        mention = await imitation.send("What is the race framing of US-China AI rivalry?", mention_bot=True)
        dm = await imitation.dm("What is a track-two dialogue?", author="bob")
        assert finished(await final_reply(imitation, mention, within=120))
        assert finished(await final_reply(imitation, dm, within=120))
        # Each conversation lives in the database of the process whose shard got it.
        assert await history_of(tmp_path / "shard1.sqlite3", f"discord:msg:{mention.id}") == 2
        assert await history_of(tmp_path / "shard0.sqlite3", f"discord:msg:{mention.id}") == 0
        dm_conversation = f"discord:dm:{world.dm_channel('bob')}"
        assert await history_of(tmp_path / "shard0.sqlite3", dm_conversation) == 2

        with (tmp_path / "prompts" / "personas" / "briefer.md").open("a") as persona:
            persona.write("\nBe brief.\n")
        reload = await imitation.command("reload", user="mod")  # the guild's shard: process 1
        assert "live" in (await final_response(imitation, reload, within=60)).content
        await wait_until(
            lambda: b"another bot process reloaded" in logs[0].read_bytes(), 30, "shard 0 to follow /reload"
        )
    finally:
        codes = [await stop(process) for process in processes]
        await imitation.stop()
    assert codes == [0, 0], [log.read_text(errors="replace")[-2000:] for log in logs]
