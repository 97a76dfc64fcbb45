"""The scripted stand-in engine: the same stream contract as the real one, with chosen replies."""

from __future__ import annotations

import asyncio

import pytest

from bot.engine import Engine, ScriptedEngine
from bot.engine.base import ChatMessage, GenerationRequest, Queued, Sampling, StreamEvent, Usage, collect
from bot.errors import BackendError, QueueFullError


def ask(text: str = "hello", *, user: str = "u1", **sampling: object) -> GenerationRequest:
    return GenerationRequest(
        messages=(ChatMessage("user", text),),
        sampling=Sampling(**sampling),
        user_id=user,  # type: ignore[arg-type]
    )


async def events_of(engine: ScriptedEngine, request: GenerationRequest) -> list[StreamEvent]:
    return [event async for event in engine.stream(request)]


async def test_streams_small_pieces_then_one_usage() -> None:
    engine = ScriptedEngine(["The race framing ignores  shared risks.\nCooperation helps."])
    events = await events_of(engine, ask())
    assert isinstance(events[-1], Usage)
    pieces = events[:-1]
    assert all(isinstance(piece, str) for piece in pieces) and len(pieces) > 3
    assert "".join(pieces) == "The race framing ignores  shared risks.\nCooperation helps."  # type: ignore[arg-type]
    usage = events[-1]
    assert usage.completion_tokens == len(pieces)
    assert usage.prompt_tokens == engine.count_tokens(ask().messages)
    assert usage.finish_reason == "stop"
    assert isinstance(engine, Engine)


async def test_list_replies_cycle_and_function_replies_see_the_request() -> None:
    engine = ScriptedEngine(["one", "two"])
    texts = [(await collect(engine, ask()))[0] for _ in range(3)]
    assert texts == ["one", "two", "one"]

    echo = ScriptedEngine(lambda request: f"you said {request.messages[-1].content}")
    text, _ = await collect(echo, ask("@everyone hi"))
    assert text == "you said @everyone hi"
    assert echo.requests[0].messages[-1].content == "@everyone hi"


async def test_max_tokens_and_stop_strings_cut_the_reply() -> None:
    engine = ScriptedEngine(["alpha beta gamma delta epsilon"])
    text, usage = await collect(engine, ask(max_tokens=2))
    assert text == "alpha beta " and usage.finish_reason == "length"
    text, usage = await collect(engine, ask(stop=("gamma",)))
    assert text == "alpha beta " and usage.finish_reason == "stop"


async def test_script_errors_reach_the_consumer() -> None:
    def broken(_request: GenerationRequest) -> str:
        raise BackendError("The model server is down.")

    engine = ScriptedEngine(broken)
    with pytest.raises(BackendError, match="server is down"):
        await collect(engine, ask())
    assert engine.status().active == 0


async def test_waiting_requests_see_their_position_and_users_take_turns() -> None:
    engine = ScriptedEngine(lambda request: f"answer for {request.user_id} " * 3, delay=0.01, n_slots=1)
    order: list[str] = []
    queued: dict[str, list[int]] = {}

    async def run(request: GenerationRequest, label: str) -> None:
        async for event in engine.stream(request):
            if isinstance(event, Queued):
                queued.setdefault(label, []).append(event.position)
            elif isinstance(event, Usage):
                order.append(label)

    tasks = [asyncio.create_task(run(ask(user="alice"), "a0"))]
    await asyncio.sleep(0)
    tasks += [asyncio.create_task(run(ask(user="alice"), f"a{i}")) for i in (1, 2)]
    await asyncio.sleep(0)
    tasks.append(asyncio.create_task(run(ask(user="bob"), "b0")))
    await asyncio.sleep(0.005)
    assert engine.status().queue_length == 3 and engine.status().active == 1
    await asyncio.gather(*tasks)
    assert order == ["a0", "a1", "b0", "a2"]  # bob's one question is not stuck behind alice's two
    assert "a0" not in queued  # admitted at once: never told to wait
    assert queued["b0"] == [2, 1]
    assert queued["a2"][0] == 2 and queued["a2"][-1] == 1


async def test_queue_bound_raises_before_anything_is_yielded() -> None:
    engine = ScriptedEngine(["x " * 50], delay=0.01, n_slots=1, max_queue=1)
    first = asyncio.create_task(collect(engine, ask()))
    await asyncio.sleep(0)
    second = asyncio.create_task(collect(engine, ask(user="u2")))
    await asyncio.sleep(0)
    with pytest.raises(QueueFullError):
        await anext(aiter(engine.stream(ask(user="u3"))))
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    text, _ = await second
    assert text.startswith("x ")


async def test_cancelling_frees_the_slot_and_the_queue() -> None:
    engine = ScriptedEngine(["word " * 100], delay=0.01, n_slots=1)
    running = engine.stream(ask())
    assert isinstance(await anext(running), str)
    waiting = engine.stream(ask(user="u2"))
    assert await anext(waiting) == Queued(1)
    await waiting.aclose()  # gave up while queued
    assert engine.status().queue_length == 0
    await running.aclose()  # gave up mid-answer
    assert engine.status().active == 0
    events = [event async for event in engine.stream(ask(user="u3", max_tokens=3))]
    assert "".join(e for e in events if isinstance(e, str)) == "word word word "
    assert not any(isinstance(e, Queued) for e in events), "admitted at once: nobody holds the slot"


async def test_closed_engine_refuses_clearly() -> None:
    engine = ScriptedEngine(["hi"])
    await engine.start()
    await engine.aclose()
    with pytest.raises(BackendError, match="closed"):
        await collect(engine, ask())
