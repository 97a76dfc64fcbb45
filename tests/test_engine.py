"""The llama.cpp engine on the real bundled model: streaming, reuse of the KV cache, queueing, failures.

Answers are short (greedy, 16-32 tokens) to keep the suite quick on two cores; speed is the
benchmark's job, these tests check that the answers are right and the bookkeeping is honest.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.config import Settings
from bot.engine.base import ChatMessage, GenerationRequest, Queued, Sampling, StreamEvent, Usage, collect
from bot.engine.llama_engine import (
    LlamaEngine,
    SavedStates,
    StopFilter,
    common_prefix_length,
    generation_threads,
)
from bot.errors import BackendError, ModelFileError, QueueFullError

SYSTEM = ChatMessage(
    "system",
    "You are a policy briefer. Answer in two short sentences about the US-China AI debate: "
    "whether it is a race to win or a problem to manage through cooperation.",
)
QUESTIONS = (
    "Is the US-China AI competition a race?",
    "Why do some experts favour cooperation on AI safety?",
    "What are export controls on AI chips?",
)
FOLLOW_UP = "Give one example."
GREEDY = Sampling(max_tokens=20, temperature=0.0)
ChatTurns = tuple[ChatMessage, ...]


def request(
    messages: ChatTurns,
    *,
    conversation: str | None = None,
    user: str = "tester",
    sampling: Sampling = GREEDY,
) -> GenerationRequest:
    return GenerationRequest(messages=messages, sampling=sampling, user_id=user, conversation_id=conversation)


def first_turn(question: str) -> ChatTurns:
    return (SYSTEM, ChatMessage("user", question))


def second_turn(question: str, answer: str) -> ChatTurns:
    return (*first_turn(question), ChatMessage("assistant", answer), ChatMessage("user", FOLLOW_UP))


async def started(settings: Settings) -> LlamaEngine:
    engine = LlamaEngine(settings)
    await engine.start()
    return engine


async def conversation_alone(engine: LlamaEngine, question: str, label: str) -> tuple[str, str]:
    first, _ = await collect(engine, request(first_turn(question), conversation=label))
    second, _ = await collect(engine, request(second_turn(question, first), conversation=label))
    return first, second


@pytest.fixture(scope="module")
async def answers_alone(llama_settings: Callable[..., Settings]) -> list[tuple[str, str]]:
    """Both turns of each conversation, run one conversation at a time: the reference answers.

    A fresh engine, not the session's shared one: how a prompt was split into batches when it was
    first evaluated changes the float rounding of its KV cells, and a 135M model's greedy choice
    can flip on that. The comparison is about interleaving, so everything else is kept equal.
    """
    engine = await started(llama_settings(n_slots=2, kv_cache_mib=64))
    try:
        return [await conversation_alone(engine, q, f"alone-{i}") for i, q in enumerate(QUESTIONS)]
    finally:
        await engine.aclose()


async def wait_until(predicate: Callable[[], bool], within_s: float = 10.0) -> None:
    deadline = time.monotonic() + within_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


# --- streaming and determinism ------------------------------------------------------------------


async def test_stream_yields_text_pieces_then_one_usage(llama_engine: LlamaEngine) -> None:
    messages = first_turn(QUESTIONS[0])
    events: list[StreamEvent] = [event async for event in llama_engine.stream(request(messages))]
    *pieces, usage = events
    assert isinstance(usage, Usage)
    assert pieces and all(isinstance(piece, str) for piece in pieces)
    assert "".join(pieces).strip()  # type: ignore[arg-type]
    assert usage.prompt_tokens == llama_engine.count_tokens(messages)
    assert 0 < usage.completion_tokens <= GREEDY.max_tokens
    assert usage.finish_reason in ("stop", "length")
    assert 0 <= usage.queue_ms <= usage.first_token_ms <= usage.total_ms


async def test_greedy_answers_are_deterministic_with_or_without_cached_prefix(
    llama_engine: LlamaEngine,
) -> None:
    messages = first_turn(QUESTIONS[1])
    first, _ = await collect(llama_engine, request(messages, conversation="determinism-1"))
    again, usage = await collect(llama_engine, request(messages, conversation="determinism-1"))
    other, _ = await collect(llama_engine, request(messages, conversation="determinism-2"))
    assert first == again == other
    assert usage.cached_tokens == usage.prompt_tokens - 1  # the whole prompt came from the cache


async def test_seeded_sampling_repeats_and_stop_strings_end_the_answer(llama_engine: LlamaEngine) -> None:
    messages = first_turn(QUESTIONS[2])
    seeded = Sampling(max_tokens=24, temperature=0.8, seed=7)
    one, _ = await collect(llama_engine, request(messages, sampling=seeded))
    two, _ = await collect(llama_engine, request(messages, sampling=seeded))
    assert one == two and one.strip()

    full, _ = await collect(llama_engine, request(messages))
    words = full.split()
    assert len(words) > 4, full
    stop = words[3]
    cut, usage = await collect(llama_engine, request(messages, sampling=Sampling(24, 0.0, stop=(stop,))))
    assert cut == full[: full.index(stop)]
    assert usage.finish_reason == "stop"


async def test_text_is_handed_over_in_groups_without_losing_or_delaying_the_first_piece(
    llama_settings: Callable[..., Settings],
) -> None:
    """With an interval longer than the answer, the first piece goes out at once and the rest at the end.

    The engine's clock is the test's and reads 5.0 throughout, as `perf_counter` does 5 s after a
    machine boots: the first piece must not wait for the interval to pass since a reading of 0.0."""
    messages = first_turn(QUESTIONS[2])
    streams = []
    for interval in (3600.0, 0.0):  # fresh engines: the prompt is evaluated the same way in both
        engine = LlamaEngine(llama_settings(), emit_interval=interval, clock=lambda: 5.0)
        await engine.start()
        try:
            streams.append([event async for event in engine.stream(request(messages))])
        finally:
            await engine.aclose()
    (*grouped, usage), (*each_token, _) = streams
    assert isinstance(usage, Usage) and usage.completion_tokens > 2
    assert len(grouped) == 2 < len(each_token)
    assert "".join(grouped) == "".join(each_token)  # type: ignore[arg-type]


async def test_max_tokens_is_respected(llama_engine: LlamaEngine) -> None:
    text, usage = await collect(llama_engine, request(first_turn(QUESTIONS[0]), sampling=Sampling(4, 0.0)))
    assert usage.completion_tokens == 4 and usage.finish_reason == "length"
    assert text.strip()


# --- KV cache reuse -------------------------------------------------------------------------------


async def test_prefix_reuse_shows_in_cached_tokens(llama_engine: LlamaEngine) -> None:
    first_messages = first_turn(QUESTIONS[0])
    answer, first = await collect(llama_engine, request(first_messages, conversation="reuse-a"))
    _, follow_up = await collect(
        llama_engine, request(second_turn(QUESTIONS[0], answer), conversation="reuse-a")
    )
    # Everything up to the end of the answer was already in the conversation's slot.
    assert follow_up.cached_tokens >= first.prompt_tokens + first.completion_tokens - 4
    assert follow_up.cached_tokens < follow_up.prompt_tokens

    # A new conversation shares the system message: it is copied, not evaluated again.
    system_tokens = llama_engine.count_tokens((SYSTEM,)) - 3  # minus the assistant header
    _, fresh = await collect(llama_engine, request(first_turn("Who makes AI chips?"), conversation="reuse-b"))
    assert fresh.cached_tokens >= system_tokens


async def test_interleaved_conversations_answer_as_if_alone(
    llama_settings: Callable[..., Settings], answers_alone: list[tuple[str, str]]
) -> None:
    # Two slots for three conversations: slots are taken over, states saved to RAM and restored.
    engine = await started(llama_settings(n_slots=2, kv_cache_mib=64))
    try:
        firsts = await asyncio.gather(
            *(
                collect(engine, request(first_turn(q), conversation=f"mixed-{i}", user=f"u{i}"))
                for i, q in enumerate(QUESTIONS)
            )
        )
        seconds = []
        for i, (question, (answer, _)) in enumerate(zip(QUESTIONS, firsts, strict=True)):
            seconds.append(
                await collect(engine, request(second_turn(question, answer), conversation=f"mixed-{i}"))
            )
        assert [answer for answer, _ in firsts] == [first for first, _ in answers_alone]
        assert [answer for answer, _ in seconds] == [second for _, second in answers_alone]
        for (_, first_usage), (_, second_usage) in zip(firsts, seconds, strict=True):
            # Restored from the slot or from RAM: only the new turn was evaluated.
            assert second_usage.cached_tokens >= first_usage.prompt_tokens
    finally:
        await engine.aclose()


@pytest.mark.parametrize("kv_cache_mib", [1, 64])
async def test_one_slot_switching_conversations_stays_correct(
    llama_settings: Callable[..., Settings], answers_alone: list[tuple[str, str]], kv_cache_mib: int
) -> None:
    """With one slot every switch evicts: a 1 MiB budget cannot keep a state (recomputed), 64 MiB can."""
    engine = await started(llama_settings(n_slots=1, kv_cache_mib=kv_cache_mib))
    try:
        firsts = [
            await collect(engine, request(first_turn(q), conversation=f"switch-{i}"))
            for i, q in enumerate(QUESTIONS[:2])
        ]
        assert [text for text, _ in firsts] == [first for first, _ in answers_alone[:2]]
        for i, question in enumerate(QUESTIONS[:2]):
            (answer, first_usage), (_, expected) = firsts[i], answers_alone[i]
            text, usage = await collect(
                engine, request(second_turn(question, answer), conversation=f"switch-{i}")
            )
            assert text == expected
            if kv_cache_mib > 1:
                assert usage.cached_tokens >= first_usage.prompt_tokens  # restored from RAM
            else:
                assert usage.cached_tokens < first_usage.prompt_tokens  # only the shared system prefix
    finally:
        await engine.aclose()


# --- concurrency, queueing and cancellation ------------------------------------------------------


async def test_four_concurrent_requests_all_answer_together(llama_engine: LlamaEngine) -> None:
    requests = [
        request(first_turn(q), user=f"user{i}") for i, q in enumerate((*QUESTIONS, "What is compute?"))
    ]
    results = await asyncio.gather(*(collect(llama_engine, r) for r in requests))
    assert all(text.strip() and usage.completion_tokens > 0 for text, usage in results)
    # Nobody waited for another's whole answer: every first token came before the last answer ended.
    last_end = max(usage.total_ms for _, usage in results)
    assert all(usage.first_token_ms < last_end for _, usage in results)
    assert all(usage.queue_ms < 1000 for _, usage in results)


async def test_event_loop_keeps_ticking_during_generation(llama_engine: LlamaEngine) -> None:
    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    tick = asyncio.create_task(ticker())
    long = Sampling(max_tokens=32, temperature=0.0)
    await asyncio.gather(*(collect(llama_engine, request(first_turn(q), sampling=long)) for q in QUESTIONS))
    done.set()
    await tick
    assert len(gaps) > 20
    p99 = statistics.quantiles(gaps, n=100)[98]
    # Real time is the point: decoding on the loop would stall it for a whole step on every token. The
    # bound leaves a busy machine (both cores taken) room to schedule the loop's thread late.
    assert p99 < 0.25, f"event loop stalled: p99 gap {p99 * 1000:.0f} ms"


async def test_queue_positions_bound_and_cancellation(llama_settings: Callable[..., Settings]) -> None:
    engine = await started(llama_settings(n_slots=1, max_queue=2))
    long = Sampling(max_tokens=200, temperature=0.0, stop=())
    try:
        running = engine.stream(request(first_turn(QUESTIONS[0]), user="alice", sampling=long))
        assert isinstance(await anext(running), str)

        second = engine.stream(request(first_turn(QUESTIONS[1]), user="bob"))
        assert await anext(second) == Queued(1)
        third = engine.stream(request(first_turn(QUESTIONS[2]), user="carol"))
        assert await anext(third) == Queued(2)
        with pytest.raises(QueueFullError):
            await anext(engine.stream(request(first_turn("One more?"), user="dave")))

        await second.aclose()  # gave up while waiting: leaves the queue, carol moves up
        assert engine.status().queue_length == 1
        assert await anext(third) == Queued(1)

        await running.aclose()  # gave up mid-answer: the slot is freed within a step
        event = await anext(third)
        assert isinstance(event, str)
        rest = [event async for event in third]
        assert isinstance(rest[-1], Usage) and rest[-1].completion_tokens > 0
        await wait_until(lambda: engine.status().active == 0)
        assert engine.status().queue_length == 0
    finally:
        await engine.aclose()


async def test_cancelled_task_frees_its_slot(llama_settings: Callable[..., Settings]) -> None:
    engine = await started(llama_settings(n_slots=1))
    try:
        started_streaming = asyncio.Event()

        async def consume() -> None:
            async for _ in engine.stream(request(first_turn(QUESTIONS[0]), sampling=Sampling(500, 0.0))):
                started_streaming.set()

        task = asyncio.create_task(consume())
        await started_streaming.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await wait_until(lambda: engine.status().active == 0, within_s=5)
        text, usage = await collect(engine, request(first_turn(QUESTIONS[1])))
        assert text.strip() and usage.queue_ms < 1000
    finally:
        await engine.aclose()


# --- status and failures ------------------------------------------------------------------------


async def test_status_reports_the_engine(llama_engine: LlamaEngine) -> None:
    await collect(llama_engine, request(first_turn(QUESTIONS[0])))
    status = llama_engine.status()
    assert status.backend == "llama.cpp"
    assert status.model == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert (status.n_ctx, status.n_gpu_layers, status.queue_length, status.active) == (2048, 0, 0, 0)
    assert status.recent_tokens_per_s > 0
    assert llama_engine.context_size == 2048


async def test_over_long_prompt_is_refused_before_llama_cpp_sees_it(llama_engine: LlamaEngine) -> None:
    messages = (SYSTEM, ChatMessage("user", "export controls and compute " * 600))
    assert llama_engine.count_tokens(messages) >= llama_engine.context_size
    with pytest.raises(BackendError) as info:
        await collect(llama_engine, request(messages))
    assert "too long" in info.value.user_message
    assert llama_engine.status().queue_length == 0
    text, _ = await collect(llama_engine, request(first_turn(QUESTIONS[0])))  # still serving
    assert text.strip()


async def test_missing_model_file_names_the_path(
    tmp_path: Path, llama_settings: Callable[..., Settings]
) -> None:
    missing = tmp_path / "nowhere.gguf"
    with pytest.raises(ModelFileError) as info:
        await LlamaEngine(llama_settings(model_path=missing)).start()
    assert str(missing) in info.value.user_message


@pytest.mark.parametrize("content", [b"GGUF" + b"\xff" * 512, b"GGUF\x03\x00\x00\x00" + b"\x00" * 64])
async def test_corrupt_model_file_names_the_path(
    tmp_path: Path, llama_settings: Callable[..., Settings], content: bytes
) -> None:
    corrupt = tmp_path / "corrupt.gguf"
    corrupt.write_bytes(content)  # passes the magic check, fails in llama.cpp
    engine = LlamaEngine(llama_settings(model_path=corrupt))
    with pytest.raises(ModelFileError) as info:
        await engine.start()
    assert str(corrupt) in info.value.user_message
    with pytest.raises(BackendError, match="not running"):
        await collect(engine, request(first_turn(QUESTIONS[0])))


async def test_closing_ends_answers_and_refuses_new_ones(llama_settings: Callable[..., Settings]) -> None:
    engine = await started(llama_settings(n_slots=1))
    running = engine.stream(request(first_turn(QUESTIONS[0]), sampling=Sampling(500, 0.0)))
    assert isinstance(await anext(running), str)
    waiting = asyncio.create_task(collect(engine, request(first_turn(QUESTIONS[1]), user="other")))
    await wait_until(lambda: engine.status().queue_length == 1)
    await engine.aclose()
    rest = [event async for event in running]
    assert isinstance(rest[-1], Usage) and rest[-1].finish_reason == "cancelled"
    with pytest.raises(BackendError, match="shut down"):
        await waiting
    with pytest.raises(BackendError, match="not running"):
        await collect(engine, request(first_turn(QUESTIONS[0])))
    await engine.aclose()  # idempotent


# --- pure helpers --------------------------------------------------------------------------------


def test_common_prefix_length() -> None:
    assert common_prefix_length([], [1, 2]) == 0
    assert common_prefix_length([1, 2, 3], [1, 2, 4]) == 2
    long = list(range(1000))
    assert common_prefix_length(long, long) == 1000
    assert common_prefix_length(long, [*long[:700], -1]) == 700


def test_one_token_steps_leave_a_core_free_only_when_the_threads_take_all_of_many() -> None:
    assert generation_threads(16, cores=16) == 15
    assert generation_threads(20, cores=16) == 19  # oversubscribed already: still one fewer
    assert generation_threads(8, cores=16) == 8  # cores to spare: all of them
    assert generation_threads(2, cores=2) == 2  # on few cores one thread is too big a share to give up
    assert generation_threads(4, cores=4) == 4
    assert generation_threads(1, cores=1) == 1


def test_stop_filter_holds_back_partial_stop_strings() -> None:
    stops = StopFilter(["\n\nSources:", "END"])
    assert stops.feed("The answer") == ("The answer", False)
    assert stops.feed(" is yes.\n") == (" is yes.", False)  # "\n" could start the stop string
    assert stops.feed("\nSou") == ("", False)
    assert stops.feed("nds good") == ("\n\nSounds good", False)
    assert stops.feed(" E") == (" ", False)
    assert stops.feed("ND and more") == ("", True)
    assert StopFilter([]).feed("anything\n") == ("anything\n", False)
    tail = StopFilter(["###"])
    assert tail.feed("done #") == ("done ", False)
    assert tail.flush() == "#"


def test_saved_states_evict_least_recently_saved_within_budget() -> None:
    saved = SavedStates(budget_bytes=100)
    saved.put("a", [1], b"x" * 40)
    saved.put("b", [2], b"x" * 40)
    saved.put("c", [3], b"x" * 40)  # over budget: "a" goes
    assert "a" not in saved and "b" in saved and "c" in saved
    assert saved.used_bytes == 80
    saved.put("huge", [4], b"x" * 101)  # bigger than the whole budget: not kept
    assert "huge" not in saved and len(saved) == 2
    state = saved.pop("b")
    assert state is not None and state.tokens == [2] and saved.used_bytes == 40
    assert saved.get(None) is None and saved.pop("missing") is None
