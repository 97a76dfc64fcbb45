"""`BriefingBot`: the discord.py client. It owns the `BriefingService` (opened in `setup_hook`,
closed in `close`), loads the cogs, syncs the slash commands and routes command errors to the one
failure helper.

Why the service is opened in `setup_hook` and not before: discord.py runs `setup_hook` after login
and before connecting to the gateway, so a broken prompt folder or a missing model stops the bot
before it appears online, and everything runs on the client's own event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.ext import commands

from bot.config import Settings
from bot.discord_app.conversations import Conversations
from bot.discord_app.courier import NO_MENTIONS, Courier
from bot.discord_app.failures import user_message
from bot.discord_app.limits import RateLimiter
from bot.discord_app.streaming import QUESTION_DELETED
from bot.engine.base import Engine
from bot.looplag import LoopLag
from bot.reload_signal import follow_reloads
from bot.service import BriefingService

log = logging.getLogger(__name__)

COGS = (
    "bot.discord_app.cogs.chat",
    "bot.discord_app.cogs.commands",
    "bot.discord_app.cogs.debate",
    "bot.discord_app.cogs.feedback",
    "bot.discord_app.cogs.moderation",
    "bot.discord_app.cogs.prompts",
)
ACTIVITY = discord.Activity(type=discord.ActivityType.listening, name="/ask and mentions")


def point_at(api_base: str, gateway_url: str) -> None:
    """Send discord.py's REST calls and gateway connection to a Discord-compatible server.

    discord.py reads both from class attributes (`Route.BASE`, also used for webhooks and
    interaction callbacks, and `DiscordWebSocket.DEFAULT_GATEWAY`); empty values keep discord.com.
    """
    if api_base:
        discord.http.Route.BASE = api_base.rstrip("/")
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def bot_intents() -> discord.Intents:
    """Default intents plus message content (privileged: enable it in the developer portal)."""
    intents = discord.Intents.default()
    intents.message_content = True
    return intents


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.error("background task %s failed", task.get_name(), exc_info=exc)


class BriefingTree(app_commands.CommandTree["BriefingBot"]):
    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        """Every slash command and button failure ends here: one message, never silence."""
        original = getattr(error, "original", error)
        name = interaction.command.qualified_name if interaction.command else "a component"
        text = user_message(original, doing=f"running /{name}")
        try:
            if interaction.response.is_done():
                await interaction.edit_original_response(
                    content=text, embeds=[], allowed_mentions=NO_MENTIONS
                )
            else:
                await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException:
            log.warning("could not report a command failure", exc_info=True)


class BriefingBot(commands.AutoShardedBot):
    """The Discord front end. Pass `engine` to share a started engine (tests); else settings decide.

    Sharded from the start (Discord requires shards from 2,500 servers): SHARD_COUNT and SHARD_IDS
    let several processes split the shards; unset, Discord's recommended count all runs here.
    """

    def __init__(self, settings: Settings, *, engine: Engine | None = None, **options: Any) -> None:
        options.setdefault("shard_ids", settings.shard_ids or None)  # None: every shard runs here
        super().__init__(
            shard_count=settings.shard_count,
            command_prefix=commands.when_mentioned,  # unused: the bot has no prefix commands
            intents=bot_intents(),
            allowed_mentions=NO_MENTIONS,
            help_command=None,
            tree_cls=BriefingTree,
            activity=ACTIVITY,
            **options,
        )
        self.settings = settings
        self._engine = engine
        self._service: BriefingService | None = None
        self._reload_watch: asyncio.Task[None] | None = None
        self._courier: Courier | None = None
        self._conversations: Conversations | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._closing: asyncio.Future[None] | None = None
        self.loop_lag = LoopLag(settings.loop_stats_path)
        self.limiter = RateLimiter(settings.rate_limit_per_minute)
        point_at(settings.discord_api_base, settings.discord_gateway_url)

    @property
    def service(self) -> BriefingService:
        if self._service is None:
            raise RuntimeError("the briefing service is not open yet (setup_hook has not run)")
        return self._service

    @property
    def courier(self) -> Courier:
        """Pacing, typing, open replies and replies in progress (see `courier`)."""
        if self._courier is None:
            raise RuntimeError("the courier is not ready yet (setup_hook has not run)")
        return self._courier

    @property
    def conversations(self) -> Conversations:
        if self._conversations is None:
            raise RuntimeError("conversations are not ready yet (setup_hook has not run)")
        return self._conversations

    @property
    def bot_id(self) -> int:
        assert self.user is not None
        return self.user.id

    async def setup_hook(self) -> None:
        self.loop_lag.start()
        self._service = await BriefingService.open(self.settings, engine=self._engine)
        if self.settings.prompts_poll_s > 0:  # /reload run by another process of this bot
            self._reload_watch = asyncio.create_task(
                follow_reloads(self._service, self.settings.prompts_dir, self.settings.prompts_poll_s),
                name="follow-reloads",
            )
        self._courier = Courier(self._service)
        self._conversations = Conversations(self._service)
        for cog in COGS:
            await self.load_extension(cog)
        if self.settings.sync_commands:
            await self.sync_commands()
        # Replies a dead process left "still writing": say they were interrupted (in the background:
        # at Discord's pace this can take a while, and new questions need not wait for it).
        self._in_background(self._courier.recover(self), "recover-replies")

    def _in_background(self, work: Any, name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        task.add_done_callback(_log_failure)

    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        """A deleted question stops its answer; a deleted reply stops quietly."""
        if self._courier is None:
            return
        for reply in self._courier.replying_to(payload.message_id):
            if reply.is_own(payload.message_id):
                reply.gone("its message was deleted")
            else:
                reply.stop(QUESTION_DELETED)

    async def sync_commands(self) -> None:
        """Global sync takes up to an hour to show on Discord; DEV_GUILD_ID syncs one guild at once."""
        try:
            if self.settings.dev_guild_id:
                guild = discord.Object(id=self.settings.dev_guild_id)
                self.tree.copy_global_to(guild=guild)
                synced = await self.tree.sync(guild=guild)
            else:
                synced = await self.tree.sync()
        except (discord.DiscordException, aiohttp.ClientError):
            # A server without the commands endpoint (or no application id) must not stop the bot:
            # mentions, replies and DMs work without slash commands.
            log.exception("slash command sync failed; commands may be out of date")
            return
        log.info("synced %d slash commands", len(synced))

    async def on_message(self, message: discord.Message) -> None:
        """No prefix commands: the chat cog handles messages (this override stops discord.py from
        parsing mentions as commands)."""

    async def on_ready(self) -> None:
        log.info(
            "logged in as %s (%s) in %d guilds, shards %s of %s",
            self.user, self.bot_id, len(self.guilds), sorted(self.shards), self.shard_count,
        )  # fmt: skip

    async def close(self) -> None:
        """Let answers in progress finish (SHUTDOWN_GRACE_S), then disconnect (no new events), then
        close the service (database, model). Every caller (a signal, `async with`) waits for the
        same one shutdown: a second caller returning early would end the process mid-close."""
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._shut_down())
        await asyncio.shield(self._closing)

    async def __aexit__(self, *exc_info: object) -> None:
        """discord.py's own exit waits only for its disconnect, not for this class's `close`."""
        await self.close()

    async def _shut_down(self) -> None:
        if self._courier is not None:
            await self._courier.drain(self.settings.shutdown_grace_s)
        for task in list(self._background):
            task.cancel()
        await super().close()
        watch, self._reload_watch = self._reload_watch, None
        if watch is not None:
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch
        service, self._service = self._service, None
        if service is not None:
            await service.aclose()
        await self.loop_lag.stop()
