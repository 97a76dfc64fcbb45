"""The OpenAI chat-completions wire format, as the servers the bot talks to speak it: the request
body, server-sent events, the JSON chunks and the first choice in them, usage figures (OpenAI's
`usage` or llama.cpp's `timings`).

Pure functions of text and JSON, no I/O: `remote.py` does the talking (`_remote_http.py` reads
error bodies), `bench/_peer_server.py` reuses the same parsing to measure llama-server directly.
"""

from __future__ import annotations

import json
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from bot.engine._remote_http import ServerProblem, error_message_from_body
from bot.engine.base import FinishReason, GenerationRequest, Usage
from bot.untrusted import safe_prompt_text


def display_model_name(model_id: str) -> str:
    """A model id fit to show users: the file name when the server names its model by a path
    (llama-server and llama-cpp-python report the GGUF path they loaded)."""
    return PureWindowsPath(PurePosixPath(model_id.strip()).name).name


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


def usage_of(chunk: dict[str, Any]) -> dict[str, Any] | None:
    """A chunk's usage: OpenAI's `usage` (with include_usage), or llama.cpp server's `timings`."""
    usage = chunk.get("usage")
    if isinstance(usage, dict):
        timings = chunk.get("timings")
        return {**usage, "timings": timings} if isinstance(timings, dict) else usage
    timings = chunk.get("timings")
    return {"timings": timings} if isinstance(timings, dict) else None


def choice_zero(chunk: dict[str, Any]) -> list[tuple[str, str | None]]:
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


def parse_chunk(data: str) -> dict[str, Any]:
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


def usage_from(
    server: dict[str, Any] | None,
    *,
    pieces: int,
    prompt_estimate: int,
    finish: FinishReason | None,
    queue_ms: float,
    first_token_ms: float,
    total_ms: float,
) -> Usage:
    """Usage from the server's numbers when it sent them; else the estimate of the prompt and one
    token per streamed piece (these servers stream one token per chunk)."""
    usage = server or {}
    timings: dict[str, Any] = usage["timings"] if isinstance(usage.get("timings"), dict) else {}
    prompt_tokens = usage.get("prompt_tokens")
    completion_tokens = usage.get("completion_tokens")
    if not isinstance(prompt_tokens, int):
        prompt_tokens = timings.get("prompt_n", 0) + timings.get("cache_n", 0) or prompt_estimate
    if not isinstance(completion_tokens, int):
        completion_tokens = timings.get("predicted_n") or pieces
    details = usage.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else timings.get("cache_n")
    return Usage(
        prompt_tokens=int(prompt_tokens),
        completion_tokens=int(completion_tokens),
        cached_tokens=int(cached or 0),
        queue_ms=round(queue_ms, 1),
        first_token_ms=round(first_token_ms, 1),
        total_ms=total_ms,
        # A stream that ends without a finish reason was cut off by the server (for example
        # llama-cpp-python's server interrupting it for a newer request).
        finish_reason=finish or "cancelled",
    )
