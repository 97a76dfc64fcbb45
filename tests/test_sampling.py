"""The fast greedy sampler chooses exactly what llama.cpp's penalties + greedy chain chooses.

Both samplers look at the same real logits of the bundled model at every step of a long answer, so
any difference in the penalty arithmetic, the window or the tie-breaking shows as a different token.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import llama_cpp as llama
import numpy as np
import pytest

from bot.engine._llama_native import load_model, set_llama_logging
from bot.engine._sampling import PENALTY_LAST_N, GreedySampler, make_sampler
from bot.engine.base import Sampling

STEPS = 96
PROMPT = b"<|im_start|>user\nList every US-China AI dialogue you know, again and again.<|im_end|>\n"


@pytest.fixture(scope="module")
def context(model_path: Path) -> Iterator[tuple[Any, Any, int]]:
    """A one-sequence llama.cpp context, its batch and the vocabulary size."""
    set_llama_logging(False)
    llama.llama_backend_init()
    model = load_model(model_path, 0)
    params = llama.llama_context_default_params()
    params.n_ctx, params.n_batch, params.n_ubatch, params.n_threads = 512, 64, 64, 1
    ctx = llama.llama_init_from_model(model, params)
    batch = llama.llama_batch_init(64, 0, 1)
    vocab = llama.llama_model_get_vocab(model)
    try:
        yield ctx, batch, llama.llama_vocab_n_tokens(vocab)
    finally:
        llama.llama_batch_free(batch)
        llama.llama_free(ctx)
        llama.llama_model_free(model)


def decode(ctx: Any, batch: Any, tokens: list[int], start: int) -> None:
    for i, token in enumerate(tokens):
        batch.token[i], batch.pos[i], batch.n_seq_id[i], batch.logits[i] = token, start + i, 1, 0
        batch.seq_id[i][0] = 0
    batch.logits[len(tokens) - 1] = 1
    batch.n_tokens = len(tokens)
    assert llama.llama_decode(ctx, batch) == 0


def prompt_tokens(ctx: Any) -> list[int]:
    vocab = llama.llama_model_get_vocab(llama.llama_get_model(ctx))
    buffer = (llama.llama_token * 256)()
    count = llama.llama_tokenize(vocab, PROMPT, len(PROMPT), buffer, 256, False, True)
    return buffer[:count]


@pytest.mark.parametrize("penalty", [1.0, 1.1, 1.5])
def test_greedy_sampler_matches_the_native_chain(context: tuple[Any, Any, int], penalty: float) -> None:
    ctx, batch, n_vocab = context
    llama.llama_memory_clear(llama.llama_get_memory(ctx), True)
    prompt = prompt_tokens(ctx)
    # llama.cpp's penalties + greedy chain: what the engine sampled greedy answers with before.
    reference = llama.llama_sampler_chain_init(llama.llama_sampler_chain_default_params())
    if penalty != 1.0:
        llama.llama_sampler_chain_add(
            reference, llama.llama_sampler_init_penalties(n_vocab, PENALTY_LAST_N, penalty, 0.0, 0.0)
        )
    llama.llama_sampler_chain_add(reference, llama.llama_sampler_init_greedy())
    for token in prompt[-PENALTY_LAST_N:]:
        llama.llama_sampler_accept(reference, token)
    fast = make_sampler(n_vocab, Sampling(temperature=0.0, repeat_penalty=penalty), prompt)
    assert isinstance(fast, GreedySampler)
    decode(ctx, batch, prompt, 0)
    penalised_choices = 0
    try:
        for step in range(STEPS):
            logits = np.ctypeslib.as_array(llama.llama_get_logits_ith(ctx, -1), shape=(n_vocab,))
            plain_argmax = int(np.argmax(logits))
            expected = llama.llama_sampler_sample(reference, ctx, -1)
            chosen = fast.sample(ctx, -1)
            assert chosen == expected, step
            assert int(np.argmax(logits)) == plain_argmax  # the logits are left as they were
            penalised_choices += chosen != plain_argmax
            decode(ctx, batch, [chosen], len(prompt) + step)
    finally:
        llama.llama_sampler_free(reference)
    if penalty >= 1.5:
        assert penalised_choices > 0  # the penalty did change choices: the comparison tested it
