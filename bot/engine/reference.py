"""A raw llama.cpp speed reference for `bench`: what the hardware does with no engine around it.

The engine's single-stream decoding is judged against this loop (same model, same thread count, same
flash-attention choice): prompt evaluation of N tokens in one batch, then N tokens decoded one at a
time with the native greedy sampler, with no Python work besides filling the batch.
"""

from __future__ import annotations

import ctypes
import time
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import llama_cpp as llama

from bot.engine._llama_native import load_model, set_llama_logging
from bot.engine.model_file import resolve_model_path
from bot.errors import BackendError

DEFAULT_PROMPT_TOKENS = 256
DEFAULT_DECODE_TOKENS = 128
WARMUP_TOKENS = 8
# Plain prose, repeated until it gives enough tokens; the content does not matter for speed.
FILLER_TEXT = (
    "Policy analysts disagree about whether artificial intelligence development between the United States "
    "and China is a race to be won or a problem to be managed together through shared safety standards. "
)


@dataclass(frozen=True, slots=True)
class ReferenceSpeed:
    """Tokens per second of raw prompt evaluation and raw one-token-at-a-time decoding."""

    prompt_tokens_per_s: float
    decode_tokens_per_s: float
    n_prompt: int
    n_decode: int
    n_threads: int


def measure_reference(
    model_path: Path | None,
    *,
    n_threads: int,
    n_gpu_layers: int = 0,
    n_prompt: int = DEFAULT_PROMPT_TOKENS,
    n_decode: int = DEFAULT_DECODE_TOKENS,
    verbose: bool = False,
) -> ReferenceSpeed:
    """Load the model in a fresh context and time the raw loops. Blocking: run it in a thread."""
    if n_prompt < 1 or n_decode < 1:
        raise ValueError("n_prompt and n_decode must be at least 1")
    path = resolve_model_path(model_path)
    set_llama_logging(verbose)
    llama.llama_backend_init()
    model = load_model(path, n_gpu_layers)
    ctx = batch = sampler = None
    try:
        params = llama.llama_context_default_params()
        params.n_ctx = n_prompt + n_decode + WARMUP_TOKENS + 16
        params.n_batch = params.n_ubatch = max(n_prompt, WARMUP_TOKENS)
        params.n_seq_max = 1
        params.n_threads = params.n_threads_batch = n_threads
        params.flash_attn_type = llama.LLAMA_FLASH_ATTN_TYPE_AUTO
        params.no_perf = True
        ctx = llama.llama_init_from_model(model, params)
        if not ctx:
            raise BackendError("llama.cpp could not create a context for the reference measurement.")
        batch = llama.llama_batch_init(params.n_batch, 0, 1)
        sampler = llama.llama_sampler_init_greedy()
        prompt = _filler_tokens(model, n_prompt)

        _decode(ctx, batch, prompt[:WARMUP_TOKENS], 0)  # first call allocates the compute graph
        llama.llama_memory_clear(llama.llama_get_memory(ctx), True)

        began = time.perf_counter()
        _decode(ctx, batch, prompt, 0)
        prompt_s = time.perf_counter() - began

        token = llama.llama_sampler_sample(sampler, ctx, len(prompt) - 1)
        began = time.perf_counter()
        for position in range(len(prompt), len(prompt) + n_decode):
            _decode(ctx, batch, [token], position)
            token = llama.llama_sampler_sample(sampler, ctx, 0)
        decode_s = time.perf_counter() - began
    finally:
        if sampler is not None:
            llama.llama_sampler_free(sampler)
        if batch is not None:
            llama.llama_batch_free(batch)
        if ctx:
            llama.llama_free(ctx)
        llama.llama_model_free(model)
    return ReferenceSpeed(
        prompt_tokens_per_s=n_prompt / prompt_s,
        decode_tokens_per_s=n_decode / decode_s,
        n_prompt=n_prompt,
        n_decode=n_decode,
        n_threads=n_threads,
    )


def _filler_tokens(model: object, count: int) -> list[int]:
    vocab = llama.llama_model_get_vocab(model)
    text = (FILLER_TEXT * (count // 20 + 1)).encode()
    buffer = (llama.llama_token * (len(text) + 8))()
    n = llama.llama_tokenize(vocab, text, len(text), buffer, len(buffer), False, False)
    return buffer[: min(n, count)]


def _decode(ctx: object, batch: llama.llama_batch, tokens: list[int], start: int) -> None:
    """Evaluate `tokens` at positions start.. in sequence 0, logits for the last one only."""
    # llama_cpp types `pos` as an array of arrays; the C struct holds one llama_pos per token.
    positions = cast("ctypes.Array[ctypes.c_int32]", batch.pos)
    for i, token in enumerate(tokens):
        batch.token[i] = token
        positions[i] = start + i
        batch.n_seq_id[i] = 1
        batch.seq_id[i][0] = 0
        batch.logits[i] = 0
    batch.logits[len(tokens) - 1] = 1
    batch.n_tokens = len(tokens)
    status = llama.llama_decode(ctx, batch)
    if status != 0:
        raise BackendError(f"llama_decode failed during the reference measurement (status {status}).")
