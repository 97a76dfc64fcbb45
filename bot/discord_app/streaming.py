"""Streaming a reply into a Discord message.

The loop, in words: the reply is posted as soon as the request's first stage arrives ("reading the
sources", at once), with its Stop button, and edited as stages complete (the passages found, then
"checking" once the model writes); while the prompt is processed the channel shows "typing" (once
per channel, and only for replies not waiting in the queue); if others are ahead in the model's
queue the reply says its position and updates it; once text arrives the message is edited with the
text so far and a "still writing" line, at most once per `EDIT_INTERVAL_S` per message and within
the channel's budget (`courier.Pace`: final answers first, previews next, queue positions last,
each showing its latest state when its turn comes). At the end it is edited into the checked answer
with a "finished" line and the sources embed, split over several messages when longer than Discord
allows. A failure edits the reply into a short error instead.

Nothing stops the edit loop but the end of the reply: an HTTP error, a dropped connection or a
database failure is logged and the next update tries again. A reply whose message was deleted, or
whose channel the bot can no longer write in, is *lost*: its generation is cancelled and nothing
more is sent. A reply not final yet is recorded in the database until it is (see `courier`).

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
from bot.briefing.progress import Progress, Stage
from bot.briefing.sentences import Part
from bot.discord_app.chunks import split_message
from bot.discord_app.courier import FINAL, NO_MENTIONS, PREVIEW, QUEUE, Courier
from bot.discord_app.failures import user_message
from bot.discord_app.formatting import (
    WRITING,
    answer_text,
    finished_line,
    part_text,
    progress_text,
    sources_embed,
)
from bot.engine.base import Queued

log = logging.getLogger(__name__)

EDIT_INTERVAL_S = 1.0
PREVIEW_CHARS = 1800  # the streamed text shown while writing; the rest appears when finished
TYPING_GRACE_S = 0.3  # a request that is queued says so within this; only others show "typing"
FINAL_ATTEMPTS = 3  # the final edit is retried on transient errors (a dropped connection)
QUESTION_DELETED = "-# Stopped: the question was deleted."
GONE = (discord.NotFound, discord.Forbidden)  # the message was deleted, or the channel closed to us
MISSING: Any = discord.utils.MISSING  # as a `view`: leave the message's buttons as they are


async def tell(interaction: discord.Interaction, text: str) -> None:
    """A short private answer to an interaction (refusals, waits, confirmations)."""
    await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)


class ReplyTarget:
    """Where a reply goes. `show` creates the first message or edits it; `add` sends one more.

    `on_message` is awaited with each new message's id as soon as it exists, so the message is
    linked to its conversation before the user can reply to it; its failure (a database error) is
    logged and never stops the reply.
    """

    def __init__(self, channel_id: int) -> None:
        self.channel_id = channel_id
        self.messages: list[Any] = []  # Message / InteractionMessage / WebhookMessage, all have .id
        self.on_message: Callable[[int], Awaitable[None]] | None = None

    def bucket(self, kind: str) -> tuple[str, int]:
        """The rate-limit bucket a create ("create") or an edit ("edit") of this target uses."""
        return kind, self.channel_id

    def related_ids(self) -> set[int]:
        """Message ids whose deletion ends this reply: its own (and its question's)."""
        return {m.id for m in self.messages}

    async def show(self, content: str, embeds: list[discord.Embed], view: Any = MISSING) -> None:
        """Create the first message or edit it; `view` None removes its buttons, MISSING keeps them."""
        if self.messages:
            await self._edit(self.messages[0], content, embeds, view)
        else:
            await self._created(await self._create(content, embeds, view))

    async def add(self, content: str, embeds: list[discord.Embed], view: Any = MISSING) -> None:
        await self._created(await self._more(content, embeds, view))

    async def show_split(
        self, text: str, embed: discord.Embed | None = None, view: discord.ui.View | None = None
    ) -> None:
        """`show` the text, over as many messages as Discord's 2000-character limit needs (more than
        2000 is a 400 error, and the reply would stay frozen); the embed and `view` go under the
        last one."""
        chunks = split_message(text)
        for i, chunk in enumerate(chunks):
            last = i == len(chunks) - 1
            embeds = [embed] if embed is not None and last else []
            buttons = view if last and view is not None else MISSING
            await (self.show(chunk, embeds, buttons) if i == 0 else self.add(chunk, embeds, buttons))

    async def _created(self, message: Any) -> None:
        self.messages.append(message)
        if self.on_message is not None:
            try:
                await self.on_message(message.id)
            except Exception:
                log.warning("could not link message %s to its conversation", message.id, exc_info=True)

    async def _create(self, content: str, embeds: list[discord.Embed], view: Any) -> Any:
        raise NotImplementedError

    async def _edit(self, message: Any, content: str, embeds: list[discord.Embed], view: Any) -> None:
        await message.edit(content=content, embeds=embeds, allowed_mentions=NO_MENTIONS, **buttons(view))

    async def _more(self, content: str, embeds: list[discord.Embed], view: Any) -> Any:
        raise NotImplementedError


def buttons(view: Any) -> dict[str, Any]:
    """The `view` keyword for a send or an edit: none at all for MISSING (keep what is there)."""
    return {} if view is MISSING else {"view": view}


class MessageReply(ReplyTarget):
    """A reply to a user's message (mentions, reply chains, threads, DMs)."""

    def __init__(self, source: discord.Message) -> None:
        super().__init__(source.channel.id)
        self.source = source

    def related_ids(self) -> set[int]:
        return super().related_ids() | {self.source.id}

    async def _create(self, content: str, embeds: list[discord.Embed], view: Any) -> Any:
        return await self.source.reply(
            content, embeds=embeds, allowed_mentions=NO_MENTIONS, mention_author=False, **buttons(view)
        )

    async def _more(self, content: str, embeds: list[discord.Embed], view: Any) -> Any:
        return await self.source.channel.send(
            content, embeds=embeds, allowed_mentions=NO_MENTIONS, **buttons(view)
        )


class ChannelReply(ReplyTarget):
    """New messages in a channel (one per debate speech)."""

    def __init__(self, channel: discord.abc.Messageable) -> None:
        super().__init__(channel.id)  # type: ignore[attr-defined]  # Messageable omits `id`; channels have it
        self.channel = channel

    async def _create(self, content: str, embeds: list[discord.Embed], view: Any) -> Any:
        return await self.channel.send(content, embeds=embeds, allowed_mentions=NO_MENTIONS, **buttons(view))

    _more = _create


class InteractionReply(ReplyTarget):
    """A slash command's response; the interaction must already be deferred. Its edits and
    follow-ups go through the interaction's own webhook bucket, not the channel's."""

    def __init__(self, interaction: discord.Interaction, *, ephemeral: bool = False) -> None:
        super().__init__(interaction.channel_id or 0)
        self.interaction = interaction
        self.ephemeral = ephemeral

    def bucket(self, kind: str) -> tuple[str, int]:
        return "webhook", self.interaction.id

    async def _create(self, content: str, embeds: list[discord.Embed], view: Any) -> Any:
        return await self.interaction.edit_original_response(
            content=content, embeds=embeds, allowed_mentions=NO_MENTIONS, **buttons(view)
        )

    async def _edit(self, message: Any, content: str, embeds: list[discord.Embed], view: Any) -> None:
        await self._create(content, embeds, view)

    async def _more(self, content: str, embeds: list[discord.Embed], view: Any) -> Any:
        return await self.interaction.followup.send(
            content,
            embeds=embeds,
            allowed_mentions=NO_MENTIONS,
            ephemeral=self.ephemeral,
            wait=True,
            **buttons(view),
        )


class StreamingReply:
    """One reply being written: feed it text pieces and queue positions, then `finish` or `fail`.

    `stop(reason)` (shutdown, a deleted question, the Stop button) asks whoever drives the reply to
    cancel the generation; `stopped` is set then, and also when the reply is *lost* (its message
    deleted or the channel closed to the bot), after which nothing more is sent.

    `controls` (the Stop button) sit under the reply while it is written and go when it ends.
    """

    def __init__(
        self,
        target: ReplyTarget,
        *,
        courier: Courier | None = None,
        header: str = "",
        typing: discord.abc.Messageable | None = None,
        interval: float = EDIT_INTERVAL_S,
        controls: discord.ui.View | None = None,
    ) -> None:
        self.target = target
        self.controls = controls
        self.courier = courier or Courier()
        self.header = header
        self.interval = interval
        self._typing_channel = typing
        self._text = ""
        self.progress = Progress()  # stages and queue position, shown until the text starts
        self._dirty = asyncio.Event()
        self._waiting_over = asyncio.Event()  # text or a queue position arrived: no typing needed
        self._last_show = -interval
        self._started = time.perf_counter()
        self._tasks: list[asyncio.Task[None]] = []
        self._in_flight: asyncio.Future[None] | None = None
        self._open: tuple[int, int] | None = None  # (channel, message) recorded as not final
        self.stopped = asyncio.Event()
        self.stop_reason = ""
        self.lost = False

    # --- feeding ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the edit loop, and "typing" unless the request turns out to wait in the queue."""
        self.courier.enlist(self)
        self._tasks.append(asyncio.create_task(self._run_pump(), name="streaming-reply"))
        if self._typing_channel is not None:
            self._tasks.append(asyncio.create_task(self._type_while_thinking(self._typing_channel)))

    def add_text(self, piece: str) -> None:
        self._text += piece
        self.progress.position = None
        self._waiting_over.set()
        self._dirty.set()

    def set_queue(self, position: int) -> None:
        self.progress.queued(position)
        self._waiting_over.set()
        self._dirty.set()

    def set_stage(self, stage: Stage) -> None:
        """A stage of the request is done (bot/briefing/progress.py): the next edit shows it."""
        self.progress.note(stage)
        self._dirty.set()

    def related_ids(self) -> set[int]:
        """The question it answers and its own messages (how Stop and the courier find it)."""
        return self.target.related_ids()

    def is_own(self, message_id: int) -> bool:
        """Whether `message_id` is one of the messages this reply posted."""
        return any(m.id == message_id for m in self.target.messages)

    def stop(self, reason: str) -> None:
        """Ask for the generation to be cancelled; `reason` is what the reply will say."""
        self.stop_reason = self.stop_reason or reason
        self.stopped.set()

    def gone(self, why: object) -> None:
        """The reply's message was deleted or the channel closed to the bot: stop, send nothing."""
        log.info("reply in channel %s is gone (%s): stopping its generation", self.target.channel_id, why)
        self.lost = True
        self.stop("")

    async def _type_while_thinking(self, channel: discord.abc.Messageable) -> None:
        await asyncio.sleep(TYPING_GRACE_S)
        if self._waiting_over.is_set():
            return
        async with self.courier.typing(channel):
            await self._waiting_over.wait()

    # --- the edit loop ---------------------------------------------------------------------------

    def _shown_text(self) -> str:
        """The streamed text as the preview shows it (cut at PREVIEW_CHARS); empty before any."""
        text = self._text.strip()
        if len(text) > PREVIEW_CHARS:
            text = text[:PREVIEW_CHARS].rsplit(" ", 1)[0] + " …"
        return text

    def _preview(self) -> str | None:
        """What the message shows while the answer is pending; None = nothing to show yet."""
        if text := self._shown_text():
            body = f"{text}\n{WRITING}"
        elif (status := progress_text(self.progress)) is not None:
            body = status
        else:
            return None
        return f"{self.header}\n{body}" if self.header else body

    async def _wait_interval(self) -> None:
        delay = self._last_show + self.interval - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    async def _turn(self, priority: int) -> None:
        """Wait for this reply's turn in its channel's budget (creating or editing)."""
        kind = "edit" if self.target.messages else "create"
        await self.courier.pace(*self.target.bucket(kind)).turn(priority)

    async def _run_pump(self) -> None:
        while not self.lost:
            await self._dirty.wait()
            await self._wait_interval()
            # A first message goes before queue positions: it is what tells the asker "on it".
            await self._turn(PREVIEW if self._text.strip() or not self.target.messages else QUEUE)
            self._dirty.clear()
            preview = self._preview()  # the latest state: updates made while waiting coalesce
            if preview is None:
                continue
            # Shielded: stopping the loop mid-request must not lose a message Discord created.
            self._in_flight = asyncio.ensure_future(self._update(preview))
            await asyncio.shield(self._in_flight)

    async def _update(self, preview: str) -> None:
        try:
            await self._show(preview, [])
        except GONE as exc:
            self.gone(exc)
        except Exception:  # HTTP errors, dropped connections: the next update tries again
            log.warning("could not update a streamed reply", exc_info=True)

    async def _show(
        self, content: str, embeds: list[discord.Embed], *, final: bool = False, view: Any = MISSING
    ) -> None:
        new = not self.target.messages
        if new and not final and self.controls is not None:
            view = self.controls
        await self.target.show(content, embeds, view)
        self._last_show = time.monotonic()
        if new and not final:
            self._open = (self.target.channel_id, self.target.messages[0].id)
            await self.courier.opened(*self._open)

    async def _show_final(self, content: str, embeds: list[discord.Embed], view: Any = None) -> bool:
        """The last state of the first message, retried on transient errors; True once shown. Its
        Stop button goes (replaced by `view`, if any)."""
        if view is None and self.controls is None:
            view = MISSING  # no buttons were added: none to take away
        for attempt in range(FINAL_ATTEMPTS):
            try:
                await self._wait_interval()
                await self._turn(FINAL)
                await self._show(content, embeds, final=True, view=view)
                return True
            except GONE as exc:
                self.gone(exc)
                return False
            except Exception:
                log.warning("could not show a final reply (attempt %d)", attempt + 1, exc_info=True)
                await asyncio.sleep(1.0 + attempt)
        return False

    async def close(self) -> None:
        """Stop the edit loop and the typing indicator; the reply is no longer in progress
        (idempotent). Call it last, after `finish` or `fail`."""
        await self._stop_tasks()
        self.courier.discharge(self)

    async def _stop_tasks(self) -> None:
        self._waiting_over.set()
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._in_flight is not None:
            await self._in_flight  # an update already sent: let it land before the final edit
            self._in_flight = None

    async def _settled(self) -> None:
        """The reply is final (or gone): it no longer needs fixing after a restart."""
        if self._open is not None:
            await self.courier.closed(*self._open)
            self._open = None

    # --- ending ----------------------------------------------------------------------------------

    async def finish(
        self,
        text: str,
        embed: discord.Embed | None = None,
        *,
        citations: int = 0,
        view: discord.ui.View | None = None,
    ) -> None:
        """Replace the preview with the final text, a "finished" line, the embed and `view` (the
        feedback buttons, under the last message)."""
        await self._stop_tasks()
        if self.lost:
            return
        seconds = time.perf_counter() - self._started
        body = f"{self.header}\n{text}" if self.header else text
        chunks = split_message(f"{body}\n{finished_line(seconds, citations)}")
        for i, chunk in enumerate(chunks):
            last = i == len(chunks) - 1
            embeds = [embed] if embed is not None and last else []
            if i == 0:
                if not await self._show_final(chunk, embeds, view if last else None):
                    return
                await self._settled()
            else:
                await self.courier.pace(*self.target.bucket("create")).turn(FINAL)
                await self.target.add(chunk, embeds, view if last and view is not None else MISSING)

    async def fail(self, message: str) -> None:
        """End the reply with an error message (the answer could not be finished). Text already
        streamed stays above it, so a failure mid-answer does not take back what the user read."""
        await self._stop_tasks()
        if self.lost:
            await self._settled()
            return
        streamed = self._shown_text()  # stages and queue positions were passing states, not text
        body = f"{streamed}\n{message}" if streamed else message
        chunks = split_message(f"{self.header}\n{body}" if self.header else body)  # Discord's 2000
        shown = await self._show_final(chunks[0], [])
        if shown or self.lost:
            await self._settled()
        for chunk in chunks[1:] if shown else []:
            await self.courier.pace(*self.target.bucket("create")).turn(FINAL)
            await self.target.add(chunk, [])


async def _relay(reply: StreamingReply, make_events: Callable[[], AsyncIterator[object]]) -> Answer:
    final: Answer | None = None
    async for event in make_events():
        if isinstance(event, Queued):
            reply.set_queue(event.position)
        elif isinstance(event, Stage):
            reply.set_stage(event)
        elif isinstance(event, Part):
            reply.add_text(part_text(event))
        elif isinstance(event, Answered):
            final = event.answer
    if final is None:
        raise RuntimeError("the answer stream ended without a result")
    return final


async def stream_answer(
    reply: StreamingReply,
    make_events: Callable[[], AsyncIterator[object]],
    *,
    doing: str,
    on_answer: Callable[[Answer], Awaitable[discord.ui.View | None]] | None = None,
) -> Answer | None:
    """Run an answer or briefing stream into `reply`; return the answer, or None if it failed or
    was stopped (the user has then been told why, unless the reply itself is gone). `on_answer`
    gives the buttons to put under the final answer (feedback)."""
    await reply.start()
    relay = asyncio.ensure_future(_relay(reply, make_events))
    stopped = asyncio.ensure_future(reply.stopped.wait())
    try:
        await asyncio.wait({relay, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if not relay.done():  # stopped: cancelling the stream cancels the generation
            relay.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await relay
            await reply.fail(reply.stop_reason)
            return None
        final = relay.result()
        embed = sources_embed(final.citations)
        view = await on_answer(final) if on_answer is not None else None
        await reply.finish(answer_text(final), embed, citations=len(final.citations), view=view)
        return final
    except Exception as exc:
        await reply.fail(user_message(exc, doing=doing))
        return None
    finally:
        stopped.cancel()
        if not relay.done():
            relay.cancel()
        await reply.close()
