"""`RemoteEngine`: the Engine protocol over an OpenAI-compatible chat-completions server.

Why it exists: one in-process model on a small machine serves a handful of users. For a large
community, many bot replicas (or one bot) can share a GPU server - llama.cpp's `llama-server`,
vLLM, Ollama, llama-cpp-python's server - by setting LLM_BASE_URL. The briefing layer does not
notice: it still gets text pieces, `Queued` while waiting and one final `Usage`.

Design notes:
- The client keeps its own fair, bounded queue (`bot.engine.scheduler`): at most `n_slots` requests
  are in flight to the server from this process, users take turns, and beyond `max_queue` waiting
  requests users are told the bot is busy, exactly as with the local engine. Without it one chatty
  user could fill the server's queue for everyone behind this bot.
- Stopping the iteration closes the HTTP connection, which is how these servers learn that nobody
  is listening and stop generating.
- Every failure becomes one `BackendError` sentence naming the URL, because the person who reads
  it is a moderator who needs to know which setting or server to look at.
- Sampling fields that only some servers understand (`top_k`, `repeat_penalty`,
  `repetition_penalty`) are sent anyway: the servers this targets ignore fields they do not know.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any, Literal

import aiohttp

from bot.config import Settings
from bot.engine.base import ChatMessage, EngineStatus, GenerationRequest, Queued, StreamEvent, Usage
from bot.engine.scheduler import FairQueue
from bot.engine.throughput import Throughput
from bot.errors import BackendError, ConfigError

BACKEND_NAME = "openai-compatible"
CONNECT_TIMEOUT_S = 10.0
# Longest silence tolerated between two pieces of a stream. Generous: a busy server may queue the
# request, and a cold prompt on a CPU server takes seconds before the first token.
READ_TIMEOUT_S = 120.0
PROBE_TIMEOUT_S = 10.0
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

FinishReason = Literal["stop", "length", "cancelled"]


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
    """The chat-completions body for `request`."""
    sampling = request.sampling
    payload: dict[str, Any] = {
        "messages": [{"role": m.role, "content": m.content} for m in request.messages],
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
            raise ConfigError(
                f"LLM_BASE_URL must be an http(s) URL such as http://127.0.0.1:8080/v1 (got {base!r})."
            )
        self.base_url = base
        self._chat_url = f"{base}/chat/completions"
        self._root = root_url(base)
        self._model = settings.llm_model.strip()
        self._api_key = settings.llm_api_key.strip()
        self._n_ctx = settings.n_ctx
        self._n_slots = settings.n_slots
        self._queue: FairQueue[_Ticket] = FairQueue(settings.max_queue)
        self._session: aiohttp.ClientSession | None = None
        self._chars_per_token = DEFAULT_CHARS_PER_TOKEN
        self._tokenize_url: str | None = None
        self._active = 0
        self._recent = Throughput(RECENT_WINDOW_S)  # completion tokens, bounded

    # --- Engine protocol: properties ----------------------------------------------------------

    @property
    def model_name(self) -> str:
        return self._model or self.base_url

    @property
    def context_size(self) -> int:
        return self._n_ctx

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the HTTP session and check the server answers; learn the model and the tokenizer.

        Failing here, at start-up, with one sentence beats failing on the first user's question.
        """
        if self._session is None:
            headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
            timeout = aiohttp.ClientTimeout(
                total=None, sock_connect=CONNECT_TIMEOUT_S, sock_read=READ_TIMEOUT_S
            )
            self._session = aiohttp.ClientSession(headers=headers, timeout=timeout)
        try:
            models = await self._get_json(f"{self.base_url}/models")
        except BaseException:
            await self.aclose()
            raise
        if not self._model:
            data = models.get("data") if isinstance(models, dict) else None
            if isinstance(data, list) and data and isinstance(data[0], dict) and data[0].get("id"):
                self._model = str(data[0]["id"])
        await self._calibrate_tokenizer()

    async def aclose(self) -> None:
        """Close the HTTP session (open streams are closed with it). Idempotent."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()

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
        return await self._tokenize(self._tokenize_url, text)

    async def _calibrate_tokenizer(self) -> None:
        """Find a tokenize endpoint (llama-cpp-python: /extras/tokenize, llama.cpp and vLLM:
        /tokenize) and fit the estimate to the real tokenizer; keep the default if there is none."""
        for url in (f"{self._root}/extras/tokenize", f"{self._root}/tokenize"):
            try:
                count = await self._tokenize(url, CALIBRATION_TEXT)
            except BackendError:
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
    ) -> AsyncIterator[StreamEvent]:
        session = self._require_session()
        pieces = 0
        first_token_ms = 0.0
        finish: FinishReason | None = None
        server_usage: dict[str, Any] | None = None
        try:
            async with session.post(self._chat_url, json=chat_payload(request, self._model)) as response:
                await self._raise_for_status(response)
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
                    if not completed:
                        # Drop the connection, not just the response: closing the socket is what
                        # tells the server nobody is listening, so it stops generating.
                        response.close()
        except TimeoutError:
            raise BackendError(
                f"The model server at {self.base_url} sent nothing for {READ_TIMEOUT_S:.0f} s: "
                "it may be overloaded or stuck - check it, then try again."
            ) from None
        except aiohttp.ClientConnectorError as exc:
            raise self._unreachable(exc) from None
        except (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError) as exc:
            raise BackendError(
                f"The model server at {self.base_url} closed the connection mid-answer "
                f"({_short(str(exc), 120)})."
            ) from None
        except aiohttp.ClientError as exc:
            raise BackendError(
                f"Talking to the model server at {self.base_url} failed: {_short(str(exc), 160)}."
            ) from None
        yield self._usage(request, server_usage, pieces, finish, started, queue_ms, first_token_ms)

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
        timings = usage.get("timings") if isinstance(usage.get("timings"), dict) else {}
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

    def _chunks(self, response: aiohttp.ClientResponse) -> AsyncIterator[dict[str, Any]]:
        """The response's JSON chunks: SSE events normally; one whole completion from a server that
        ignores `stream`."""
        if response.headers.get("Content-Type", "").startswith("application/json"):
            return self._whole_completion(response)
        return self._sse_chunks(response)

    async def _sse_chunks(self, response: aiohttp.ClientResponse) -> AsyncIterator[dict[str, Any]]:
        """The JSON chunks of an SSE stream, up to `[DONE]`."""
        parser = SSEParser()
        try:
            async for raw in response.content:
                data = parser.feed(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
                if data is None:
                    continue
                if data.strip() == "[DONE]":
                    return
                yield self._chunk(data)
        except ValueError as exc:  # aiohttp: a line longer than its buffer
            raise self._malformed(str(exc)) from None
        data = parser.flush()
        if data is not None and data.strip() != "[DONE]":
            yield self._chunk(data)

    async def _whole_completion(self, response: aiohttp.ClientResponse) -> AsyncIterator[dict[str, Any]]:
        yield self._chunk(await response.text())

    def _chunk(self, data: str) -> dict[str, Any]:
        try:
            chunk = json.loads(data)
        except ValueError:
            raise self._malformed(f"not JSON: {data[:80]!r}") from None
        if not isinstance(chunk, dict):
            raise self._malformed(f"unexpected {type(chunk).__name__}")
        if "error" in chunk:
            raise BackendError(
                f"The model server at {self.base_url} failed mid-answer: "
                f"{error_message_from_body(json.dumps(chunk))}"
            )
        return chunk

    # --- HTTP helpers ---------------------------------------------------------------------------------

    def _require_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise BackendError("The remote model backend is not started (call start() first).")
        return self._session

    def _unreachable(self, exc: BaseException) -> BackendError:
        reason = getattr(exc, "os_error", None) or exc
        reason_text = getattr(reason, "strerror", None) or str(reason)
        return BackendError(
            f"Cannot reach the model server at {self.base_url} ({_short(reason_text, 100)}): "
            "check LLM_BASE_URL and that the server is running."
        )

    def _malformed(self, detail: str) -> BackendError:
        return BackendError(
            f"The model server at {self.base_url} sent a malformed stream ({_short(detail, 120)}): "
            "is LLM_BASE_URL an OpenAI-compatible /v1 endpoint?"
        )

    async def _raise_for_status(self, response: aiohttp.ClientResponse) -> None:
        if response.status < 400:
            return
        try:
            body = (await response.content.read(64 * 1024)).decode("utf-8", errors="replace")
        except aiohttp.ClientError:
            body = ""
        message = error_message_from_body(body) if body else response.reason or "no details"
        hint = ""
        if response.status in (401, 403):
            hint = " - check LLM_API_KEY"
        elif response.status == 404:
            hint = " - check LLM_BASE_URL (usually it ends in /v1) and LLM_MODEL"
        raise BackendError(
            f"The model server at {self.base_url} answered HTTP {response.status}: {message}{hint}."
        )

    async def _get_json(self, url: str) -> Any:
        return await self._request_json("GET", url, None)

    async def _post_json(self, url: str, body: dict[str, Any]) -> Any:
        return await self._request_json("POST", url, body)

    async def _request_json(self, method: str, url: str, body: dict[str, Any] | None) -> Any:
        session = self._require_session()
        try:
            async with session.request(
                method, url, json=body, timeout=aiohttp.ClientTimeout(total=PROBE_TIMEOUT_S)
            ) as response:
                await self._raise_for_status(response)
                text = await response.text()
        except TimeoutError:
            raise BackendError(
                f"The model server at {self.base_url} did not answer within {PROBE_TIMEOUT_S:.0f} s: "
                "check LLM_BASE_URL and that the server is running."
            ) from None
        except aiohttp.ClientConnectorError as exc:
            raise self._unreachable(exc) from None
        except aiohttp.ClientError as exc:
            raise BackendError(
                f"Talking to the model server at {self.base_url} failed: {_short(str(exc), 160)}."
            ) from None
        try:
            return json.loads(text)
        except ValueError:
            raise BackendError(
                f"The model server at {self.base_url} answered {url} with something that is not JSON: "
                "is LLM_BASE_URL an OpenAI-compatible /v1 endpoint?"
            ) from None


__all__ = ["RemoteEngine", "SSEParser", "chat_payload", "error_message_from_body", "root_url"]
