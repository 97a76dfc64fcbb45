"""The audience's vote on a debate's motion, as Intelligence Squared scores a debate: the room votes
for, against or undecided before the first speech and again after the judge, and the side whose
share grew more "moved the room", whatever the final majority.

The votes are Discord's own native polls, so they survive a restart and are read back through the
API; the bot only keeps where the two polls are (`BriefingService.audience_*`). A poll lasts at
least an hour on Discord, so the bot ends each one itself: the first when the judge has spoken, the
second when the voting time after the judge (`DEBATE_VOTE_S`) is over.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import discord

from bot.discord_app.courier import NO_MENTIONS

if TYPE_CHECKING:
    from bot.discord_app.client import BriefingBot
    from bot.service import AudiencePolls

ANSWERS = ("For", "Against", "Undecided")
POLL_HOURS = 1  # Discord's shortest poll: the bot ends it earlier itself
MAX_QUESTION = 300  # Discord's limit on a poll's question

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Tally:
    """One poll's votes: for, against, undecided."""

    yes: int
    no: int
    undecided: int

    @property
    def total(self) -> int:
        return self.yes + self.no + self.undecided

    def points(self, votes: int) -> float:
        """A side's share of the votes, in percentage points."""
        return 100.0 * votes / self.total if self.total else 0.0

    def line(self) -> str:
        votes = "vote" if self.total == 1 else "votes"
        return f"For {self.yes} · Against {self.no} · Undecided {self.undecided} ({self.total} {votes})"


def motion_poll(motion: str, when: str) -> discord.Poll:
    """The poll on `motion`, `when` being "Before the debate" or "After the debate"."""
    question = f"{when}: {motion}"
    if len(question) > MAX_QUESTION:
        question = question[: MAX_QUESTION - 1].rstrip() + "…"
    poll = discord.Poll(question=question, duration=datetime.timedelta(hours=POLL_HOURS))
    for answer in ANSWERS:
        poll.add_answer(text=answer)
    return poll


async def close_and_count(channel: discord.abc.Messageable, message_id: int) -> Tally | None:
    """End the poll in message `message_id` if it is still open, then read its final counts. None
    when the message or its poll is gone (deleted, or no longer visible to the bot)."""
    try:
        message = await channel.fetch_message(message_id)
        poll = message.poll
        if poll is not None and not poll.is_finalised():
            try:
                message = await message.end_poll()
            except discord.HTTPException:  # ended meanwhile (by time): read it as it is
                message = await channel.fetch_message(message_id)
    except discord.HTTPException as exc:
        log.warning("Could not read the audience poll %s: %s", message_id, exc)
        return None
    if message.poll is None:
        return None
    counts = {answer.text: answer.vote_count for answer in message.poll.answers}
    return Tally(*(counts.get(answer, 0) for answer in ANSWERS))


def swing_report(motion: str, before: Tally | None, after: Tally | None) -> str:
    """The room's verdict: both votes and who moved the room (the side whose share grew more)."""
    lines = [f"**The room's vote on:** {motion}"]
    lines.append(f"Before the debate: {before.line() if before else 'the poll is gone'}")
    lines.append(f"After the debate: {after.line() if after else 'the poll is gone'}")
    if before is None or after is None or not before.total or not after.total:
        lines.append("Without votes both before and after, there is no swing to report.")
        return "\n".join(lines)
    gained_for = after.points(after.yes) - before.points(before.yes)
    gained_against = after.points(after.no) - before.points(before.no)
    swing = f"Swing: For {gained_for:+.0f} points, Against {gained_against:+.0f} points"
    if round(gained_for) == round(gained_against):
        lines.append(f"{swing}. Neither side moved the room: a draw.")
    else:
        side = "For" if gained_for > gained_against else "Against"
        lines.append(f"{swing}. The {side} side moved the room.")
    return "\n".join(lines)


async def sleep_until(when: float) -> None:
    """Wait until wall-clock time `when` (a restart keeps its meaning, unlike a monotonic clock)."""
    await asyncio.sleep(max(0.0, when - time.time()))


class AudienceVotes:
    """The polls of every debate a bot runs: opened, closed and reported, across restarts.

    `wait_until` is how the report waits for the end of the voting time; tests give it an event
    they set instead of the clock. A failure to poll never stops a debate: it is logged, and the
    report says what it could not read."""

    def __init__(
        self, bot: BriefingBot, wait_until: Callable[[float], Awaitable[None]] = sleep_until
    ) -> None:
        self.bot = bot
        self.wait_until = wait_until
        self._reports: set[asyncio.Task[None]] = set()

    async def opened(self, debate: str, channel_id: int, motion: str) -> None:
        """Before the first speech: the first poll."""
        await _safely(f"open the audience poll of debate {debate}", self._open(debate, channel_id, motion))

    async def judged(self, debate: str) -> None:
        """After the judge: the first poll ends and the second opens; the report follows it."""
        await _safely(f"open the second audience poll of debate {debate}", self._reopen(debate))

    async def abandoned(self, debate: str) -> None:
        """A debate stopped before its judge: its poll ends, with nothing to compare it with."""
        await _safely(f"close the audience poll of debate {debate}", self._close(debate))

    async def resume(self) -> None:
        """After a restart: report the debates whose second poll is open (when its time is up);
        end the first poll of a debate the restart cut short."""
        await _safely("resume the audience polls", self._resume())

    async def _open(self, debate: str, channel_id: int, motion: str) -> None:
        message = await self._channel(channel_id).send(
            "Where do you stand? Vote now; the same poll opens again after the judge.",
            poll=motion_poll(motion, "Before the debate"),
            allowed_mentions=NO_MENTIONS,
        )
        await self.bot.service.audience_polls_opened(debate, channel_id, motion, message.id)

    async def _reopen(self, debate: str) -> None:
        polls = await self._polls(debate)
        if polls is None:
            return
        channel = self._channel(polls.channel_id)
        await close_and_count(channel, polls.before_id)
        vote_s = self.bot.settings.debate_vote_s
        closes_at = time.time() + vote_s
        try:
            message = await channel.send(
                f"The judge has spoken. Vote again: the result and the swing follow in {_duration(vote_s)}.",
                poll=motion_poll(polls.motion, "After the debate"),
                allowed_mentions=NO_MENTIONS,
            )
        except discord.HTTPException as exc:
            log.warning("No second audience poll for debate %s: %s", debate, exc)
            await self._report(polls)
            return
        await self.bot.service.audience_second_poll(debate, message.id, closes_at)
        self._schedule(dataclasses.replace(polls, after_id=message.id, closes_at=closes_at))

    async def _close(self, debate: str) -> None:
        polls = await self._polls(debate)
        if polls is not None:
            await close_and_count(self._channel(polls.channel_id), polls.before_id)
            await self.bot.service.audience_polls_done(debate)

    async def _resume(self) -> None:
        for polls in await self.bot.service.open_audience_polls():
            if polls.after_id is not None:
                self._schedule(polls)
            else:
                await self._close(polls.debate)

    async def aclose(self) -> None:
        """Stop waiting (shutdown): what was not reported is reported after the next start."""
        for task in list(self._reports):
            task.cancel()
        for task in list(self._reports):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _schedule(self, polls: AudiencePolls) -> None:
        task = asyncio.create_task(self._report_when_due(polls))
        self._reports.add(task)
        task.add_done_callback(self._reports.discard)

    async def _report_when_due(self, polls: AudiencePolls) -> None:
        await self.wait_until(polls.closes_at or 0.0)
        try:
            await self._report(polls)
        except Exception:  # a report must never take the bot down
            log.exception("Could not report the audience vote of debate %s", polls.debate)

    async def _report(self, polls: AudiencePolls) -> None:
        channel = self._channel(polls.channel_id)
        before = await close_and_count(channel, polls.before_id)
        after = await close_and_count(channel, polls.after_id) if polls.after_id is not None else None
        try:
            await channel.send(swing_report(polls.motion, before, after), allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as exc:
            log.warning("Could not post the audience vote of debate %s: %s", polls.debate, exc)
        await self.bot.service.audience_polls_done(polls.debate)

    async def _polls(self, debate: str) -> AudiencePolls | None:
        return next((p for p in await self.bot.service.open_audience_polls() if p.debate == debate), None)

    def _channel(self, channel_id: int) -> discord.PartialMessageable:
        return self.bot.get_partial_messageable(channel_id)


async def _safely(doing: str, work: Awaitable[None]) -> None:
    """Run `work`; a failure (Discord refusing a poll, the database down) is logged, never raised:
    the debate goes on without its polls."""
    try:
        await work
    except Exception:
        log.warning("Could not %s", doing, exc_info=True)


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}" if minutes else f"{round(seconds)} seconds"


__all__ = ["ANSWERS", "AudienceVotes", "Tally", "close_and_count", "motion_poll", "swing_report"]
