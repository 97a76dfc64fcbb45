"""The remote backend against real model servers on the bundled model: llama.cpp's `llama-server`
(what the README tells a growing community to run, with `-np 4`) and llama-cpp-python's server.

What broke against llama-server and not against the Python server: one process sending many
requests in a row, some of its streams stopped early, failed with "Can not write request body"
(see `bot/engine/remote.py`). These tests send exactly such traffic, run a debate and `bench`
through it, and kill the server mid-answer.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest
from model_servers import ModelServer, peer_server, require_peer, started
from test_bench import TINY

from bot.bench import run_bench
from bot.briefing.debate import DebateFinished
from bot.config import Settings, load_settings
from bot.engine._remote_http import CUT_OFF, USER_MESSAGES
from bot.engine.base import ChatMessage, GenerationRequest, Sampling, collect
from bot.engine.remote import RemoteEngine
from bot.errors import BackendError
from bot.service import BriefingService

QUESTIONS = (
    "Why do export controls on AI chips matter for US-China relations?",
    "What is a track-two dialogue between scientists?",
    "Why is the Space Race a misleading analogy for AI?",
)
MOTION = "The US and China should cooperate on AI safety"


@pytest.fixture(params=["llama_server", "python_llama_server"])
def server(request: pytest.FixtureRequest) -> ModelServer:
    """The tests that take it run against both servers."""
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


def settings_for(url: str, **overrides: object) -> Settings:
    return load_settings(llm_base_url=url, n_ctx=2048, **overrides)


def ask(i: int, max_tokens: int = 12) -> GenerationRequest:
    question = QUESTIONS[i % len(QUESTIONS)]
    return GenerationRequest(
        messages=(ChatMessage("system", "You are a concise policy analyst."), ChatMessage("user", question)),
        sampling=Sampling(max_tokens=max_tokens, temperature=0.0),
        user_id=f"user{i}",
    )


async def stop_after(engine: RemoteEngine, request: GenerationRequest, pieces: int) -> str:
    """Stream until `pieces` text pieces arrived, then stop, as the bot does when it cuts an answer."""
    text = ""
    stream = engine.stream(request)
    async for event in stream:
        if isinstance(event, str):
            text += event
            pieces -= 1
            if pieces == 0:
                break
    await stream.aclose()
    return text


async def test_many_requests_in_a_row_with_streams_stopped_early(llama_server: ModelServer) -> None:
    """llama-cpp-python's server runs the same sequence in test_remote_engine.py."""
    async with started(settings_for(llama_server.url)) as engine:
        for i in range(9):
            if i % 3 == 0:
                assert (await stop_after(engine, ask(i, max_tokens=48), pieces=2)).strip()
            else:
                text, usage = await collect(engine, ask(i))
                assert text.strip() and usage.finish_reason in ("stop", "length")
        assert engine.status().active == 0
        assert engine.model_name == "SmolLM2-135M-Instruct.Q4_1.gguf"  # the file name, not a path


async def test_concurrent_requests_then_more_after_cancelling_some(server: ModelServer) -> None:
    async with started(settings_for(server.url, n_slots=4)) as engine:
        results = await asyncio.gather(*(collect(engine, ask(i)) for i in range(8)))
        assert all(text.strip() for text, _ in results)
        stopped = await asyncio.gather(*(stop_after(engine, ask(i, 48), pieces=1) for i in range(4)))
        assert all(stopped)
        again = await asyncio.gather(*(collect(engine, ask(i)) for i in range(4)))
        assert all(text.strip() for text, _ in again)
        assert engine.status().active == 0 and engine.status().queue_length == 0


async def test_a_debate_through_llama_server(llama_server: ModelServer, tmp_path: Path) -> None:
    settings = settings_for(llama_server.url, database_path=tmp_path / "db.sqlite3", max_answer_tokens=32)
    service = await BriefingService.open(settings)
    try:
        events = [
            e async for e in service.debate(MOTION, rounds=1, conversation_id="debate", user_id="tester")
        ]
    finally:
        await service.aclose()
    assert isinstance(events[-1], DebateFinished)
    result = events[-1].result
    assert len(result.turns) == 2 and all(turn.text.strip() for turn in result.turns)


async def test_bench_against_llama_server_reports_the_in_process_figures(
    llama_server: ModelServer, tmp_path: Path
) -> None:
    settings = settings_for(llama_server.url, n_threads=1, database_path=tmp_path / "db.sqlite3")
    with contextlib.redirect_stdout(None):
        result = await run_bench(settings, json_output=True, sizes=TINY)
    assert result["backend"] == "openai-compatible"
    assert result["model"] == "SmolLM2-135M-Instruct.Q4_1.gguf"
    for key in ("decode_tok_s", "ttft_cold_s", "ttft_followup_s", "concurrent4_total_tok_s"):
        assert result[key] > 0, key
    assert result["decode_tokens"] == TINY.decode_tokens
    # llama-server reports its prompt cache: the follow-up reuses the first question's prompt.
    assert 0 < result["followup_cached_tokens"] < result["followup_prompt_tokens"]


async def test_server_killed_mid_answer_then_restarted(tmp_path: Path) -> None:
    """A crash mid-answer cuts that answer with the "incomplete" sentence; while the server is down
    users are told so; once it is back the same engine answers again, without a bot restart."""
    server = peer_server(require_peer(), tmp_path).start()
    try:
        async with started(settings_for(server.url)) as engine:
            assert (await collect(engine, ask(0)))[0].strip()
            stream = engine.stream(ask(1, max_tokens=400))
            with pytest.raises(BackendError) as cut:
                async for event in stream:
                    if isinstance(event, str):
                        server.kill()
            assert cut.value.user_message == CUT_OFF
            with pytest.raises(BackendError) as down:
                await collect(engine, ask(2))
            assert down.value.user_message == USER_MESSAGES["unreachable"]
            server.start()
            text, usage = await collect(engine, ask(0))
            assert text.strip() and usage.completion_tokens > 0
            assert engine.status().active == 0
    finally:
        server.stop()
