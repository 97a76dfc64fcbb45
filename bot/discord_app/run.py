"""`python -m bot run`: connect to Discord (or to the server DISCORD_API_BASE points at).

Start-up failures an operator can fix are one sentence each (missing token, refused token, missing
Message Content intent, server unreachable), raised as `ConfigError` so the console prints them
without a traceback. SIGINT/SIGTERM close the bot cleanly (database and model included).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

import aiohttp
import discord

from bot.config import Settings
from bot.discord_app.client import BriefingBot
from bot.errors import ConfigError

log = logging.getLogger(__name__)

NO_TOKEN = "DISCORD_TOKEN is not set: put the bot token from the developer portal in .env or the environment."
BAD_TOKEN = "Discord refused the token in DISCORD_TOKEN: copy the bot token again from the developer portal."
NO_INTENT = (
    "Discord refused the Message Content intent: enable it for the bot in the developer portal "
    "(Bot > Privileged Gateway Intents)."
)
UNREACHABLE = (
    "Could not reach Discord at {where}: check the network and DISCORD_API_BASE/DISCORD_GATEWAY_URL."
)


async def run_discord(settings: Settings) -> int:
    """Run the bot until it is stopped; returns the exit status."""
    token = settings.discord_token.strip()
    if not token:
        raise ConfigError(NO_TOKEN)
    discord.utils.setup_logging(level=logging.INFO)  # root logger: our tracebacks are logged too
    bot = BriefingBot(settings)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on Windows
            loop.add_signal_handler(sig, lambda: asyncio.ensure_future(bot.close()))
    try:
        async with bot:
            await bot.start(token)
    except discord.LoginFailure:
        raise ConfigError(BAD_TOKEN) from None
    except discord.PrivilegedIntentsRequired:
        raise ConfigError(NO_INTENT) from None
    except (aiohttp.ClientConnectionError, discord.GatewayNotFound, OSError) as exc:
        where = settings.discord_api_base or "discord.com"
        log.debug("connection failure", exc_info=exc)
        raise ConfigError(UNREACHABLE.format(where=where)) from None
    return 0
