"""A scriptable stand-in for the language model, for testing the layers above it.

Discord formatting, mention safety, rate limits and the console need an `Engine` whose output they
choose (an `@everyone`, a 5000-character answer, a slow stream) without waiting for a real model.
`ScriptedEngine` streams a scripted reply in small pieces and honours the same queue contract as the
real engines, through the same shared `Admission` (`_admission.py`): the fair line, `QueueFullError`
before anything is yielded, `Queued` events while waiting, cancellation when the consumer stops
iterating; then one final `Usage`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence

from bot.engine._admission import Admission, Ticket
from bot.engine.base import ChatMessage, EngineStatus, FinishReason, GenerationRequest, StreamEvent, Usage
from bot.errors import BackendError

DEFAULT_CONTEXT_SIZE = 4096
TOKENS_PER_MESSAGE = 4  # roughly what a chat template adds around each message
# A "piece" is a word with the whitespace that follows it: small like real token streams, readable in asserts.
_PIECE = re.compile(r"\s*\S+\s*|\s+")

ReplyScript = Callable[[GenerationRequest], str] | Sequence[str]


class ScriptedEngine:
    """An `Engine` without a model: replies come from a function or a list (used in turn, cycling).

    `delay` is slept before every piece (to test streaming and cancellation); `n_slots` requests
    are answered at once, the rest wait in the fair line of at most `max_queue`. The function may
    raise a `BriefingError` to simulate a backend failure. Every request that gets its turn is
    recorded in `requests`.
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
        self.requests: list[GenerationRequest] = []
        self.admission: Admission[Ticket] = Admission(n_slots, max_queue)  # served on the loop
        self._context_size = context_size
        self._model_name = model_name
        self._closed = False

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
        return self.admission.status(
            backend="scripted", model=self._model_name, n_gpu_layers=0, n_ctx=self._context_size
        )

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        if self._closed:
            raise BackendError("The scripted engine is closed.")
        async with contextlib.aclosing(
            self.admission.stream(Ticket(request=request), self._answer)
        ) as events:
            async for event in events:
                yield event

    async def _answer(self, ticket: Ticket) -> AsyncGenerator[StreamEvent, None]:
        request = ticket.request
        self.requests.append(request)
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
            self.admission.throughput.add(1)
            yield piece
        finished = time.perf_counter()
        yield Usage(
            prompt_tokens=self.count_tokens(request.messages),
            completion_tokens=len(pieces),
            queue_ms=ticket.queue_ms,
            first_token_ms=((first_token or finished) - ticket.started) * 1000,
            total_ms=(finished - ticket.started) * 1000,
            finish_reason=finish,
        )
