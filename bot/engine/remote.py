"""`RemoteEngine`: the Engine protocol over an OpenAI-compatible chat-completions server.

Why it exists: one in-process model on a small machine serves a handful of users. For a large
community, many bot processes can share a GPU server - llama.cpp's `llama-server`, vLLM, Ollama,
llama-cpp-python's server - by setting LLM_BASE_URL. The briefing layer does not notice: it still
gets text pieces, `Queued` while waiting and one final `Usage`.

This module is the engine: its queue, its connections and one request's life. The format on the
wire is in `openai_wire.py`, counting tokens in `_remote_tokens.py`, what goes wrong (and the small
HTTP helpers that detect it) in `_remote_http.py`.

Design notes:
- The client keeps a fair, bounded queue (the engines' shared `Admission`): at most `n_slots` requests
  are in flight to the server from this process, users take turns, and beyond `max_queue` waiting
  requests users are told the bot is busy, exactly as with the local engine. Without it one chatty
  user could fill the server's queue for everyone behind this bot.
- Connections. Servers close idle keep-alive connections after a few seconds (llama-server's HTTP
  library and uvicorn after 5 s); a client that reuses one a moment later writes its request into a
  closed socket ("Can not write request body"). So idle connections are dropped sooner than that,
  a request that fails before any response byte is retried once on a fresh connection, and a
  response goes back to the pool only when it was read to its end: a stream the bot stops early is
  closed, which is also how the server learns that nobody is listening and stops generating.
- Every request has a total deadline (LLM_TIMEOUT_S) besides the longest silence between pieces;
  429 and 503 (busy, or llama-server still loading its model) are retried after the back-off the
  server asks for in `Retry-After`; a response larger than MAX_STREAM_BYTES is cut off.
- Failures reach users as one sentence without the URL, the server's text or setting names; the
  details go to the log (`bot.engine._remote_http`). Start-up failures, read by the operator, name
  the setting to check.
- Sampling fields that only some servers understand (`top_k`, `repeat_penalty`,
  `repetition_penalty`) are sent anyway: the servers this targets ignore fields they do not know.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from typing import Any

import aiohttp

from bot.config import Settings
from bot.engine._admission import Admission, Ticket
from bot.engine._remote_http import (
    ProblemKind,
    ServerProblem,
    backoff_s,
    error_detail,
    let_go,
    log,
    read_capped,
    redact_url,
    retry_after_s,
    scrub,
    short,
    status_hint,
    user_error,
)
from bot.engine._remote_tokens import TokenCounter
from bot.engine.base import ChatMessage, EngineStatus, FinishReason, GenerationRequest, StreamEvent
from bot.engine.openai_wire import (
    SSEParser,
    chat_payload,
    choice_zero,
    display_model_name,
    parse_chunk,
    root_url,
    usage_from,
    usage_of,
)
from bot.errors import BackendError, ConfigError
from bot.measures import elapsed_ms

Chunks = AsyncGenerator[dict[str, Any], None]  # a response's JSON chunks, closed when left early
BACKEND_NAME = "openai-compatible"
CONNECT_TIMEOUT_S = 10.0
# Longest silence tolerated between two pieces of a stream. Generous: a busy server may queue the
# request, and a cold prompt on a CPU server takes seconds before the first token.
READ_TIMEOUT_S = 120.0
PROBE_TIMEOUT_S = 10.0
# Idle keep-alive connections are dropped after this long: below the 5 s after which llama-server
# and uvicorn close them on their side.
KEEPALIVE_S = 2.0
# Caps on what a server may send: a stream (about 200 bytes a token in these servers' chunks, so
# 8 MiB is some 40,000 tokens) and a JSON answer (error bodies: _remote_http.MAX_ERROR_BODY_BYTES).
MAX_STREAM_BYTES = 8 * 1024 * 1024
MAX_JSON_BYTES = 1024 * 1024
MAX_BUSY_RETRIES = 3
# What the operator reads when `start()` fails: names the settings to check, never the URL (it may
# hold credentials) nor the server's text (both are in the log).
STARTUP_HINTS = {
    "unreachable": "cannot be reached: check LLM_BASE_URL and that the server is running",
    "busy": "is busy or still loading its model: try again in a minute",
    "slow": "did not answer in time: check LLM_BASE_URL and that the server is running",
    "failed": (
        "did not answer as an OpenAI-compatible server: check LLM_BASE_URL (it usually ends in /v1), "
        "LLM_API_KEY and LLM_MODEL"
    ),
}


class RemoteEngine:
    """An `Engine` that streams from an OpenAI-compatible server at `settings.llm_base_url`."""

    def __init__(self, settings: Settings) -> None:
        base = settings.llm_base_url.strip().rstrip("/")
        if not base.startswith(("http://", "https://")):
            raise ConfigError("LLM_BASE_URL must be an http(s) URL such as http://127.0.0.1:8080/v1.")
        self.base_url = base
        self._chat_url = f"{base}/chat/completions"
        self._root = root_url(base)
        self._model = settings.llm_model.strip()
        self._shown_model = self._model
        self._api_key = settings.llm_api_key.strip()
        self._timeout_s = settings.llm_timeout_s
        self._n_ctx = settings.n_ctx
        self.admission: Admission[Ticket] = Admission(settings.n_slots, settings.max_queue)  # on the loop
        self._session: aiohttp.ClientSession | None = None
        self._fresh: aiohttp.ClientSession | None = None  # one connection per request, for retries
        self._tokens = TokenCounter(self._post_json)

    # --- Engine protocol: properties ----------------------------------------------------------

    @property
    def model_name(self) -> str:
        """LLM_MODEL when set, else the file name of the model the server reports."""
        return self._shown_model or "remote model"

    @property
    def context_size(self) -> int:
        return self._n_ctx

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the HTTP sessions and check the server answers; learn the model and the tokenizer.

        Failing here, at start-up, with one sentence beats failing on the first user's question.
        """
        if self._session is None:
            headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
            timeout = aiohttp.ClientTimeout(sock_connect=CONNECT_TIMEOUT_S, sock_read=READ_TIMEOUT_S)
            self._session = aiohttp.ClientSession(
                headers=headers,
                timeout=timeout,
                connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_S),
            )
            self._fresh = aiohttp.ClientSession(
                headers=headers, timeout=timeout, connector=aiohttp.TCPConnector(force_close=True)
            )
        try:
            models = await self._get_json(f"{self.base_url}/models")
        except ServerProblem as problem:
            await self.aclose()
            log.warning("model server %s at start-up: %s", redact_url(self.base_url), scrub(problem.detail))
            raise BackendError(
                f"The model server {STARTUP_HINTS[problem.kind]} (details in the log)."
            ) from None
        except BaseException:
            await self.aclose()
            raise
        if not self._model:
            data = models.get("data") if isinstance(models, dict) else None
            if isinstance(data, list) and data and isinstance(data[0], dict) and data[0].get("id"):
                self._model = str(data[0]["id"])
                self._shown_model = display_model_name(self._model)
        await self._tokens.calibrate(self._root, self._model)

    async def aclose(self) -> None:
        """Close the HTTP sessions (open streams are closed with them). Idempotent."""
        for session in (self._session, self._fresh):
            if session is not None:
                await session.close()
        self._session = self._fresh = None

    # --- token counting ---------------------------------------------------------------------------

    def count_tokens(self, messages: Sequence[ChatMessage]) -> int:
        """Estimated prompt tokens, rounded up: chat templates live on the server, so the client can
        only estimate; `start()` calibrates the characters-per-token ratio against the server's own
        tokenizer when it offers one (_remote_tokens.py)."""
        return self._tokens.estimate(messages)

    async def count_tokens_exact(self, text: str) -> int | None:
        """Tokens of `text` by the server's tokenizer, or None when it offers no tokenize endpoint."""
        url = self._tokens.tokenize_url
        if url is None:
            return None
        try:
            return await self._tokens.count(url, text, self._model)
        except ServerProblem as problem:
            raise user_error(problem, url=url, mid_answer=False) from None

    # --- status -------------------------------------------------------------------------------------

    def status(self) -> EngineStatus:
        """Remote layer count is unknown to the client: reported as 0 (not offloaded here)."""
        return self.admission.status(
            backend=BACKEND_NAME, model=self.model_name, n_gpu_layers=0, n_ctx=self._n_ctx
        )

    # --- generation ---------------------------------------------------------------------------------

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        """Wait for a turn in the fair queue, then stream the server's answer.

        Raises QueueFullError (before yielding) when the queue is full, BackendError on any
        server or network failure.
        """
        async with contextlib.aclosing(
            self.admission.stream(Ticket(request=request), self._generate)
        ) as events:
            async for event in events:
                yield event

    async def _generate(self, ticket: Ticket) -> AsyncGenerator[StreamEvent, None]:
        request, started, queue_ms = ticket.request, ticket.started, ticket.queue_ms
        deadline = time.monotonic() + self._timeout_s
        pieces = 0
        first_token_ms = 0.0
        finish: FinishReason | None = None
        server_usage: dict[str, Any] | None = None
        try:
            response = await self._open_stream(chat_payload(request, self._model), deadline)
            completed = False
            try:
                async with contextlib.aclosing(self._chunks(response)) as chunks:
                    async for chunk in chunks:
                        server_usage = usage_of(chunk) or server_usage
                        for text, reason in choice_zero(chunk):
                            if text:
                                if not first_token_ms:
                                    first_token_ms = elapsed_ms(started)
                                pieces += 1
                                yield text
                            if reason:
                                finish = "length" if reason == "length" else "stop"
                completed = True
            finally:
                let_go(response, completed)
        except TimeoutError:
            problem = self._timeout_problem(deadline, started_answer=pieces > 0)
            raise user_error(problem, url=self._chat_url, mid_answer=pieces > 0) from None
        except aiohttp.ClientError as exc:
            problem = ServerProblem("failed", f"{type(exc).__name__}: {exc}")
            raise user_error(problem, url=self._chat_url, mid_answer=pieces > 0) from None
        except ServerProblem as problem:
            raise user_error(problem, url=self._chat_url, mid_answer=pieces > 0) from None
        usage = usage_from(
            server_usage,
            pieces=pieces,
            prompt_estimate=self.count_tokens(request.messages),
            finish=finish,
            queue_ms=queue_ms,
            first_token_ms=first_token_ms,
            total_ms=elapsed_ms(started),
        )
        self.admission.throughput.add(usage.completion_tokens)
        yield usage

    def _timeout_problem(self, deadline: float, *, started_answer: bool) -> ServerProblem:
        if time.monotonic() >= deadline - 0.05:
            return ServerProblem(
                "slow", f"the request passed its {self._timeout_s:.0f} s deadline (LLM_TIMEOUT_S)"
            )
        where = "between two pieces of the answer" if started_answer else "before the answer began"
        return ServerProblem("slow", f"nothing arrived for {READ_TIMEOUT_S:.0f} s {where}")

    async def _open_stream(self, payload: dict[str, Any], deadline: float) -> aiohttp.ClientResponse:
        """POST the chat request; returns the response once its status is a success.

        Retried once on a fresh connection when it fails before any response byte (a keep-alive
        connection the server had closed, a reset, a server restarting), and up to
        MAX_BUSY_RETRIES times on 429/503 after the wait the server asks for.
        """
        fresh = False
        busy = 0
        while True:
            session = self._require_session(fresh=fresh)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            timeout = aiohttp.ClientTimeout(
                total=remaining, sock_connect=CONNECT_TIMEOUT_S, sock_read=READ_TIMEOUT_S
            )
            try:
                response = await session.post(self._chat_url, json=payload, timeout=timeout)
            except TimeoutError:
                raise
            except aiohttp.ClientConnectionError as exc:
                if fresh:
                    raise ServerProblem("unreachable", f"{type(exc).__name__}: {exc}") from None
                log.info("model server request failed before any response (%s); retrying", scrub(str(exc)))
                fresh = True
                continue
            if response.status < 400:
                return response
            detail = await error_detail(response)
            if response.status in (429, 503):
                wait = backoff_s(
                    busy, retry_after_s(response.headers.get("Retry-After")), deadline - time.monotonic()
                )
                if busy < MAX_BUSY_RETRIES and wait is not None:
                    log.info("model server busy (HTTP %d); retrying in %.1f s", response.status, wait)
                    await asyncio.sleep(wait)
                    busy += 1
                    continue
                raise ServerProblem("busy", f"HTTP {response.status}: {detail}")
            raise ServerProblem("failed", f"HTTP {response.status}: {detail}{status_hint(response.status)}")

    def _chunks(self, response: aiohttp.ClientResponse) -> Chunks:
        """The response's JSON chunks: SSE events normally; one whole completion from a server that
        ignores `stream`."""
        if response.headers.get("Content-Type", "").startswith("application/json"):
            return self._whole_completion(response)
        return self._sse_chunks(response)

    async def _sse_chunks(self, response: aiohttp.ClientResponse) -> Chunks:
        """The JSON chunks of an SSE stream, up to `[DONE]`, within MAX_STREAM_BYTES."""
        parser = SSEParser()
        received = 0
        try:
            async for raw in response.content:
                received += len(raw)
                if received > MAX_STREAM_BYTES:
                    raise ServerProblem("failed", f"the stream passed {MAX_STREAM_BYTES} bytes")
                data = parser.feed(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
                if data is None:
                    continue
                if data.strip() == "[DONE]":
                    return
                yield parse_chunk(data)
        except ValueError as exc:  # aiohttp: a line longer than its buffer
            raise ServerProblem("failed", f"malformed stream: {short(str(exc), 120)}") from None
        data = parser.flush()
        if data is not None and data.strip() != "[DONE]":
            yield parse_chunk(data)

    async def _whole_completion(self, response: aiohttp.ClientResponse) -> Chunks:
        body = await read_capped(response, MAX_STREAM_BYTES)
        yield parse_chunk(body.decode("utf-8", errors="replace"))

    # --- HTTP helpers ---------------------------------------------------------------------------------

    def _require_session(self, *, fresh: bool = False) -> aiohttp.ClientSession:
        session = self._fresh if fresh else self._session
        if session is None:
            raise BackendError("The remote model backend is not started (call start() first).")
        return session

    async def _get_json(self, url: str) -> Any:
        return await self._request_json("GET", url, None)

    async def _post_json(self, url: str, body: dict[str, Any]) -> Any:
        return await self._request_json("POST", url, body)

    async def _request_json(self, method: str, url: str, body: dict[str, Any] | None) -> Any:
        """A small JSON request (model list, tokenize); ServerProblem on any failure."""
        session = self._require_session()
        try:
            async with session.request(
                method, url, json=body, timeout=aiohttp.ClientTimeout(total=PROBE_TIMEOUT_S)
            ) as response:
                if response.status >= 400:
                    detail = await error_detail(response)
                    kind: ProblemKind = "busy" if response.status in (429, 503) else "failed"
                    raise ServerProblem(
                        kind,
                        f"{method} {url}: HTTP {response.status}: {detail}{status_hint(response.status)}",
                    )
                text = (await read_capped(response, MAX_JSON_BYTES)).decode("utf-8", errors="replace")
        except TimeoutError:
            raise ServerProblem("slow", f"{method} {url}: no answer within {PROBE_TIMEOUT_S:.0f} s") from None
        except aiohttp.ClientConnectorError as exc:
            raise ServerProblem("unreachable", f"{method} {url}: {exc}") from None
        except aiohttp.ClientError as exc:
            raise ServerProblem("failed", f"{method} {url}: {type(exc).__name__}: {exc}") from None
        try:
            return json.loads(text)
        except ValueError:
            raise ServerProblem("failed", f"{method} {url} answered something that is not JSON") from None


__all__ = ["RemoteEngine"]
