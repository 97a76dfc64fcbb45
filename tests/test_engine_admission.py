"""Every engine queues, admits and counts through the one shared `Admission`.

The same contract runs against the three backends (llama.cpp on the bundled model, the remote
engine against a loopback server, the scripted fake): a bounded fair line with `QueueFullError`,
`Queued` positions that move when someone ahead gives up, a slot handed on when an answer is
abandoned, and tokens counted in the shared books. The checks read `engine.admission`, so an engine
that kept its own line or its own counters again would fail them even if its `status()` looked right.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest
from fake_model_server import FakeServer

from bot.config import Settings, load_settings
from bot.engine._admission import Admission
from bot.engine._throughput import Throughput
from bot.engine.base import ChatMessage, Engine, GenerationRequest, Queued, Sampling, collect
from bot.engine.llama_engine import LlamaEngine
from bot.engine.remote import RemoteEngine
from bot.engine.scripted import ScriptedEngine
from bot.errors import QueueFullError

KINDS = ["scripted", "remote", "llama"]
EngineFor = Callable[[str, str], AbstractAsyncContextManager[Engine]]
QUESTION = (
    ChatMessage("system", "You are a concise policy analyst."),
    ChatMessage("user", "Is the US-China AI competition a race? Explain at length."),
)
LONG = 200  # tokens: an answer that is still running while the line is inspected


def ask(user: str, max_tokens: int = LONG) -> GenerationRequest:
    return GenerationRequest(
        messages=QUESTION, sampling=Sampling(max_tokens=max_tokens, temperature=0.0), user_id=user
    )


async def wait_until(predicate: Callable[[], bool], within_s: float = 10.0) -> None:
    deadline = time.monotonic() + within_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


@pytest.fixture(scope="module")
async def fake_server() -> AsyncIterator[FakeServer]:
    server = FakeServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def engine_for(llama_settings: Callable[..., Settings], fake_server: FakeServer) -> EngineFor:
    """A started engine of `kind` with one slot and a line of two; `scenario` picks the remote's
    server behaviour ("slow": a long stream, "usage": a short answer)."""

    @asynccontextmanager
    async def build(kind: str, scenario: str) -> AsyncIterator[Engine]:
        engine: Engine
        if kind == "scripted":
            engine = ScriptedEngine(["word " * LONG], delay=0.01, n_slots=1, max_queue=2)
        elif kind == "remote":
            engine = RemoteEngine(
                load_settings(llm_base_url=fake_server.base(scenario), n_slots=1, max_queue=2)
            )
        else:
            engine = LlamaEngine(llama_settings(n_slots=1, max_queue=2))
        await engine.start()
        try:
            yield engine
        finally:
            await engine.aclose()

    return build


def admission_of(engine: Engine) -> Admission[Any]:
    admission = getattr(engine, "admission", None)
    assert isinstance(admission, Admission), f"{type(engine).__name__} keeps no shared Admission"
    return admission


@pytest.mark.parametrize("kind", KINDS)
async def test_every_engine_queues_through_the_shared_admission(kind: str, engine_for: EngineFor) -> None:
    async with engine_for(kind, "slow") as engine:
        admission = admission_of(engine)
        running = engine.stream(ask("alice"))
        assert isinstance(await anext(running), str)
        assert admission.active == engine.status().active == 1

        second, third = engine.stream(ask("bob")), engine.stream(ask("carol"))
        assert await anext(second) == Queued(1)
        assert await anext(third) == Queued(2)
        assert admission.queue_length == engine.status().queue_length == 2
        with pytest.raises(QueueFullError):
            await anext(engine.stream(ask("dave")))

        await second.aclose()  # gave up while waiting: carol moves up
        assert admission.queue_length == 1
        assert await asyncio.wait_for(anext(third), timeout=5) == Queued(1)

        await running.aclose()  # gave up mid-answer: the slot goes to carol
        assert isinstance(await asyncio.wait_for(anext(third), timeout=10), str)
        await third.aclose()
        await wait_until(lambda: admission.active == engine.status().active == 0)
        assert admission.queue_length == engine.status().queue_length == 0


@pytest.mark.parametrize("kind", KINDS)
async def test_every_engine_counts_tokens_in_the_shared_books(kind: str, engine_for: EngineFor) -> None:
    async with engine_for(kind, "usage") as engine:
        admission = admission_of(engine)
        books = admission.throughput = Throughput()  # fresh, so only this answer is counted
        _, usage = await collect(engine, ask("alice", max_tokens=8))
        assert usage.completion_tokens > 0
        # llama.cpp records its last step just after the Usage goes out.
        await wait_until(lambda: round(books.per_second() * books.window_s) >= usage.completion_tokens)
        assert engine.status().recent_tokens_per_s == books.per_second()
        assert admission.active == 0
