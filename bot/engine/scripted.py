"""A scriptable stand-in for the language model, for testing the layers above it.

Discord formatting, mention safety, rate limits and the console need an `Engine` whose output they
choose (an `@everyone`, a 5000-character answer, a slow stream) without waiting for a real model.
`ScriptedEngine` streams a scripted reply in small pieces and honours the same queue contract as the
real engine: the fair line from `scheduler.py`, `QueueFullError` before anything is yielded, `Queued`
events while waiting, cancellation when the consumer stops iterating, one final `Usage`.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field

from bot.engine.base import (
    ChatMessage,
    EngineStatus,
    FinishReason,
    GenerationRequest,
    Queued,
    StreamEvent,
    Usage,
)
from bot.engine.scheduler import FairQueue
from bot.engine.throughput import Throughput
from bot.errors import BackendError

DEFAULT_CONTEXT_SIZE = 4096
TOKENS_PER_MESSAGE = 4  # roughly what a chat template adds around each message
RECENT_WINDOW_S = 30.0
# A "piece" is a word with the whitespace that follows it: small like real token streams, readable in asserts.
_PIECE = re.compile(r"\s*\S+\s*|\s+")

ReplyScript = Callable[[GenerationRequest], str] | Sequence[str]


@dataclass(eq=False)
class _Ticket:
    """One waiting request. `None` on `events` means "your turn"."""

    events: asyncio.Queue[Queued | None] = field(default_factory=asyncio.Queue)
    admitted: bool = False


class ScriptedEngine:
    """An `Engine` without a model: replies come from a function or a list (used in turn, cycling).

    `delay` is slept before every piece (to test streaming and cancellation); `n_slots` requests
    are answered at once, the rest wait in the fair line of at most `max_queue`. The function may
    raise a `BriefingError` to simulate a backend failure. Every request is recorded in `requests`.
    """

    def __init__(
        self,
        replies: ReplyScript,
        *,
        delay: float = 0.0,
        n_slots: int = 1,
        max_queue: int = 32,
        context_size: int = DEFAULT_CONTEXT_SIZE,
        model_name: str = "scripted",
    ) -> None:
        if callable(replies):
            self._script: Callable[[GenerationRequest], str] = replies
        else:
            if not replies:
                raise ValueError("ScriptedEngine needs at least one reply")
            cycle = itertools.cycle(list(replies))
            self._script = lambda _request: next(cycle)
        self.delay = delay
        self.n_slots = n_slots
        self.requests: list[GenerationRequest] = []
        self._queue: FairQueue[_Ticket] = FairQueue(max_queue)
        self._context_size = context_size
        self._model_name = model_name
        self._active = 0
        self._closed = False
        self._recent = Throughput(RECENT_WINDOW_S)

    @property
    def model_name(self) -> str:
        return self._model_name

    @property
    def context_size(self) -> int:
        return self._context_size

    async def start(self) -> None:
        """Nothing to load."""

    async def aclose(self) -> None:
        self._closed = True

    def count_tokens(self, messages: Sequence[ChatMessage]) -> int:
        """Words plus a small per-message overhead: close enough to exercise budget logic."""
        return sum(len(message.content.split()) + TOKENS_PER_MESSAGE for message in messages) + 2

    def status(self) -> EngineStatus:
        return EngineStatus(
            backend="scripted",
            model=self._model_name,
            n_gpu_layers=0,
            n_ctx=self._context_size,
            queue_length=len(self._queue),
            active=self._active,
            recent_tokens_per_s=self._recent_rate(),
        )

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        if self._closed:
            raise BackendError("The scripted engine is closed.")
        started = time.perf_counter()
        ticket = _Ticket()
        self._queue.push(request.user_id, ticket)  # QueueFullError before anything is yielded
        self.requests.append(request)
        try:
            self._dispatch()
            while not ticket.admitted or not ticket.events.empty():
                waiting = await ticket.events.get()
                if waiting is not None:
                    yield waiting
            admitted = time.perf_counter()
            async for event in self._answer(request, started, admitted):
                yield event
        finally:
            if ticket.admitted:
                self._active -= 1
            else:
                self._queue.remove(ticket)
            self._dispatch()

    async def _answer(
        self, request: GenerationRequest, started: float, admitted: float
    ) -> AsyncIterator[StreamEvent]:
        reply = self._script(request)
        sampling = request.sampling
        finish: FinishReason = "stop"
        cut = [reply.find(stop) for stop in sampling.stop if stop and stop in reply]
        if cut:
            reply = reply[: min(cut)]
        pieces = _PIECE.findall(reply)
        if len(pieces) > sampling.max_tokens:
            pieces, finish = pieces[: sampling.max_tokens], "length"
        first_token = 0.0
        for piece in pieces:
            if self.delay:
                await asyncio.sleep(self.delay)
            if not first_token:
                first_token = time.perf_counter()
            self._recent.add(1)
            yield piece
        finished = time.perf_counter()
        yield Usage(
            prompt_tokens=self.count_tokens(request.messages),
            completion_tokens=len(pieces),
            queue_ms=(admitted - started) * 1000,
            first_token_ms=((first_token or finished) - started) * 1000,
            total_ms=(finished - started) * 1000,
            finish_reason=finish,
        )

    def _dispatch(self) -> None:
        """Admit waiting tickets while a slot is free, then tell the rest where they stand."""
        while self._active < self.n_slots:
            ticket = self._queue.pop()
            if ticket is None:
                break
            ticket.admitted = True
            self._active += 1
            ticket.events.put_nowait(None)
        for ticket, position in self._queue.position_changes():
            ticket.events.put_nowait(Queued(position))

    def _recent_rate(self) -> float:
        return self._recent.per_second()
