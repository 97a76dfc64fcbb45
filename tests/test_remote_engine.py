"""RemoteEngine against real servers on loopback.

The happy path runs against llama-cpp-python's own OpenAI-compatible server on the bundled model
(started once per session as a subprocess). Failure modes a real server will not produce on demand
(HTTP 500, a malformed or stalled stream, a slow stream to queue behind) come from a small aiohttp
server with one route per scenario.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from fake_model_server import PARTIAL, FakeServer
from model_servers import ModelServer, free_port, started

from bot.config import Settings, load_settings
from bot.engine import remote
from bot.engine._remote_http import (
    CUT_OFF,
    MAX_ERROR_CHARS,
    USER_MESSAGES,
    backoff_s,
    error_message_from_body,
    redact_url,
    retry_after_s,
)
from bot.engine.base import ChatMessage, GenerationRequest, Queued, Sampling, Usage, collect
from bot.engine.openai_wire import SSEParser, chat_payload, display_model_name, root_url
from bot.engine.remote import RemoteEngine
from bot.errors import BackendError, ConfigError, QueueFullError

QUESTION = (
    ChatMessage(role="system", content="You are a concise policy analyst."),
    ChatMessage(role="user", content="Why do export controls on AI chips matter for US-China relations?"),
)


def settings_for(base_url: str, **overrides: object) -> Settings:
    return load_settings(llm_base_url=base_url, **overrides)


def request(max_tokens: int = 16, user: str = "u1", **sampling: object) -> GenerationRequest:
    return GenerationRequest(
        messages=QUESTION,
        sampling=Sampling(max_tokens=max_tokens, temperature=0.0, **sampling),  # type: ignore[arg-type]
        user_id=user,
    )


# --- llama-cpp-python's server on the bundled model ----------------------------------------------


@pytest.fixture(scope="session")
def llama_server_url(python_llama_server: ModelServer) -> str:
    return python_llama_server.url


async def test_streams_text_then_one_usage(llama_server_url: str) -> None:
    async with started(settings_for(llama_server_url)) as engine:
        events = [event async for event in engine.stream(request(max_tokens=24))]
    assert isinstance(events[-1], Usage)
    assert not any(isinstance(e, Usage) for e in events[:-1])
    pieces = [e for e in events if isinstance(e, str)]
    assert "".join(pieces).strip()
    usage = events[-1]
    # llama-cpp-python's server sends no usage when streaming: one token per piece, prompt estimated.
    assert usage.completion_tokens == len(pieces) <= 24
    assert usage.prompt_tokens > 20
    assert usage.finish_reason in ("stop", "length")
    assert 0 < usage.first_token_ms <= usage.total_ms
    assert engine.status().backend == "openai-compatible"


async def test_greedy_is_deterministic_and_model_is_discovered(llama_server_url: str) -> None:
    async with started(settings_for(llama_server_url)) as engine:
        first, _ = await collect(engine, request(max_tokens=12))
        second, _ = await collect(engine, request(max_tokens=12))
        assert first == second
        # LLM_MODEL unset: the engine asks /models and uses what the server serves.
        assert engine.model_name == "SmolLM2-135M-Instruct.Q4_1.gguf"  # the file name, not its path
        assert engine.status().model == engine.model_name


async def test_cancel_mid_stream_then_next_request_works(llama_server_url: str) -> None:
    async with started(settings_for(llama_server_url)) as engine:
        stream = engine.stream(request(max_tokens=400))
        pieces = []
        async for event in stream:
            if isinstance(event, str):
                pieces.append(event)
                if len(pieces) == 3:
                    break
        await stream.aclose()
        assert engine.status().active == 0
        began = time.perf_counter()
        text, usage = await collect(engine, request(max_tokens=8))
        assert text.strip()
        assert usage.completion_tokens >= 1
        # Had the server kept generating the cancelled 400-token answer, this request would queue
        # behind it (that server runs one generation at a time) for seconds.
        assert time.perf_counter() - began < 5.0


async def test_token_estimate_covers_the_real_prompt(llama_server_url: str) -> None:
    """The estimate must not under-count (prompts are trimmed to fit by it) nor waste much."""
    async with started(settings_for(llama_server_url)) as engine:
        assert await engine.count_tokens_exact("Hello world") == 2  # calibrated on /extras/tokenize
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"{llama_server_url}/chat/completions",
                json={
                    "messages": [{"role": m.role, "content": m.content} for m in QUESTION],
                    "max_tokens": 1,
                },
            ) as reply,
        ):
            real = (await reply.json())["usage"]["prompt_tokens"]
        estimate = engine.count_tokens(QUESTION)
        assert real <= estimate <= real * 1.3 + 8


async def test_refused_connection_at_start_names_the_setting_not_the_url(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Start-up failures are read by the operator: the setting to check, never the URL (it may
    carry credentials); the log has the URL without them."""
    port = free_port()
    engine = RemoteEngine(settings_for(f"http://bot:s3cret@127.0.0.1:{port}/v1?key=k3y"))
    with pytest.raises(BackendError) as caught:
        await engine.start()
    message = caught.value.user_message
    assert "LLM_BASE_URL" in message and "127.0.0.1" not in message
    assert f"http://127.0.0.1:{port}/v1" in caplog.text
    assert "s3cret" not in caplog.text + message and "k3y" not in caplog.text + message
    await engine.aclose()


def test_base_url_must_be_http() -> None:
    with pytest.raises(ConfigError, match="LLM_BASE_URL"):
        RemoteEngine(settings_for("localhost:8080"))


# --- a scripted aiohttp server for failure modes ----------------------------------------------------


@pytest.fixture(scope="session")
async def fake_server() -> AsyncIterator[FakeServer]:
    server = FakeServer()
    await server.start()
    yield server
    await server.stop()


def assert_nothing_leaks(message: str, server: FakeServer) -> None:
    """A user's error sentence carries no URL, setting name or server text."""
    assert "127.0.0.1" not in message and "http" not in message
    assert "LLM_" not in message and "exploded" not in message and "overflow" not in message


async def test_http_500_tells_the_user_plainly_and_logs_the_details(
    fake_server: FakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    async with started(settings_for(fake_server.base("error500"))) as engine:
        with pytest.raises(BackendError) as caught:
            await collect(engine, request())
    assert caught.value.user_message == USER_MESSAGES["failed"]
    assert_nothing_leaks(caught.value.user_message, fake_server)
    assert "HTTP 500" in caplog.text and "model exploded" in caplog.text
    assert fake_server.base("error500") in caplog.text
    assert engine.status().active == 0


async def test_http_401_points_the_log_at_the_api_key(
    fake_server: FakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    async with started(settings_for(fake_server.base("error401"), llm_api_key="nope")) as engine:
        with pytest.raises(BackendError) as caught:
            await collect(engine, request())
    assert_nothing_leaks(caught.value.user_message, fake_server)
    assert "LLM_API_KEY" in caplog.text and "bad key" in caplog.text


async def test_malformed_stream_and_midstream_error(fake_server: FakeServer) -> None:
    async with started(settings_for(fake_server.base("malformed"))) as engine:
        with pytest.raises(BackendError) as caught:
            await collect(engine, request())
    assert caught.value.user_message == USER_MESSAGES["failed"]
    async with started(settings_for(fake_server.base("midstream-error"))) as engine:
        shown = []
        with pytest.raises(BackendError) as caught:
            async for event in engine.stream(request()):
                shown.append(event)
    # The text shown so far was yielded; the sentence says the answer above it is incomplete.
    assert shown == [PARTIAL] and caught.value.user_message == CUT_OFF
    assert_nothing_leaks(caught.value.user_message, fake_server)


async def test_response_size_is_capped(fake_server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(remote, "MAX_STREAM_BYTES", 20_000)
    async with started(settings_for(fake_server.base("flood"))) as engine:
        text = ""
        with pytest.raises(BackendError, match="incomplete"):
            async for event in engine.stream(request()):
                text += event if isinstance(event, str) else ""
    assert 10_000 <= len(text) <= 20_000


async def test_server_usage_and_sampling_fields_are_used(fake_server: FakeServer) -> None:
    async with started(settings_for(fake_server.base("usage"), llm_model="my-model")) as engine:
        text, usage = await collect(
            engine, request(max_tokens=33, top_k=7, repeat_penalty=1.3, seed=5, stop=("\nQ:",))
        )
        assert engine.model_name == "my-model"
    assert text == "Hello there"
    assert (usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens) == (77, 2, 70)
    assert usage.finish_reason == "stop"
    body = fake_server.bodies[-1]
    assert body["model"] == "my-model" and body["stream"] is True
    assert body["max_tokens"] == 33 and body["top_k"] == 7 and body["repeat_penalty"] == 1.3
    assert body["seed"] == 5 and body["stop"] == ["\nQ:"] and body["temperature"] == 0.0
    assert body["stream_options"] == {"include_usage": True}


async def test_a_path_model_id_is_shown_as_its_file_name(fake_server: FakeServer) -> None:
    async with started(settings_for(fake_server.base("usage"))) as engine:
        assert engine.model_name == "fake-model.gguf" == engine.status().model
        await collect(engine, request())
    assert fake_server.bodies[-1]["model"] == "/srv/models/fake-model.gguf"  # the server's own id
    assert display_model_name("C:\\\\models\\\\x.gguf") == "x.gguf"


async def test_stalled_server_times_out(fake_server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(remote, "READ_TIMEOUT_S", 0.3)
    async with started(settings_for(fake_server.base("stall"))) as engine:
        with pytest.raises(BackendError) as caught:
            await collect(engine, request())
    assert caught.value.user_message == USER_MESSAGES["slow"]


async def test_total_deadline_cuts_a_stream_that_keeps_trickling(fake_server: FakeServer) -> None:
    """Pieces every 50 ms never trip the silence timeout; the request's own deadline does."""
    async with started(settings_for(fake_server.base("slow"), llm_timeout_s=1)) as engine:
        began = time.monotonic()
        with pytest.raises(BackendError, match="incomplete"):
            await collect(engine, request())
        assert time.monotonic() - began < 3.0
        assert engine.status().active == 0


async def test_busy_server_is_retried_after_its_retry_after(fake_server: FakeServer) -> None:
    async with started(settings_for(fake_server.base("busy-twice"))) as engine:
        began = time.monotonic()
        text, _ = await collect(engine, request())
    assert text == "Hello there" and fake_server.hits["busy-twice"] == 3
    assert time.monotonic() - began >= 0.4  # two waits of Retry-After: 0.2


async def test_a_server_asking_for_a_long_wait_is_reported_busy_at_once(fake_server: FakeServer) -> None:
    async with started(settings_for(fake_server.base("busy-long"))) as engine:
        began = time.monotonic()
        with pytest.raises(BackendError) as caught:
            await collect(engine, request())
    assert caught.value.user_message == USER_MESSAGES["busy"]
    assert time.monotonic() - began < 2.0 and fake_server.hits["busy-long"] == 1


async def test_a_request_dropped_before_any_byte_is_retried_once_on_a_fresh_connection(
    fake_server: FakeServer,
) -> None:
    async with started(settings_for(fake_server.base("drop-first"))) as engine:
        text, _ = await collect(engine, request())
        assert text == "Hello there" and fake_server.hits["drop-first"] == 2
        with pytest.raises(BackendError) as caught:
            engine._chat_url = f"{fake_server.base('drop-always')}/chat/completions"
            await collect(engine, request())
    assert caught.value.user_message == USER_MESSAGES["unreachable"]
    assert fake_server.hits["drop-always"] == 2  # one retry, not a loop


async def test_aclose_drops_the_connection(fake_server: FakeServer) -> None:
    fake_server.disconnected.clear()
    async with started(settings_for(fake_server.base("slow"))) as engine:
        stream = engine.stream(request())
        async for event in stream:
            if isinstance(event, str):
                break
        await stream.aclose()
        await asyncio.wait_for(fake_server.disconnected.wait(), timeout=2.0)
        assert engine.status().active == 0


async def test_queue_is_bounded_fair_and_reports_positions(fake_server: FakeServer) -> None:
    settings = settings_for(fake_server.base("slow"), n_slots=1, max_queue=3)
    async with started(settings) as engine:
        running = engine.stream(request(user="alice"))
        assert isinstance(await anext(running), str)  # alice holds the only slot
        alice2, alice3 = engine.stream(request(user="alice")), engine.stream(request(user="alice"))
        assert await anext(alice2) == Queued(1)
        assert await anext(alice3) == Queued(2)
        bob = engine.stream(request(user="bob"))
        assert await anext(bob) == Queued(2)  # round robin: bob goes ahead of alice's backlog
        assert await anext(alice3) == Queued(3)
        assert engine.status().queue_length == 3
        with pytest.raises(QueueFullError):
            await anext(engine.stream(request(user="carol")))
        await alice3.aclose()  # a waiting request that gives up leaves the line
        assert engine.status().queue_length == 2
        await running.aclose()  # the slot goes to the next in line
        assert isinstance(await asyncio.wait_for(anext(alice2), timeout=2.0), str)
        assert await anext(bob) == Queued(1)
        await alice2.aclose()
        assert isinstance(await asyncio.wait_for(anext(bob), timeout=2.0), str)
        await bob.aclose()
        assert engine.status().active == 0 and engine.status().queue_length == 0


async def test_stream_fails_clearly_when_the_server_goes_away() -> None:
    server = FakeServer()
    await server.start()
    async with started(settings_for(server.base("usage"))) as engine:
        await server.stop()
        with pytest.raises(BackendError) as caught:
            await collect(engine, request())
    assert caught.value.user_message == USER_MESSAGES["unreachable"]


# --- pure helpers -----------------------------------------------------------------------------------


def test_sse_parser_joins_data_lines_and_skips_comments() -> None:
    parser = SSEParser()
    out = [
        parser.feed(line) for line in (": ping", "event: message", 'data: {"a":', "data: 1}", "", "data: x")
    ]
    assert out == [None, None, None, None, '{"a":\n1}', None]
    assert parser.flush() == "x" and parser.flush() is None


def test_error_message_from_body_variants() -> None:
    assert error_message_from_body('{"error": {"message": "boom\\nTraceback"}}') == "boom"
    assert error_message_from_body('{"detail": "Not Found"}') == "Not Found"
    assert error_message_from_body('{"error": "overloaded"}') == "overloaded"
    assert error_message_from_body("<html>bad gateway</html>") == "<html>bad gateway</html>"
    assert len(error_message_from_body("x" * 5000)) <= MAX_ERROR_CHARS


def test_root_url_and_payload() -> None:
    assert root_url("http://h:8080/v1/") == "http://h:8080"
    assert root_url("http://h:11434") == "http://h:11434"
    body = chat_payload(request(), model="")
    assert "model" not in body and "stop" not in body
    assert body["messages"][0] == {"role": "system", "content": QUESTION[0].content}


def test_retry_after_and_backoff() -> None:
    assert retry_after_s("2") == 2.0 and retry_after_s(None) is None and retry_after_s("soon") is None
    assert retry_after_s("Wed, 25 Nov 2026 10:00:30 GMT", now=1795600800.0) == 30.0
    assert backoff_s(0, None, remaining_s=60) == 1.0 and backoff_s(2, None, remaining_s=60) == 4.0
    assert backoff_s(0, 3.0, remaining_s=60) == 3.0
    assert backoff_s(0, 600.0, remaining_s=60) is None  # longer than we would hold a user
    assert backoff_s(0, 3.0, remaining_s=2) is None  # past the request's deadline


def test_redact_url_drops_credentials_and_query() -> None:
    assert redact_url("https://bot:pw@gpu:8080/v1?key=abc#x") == "https://gpu:8080/v1"
