"""The one narrow interface every language-model backend implements.

The briefing domain only ever calls `Engine.stream(request)` and iterates what it yields: text
pieces (`str`) as they are generated, `Queued` while the request waits for a turn, and one final
`Usage`. Stopping the iteration early (``break`` then ``aclose()``, or cancelling the task) cancels
the generation within a few tokens. Backends: `LlamaEngine` (llama.cpp in-process), `RemoteEngine`
(OpenAI-compatible server, for scale-out) and `ScriptedEngine` (a scriptable fake for tests of the
layers above the model).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One chat turn, rendered with the model's own chat template by the backend."""

    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class Sampling:
    """Sampling settings. Defaults keep a 135M model on track: low temperature, a repeat penalty
    and a short answer budget (small models drift and loop when left to run)."""

    max_tokens: int = 200
    temperature: float = 0.2
    top_k: int = 40
    top_p: float = 0.9
    repeat_penalty: float = 1.15
    seed: int = 42
    stop: tuple[str, ...] = ()

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0.0


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    """What to generate, for whom.

    `user_id` drives fair scheduling (round robin between users); `conversation_id` lets the backend
    keep that conversation's KV cache warm so a follow-up only processes its new tokens.
    """

    messages: tuple[ChatMessage, ...]
    sampling: Sampling = field(default_factory=Sampling)
    user_id: str = "local"
    conversation_id: str | None = None


@dataclass(frozen=True, slots=True)
class Queued:
    """The request waits; `position` 1 means it is next. Yielded again whenever it changes."""

    position: int


# How a generation ended: "cancelled" when the engine stopped it (shutdown, a stream cut off).
FinishReason = Literal["stop", "length", "cancelled"]


@dataclass(frozen=True, slots=True)
class Usage:
    """Yielded once, last. Times are measured from the call to `stream`."""

    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0
    queue_ms: float = 0.0
    first_token_ms: float = 0.0
    total_ms: float = 0.0
    finish_reason: FinishReason = "stop"


StreamEvent = str | Queued | Usage


@dataclass(frozen=True, slots=True)
class EngineStatus:
    """What `/status` and `bench` report."""

    backend: str
    model: str
    n_gpu_layers: int
    n_ctx: int
    queue_length: int
    active: int
    recent_tokens_per_s: float


@runtime_checkable
class Engine(Protocol):
    """A language-model backend. One instance is shared by every front end in the process."""

    @property
    def model_name(self) -> str: ...

    @property
    def context_size(self) -> int:
        """Tokens one conversation's prompt plus answer may use."""
        ...

    async def start(self) -> None:
        """Load the model / open connections. Raises ModelFileError or BackendError."""
        ...

    async def aclose(self) -> None:
        """Stop generating, free the model. Idempotent."""
        ...

    def count_tokens(self, messages: Sequence[ChatMessage]) -> int:
        """Tokens the rendered chat prompt (with the assistant header) takes. Thread-safe, fast."""
        ...

    def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        """Queue the request and yield its events. Raises QueueFullError when the queue is full."""
        ...

    def status(self) -> EngineStatus: ...


async def collect(engine: Engine, request: GenerationRequest) -> tuple[str, Usage]:
    """Run a request to completion and return its text and usage (for tests and batch modes)."""
    pieces: list[str] = []
    usage = Usage(prompt_tokens=0, completion_tokens=0)
    async for event in engine.stream(request):
        if isinstance(event, str):
            pieces.append(event)
        elif isinstance(event, Usage):
            usage = event
    return "".join(pieces), usage
