"""/debate: the race side and the cooperation side argue a motion in a thread the bot opens, one
message per speech, with buttons under the latest round: next round, call the judge, stop.

The buttons are `DynamicItem`s (their custom id carries the debate's key), so a click is understood
even after a restart; the debate itself lives in memory, and a click on a debate the bot no longer
holds gets a clear "start a new one" instead of an error.

The audience votes on the motion in two native polls, before the first speech and after the judge
(`bot.discord_app.audience`); the swing between them is posted when the voting time is over.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.briefing.debate import (
    DEFAULT_ROUNDS,
    MAX_ROUNDS,
    DebateSession,
    DebateTurn,
    Judged,
    Judgement,
    JudgeStarted,
    TurnFinished,
    TurnStarted,
)
from bot.briefing.sentences import Part, render_part
from bot.discord_app.audience import AudienceVotes
from bot.discord_app.cogs.moderation import is_moderator
from bot.discord_app.courier import NO_MENTIONS
from bot.discord_app.failures import user_message
from bot.discord_app.feedback_ui import feedback_for, stop_view
from bot.discord_app.formatting import JUDGE_HEADER, judgement_text, sources_embed, turn_header, turn_text
from bot.discord_app.limits import refuse_if_limited
from bot.discord_app.streaming import ChannelReply, StreamingReply, tell
from bot.engine.base import Queued
from bot.feedback import shown_speech

if TYPE_CHECKING:
    from bot.discord_app.client import BriefingBot

THREAD_NAME_CHARS = 90
LABELS = {"next": "Next round", "judge": "Call the judge", "stop": "Stop"}
STYLES = {
    "next": discord.ButtonStyle.primary,
    "judge": discord.ButtonStyle.success,
    "stop": discord.ButtonStyle.secondary,
}
GONE = "This debate is no longer running (it ended, or I restarted). Start a new one with /debate."
RESTARTED = "I was restarted after this debate began, which ended it. Start a new one with /debate."
NOT_YOURS = "Not yours: only the member who started this debate, or a moderator, can use its buttons."
# Debates nobody finishes (never judged or stopped) are dropped after this long without a click, and
# at most MAX_DEBATES are held: their buttons then say GONE. Memory stays bounded whatever users do.
DEBATE_IDLE_S = 3600.0
MAX_DEBATES = 100
ALL_PLAYED = "All {rounds} planned rounds have been played - call the judge or stop."


@dataclass
class Debate:
    session: DebateSession
    channel: discord.abc.Messageable
    planned: int
    owner_id: int = 0  # the member who started it: with moderators, the only one its buttons answer
    guild: discord.abc.Snowflake | None = None  # where its feedback is kept (None: a DM)
    last_active: float = field(default_factory=time.monotonic)
    controls: Any = None  # the message carrying the buttons
    finished: bool = False
    busy: bool = False  # a step is running: buttons wait


class DebateButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"debate:(?P<action>next|judge|stop):(?P<key>\d+)",
):
    def __init__(self, action: str, key: int, *, disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label=LABELS[action],
                style=STYLES[action],
                custom_id=f"debate:{action}:{key}",
                disabled=disabled,
            )
        )
        self.action = action
        self.key = key

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> DebateButton:
        return cls(match["action"], int(match["key"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        # By name and shape, not class: discord.py loads a cog's module afresh as an extension, so
        # the `Debates` this button sees may be another copy of the class. The bot is sharded, and
        # AutoShardedBot is no commands.Bot: both share BotBase.
        client = interaction.client
        cog = client.get_cog("Debates") if isinstance(client, commands.bot.BotBase) else None
        on_button = getattr(cog, "on_button", None)
        if on_button is None:  # reported by BriefingTree.on_error, never a silent button
            raise RuntimeError("the debate cog is not loaded")
        await on_button(interaction, self.action, self.key)


def controls_view(key: int, debate: Debate) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    more = debate.session.rounds_played < debate.planned
    view.add_item(DebateButton("next", key, disabled=not more))
    view.add_item(DebateButton("judge", key))
    view.add_item(DebateButton("stop", key))
    return view


ENDED = object()  # the debate step's events are over
STOPPED = object()  # the speech being shown was stopped while its next event was awaited


async def next_unless_stopped(events: AsyncIterator[object], reply: StreamingReply | None) -> object:
    """The step's next event, raced against the shown speech's Stop. Why: a speech sends nothing
    while the model writes sentences that fail its checks, so a Stop noticed only at the next event
    would let the model write on to its token limit. Cancelling the wait cancels the generation."""
    step = asyncio.ensure_future(anext(events))
    if reply is not None:
        stopped = asyncio.ensure_future(reply.stopped.wait())
        try:
            await asyncio.wait({step, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        if not step.done():
            step.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await step
            return STOPPED
    try:
        return await step
    except StopAsyncIteration:
        return ENDED


class Debates(commands.Cog):
    def __init__(self, bot: BriefingBot) -> None:
        self.bot = bot
        self.debates: dict[int, Debate] = {}
        self.started_at = discord.utils.utcnow()  # debates are held in memory: older ones are gone
        self.audience = AudienceVotes(bot)  # the room's polls, which outlive a restart
        self._resumed: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        # Reports due while the bot was down go out once it runs (without holding up its start).
        self._resumed = asyncio.create_task(self.audience.resume())

    async def cog_unload(self) -> None:
        if self._resumed is not None:
            self._resumed.cancel()
            with contextlib.suppress(asyncio.CancelledError, discord.HTTPException):
                await self._resumed
        await self.audience.aclose()

    @app_commands.command(
        name="debate", description="Race side vs cooperation side argue a motion; a judge sums up."
    )
    @app_commands.describe(
        motion="The motion to debate",
        rounds=f"Rounds to play (1-{MAX_ROUNDS})",
        favours="The side the motion favours, if the bot reads it the wrong way round",
    )
    async def debate(
        self,
        interaction: discord.Interaction,
        motion: str,
        rounds: app_commands.Range[int, 1, MAX_ROUNDS] = DEFAULT_ROUNDS,
        favours: Literal["race", "cooperation"] | None = None,
    ) -> None:
        if await refuse_if_limited(interaction, self.bot.limiter):
            return
        await interaction.response.defer(thinking=True)
        key = interaction.id
        session = await self.bot.service.debate_session(
            motion,
            rounds=rounds,
            conversation_id=f"discord:debate:{key}",
            user_id=str(interaction.user.id),
            favours=favours,
        )
        channel = await self._open_thread(interaction, session.motion)
        self._forget_abandoned()
        debate = self.debates[key] = Debate(
            session, channel, rounds, owner_id=interaction.user.id, guild=interaction.guild
        )
        where = channel.mention if isinstance(channel, discord.Thread) else "below"
        note = f"\n{session.note}" if session.note else ""  # the sources barely touch the motion
        await interaction.edit_original_response(
            content=f"Debate on **{session.motion}** ({rounds} rounds): {where}.{note}",
            allowed_mentions=NO_MENTIONS,
        )
        if (channel_id := getattr(channel, "id", None)) is not None:
            await self.audience.opened(str(key), channel_id, session.motion)
        await self._play(key, debate, debate.session.next_round())

    async def _open_thread(self, interaction: discord.Interaction, motion: str) -> discord.abc.Messageable:
        """A thread under a text channel; in a DM or an existing thread the debate runs in place."""
        channel = interaction.channel
        if isinstance(channel, discord.TextChannel):
            thread = await channel.create_thread(
                name=f"Debate: {motion}"[:THREAD_NAME_CHARS], type=discord.ChannelType.public_thread
            )
            await self.bot.conversations.add_thread(thread.id)
            return thread
        assert channel is not None and isinstance(channel, discord.abc.Messageable)
        return channel

    async def _play(self, key: int, debate: Debate, events: AsyncIterator[object]) -> None:
        """Post one message per speech (streamed), then fresh controls under the latest round."""
        debate.busy = True
        reply: StreamingReply | None = None
        try:
            while (event := await next_unless_stopped(events, reply)) is not ENDED:
                if event is not STOPPED:
                    reply = await self._on_event(debate, reply, event)
                if reply is not None and reply.stopped.is_set():  # Stop, or shutting down
                    await self._stopped(key, debate, reply, events)
                    return
        except Exception as exc:
            text = user_message(exc, doing="running a debate step")
            if reply is not None:
                await reply.fail(text)
            else:
                await debate.channel.send(text, allowed_mentions=NO_MENTIONS)
        finally:
            debate.busy = False
            if reply is not None:
                await reply.close()
        if debate.session.judged:
            debate.finished = True
            self.debates.pop(key, None)
            await self.audience.judged(str(key))
            return
        debate.controls = await debate.channel.send(
            f"Round {debate.session.rounds_played} of {debate.planned} done. What next?",
            view=controls_view(key, debate),
            allowed_mentions=NO_MENTIONS,
        )

    async def _stopped(
        self, key: int, debate: Debate, reply: StreamingReply, events: AsyncIterator[object]
    ) -> None:
        """A speech stopped while it streamed: cancel its generation (closing the stream does), keep
        what was shown marked as stopped, and end the debate as the Stop button between rounds does."""
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()
        await reply.fail(reply.stop_reason)
        debate.finished = True
        self.debates.pop(key, None)
        await self.audience.abandoned(str(key))

    async def _speech(self, debate: Debate, previous: StreamingReply | None, header: str) -> StreamingReply:
        """A new streamed message for the next speech, with a Stop button while it is written."""
        if previous is not None:
            await previous.close()  # finished: no longer a reply in progress
        reply = StreamingReply(
            ChannelReply(debate.channel),
            courier=self.bot.courier,
            header=header,
            controls=stop_view(debate.owner_id),
        )
        await reply.start()
        return reply

    async def _on_event(
        self, debate: Debate, reply: StreamingReply | None, event: object
    ) -> StreamingReply | None:
        if isinstance(event, TurnStarted):
            reply = await self._speech(debate, reply, turn_header(event.side, event.round))
        elif isinstance(event, JudgeStarted):
            reply = await self._speech(debate, reply, JUDGE_HEADER)
        elif reply is None:
            return None
        elif isinstance(event, Part):
            reply.add_text(render_part(event))
        elif isinstance(event, Queued):
            reply.set_queue(event.position)
        elif isinstance(event, TurnFinished):
            reply.header = ""
            await reply.finish(
                turn_text(event.turn),
                sources_embed(event.turn.citations),
                citations=len(event.turn.citations),
                view=await self._feedback(debate, event.turn),
            )
        elif isinstance(event, Judged):
            reply.header = ""
            embed = sources_embed(event.judge.citations)
            await reply.finish(
                judgement_text(event.judge),
                embed,
                citations=len(event.judge.citations),
                view=await self._feedback(debate, event.judge),
            )
        return reply

    async def _feedback(self, debate: Debate, speech: DebateTurn | Judgement) -> discord.ui.View | None:
        """👍/👎 under a speech: recorded with the motion, like an answer with its question."""
        service = self.bot.service
        model, version = service.model_name, service.prompt_version
        shown = shown_speech(debate.session.motion, speech, model=model, prompt_version=version)
        return await feedback_for(self.bot, shown, guild=debate.guild, asker_id=debate.owner_id)

    def _forget_abandoned(self) -> None:
        """Drop debates idle for DEBATE_IDLE_S, then the least recently used beyond MAX_DEBATES - 1
        (a running step is never dropped), so a new debate always fits."""
        now = time.monotonic()
        idle = [(d.last_active, key) for key, d in self.debates.items() if not d.busy]
        over = len(self.debates) - (MAX_DEBATES - 1)
        for rank, (last_active, key) in enumerate(sorted(idle)):
            if rank < over or now - last_active > DEBATE_IDLE_S:
                del self.debates[key]

    async def on_button(self, interaction: discord.Interaction, action: str, key: int) -> None:
        debate = self.debates.get(key)
        if debate is None or debate.finished:
            restarted = debate is None and discord.utils.snowflake_time(key) < self.started_at
            await tell(interaction, RESTARTED if restarted else GONE)
            return
        if interaction.user.id != debate.owner_id and not is_moderator(
            interaction, self.bot.settings.moderator_role_ids
        ):
            await tell(interaction, NOT_YOURS)
            return
        debate.last_active = time.monotonic()
        if debate.busy:
            await tell(interaction, "The debate is still speaking - wait for this turn.")
            return
        if action == "next" and debate.session.rounds_played >= debate.planned:
            await tell(interaction, ALL_PLAYED.format(rounds=debate.planned))
            return
        if action != "stop" and await refuse_if_limited(interaction, self.bot.limiter):
            return
        debate.busy = True  # before the first await: a double click must not start two steps
        await interaction.response.edit_message(
            view=None, allowed_mentions=NO_MENTIONS
        )  # these buttons are used up
        if action == "stop":
            debate.finished = True
            self.debates.pop(key, None)
            await debate.channel.send(
                f"Debate stopped by {interaction.user.mention}.", allowed_mentions=NO_MENTIONS
            )
            await self.audience.abandoned(str(key))
            return
        events = debate.session.next_round() if action == "next" else debate.session.judge()
        await self._play(key, debate, events)


async def setup(bot: BriefingBot) -> None:
    bot.add_dynamic_items(DebateButton)
    await bot.add_cog(Debates(bot))
