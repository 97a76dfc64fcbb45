"""Starting the real bot (`BriefingBot`, discord.py underneath) against a `DiscordImitation`.

`bot_settings` points the bot at the imitation with a database in a temporary folder;
`running_bot` logs it in, waits until discord.py is ready, and closes it afterwards; `final_reply`
and `final_response` wait for a streamed reply to reach its finished state.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bot.config import Settings, load_settings
from bot.discord_app import formatting
from bot.discord_app.client import BriefingBot
from bot.discord_app.formatting import FINISHED
from bot.engine.base import Engine
from discord_imitation.server import DiscordImitation
from discord_imitation.world import Interaction, StoredMessage

READY_TIMEOUT = 30.0
QUEUED = "waiting in the queue"


def bot_settings(imitation: DiscordImitation, folder: Path, **overrides: Any) -> Settings:
    world = imitation.world
    values: dict[str, Any] = {
        "discord_token": world.token,
        "discord_api_base": imitation.api_base,
        "discord_gateway_url": imitation.gateway_url,
        "moderator_role_ids": [world.moderator_role_id],
        "database_path": folder / "bot.sqlite3",
        "rate_limit_per_minute": 1000,
        **overrides,
    }
    return load_settings(_env_file=None, **values)


@contextlib.asynccontextmanager
async def running_bot(settings: Settings, engine: Engine) -> AsyncIterator[BriefingBot]:
    """A logged-in bot sharing `engine`; `guild_ready_timeout` is short so tests start fast."""
    bot = BriefingBot(settings, engine=engine, guild_ready_timeout=0.05)
    task = asyncio.create_task(bot.start(settings.discord_token))
    try:
        async with asyncio.timeout(READY_TIMEOUT):
            while not bot.is_ready():
                if task.done():
                    task.result()  # raises what stopped the bot
                    raise AssertionError("the bot stopped before it was ready")
                await asyncio.sleep(0.02)
        yield bot
    finally:
        await bot.close()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def finished(message: StoredMessage) -> bool:
    """The reply reached its final state (the "finished" line), not just a streamed preview."""
    return FINISHED in message.content


def pending(message: StoredMessage) -> bool:
    """Still streaming or waiting in the queue (an error or a refusal is final, not finished)."""
    return message.loading or formatting.WRITING in message.content or QUEUED in message.content


async def final_reply(imitation: DiscordImitation, to: StoredMessage, within: float = 60.0) -> StoredMessage:
    """The bot's reply to the user message `to`, once it is no longer pending."""
    return await imitation.wait_message(
        lambda m: m.reference_id == to.id and not pending(m),
        within=within,
        what=f"the bot's final reply to {to.content[:80]!r}",
    )


async def final_response(
    imitation: DiscordImitation, interaction: Interaction, within: float = 60.0
) -> StoredMessage:
    """The interaction's original response once it is no longer "thinking", streaming or queued."""

    def done() -> StoredMessage | None:
        message = imitation.response(interaction)
        return None if message is None or pending(message) else message

    return await imitation.wait_for(done, within, f"the response to /{interaction.name}")
