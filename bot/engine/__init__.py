"""Language-model backends behind one `Engine` interface, and `build_engine` to pick one from settings.

`LlamaEngine` (in-process llama.cpp) and `RemoteEngine` (OpenAI-compatible server) are imported only
when asked for, so importing this package does not load libllama or an HTTP client.
"""

import typing as _typing

from bot.engine.base import (
    ChatMessage,
    Engine,
    EngineStatus,
    GenerationRequest,
    Queued,
    Sampling,
    StreamEvent,
    Usage,
    collect,
)
from bot.engine.scripted import ScriptedEngine

if _typing.TYPE_CHECKING:
    from bot.config import Settings
    from bot.engine.llama_engine import LlamaEngine

__all__ = [
    "ChatMessage",
    "Engine",
    "EngineStatus",
    "GenerationRequest",
    "LlamaEngine",
    "Queued",
    "Sampling",
    "ScriptedEngine",
    "StreamEvent",
    "Usage",
    "build_engine",
    "collect",
]


def build_engine(settings: "Settings") -> Engine:
    """The backend the settings ask for: a remote server when LLM_BASE_URL is set, else llama.cpp here."""
    if settings.llm_base_url:
        from bot.engine.remote import RemoteEngine

        return RemoteEngine(settings)
    from bot.engine.llama_engine import LlamaEngine

    return LlamaEngine(settings)


def __getattr__(name: str) -> _typing.Any:
    # `from bot.engine import LlamaEngine` works without loading libllama on every `import bot.engine`.
    if name == "LlamaEngine":
        from bot.engine.llama_engine import LlamaEngine

        return LlamaEngine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
