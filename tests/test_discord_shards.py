"""Two bot processes splitting two shards, sharing one llama-server and one prompt folder: each
process answers the events of its own shards, keeps its own SQLite database, and a /reload run in
one reaches the other (bot/reload_signal.py). Both are `python -m bot run` as an operator starts them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from bot_processes import BotProcess, shard_env, wait_until
from discord_imitation import DiscordImitation
from discord_imitation.harness import bot_settings, final_reply, final_response, finished, running_bot
from model_servers import ModelServer

from bot.engine.scripted import ScriptedEngine
from bot.store import Store

REPO = Path(__file__).resolve().parent.parent


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
    # Snowflakes carry their creation time, so the guild lands on either shard; DMs are on shard 0.
    guild_shard = world.shard_of(world.guild_id, 2)
    other = 1 - guild_shard
    bots = [
        BotProcess(
            shard_env(tmp_path, imitation, llama_server.url, [shard], 2), tmp_path, tmp_path / f"{shard}.log"
        )
        for shard in (0, 1)
    ]
    try:
        for bot in bots:
            await bot.start()
        await wait_until(lambda: all(bot.ready() for bot in bots), 90, "both processes to be ready")
        assert imitation.gateway.shards() == [(0, 2), (1, 2)]

        mention = await imitation.send("What is the race framing of US-China AI rivalry?", mention_bot=True)
        dm = await imitation.dm("What is a track-two dialogue?", author="bob")
        assert finished(await final_reply(imitation, mention, within=120))
        assert finished(await final_reply(imitation, dm, within=120))
        # Each conversation lives in the database of the process whose shard got it.
        assert await history_of(tmp_path / f"shards{guild_shard}.sqlite3", f"discord:msg:{mention.id}") == 2
        assert await history_of(tmp_path / f"shards{other}.sqlite3", f"discord:msg:{mention.id}") == 0
        dm_conversation = f"discord:dm:{world.dm_channel('bob')}"
        assert await history_of(tmp_path / "shards0.sqlite3", dm_conversation) == 2

        with (tmp_path / "prompts" / "personas" / "briefer.md").open("a") as persona:
            persona.write("\nBe brief.\n")
        reload = await imitation.command("reload", user="mod")  # answered by the guild's shard
        assert "live" in (await final_response(imitation, reload, within=60)).content
        await wait_until(
            lambda: bots[other].logged(b"another bot process reloaded"),
            30,
            "the other shard to follow /reload",
        )
    finally:
        codes = [await bot.stop() for bot in bots]
        await imitation.stop()
    assert codes == [0, 0], [bot.log.read_text(errors="replace")[-2000:] for bot in bots]


async def test_one_process_runs_the_shard_count_discord_recommends(tmp_path: Path) -> None:
    """SHARD_COUNT unset: the bot asks GET /gateway/bot and runs every shard it recommends."""
    imitation = await DiscordImitation().start()
    imitation.world.shards = 2
    try:
        settings = bot_settings(imitation, tmp_path)
        async with running_bot(settings, ScriptedEngine(["The race framing puts speed first [1]."])) as bot:
            assert bot.shard_count == 2 and imitation.gateway.shards() == [(0, 2), (1, 2)]
            mention = await imitation.send("What does the race framing say?", mention_bot=True)
            dm = await imitation.dm("What does the race framing say?", author="bob")
            assert finished(await final_reply(imitation, mention, within=30))
            assert finished(await final_reply(imitation, dm, within=30))
    finally:
        await imitation.stop()
    assert imitation.world.requests_to("GET", "/gateway/bot")
