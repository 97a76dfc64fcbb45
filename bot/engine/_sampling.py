"""Choosing the next token from llama.cpp's logits, per sequence.

The bot answers greedily with a repeat penalty (`BriefingContext.sampling`). Through llama.cpp's
native chain that costs far more than the choice itself: `llama_sampler_sample` copies all ~49k
logits into a candidate array and the penalties sampler then looks every candidate up in a hash map,
about 0.3 ms a token on these cores (3 % of a token's time at ~100 tokens/s). `GreedySampler` makes
the same choice from the logits in place: it penalises only the at most `last_n` tokens in the
window, with the same float32 arithmetic, and takes the first maximum as llama.cpp's greedy sampler
does, so outputs are bit-identical. Sampled (temperature > 0) requests keep the native chain.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable
from typing import Any, Protocol

import llama_cpp as llama
import numpy as np

from bot.engine.base import Sampling

PENALTY_LAST_N = 64  # repeat penalty window (tokens), as in llama.cpp's defaults


class TokenSampler(Protocol):
    """Picks the token at one batch output (and remembers it, for the repeat penalty)."""

    def sample(self, ctx: Any, index: int) -> int: ...

    def free(self) -> None: ...


class GreedySampler:
    """Greedy choice under llama.cpp's repeat penalty (frequency and presence penalties off)."""

    def __init__(self, n_vocab: int, penalty: float, last_n: int = PENALTY_LAST_N) -> None:
        self.n_vocab = n_vocab
        self.penalty = np.float32(penalty)
        self._window: deque[int] = deque(maxlen=last_n)
        self._counts: Counter[int] = Counter()

    def accept(self, token: int) -> None:
        """Slide the penalty window over `token` (llama.cpp's penalties sampler `accept`)."""
        if self.penalty == 1.0 or self._window.maxlen == 0:
            return
        if len(self._window) == self._window.maxlen:
            old = self._window[0]
            self._counts[old] -= 1
            if not self._counts[old]:
                del self._counts[old]
        self._window.append(token)
        self._counts[token] += 1

    def accept_all(self, tokens: Iterable[int]) -> None:
        for token in tokens:
            self.accept(token)

    def choose(self, logits: np.ndarray) -> int:
        """The first token of highest penalised logit; `logits` is left as it was."""
        if not self._counts:
            return int(np.argmax(logits))
        ids = np.fromiter(self._counts, dtype=np.intp, count=len(self._counts))
        original = logits[ids]
        # As llama.cpp: a logit at or below zero is multiplied by the penalty, a positive one divided.
        logits[ids] = np.where(original <= 0, original * self.penalty, original / self.penalty)
        try:
            return int(np.argmax(logits))
        finally:
            logits[ids] = original

    def sample(self, ctx: Any, index: int) -> int:
        pointer = llama.llama_get_logits_ith(ctx, index)
        token = self.choose(np.ctypeslib.as_array(pointer, shape=(self.n_vocab,)))
        self.accept(token)
        return token

    def free(self) -> None:
        return None


class NativeSampler:
    """llama.cpp's sampler chain: repeat penalty, top-k, top-p, temperature, seeded draw."""

    def __init__(self, n_vocab: int, sampling: Sampling) -> None:
        chain = llama.llama_sampler_chain_init(llama.llama_sampler_chain_default_params())
        if sampling.repeat_penalty != 1.0:
            penalties = llama.llama_sampler_init_penalties(
                n_vocab, PENALTY_LAST_N, sampling.repeat_penalty, 0.0, 0.0
            )
            llama.llama_sampler_chain_add(chain, penalties)
        if sampling.top_k > 0:
            llama.llama_sampler_chain_add(chain, llama.llama_sampler_init_top_k(sampling.top_k))
        if 0.0 < sampling.top_p < 1.0:
            llama.llama_sampler_chain_add(chain, llama.llama_sampler_init_top_p(sampling.top_p, 1))
        llama.llama_sampler_chain_add(chain, llama.llama_sampler_init_temp(sampling.temperature))
        llama.llama_sampler_chain_add(chain, llama.llama_sampler_init_dist(sampling.seed & 0xFFFFFFFF))
        self._chain = chain

    def accept_all(self, tokens: Iterable[int]) -> None:
        for token in tokens:
            llama.llama_sampler_accept(self._chain, token)

    def sample(self, ctx: Any, index: int) -> int:
        return int(llama.llama_sampler_sample(self._chain, ctx, index))

    def free(self) -> None:
        if self._chain is not None:
            llama.llama_sampler_free(self._chain)
            self._chain = None


def make_sampler(n_vocab: int, sampling: Sampling, prompt: list[int]) -> GreedySampler | NativeSampler:
    """The sampler for one request. The penalty window starts over the end of the prompt, as
    llama.cpp's own tools do."""
    sampler: GreedySampler | NativeSampler
    if sampling.greedy:
        sampler = GreedySampler(n_vocab, sampling.repeat_penalty)
    else:
        sampler = NativeSampler(n_vocab, sampling)
    sampler.accept_all(prompt[-PENALTY_LAST_N:])
    return sampler
