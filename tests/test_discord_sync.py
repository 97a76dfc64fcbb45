"""Slash command sync at start-up: global by default, to one guild with DEV_GUILD_ID (instant on
Discord, for development), none with SYNC_COMMANDS=false."""

from __future__ import annotations

from pathlib import Path

from discord_imitation import DiscordImitation
from discord_imitation.harness import bot_settings, running_bot

from bot.engine.scripted import ScriptedEngine


async def test_dev_guild_sync_and_no_sync(tmp_path: Path) -> None:
    imitation = await DiscordImitation().start()
    world = imitation.world
    try:
        settings = bot_settings(imitation, tmp_path, dev_guild_id=world.guild_id)
        async with running_bot(settings, ScriptedEngine(["An answer [1]."])) as bot:
            assert [guild for guild, _ in world.synced] == [world.guild_id]
            assert world.requests_to("PUT", f"/guilds/{world.guild_id}/commands")
            synced = {c["name"] for c in world.synced[0][1]}
            assert synced == {c.name for c in bot.tree.get_commands()} and {"prompts", "feedback"} <= synced
        settings = bot_settings(imitation, tmp_path, sync_commands=False)
        async with running_bot(settings, ScriptedEngine(["An answer [1]."])):
            assert len(world.synced) == 1  # nothing new
    finally:
        await imitation.stop()
