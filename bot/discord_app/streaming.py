"""Streaming a reply into a Discord message.

The loop, in words: while the prompt is processed the channel shows "typing"; if others are ahead
in the model's queue the reply says its position and updates it; once text arrives the message is
edited with the text so far and a "still writing" line, at most once per `EDIT_INTERVAL_S` (Discord
rate-limits faster edits); at the end it is edited into the checked answer with a "finished" line
and the sources embed, split over several messages when longer than Discord allows. A failure edits
the reply into a short error instead.

Where the reply goes is a `ReplyTarget`: a reply to a user's message, a plain channel message (debate
turns) or an interaction's deferred response. Every send and edit disallows mentions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import discord

from bot.briefing.models import Answer, Answered
from bot.discord_app.chunks import split_message
from bot.discord_app.failures import user_message
from bot.discord_app.formatting import WRITING, answer_text, finished_line, queue_line, sources_embed
from bot.engine.base import Queued

log = logging.getLogger(__name__)

EDIT_INTERVAL_S = 1.0
PREVIEW_CHARS = 1800  # the streamed text shown while writing; the rest appears when finished
NO_MENTIONS = discord.AllowedMentions.none()


async def tell(interaction: discord.Interaction, text: str) -> None:
    """A short private answer to an interaction (refusals, waits, confirmations)."""
    await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)


class ReplyTarget:
    """Where a reply goes. `show` creates the first message or edits it; `add` sends one more.

    `on_message` is awaited with each new message's id as soon as it exists, so the message is
    linked to its conversation before the user can reply to it.
    """

    def __init__(self) -> None:
        self.messages: list[Any] = []  # Message / InteractionMessage / WebhookMessage, all have .id
        self.on_message: Callable[[int], Awaitable[None]] | None = None

    async def show(self, content: str, embeds: list[discord.Embed]) -> None:
        if self.messages:
            await self._edit(self.messages[0], content, embeds)
        else:
            await self._created(await self._create(content, embeds))

    async def add(self, content: str, embeds: list[discord.Embed]) -> None:
        await self._created(await self._more(content, embeds))

    async def show_split(self, text: str, embed: discord.Embed | None = None) -> None:
        """`show` the text, over as many messages as Discord's 2000-character limit needs (more than
        2000 is a 400 error, and the reply would stay frozen); the embed goes under the last one."""
        chunks = split_message(text)
        for i, chunk in enumerate(chunks):
            embeds = [embed] if embed is not None and i == len(chunks) - 1 else []
            await (self.show(chunk, embeds) if i == 0 else self.add(chunk, embeds))

    async def _created(self, message: Any) -> None:
        self.messages.append(message)
        if self.on_message is not None:
            await self.on_message(message.id)

    async def _create(self, content: str, embeds: list[discord.Embed]) -> Any:
        raise NotImplementedError

    async def _edit(self, message: Any, content: str, embeds: list[discord.Embed]) -> None:
        await message.edit(content=content, embeds=embeds, allowed_mentions=NO_MENTIONS)

    async def _more(self, content: str, embeds: list[discord.Embed]) -> Any:
        raise NotImplementedError


class MessageReply(ReplyTarget):
    """A reply to a user's message (mentions, reply chains, threads, DMs)."""

    def __init__(self, source: discord.Message) -> None:
        super().__init__()
        self.source = source

    async def _create(self, content: str, embeds: list[discord.Embed]) -> Any:
        return await self.source.reply(
            content, embeds=embeds, allowed_mentions=NO_MENTIONS, mention_author=False
        )

    async def _more(self, content: str, embeds: list[discord.Embed]) -> Any:
        return await self.source.channel.send(content, embeds=embeds, allowed_mentions=NO_MENTIONS)


class ChannelReply(ReplyTarget):
    """New messages in a channel (one per debate speech)."""

    def __init__(self, channel: discord.abc.Messageable) -> None:
        super().__init__()
        self.channel = channel

    async def _create(self, content: str, embeds: list[discord.Embed]) -> Any:
        return await self.channel.send(content, embeds=embeds, allowed_mentions=NO_MENTIONS)

    _more = _create


class InteractionReply(ReplyTarget):
    """A slash command's response; the interaction must already be deferred."""

    def __init__(self, interaction: discord.Interaction, *, ephemeral: bool = False) -> None:
        super().__init__()
        self.interaction = interaction
        self.ephemeral = ephemeral

    async def _create(self, content: str, embeds: list[discord.Embed]) -> Any:
        return await self.interaction.edit_original_response(
            content=content, embeds=embeds, allowed_mentions=NO_MENTIONS
        )

    async def _edit(self, message: Any, content: str, embeds: list[discord.Embed]) -> None:
        await self._create(content, embeds)

    async def _more(self, content: str, embeds: list[discord.Embed]) -> Any:
        return await self.interaction.followup.send(
            content, embeds=embeds, allowed_mentions=NO_MENTIONS, ephemeral=self.ephemeral, wait=True
        )


class StreamingReply:
    """One reply being written: feed it text pieces and queue positions, then `finish` or `fail`."""

    def __init__(
        self,
        target: ReplyTarget,
        *,
        header: str = "",
        typing: discord.abc.Messageable | None = None,
        interval: float = EDIT_INTERVAL_S,
    ) -> None:
        self.target = target
        self.header = header
        self.interval = interval
        self._typing_channel = typing
        self._typing: Any = None
        self._text = ""
        self._position: int | None = None
        self._dirty = asyncio.Event()
        self._closing = False
        self._last_show = -interval
        self._started = time.perf_counter()
        self._pump: asyncio.Task[None] | None = None

    # --- feeding ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Show "typing" and start the edit loop."""
        if self._typing_channel is not None:
            self._typing = self._typing_channel.typing()
            try:
                await self._typing.__aenter__()
            except discord.HTTPException:
                log.warning("could not show the typing indicator", exc_info=True)
                self._typing = None
        self._pump = asyncio.create_task(self._run_pump(), name="streaming-reply")

    def add_text(self, piece: str) -> None:
        self._text += piece
        self._position = None
        self._dirty.set()

    def reset_text(self) -> None:
        """Discard what was streamed (a debate speech being regenerated)."""
        self._text = ""
        self._dirty.set()

    def set_queue(self, position: int) -> None:
        self._position = position
        self._dirty.set()

    # --- the edit loop ---------------------------------------------------------------------------

    def _preview(self) -> str | None:
        """What the message shows while the answer is pending; None = nothing to show yet."""
        if self._text.strip():
            text = self._text.strip()
            if len(text) > PREVIEW_CHARS:
                text = text[:PREVIEW_CHARS].rsplit(" ", 1)[0] + " …"
            body = f"{text}\n{WRITING}"
        elif self._position is not None:
            body = queue_line(self._position)
        else:
            return None
        return f"{self.header}\n{body}" if self.header else body

    async def _wait_interval(self) -> None:
        delay = self._last_show + self.interval - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    async def _run_pump(self) -> None:
        while not self._closing:
            await self._dirty.wait()
            await self._wait_interval()
            if self._closing:
                return
            self._dirty.clear()
            preview = self._preview()
            if preview is None:
                continue
            if self._text.strip():
                await self._stop_typing()
            try:
                await self._show(preview, [])
            except discord.HTTPException:
                log.warning("could not update a streamed reply", exc_info=True)

    async def _show(self, content: str, embeds: list[discord.Embed]) -> None:
        await self.target.show(content, embeds)
        self._last_show = time.monotonic()

    async def _stop_typing(self) -> None:
        typing, self._typing = self._typing, None
        if typing is not None:
            await typing.__aexit__(None, None, None)

    async def close(self) -> None:
        """Stop the edit loop and the typing indicator (idempotent)."""
        self._closing = True
        self._dirty.set()
        if self._pump is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
            self._pump = None
        await self._stop_typing()

    # --- ending ----------------------------------------------------------------------------------

    async def finish(self, text: str, embed: discord.Embed | None = None, *, citations: int = 0) -> None:
        """Replace the preview with the final text, a "finished" line and the embed."""
        await self.close()
        await self._wait_interval()
        seconds = time.perf_counter() - self._started
        body = f"{self.header}\n{text}" if self.header else text
        await self.target.show_split(f"{body}\n{finished_line(seconds, citations)}", embed)
        self._last_show = time.monotonic()

    async def fail(self, message: str) -> None:
        """Turn the reply into an error message (the answer could not be finished)."""
        await self.close()
        await self._wait_interval()
        try:
            await self.target.show_split(f"{self.header}\n{message}" if self.header else message)
            self._last_show = time.monotonic()
        except discord.HTTPException:
            log.warning("could not report a failure to the user", exc_info=True)


async def stream_answer(
    reply: StreamingReply, make_events: Callable[[], AsyncIterator[object]], *, doing: str
) -> Answer | None:
    """Run an answer or briefing stream into `reply`; return the answer, or None if it failed
    (the user has then been told why)."""
    await reply.start()
    try:
        final: Answer | None = None
        async for event in make_events():
            if isinstance(event, Queued):
                reply.set_queue(event.position)
            elif isinstance(event, str):
                reply.add_text(event)
            elif isinstance(event, Answered):
                final = event.answer
        if final is None:
            raise RuntimeError("the answer stream ended without a result")
        embed = sources_embed(final.citations)
        await reply.finish(answer_text(final), embed, citations=len(final.citations))
        return final
    except Exception as exc:
        await reply.fail(user_message(exc, doing=doing))
        return None
    finally:
        await reply.close()
