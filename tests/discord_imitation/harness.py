"""Starting the real bot (`BriefingBot`, discord.py underneath) against a `DiscordImitation`.

`bot_settings` points the bot at the imitation with a database in a temporary folder;
`running_bot` logs it in, waits until discord.py is ready, and closes it afterwards; `final_reply`
and `final_response` wait for a streamed reply to reach its finished state.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
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

# A bot's start-up embeds its sources when the vector cache does not hold them yet (a fresh
# install): several seconds on two idle cores, and far more with both cores busy.
READY_TIMEOUT = 120.0
QUEUED = "waiting in the queue"
REPO = Path(__file__).resolve().parent.parent.parent


def bot_env(folder: Path, **extra: str) -> dict[str, str]:
    """The environment of `python -m bot run` on the bundled model: no operator settings leak in;
    the run's files go to `folder`."""
    keep = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TMPDIR", "SYSTEMROOT"}}
    return {
        **keep,
        "PYTHONPATH": str(REPO),
        "PROMPTS_DIR": str(REPO / "prompts"),
        "DATABASE_PATH": str(folder / "run.sqlite3"),
        "N_CTX": "2048",
        "N_THREADS": "1",  # no thread barrier to spin on if the test machine is busy
        "N_SLOTS": "2",
        "KV_CACHE_MIB": "32",
        "MAX_ANSWER_TOKENS": "60",
        **extra,
    }


async def start_process(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    """`python -m bot run`, exactly as an operator starts it."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


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
    return load_settings(**values)


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
    progress = (formatting.WRITING, formatting.READING, formatting.STARTING, formatting.CHECKING, QUEUED)
    return message.loading or any(line in message.content for line in progress)


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


class BotProcess:
    """`python -m bot run` in a subprocess, its output read as it comes (a full pipe would block
    the bot's logging, and with it the event loop the test is measuring)."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env, self.cwd = env, cwd
        self.lines: list[str] = []
        self.process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> BotProcess:
        self.process = await start_process(self.env, self.cwd)
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        async for line in self.process.stdout:
            self.lines.append(line.decode(errors="replace"))

    @property
    def output(self) -> str:
        return "".join(self.lines)

    async def stop(self, sig: int = signal.SIGTERM, within: float = 90.0) -> int:
        """Send `sig` (if still running) and wait for the exit status."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(sig)
        try:
            code = await asyncio.wait_for(self.process.wait(), within)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise AssertionError(f"the bot did not stop within {within} s:\n{self.output[-4000:]}") from None
        if self._reader is not None:
            await asyncio.wait_for(self._reader, 10)
        return code
