"""What the bot sends to Discord, kept within Discord's limits and accounted for.

- `Pace`: at most `limit` requests per `period` for one rate-limit bucket (per channel: message
  creates, message edits), handed out by priority. Discord allows 5 per 5 s in a channel; a bot that
  simply fires edits gets 429s, and discord.py's own waiting is first come, first served, so final
  answers would queue behind "position N" previews. Here a final answer always goes first, previews
  next and queue positions last; a reply waiting for its turn shows its *latest* state when the turn
  comes, so updates coalesce instead of queueing.
- Typing: one indicator per channel, shared by the replies being worked on there (not by every
  waiting one).
- Open replies: every reply that is not final yet is recorded in the database, so a restart after a
  crash can turn the ones a dead process left into "interrupted, please ask again".
- The replies in progress, so shutdown can drain them and a deleted question can stop its answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import discord

from bot.errors import BriefingError

log = logging.getLogger(__name__)

FINAL, PREVIEW, QUEUE = 0, 1, 2  # priorities: lower goes first
BUCKET_LIMIT = 5  # Discord: 5 message creates (and 5 edits) per channel per 5 seconds
BUCKET_PERIOD_S = 5.25  # a little over Discord's 5 s, for the time a request takes to arrive
INTERRUPTED = "-# ⚠️ Interrupted: I was restarted before this answer was finished. Please ask again."
RESTARTING = "-# ⚠️ Interrupted: I am restarting. Please ask again in a minute."
NO_MENTIONS = discord.AllowedMentions.none()
LAST_EDITS_S = 5.0  # after a drain stops the replies in progress, time for their last edits


class Pace:
    """A sliding window of `limit` grants per `period` seconds, granted by priority, then FIFO."""

    def __init__(
        self,
        limit: int = BUCKET_LIMIT,
        period: float = BUCKET_PERIOD_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit, self.period, self._clock = limit, period, clock
        self._granted: list[float] = []  # times of the last grants (at most `limit`)
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._timer: asyncio.TimerHandle | None = None

    async def turn(self, priority: int) -> None:
        """Wait for a turn; a cancelled waiter leaves the line without using one."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, next(self._order), future))
        self._grant()
        await future

    @property
    def waiting(self) -> int:
        return sum(1 for *_, f in self._waiting if not f.done())

    def _grant(self) -> None:
        self._timer = None
        now = self._clock()
        self._granted = [t for t in self._granted if t > now - self.period]
        while self._waiting:
            if self._waiting[0][2].done():  # cancelled while waiting
                heapq.heappop(self._waiting)
                continue
            if len(self._granted) >= self.limit:
                delay = self._granted[0] + self.period - now
                self._timer = asyncio.get_running_loop().call_later(delay, self._grant)
                return
            _, _, future = heapq.heappop(self._waiting)
            self._granted.append(now)
            future.set_result(None)


class Messenger(Protocol):
    """What the courier needs of the bot: partial messages by id (for the start-up clean-up)."""

    def get_partial_messageable(self, id: int, /) -> Any: ...


class ActiveReply(Protocol):
    """What the courier needs of a reply in progress (`streaming.StreamingReply`): whether it was
    stopped, how to stop it, and the messages it answers or is made of."""

    stopped: asyncio.Event

    def stop(self, reason: str) -> None: ...

    def related_ids(self) -> set[int]: ...

    def is_own(self, message_id: int) -> bool: ...

    def gone(self, why: object) -> None: ...


class ReplyLedger(Protocol):
    """Where unfinished replies are written down (`BriefingService`), so that a restart can tell
    their readers they were cut off."""

    async def reply_opened(self, channel_id: int, message_id: int) -> None: ...

    async def reply_closed(self, channel_id: int, message_id: int) -> None: ...

    async def open_replies(self) -> list[tuple[int, int]]: ...


class Courier:
    """Owned by the bot: paces, typing, open replies and the replies in progress."""

    def __init__(self, ledger: ReplyLedger | None = None) -> None:
        self.ledger = ledger
        self._paces: dict[tuple[str, int], Pace] = {}
        self._typing: dict[int, tuple[int, asyncio.Task[None]]] = {}  # channel -> (users, task)
        self.active: set[ActiveReply] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self.draining = False

    # --- pacing ----------------------------------------------------------------------------------

    def pace(self, kind: str, key: int) -> Pace:
        """The pace of one bucket: `kind` "create" or "edit", `key` the channel (or interaction)."""
        pace = self._paces.get((kind, key))
        if pace is None:
            pace = self._paces[(kind, key)] = Pace()
            self._forget_idle_paces()
        return pace

    def _forget_idle_paces(self) -> None:
        """Paces of quiet channels hold nothing worth keeping: drop them so the dict stays small."""
        if len(self._paces) < 256:
            return
        now = time.monotonic()
        for key, pace in list(self._paces.items()):
            if not pace.waiting and all(t <= now - pace.period for t in pace._granted):
                del self._paces[key]

    # --- typing ----------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def typing(self, channel: discord.abc.Messageable) -> AsyncIterator[None]:
        """Show "typing" in `channel` while at least one reply there is being worked on."""
        key: int = channel.id  # type: ignore[attr-defined]  # Messageable omits `id`; every channel has one
        users, task = self._typing.get(key, (0, None))
        if task is None:
            task = asyncio.create_task(self._type(channel), name="typing")
        self._typing[key] = (users + 1, task)
        try:
            yield
        finally:
            users, task = self._typing[key]
            if users <= 1:
                del self._typing[key]
                task.cancel()
            else:
                self._typing[key] = (users - 1, task)

    @staticmethod
    async def _type(channel: discord.abc.Messageable) -> None:
        try:
            async with channel.typing():
                await asyncio.Event().wait()  # until cancelled by the last user
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("could not show the typing indicator", exc_info=True)

    # --- open replies ----------------------------------------------------------------------------

    async def opened(self, channel_id: int, message_id: int) -> None:
        await self._record(self.ledger.reply_opened if self.ledger else None, channel_id, message_id)

    async def closed(self, channel_id: int, message_id: int) -> None:
        await self._record(self.ledger.reply_closed if self.ledger else None, channel_id, message_id)

    @staticmethod
    async def _record(
        write: Callable[[int, int], Awaitable[None]] | None, channel_id: int, message_id: int
    ) -> None:
        """Bookkeeping must never stop a reply: a database failure is logged (by the store)."""
        if write is not None:
            with contextlib.suppress(BriefingError):
                await write(channel_id, message_id)

    async def recover(self, bot: Messenger) -> int:
        """Edit every reply a dead process left unfinished into INTERRUPTED; returns how many."""
        if self.ledger is None:
            return 0
        fixed = 0
        for channel_id, message_id in await self.ledger.open_replies():
            message = bot.get_partial_messageable(channel_id).get_partial_message(message_id)
            try:
                await self.pace("edit", channel_id).turn(FINAL)
                await message.edit(content=INTERRUPTED, embeds=[], view=None, allowed_mentions=NO_MENTIONS)
                fixed += 1
            except (discord.NotFound, discord.Forbidden):
                pass  # deleted, or no longer ours to edit: nothing is left frozen for anyone
            except Exception:
                log.warning(
                    "could not mark reply %s as interrupted; will retry next start", message_id, exc_info=True
                )
                continue
            await self.closed(channel_id, message_id)
        if fixed:
            log.info("marked %d replies left unfinished by the previous run as interrupted", fixed)
        return fixed

    # --- replies in progress -----------------------------------------------------------------------

    def replying_to(self, message_id: int) -> list[ActiveReply]:
        """Replies in progress whose question, or one of whose own messages, is `message_id`."""
        return [r for r in self.active if message_id in r.related_ids()]

    def enlist(self, reply: ActiveReply) -> None:
        self.active.add(reply)
        self._idle.clear()

    def discharge(self, reply: ActiveReply) -> None:
        self.active.discard(reply)
        if not self.active:
            self._idle.set()

    async def drain(self, grace_s: float) -> None:
        """Let the replies in progress finish (at most `grace_s` seconds); stop the rest, telling
        their readers to ask again. New requests are refused meanwhile (`draining`)."""
        self.draining = True
        for wait_s in (grace_s, LAST_EDITS_S):
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait_s):
                    await self._idle.wait()
            for reply in list(self.active):
                reply.stop(RESTARTING)
