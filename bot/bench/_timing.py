"""Timing what a user and the event loop feel: one streamed request (`timed`), several at once
(`together`), one long answer's decode rate (`decode_rate`), and how late the loop wakes (`LoopLag`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.bench._report import progress
from bot.bench._workload import BENCH_USER, DECODE_PROMPT, BenchSizes
from bot.engine.base import Engine, GenerationRequest, Sampling, Usage


@dataclass(slots=True)
class Timed:
    """One streamed request as the user saw it."""

    text: str
    ttft_s: float
    first_at: float
    last_at: float
    usage: Usage


class LoopLag:
    """A task that asks to wake every `interval` and records how late it wakes, in ms.

    Lateness is what a Discord heartbeat or another user's stream would suffer while the engine
    works; the engine must never block the loop.
    """

    def __init__(self, interval_ms: float) -> None:
        self.interval = interval_ms / 1000
        self.samples_ms: list[float] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._tick())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + self.interval
            await asyncio.sleep(self.interval)
            self.samples_ms.append(max(0.0, loop.time() - due) * 1000)


async def timed(engine: Engine, request: GenerationRequest) -> Timed:
    """Stream `request` to the end, noting when the first and last text pieces arrived."""
    began = time.perf_counter()
    first_at = last_at = 0.0
    pieces: list[str] = []
    usage = Usage(prompt_tokens=0, completion_tokens=0)
    async for event in engine.stream(request):
        if isinstance(event, str):
            last_at = time.perf_counter()
            first_at = first_at or last_at
            pieces.append(event)
        elif isinstance(event, Usage):
            usage = event
    if not first_at:
        first_at = last_at = time.perf_counter()
    return Timed("".join(pieces), first_at - began, first_at, last_at, usage)


async def together(engine: Engine, requests: Sequence[GenerationRequest], key: str) -> dict[str, Any]:
    """Send `requests` at once: total generated tokens/s over the wall time, and each one's TTFT."""
    began = time.perf_counter()
    results = await asyncio.gather(*(timed(engine, r) for r in requests))
    wall = time.perf_counter() - began
    tokens = sum(r.usage.completion_tokens for r in results)
    return {
        f"{key}_tokens": tokens,
        f"{key}_prompt_tokens": [r.usage.prompt_tokens for r in results],
        f"{key}_total_tok_s": tokens / wall if wall > 0 else None,
        f"{key}_ttft_s": [r.ttft_s for r in results],
        f"{key}_ttft_max_s": max(r.ttft_s for r in results),
    }


async def decode_rate(engine: Engine, sizes: BenchSizes) -> tuple[float, int]:
    """(tokens/s between the first and the last token, tokens generated) of one long greedy answer.

    Prompt processing is left out (the span starts at the first token) so the figure is comparable
    with the reference decode loop. There is no "ignore EOS" in the Engine API, so the prompt asks
    for a long essay; if the model still stops early the rate is over what it produced.
    """
    result = await timed(
        engine,
        GenerationRequest(
            messages=DECODE_PROMPT,
            sampling=Sampling(max_tokens=sizes.decode_tokens, temperature=0.0, repeat_penalty=1.1),
            user_id=BENCH_USER,
            conversation_id="bench:decode",
        ),
    )
    generated = result.usage.completion_tokens
    span = result.last_at - result.first_at
    if generated < sizes.decode_tokens:
        progress(f"  (the model stopped after {generated} tokens; the rate is over those)")
    return ((generated - 1) / span if generated > 1 and span > 0 else 0.0), generated
