"""One admission line and one set of books, shared by every engine.

Each engine used to write its own: push into the fair line (`scheduler.FairQueue`), refuse with
`QueueFullError` when full, tell waiting requests their place with `Queued`, hand out at most
`n_slots` turns, take a request back out when its consumer gives up, and count recent tokens for
`/status`. Three copies drifted (one engine coalesced position reports, one rounded its speed). Here
it is written once; an engine only does what is its own: llama.cpp fills slots and decodes, the
remote engine speaks HTTP, the scripted one plays its script.

Two ways to be served, because the engines differ in who decides that a slot is free:

* On the event loop (remote, scripted): `Admission(..., wake=None)`. A turn is taken when a request
  arrives or another one ends, and `stream(ticket, answer)` runs the engine's `answer` generator
  once the ticket's turn comes.
* By a worker thread (llama.cpp): `Admission(..., wake=callback)`. The loop side only queues and
  calls `wake`; the worker calls `admit_next`, `report_positions` and `release` from its own thread,
  and sends the answer's events through `Ticket.emit`.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from bot.engine._scheduler import FairQueue
from bot.engine._throughput import Throughput
from bot.engine.base import EngineStatus, GenerationRequest, Queued, StreamEvent, Usage


class _Turn:
    """Put on a ticket's events when it is admitted: what comes before it are `Queued` events."""


YOUR_TURN = _Turn()
TicketEvent = StreamEvent | BaseException | _Turn


@dataclass(eq=False, kw_only=True)
class Ticket:
    """One request's place in the line. Hashed by identity, as `FairQueue` requires.

    Created on the event loop; `emit` may be called from any thread (the llama.cpp worker's).
    """

    request: GenerationRequest
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.get_running_loop)
    started: float = field(default_factory=time.perf_counter)
    events: asyncio.Queue[TicketEvent] = field(default_factory=asyncio.Queue)
    admitted_at: float = 0.0  # perf_counter time of admission; 0 while waiting
    cancelled: bool = False  # the consumer gave up: a worker drops the ticket or its run
    ended: bool = False  # its Usage or its error reached the consumer

    @property
    def queue_ms(self) -> float:
        """Time spent waiting for a turn (so far, while still waiting)."""
        return ((self.admitted_at or time.perf_counter()) - self.started) * 1000

    def emit(self, event: TicketEvent) -> None:
        """Send an event to the consumer from any thread."""
        try:
            self.loop.call_soon_threadsafe(self.events.put_nowait, event)
        except RuntimeError:  # the consumer's loop is closed: nobody is listening any more
            self.cancelled = True


T = TypeVar("T", bound=Ticket)
Answer = Callable[[T], AsyncGenerator[StreamEvent, None]]


class Admission(Generic[T]):
    """A fair line of at most `max_queue` waiting tickets, `n_slots` turns, and recent throughput."""

    def __init__(self, n_slots: int, max_queue: int, *, wake: Callable[[], None] | None = None) -> None:
        if n_slots < 1:
            raise ValueError("n_slots must be at least 1")
        self.n_slots = n_slots
        self.throughput = Throughput()  # bounded, thread-safe
        self._line: FairQueue[T] = FairQueue(max_queue)
        self._wake = wake
        self._lock = threading.Lock()  # `_active`: the worker thread admits, the loop reads
        self._active = 0
        self._reported_version = -1

    # --- the books ---------------------------------------------------------------------------------

    @property
    def queue_length(self) -> int:
        return len(self._line)

    @property
    def active(self) -> int:
        return self._active

    def status(self, *, backend: str, model: str, n_gpu_layers: int, n_ctx: int) -> EngineStatus:
        """The engine's `/status`: its own facts plus the line's."""
        return EngineStatus(
            backend=backend,
            model=model,
            n_gpu_layers=n_gpu_layers,
            n_ctx=n_ctx,
            queue_length=self.queue_length,
            active=self.active,
            recent_tokens_per_s=self.throughput.per_second(),
        )

    # --- the requester's side (event loop) ------------------------------------------------------------

    async def stream(self, ticket: T, answer: Answer[T] | None = None) -> AsyncGenerator[StreamEvent, None]:
        """Queue `ticket`, yield `Queued` while it waits, then the events of its answer.

        Raises QueueFullError before yielding anything when the line is full. With `answer` (served
        on the loop) the answer is `answer(ticket)`; without (served by a worker thread) it is what
        the worker emits, up to a `Usage` or an exception. Leaving early gives the place or the turn
        back.
        """
        self._line.push(ticket.request.user_id, ticket)  # QueueFullError before anything is yielded
        try:
            self._changed()
            while not isinstance(event := await self._next(ticket), _Turn):
                yield event
            if answer is None:
                while not ticket.ended:
                    event = await self._next(ticket)
                    if not isinstance(event, _Turn):
                        yield event
            else:
                async with contextlib.aclosing(answer(ticket)) as events:
                    async for event in events:
                        yield event
        finally:
            self._leave(ticket)

    async def _next(self, ticket: T) -> StreamEvent | _Turn:
        event = await ticket.events.get()
        if isinstance(event, BaseException):
            ticket.ended = True
            raise event
        ticket.ended = isinstance(event, Usage)
        return event

    def _leave(self, ticket: T) -> None:
        if self._wake is not None:  # a worker owns the turn: it releases the slot when the run ends
            if not ticket.ended:
                ticket.cancelled = True
                self._line.remove(ticket)
                self._wake()
            return
        if ticket.admitted_at:
            self.release()
        else:
            self._line.remove(ticket)
        self._changed()

    def _changed(self) -> None:
        """The line or the turns changed: serve on the loop now, or wake the worker to do it."""
        if self._wake is not None:
            self._wake()
            return
        while self.admit_next() is not None:
            pass
        self.report_positions()

    # --- the server's side (the loop, or a worker thread) ---------------------------------------------

    def admit_next(self) -> T | None:
        """Give a free turn to the next ticket in fair order (skipping abandoned ones), or None."""
        with self._lock:
            while self._active < self.n_slots:
                ticket = self._line.pop()
                if ticket is None:
                    return None
                if ticket.cancelled:
                    continue
                self._active += 1
                ticket.admitted_at = time.perf_counter()
                self._deliver(ticket, YOUR_TURN)
                return ticket
            return None

    def release(self) -> None:
        """A turn ended (answered, failed or abandoned)."""
        with self._lock:
            self._active -= 1

    @property
    def positions_pending(self) -> bool:
        """Whether the line changed since the last `report_positions` (a worker's cheap check)."""
        return self._line.version != self._reported_version

    def report_positions(self) -> None:
        """Send `Queued` to every waiting ticket whose place changed."""
        version = self._line.version
        if version == self._reported_version:
            return
        self._reported_version = version
        for ticket, position in self._line.position_changes():
            self._deliver(ticket, Queued(position))

    def refuse_waiting(self, error: BaseException) -> None:
        """Fail every waiting ticket with `error` (the engine is shutting down)."""
        while (ticket := self._line.pop()) is not None:
            self._deliver(ticket, error)

    def _deliver(self, ticket: T, event: TicketEvent) -> None:
        if self._wake is None:
            ticket.events.put_nowait(event)  # on the loop already
        else:
            ticket.emit(event)


__all__ = ["YOUR_TURN", "Admission", "Ticket"]
