"""`RemoteEngine`: the Engine protocol over an OpenAI-compatible chat-completions server.

Why it exists: one in-process model on a small machine serves a handful of users. For a large
community, many bot processes can share a GPU server - llama.cpp's `llama-server`, vLLM, Ollama,
llama-cpp-python's server - by setting LLM_BASE_URL. The briefing layer does not notice: it still
gets text pieces, `Queued` while waiting and one final `Usage`.

Design notes:
- The client keeps its own fair, bounded queue (`bot.engine.scheduler`): at most `n_slots` requests
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
  details go to the log (`bot.engine.remote_http`). Start-up failures, read by the operator, name
  the setting to check.
- Sampling fields that only some servers understand (`top_k`, `repeat_penalty`,
  `repetition_penalty`) are sent anyway: the servers this targets ignore fields they do not know.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any, Literal

import aiohttp

from bot.config import Settings
from bot.engine.base import ChatMessage, EngineStatus, GenerationRequest, Queued, StreamEvent, Usage
from bot.engine.remote_http import (
    ProblemKind,
    ServerProblem,
    backoff_s,
    log,
    redact_url,
    retry_after_s,
    scrub,
    user_error,
)
from bot.engine.scheduler import FairQueue
from bot.engine.throughput import Throughput
from bot.errors import BackendError, ConfigError
from bot.untrusted import safe_prompt_text

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
# 8 MiB is some 40,000 tokens) and a JSON answer or error body.
MAX_STREAM_BYTES = 8 * 1024 * 1024
MAX_JSON_BYTES = 1024 * 1024
MAX_ERROR_BODY_BYTES = 64 * 1024
MAX_BUSY_RETRIES = 3
# Token estimate when the server cannot tokenize: English prose runs about 4 characters a token
# with the tokenizers in use; 3.5 over-counts a little, which only trims context a bit early.
DEFAULT_CHARS_PER_TOKEN = 3.5
# Chat-template tokens around each message (ChatML: <|im_start|>role\n ... <|im_end|>\n) and
# before the reply (<|im_start|>assistant\n), rounded up to cover other templates and a BOS token.
MESSAGE_OVERHEAD_TOKENS = 6
REPLY_OVERHEAD_TOKENS = 4
# Calibrating the estimate against the server's tokenizer: a sample written like the bot's prompts
# (names, a quote, numbers, hyphens, a short question) and a margin, because the estimate must not
# under-count - prompts are trimmed to fit the context by it. Briefing prose runs 3.3-7 characters
# a token paragraph by paragraph with SmolLM2's tokenizer (median 5).
CALIBRATION_MARGIN = 1.15
MIN_CHARS_PER_TOKEN, MAX_CHARS_PER_TOKEN = 2.0, 6.0  # an odd tokenize answer cannot skew the estimate
CALIBRATION_TEXT = (
    'Yi-Ling Liu, author of "The Wall Dancers", warns that calling DeepSeek-R1 a "Sputnik moment" '
    "feeds a zero-sum race. In 2026, researchers in Beijing, Shenzhen and Washington proposed "
    "track-two dialogues on AI safety norms. [1] Export controls (chips, compute) - what changed? "
    "Who warned about a Chernobyl moment?"
)
MAX_ERROR_CHARS = 300
RECENT_WINDOW_S = 30.0
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

FinishReason = Literal["stop", "length", "cancelled"]


def display_model_name(model_id: str) -> str:
    """A model id fit to show users: the file name when the server names its model by a path
    (llama-server and llama-cpp-python report the GGUF path they loaded)."""
    return PureWindowsPath(PurePosixPath(model_id.strip()).name).name


async def read_capped(response: aiohttp.ClientResponse, cap: int) -> bytes:
    """The whole body, or ServerProblem once it passes `cap` bytes."""
    data = bytearray()
    async for block in response.content.iter_chunked(64 * 1024):
        data += block
        if len(data) > cap:
            raise ServerProblem("failed", f"the response passed {cap} bytes")
    return bytes(data)


def _short(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    """First line of a server message, cut to `limit`: enough to act on, never a wall of text."""
    text = " ".join(text.strip().split("\n", 1)[0].split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def error_message_from_body(body: str) -> str:
    """The human part of an error body: OpenAI style {"error": {"message"}}, FastAPI {"detail"},
    a bare {"message"} or {"error": "..."}; otherwise the text itself."""
    try:
        data = json.loads(body)
    except ValueError:
        return _short(body) or "(empty response)"
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and error.get("message"):
            return _short(str(error["message"]))
        for value in (error, data.get("detail"), data.get("message")):
            if value:
                return _short(value if isinstance(value, str) else json.dumps(value))
    return _short(body)


def root_url(base_url: str) -> str:
    """Server root for the non-OpenAI extras (tokenize): the base URL without its /v1 suffix."""
    base = base_url.rstrip("/")
    return base[: -len("/v1")] if base.endswith("/v1") else base


def chat_payload(request: GenerationRequest, model: str) -> dict[str, Any]:
    """The chat-completions body for `request`. The server tokenizes with its own template and can
    parse control tokens in any message, so every message is filtered here, the history's assistant
    turns included (a model's own text may hold template-token text that a later request replays)."""
    sampling = request.sampling
    payload: dict[str, Any] = {
        "messages": [{"role": m.role, "content": safe_prompt_text(m.content)} for m in request.messages],
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_tokens": sampling.max_tokens,
        "temperature": max(0.0, sampling.temperature),
        "top_p": sampling.top_p,
        "seed": sampling.seed,
        # Not in the OpenAI API; llama.cpp / llama-cpp-python / vLLM read them, others ignore them.
        "top_k": sampling.top_k,
        "repeat_penalty": sampling.repeat_penalty,
        "repetition_penalty": sampling.repeat_penalty,
    }
    if model:
        payload["model"] = model
    if sampling.stop:
        payload["stop"] = list(sampling.stop)
    return payload


def _usage_of(chunk: dict[str, Any]) -> dict[str, Any] | None:
    """A chunk's usage: OpenAI's `usage` (with include_usage), or llama.cpp server's `timings`."""
    usage = chunk.get("usage")
    if isinstance(usage, dict):
        timings = chunk.get("timings")
        return {**usage, "timings": timings} if isinstance(timings, dict) else usage
    timings = chunk.get("timings")
    return {"timings": timings} if isinstance(timings, dict) else None


def _choice_zero(chunk: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(text, finish_reason) of the first choice: `delta` when streamed, `message` when whole."""
    found = []
    for choice in chunk.get("choices") or ():
        if not isinstance(choice, dict) or choice.get("index", 0) != 0:
            continue
        delta = choice.get("delta") or choice.get("message") or {}
        text = delta.get("content") if isinstance(delta, dict) else None
        reason = choice.get("finish_reason")
        found.append((text if isinstance(text, str) else "", reason if isinstance(reason, str) else None))
    return found


class SSEParser:
    """Incremental server-sent-events parser: feed lines, get the `data` payload of each event.

    Per the SSE format, an event's `data:` lines are joined with newlines and the event ends at a
    blank line; comments (`: ping`) and other fields (`event:`, `id:`) are ignored.
    """

    def __init__(self) -> None:
        self._data: list[str] = []

    def feed(self, line: str) -> str | None:
        """Feed one line (without its newline); returns an event's data when one completes."""
        if not line:
            return self.flush()
        if line.startswith(":"):
            return None
        field, _, value = line.partition(":")
        if field == "data":
            self._data.append(value[1:] if value.startswith(" ") else value)
        return None

    def flush(self) -> str | None:
        """The pending event's data, if any (a stream may end without a final blank line)."""
        if not self._data:
            return None
        data, self._data = "\n".join(self._data), []
        return data


class _Ticket:
    """One request's place in the client-side line. Hashed by identity, as FairQueue requires."""

    __slots__ = ("admitted", "position", "wake")

    def __init__(self) -> None:
        self.admitted = False
        self.position = 0
        self.wake = asyncio.Event()  # set on admission and whenever the position changes


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
        self._n_slots = settings.n_slots
        self._queue: FairQueue[_Ticket] = FairQueue(settings.max_queue)
        self._session: aiohttp.ClientSession | None = None
        self._fresh: aiohttp.ClientSession | None = None  # one connection per request, for retries
        self._chars_per_token = DEFAULT_CHARS_PER_TOKEN
        self._tokenize_url: str | None = None
        self._active = 0
        self._recent = Throughput(RECENT_WINDOW_S)  # completion tokens, bounded

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
        await self._calibrate_tokenizer()

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
        tokenizer when it offers one."""
        total = REPLY_OVERHEAD_TOKENS
        for message in messages:
            total += MESSAGE_OVERHEAD_TOKENS + math.ceil(len(message.content) / self._chars_per_token)
        return total

    async def count_tokens_exact(self, text: str) -> int | None:
        """Tokens of `text` by the server's tokenizer, or None when it offers no tokenize endpoint."""
        if self._tokenize_url is None:
            return None
        try:
            return await self._tokenize(self._tokenize_url, text)
        except ServerProblem as problem:
            raise user_error(problem, url=self._tokenize_url, mid_answer=False) from None

    async def _calibrate_tokenizer(self) -> None:
        """Find a tokenize endpoint (llama-cpp-python: /extras/tokenize, llama.cpp and vLLM:
        /tokenize) and fit the estimate to the real tokenizer; keep the default if there is none."""
        for url in (f"{self._root}/extras/tokenize", f"{self._root}/tokenize"):
            try:
                count = await self._tokenize(url, CALIBRATION_TEXT)
            except ServerProblem:
                continue
            if count:
                self._tokenize_url = url
                ratio = len(CALIBRATION_TEXT) / count
                self._chars_per_token = (
                    min(max(ratio, MIN_CHARS_PER_TOKEN), MAX_CHARS_PER_TOKEN) / CALIBRATION_MARGIN
                )
                return

    async def _tokenize(self, url: str, text: str) -> int | None:
        # One body that each server reads its own field from: llama-cpp-python "input",
        # llama.cpp "content", vLLM "prompt" (+ "model").
        body: dict[str, Any] = {"input": text, "content": text, "prompt": text}
        if self._model:
            body["model"] = self._model
        data = await self._post_json(url, body)
        if isinstance(data, dict):
            if isinstance(data.get("tokens"), list):
                return len(data["tokens"])
            if isinstance(data.get("count"), int):
                return int(data["count"])
        return None

    # --- status -------------------------------------------------------------------------------------

    def status(self) -> EngineStatus:
        """Remote layer count is unknown to the client: reported as 0 (not offloaded here)."""
        return EngineStatus(
            backend=BACKEND_NAME,
            model=self.model_name,
            n_gpu_layers=0,
            n_ctx=self._n_ctx,
            queue_length=len(self._queue),
            active=self._active,
            recent_tokens_per_s=self._recent_tokens_per_s(),
        )

    def _recent_tokens_per_s(self) -> float:
        return round(self._recent.per_second(), 1)

    # --- generation ---------------------------------------------------------------------------------

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        """Wait for a turn in the fair queue, then stream the server's answer.

        Raises QueueFullError (before yielding) when the queue is full, BackendError on any
        server or network failure.
        """
        started = time.perf_counter()
        ticket = _Ticket()
        if self._active < self._n_slots and not len(self._queue):
            self._active += 1
            ticket.admitted = True
        else:
            self._queue.push(request.user_id, ticket)  # QueueFullError before anything is yielded
            self._publish_positions()
        try:
            while not ticket.admitted:
                await ticket.wake.wait()
                ticket.wake.clear()
                if not ticket.admitted:
                    yield Queued(ticket.position)
            queue_ms = (time.perf_counter() - started) * 1000
            async with contextlib.aclosing(self._generate(request, started, queue_ms)) as events:
                async for event in events:
                    yield event
        finally:
            if ticket.admitted:
                self._active -= 1
                self._admit_waiting()
            elif self._queue.remove(ticket):
                self._publish_positions()

    def _admit_waiting(self) -> None:
        """Hand free slots to the next tickets in fair order; tell the rest their new places."""
        while self._active < self._n_slots:
            ticket = self._queue.pop()
            if ticket is None:
                break
            self._active += 1
            ticket.admitted = True
            ticket.wake.set()
        self._publish_positions()

    def _publish_positions(self) -> None:
        for ticket, position in self._queue.position_changes():
            ticket.position = position
            ticket.wake.set()

    async def _generate(
        self, request: GenerationRequest, started: float, queue_ms: float
    ) -> AsyncGenerator[StreamEvent]:
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
                        server_usage = _usage_of(chunk) or server_usage
                        for text, reason in _choice_zero(chunk):
                            if text:
                                if not first_token_ms:
                                    first_token_ms = (time.perf_counter() - started) * 1000
                                pieces += 1
                                yield text
                            if reason:
                                finish = "length" if reason == "length" else "stop"
                completed = True
            finally:
                _let_go(response, completed)
        except TimeoutError:
            problem = self._timeout_problem(deadline, started_answer=pieces > 0)
            raise user_error(problem, url=self._chat_url, mid_answer=pieces > 0) from None
        except aiohttp.ClientError as exc:
            problem = ServerProblem("failed", f"{type(exc).__name__}: {exc}")
            raise user_error(problem, url=self._chat_url, mid_answer=pieces > 0) from None
        except ServerProblem as problem:
            raise user_error(problem, url=self._chat_url, mid_answer=pieces > 0) from None
        yield self._usage(request, server_usage, pieces, finish, started, queue_ms, first_token_ms)

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
            detail = await _error_detail(response)
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
            raise ServerProblem("failed", f"HTTP {response.status}: {detail}{_status_hint(response.status)}")

    def _usage(
        self,
        request: GenerationRequest,
        server_usage: dict[str, Any] | None,
        pieces: int,
        finish: FinishReason | None,
        started: float,
        queue_ms: float,
        first_token_ms: float,
    ) -> Usage:
        """Usage from the server's numbers when it sent them; else the estimate of the prompt and one
        token per streamed piece (these servers stream one token per chunk)."""
        usage = server_usage or {}
        timings: dict[str, Any] = usage["timings"] if isinstance(usage.get("timings"), dict) else {}
        prompt_tokens = usage.get("prompt_tokens")
        completion_tokens = usage.get("completion_tokens")
        if not isinstance(prompt_tokens, int):
            prompt_tokens = timings.get("prompt_n", 0) + timings.get("cache_n", 0) or self.count_tokens(
                request.messages
            )
        if not isinstance(completion_tokens, int):
            completion_tokens = timings.get("predicted_n") or pieces
        details = usage.get("prompt_tokens_details")
        cached = details.get("cached_tokens") if isinstance(details, dict) else timings.get("cache_n")
        self._recent.add(int(completion_tokens))
        return Usage(
            prompt_tokens=int(prompt_tokens),
            completion_tokens=int(completion_tokens),
            cached_tokens=int(cached or 0),
            queue_ms=round(queue_ms, 1),
            first_token_ms=round(first_token_ms, 1),
            total_ms=round((time.perf_counter() - started) * 1000, 1),
            # A stream that ends without a finish reason was cut off by the server (for example
            # llama-cpp-python's server interrupting it for a newer request).
            finish_reason=finish or "cancelled",
        )

    def _chunks(self, response: aiohttp.ClientResponse) -> AsyncGenerator[dict[str, Any]]:
        """The response's JSON chunks: SSE events normally; one whole completion from a server that
        ignores `stream`."""
        if response.headers.get("Content-Type", "").startswith("application/json"):
            return self._whole_completion(response)
        return self._sse_chunks(response)

    async def _sse_chunks(self, response: aiohttp.ClientResponse) -> AsyncGenerator[dict[str, Any]]:
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
                yield _chunk(data)
        except ValueError as exc:  # aiohttp: a line longer than its buffer
            raise ServerProblem("failed", f"malformed stream: {_short(str(exc), 120)}") from None
        data = parser.flush()
        if data is not None and data.strip() != "[DONE]":
            yield _chunk(data)

    async def _whole_completion(self, response: aiohttp.ClientResponse) -> AsyncGenerator[dict[str, Any]]:
        body = await read_capped(response, MAX_STREAM_BYTES)
        yield _chunk(body.decode("utf-8", errors="replace"))

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
                    detail = await _error_detail(response)
                    kind: ProblemKind = "busy" if response.status in (429, 503) else "failed"
                    raise ServerProblem(
                        kind,
                        f"{method} {url}: HTTP {response.status}: {detail}{_status_hint(response.status)}",
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


def _chunk(data: str) -> dict[str, Any]:
    """One event's JSON; an `error` event (a server failing mid-stream) becomes a ServerProblem."""
    try:
        chunk = json.loads(data)
    except ValueError:
        raise ServerProblem("failed", f"malformed stream, not JSON: {data[:80]!r}") from None
    if not isinstance(chunk, dict):
        raise ServerProblem("failed", f"malformed stream: an event holds a {type(chunk).__name__}")
    if "error" in chunk:
        raise ServerProblem("failed", f"error event: {error_message_from_body(json.dumps(chunk))}")
    return chunk


def _let_go(response: aiohttp.ClientResponse, completed: bool) -> None:
    """Back to the pool only a response read to its end; any other is closed with its connection,
    so the next request never inherits half a stream and the server stops generating."""
    if completed and response.content.at_eof():
        response.release()
    else:
        response.close()


async def _error_detail(response: aiohttp.ClientResponse) -> str:
    """The server's error text (for the log), read within a cap; the connection is closed after."""
    try:
        body = (await response.content.read(MAX_ERROR_BODY_BYTES)).decode("utf-8", errors="replace")
    except aiohttp.ClientError:
        body = ""
    finally:
        response.close()
    return error_message_from_body(body) if body else response.reason or "no details"


def _status_hint(status: int) -> str:
    if status in (401, 403):
        return " - check LLM_API_KEY"
    if status == 404:
        return " - check LLM_BASE_URL (usually it ends in /v1) and LLM_MODEL"
    return ""


__all__ = [
    "RemoteEngine",
    "SSEParser",
    "chat_payload",
    "display_model_name",
    "error_message_from_body",
    "root_url",
]
