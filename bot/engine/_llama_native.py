"""Loading llama.cpp models and the process-wide settings around them (logging, threads, token text)."""

from __future__ import annotations

import ctypes
import sys
from pathlib import Path
from typing import Any

import llama_cpp as llama

from bot.engine.repacking import repacking_works
from bot.errors import ModelFileError

ALL_GPU_LAYERS = 0x7FFFFFFF
PIECE_BUFFER_BYTES = 64
# From this many cores up a one-token step leaves one free (see generation_threads).
SPARE_CORE_FROM = 8

# The C side keeps a pointer to the log callback: it must live as long as the process.
_log_callbacks: dict[bool, Any] = {}


def set_llama_logging(verbose: bool) -> None:
    """Route llama.cpp's log lines to stderr when `verbose`, else drop them (it is chatty on load).

    The setting is process-wide in llama.cpp, so the last engine started decides.
    """
    callback = _log_callbacks.get(verbose)
    if callback is None:

        def _log(level: int, text: bytes | None, _user_data: object) -> None:
            if verbose and text:
                sys.stderr.write(text.decode("utf-8", errors="replace"))

        callback = _log_callbacks[verbose] = llama.llama_log_callback(_log)
    llama.llama_log_set(callback, ctypes.c_void_p(0))


def load_model(path: Path, n_gpu_layers: int) -> Any:
    """Load a GGUF model (llama_model pointer). A file llama.cpp rejects becomes a ModelFileError."""
    params = llama.llama_model_default_params()
    params.n_gpu_layers = ALL_GPU_LAYERS if n_gpu_layers < 0 else n_gpu_layers
    params.use_extra_bufts = repacking_works(path)
    model = llama.llama_model_load_from_file(str(path).encode(), params)
    if not model:
        raise ModelFileError(
            f"llama.cpp could not load the model file {path}: it is corrupt, truncated or of an "
            "unsupported architecture. Download the .gguf again or set MODEL_PATH to another one."
        )
    return model


def generation_threads(n_threads: int, cores: int) -> int:
    """Threads for a one-token step: one fewer than `n_threads` when those take every one of many cores.

    llama.cpp's threads meet at a barrier after every graph node, so a single token (a few hundred
    tiny nodes) is only as fast as the slowest thread. When they fill all cores, the event loop and
    the engine's own Python take a core from one of them and the others wait for it. On a 16-core
    Xeon the raw loop decoded 324 tokens/s with 15 threads against 282 with 16
    (`scripts/thread_probe.py`, rows `gen-1` and `ref`). On few cores a thread is too big a share
    of the work to give up: on 2 cores the engine decoded 140-153 tokens/s with one thread and
    162-182 with two (`bench`, alternating runs). So a thread is left free from SPARE_CORE_FROM
    cores up. Batches of several tokens (prompts, several users) keep every thread.
    """
    return n_threads - 1 if n_threads >= cores >= SPARE_CORE_FROM else n_threads


def token_text(vocab: Any, token: int, special: bool) -> bytes:
    """The bytes of one token (`special`: control tokens as their text, else as nothing)."""
    buffer = ctypes.create_string_buffer(PIECE_BUFFER_BYTES)
    count = llama.llama_token_to_piece(vocab, token, buffer, PIECE_BUFFER_BYTES, 0, special)
    if count < 0:
        buffer = ctypes.create_string_buffer(-count)
        count = llama.llama_token_to_piece(vocab, token, buffer, -count, 0, special)
    return buffer.raw[:count]


__all__ = ["ALL_GPU_LAYERS", "generation_threads", "load_model", "set_llama_logging", "token_text"]
