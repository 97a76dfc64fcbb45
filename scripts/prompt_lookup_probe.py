"""Would prompt-lookup (n-gram) speculative decoding speed up the bot's grounded answers here?

    .venv/bin/python scripts/prompt_lookup_probe.py --threads 1 --questions 4
    .venv/bin/python scripts/prompt_lookup_probe.py --gpu-layers -1 --threads 4   # on a GPU box

Builds the bot's grounded prompts (retrieval, persona, passages) for the bench's questions, then
answers each greedily (repeat penalty 1.1, as the bot) on a raw llama.cpp context shaped like the
engine's, once plainly and once per draft setting: the last `n` tokens are looked up earlier in the
prompt and answer, the `k` tokens that followed them are verified in one batch with the current
token, and the longest agreeing run is kept. Prints JSON: tokens/s, decode steps, drafted and
accepted tokens, and whether every answer is token-for-token the plain one.

The engine does not speculate: on this project's 2-core CPU a batch of k tokens costs about k single
steps (no gain at 64-86 % acceptance), and with 2 threads a verified batch's logits differ from one
token's, which changes greedy answers. This probe is how to check another machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import llama_cpp as llama

from bot.bench import CONCURRENT_QUESTIONS, Grounding
from bot.config import Settings, load_settings
from bot.engine._llama_native import load_model, set_llama_logging
from bot.engine._sampling import make_sampler
from bot.engine.base import Sampling
from bot.engine.llama_engine import LlamaEngine
from bot.engine.model_file import resolve_model_path
from bot.library import build_snapshot

BATCH = 512
DRAFTS = ((3, 4), (3, 8), (4, 4), (2, 4))  # (n-gram length looked up, tokens drafted)


@dataclass
class Tally:
    seconds: float = 0.0
    tokens: int = 0
    steps: int = 0
    drafted: int = 0
    accepted: int = 0
    identical: bool = True


async def grounded_prompts(settings: Settings, count: int, max_tokens: int) -> list[list[int]]:
    """The token lists the engine would evaluate for the bench's "users at once" questions."""
    snapshot = await build_snapshot(settings.prompts_dir)
    engine = LlamaEngine(settings)
    await engine.start()
    try:
        grounding = Grounding(engine, snapshot.prompts, snapshot.index)
        requests = [
            await grounding.request(f"probe{i}", question, max_tokens)
            for i, question in enumerate(CONCURRENT_QUESTIONS[:count])
        ]
        return [engine._render_and_tokenize(r.messages) for r in requests]  # exactly what it evaluates
    finally:
        await engine.aclose()
        await snapshot.index.aclose()


def lookup(tokens: list[int], n: int, k: int) -> list[int]:
    """The k tokens after the latest earlier occurrence of the last n tokens (none if absent)."""
    key = tokens[-n:]
    for start in range(len(tokens) - n - 1, -1, -1):
        if tokens[start : start + n] == key:
            return tokens[start + n : start + n + k]
    return []


class Decoder:
    """One sequence on a context shaped like the engine's (4 streams, flash attention auto)."""

    def __init__(self, settings: Settings) -> None:
        set_llama_logging(False)
        llama.llama_backend_init()
        self.model = load_model(resolve_model_path(settings.model_path), settings.n_gpu_layers)
        self.vocab = llama.llama_model_get_vocab(self.model)
        self.n_vocab = llama.llama_vocab_n_tokens(self.vocab)
        params = llama.llama_context_default_params()
        params.n_ctx, params.n_seq_max, params.kv_unified = settings.n_ctx * 4, 4, False
        params.n_batch = params.n_ubatch = BATCH
        params.n_threads = params.n_threads_batch = settings.n_threads
        params.flash_attn_type = llama.LLAMA_FLASH_ATTN_TYPE_AUTO
        self.ctx = llama.llama_init_from_model(self.model, params)
        self.mem = llama.llama_get_memory(self.ctx)
        self.batch = llama.llama_batch_init(BATCH, 0, 1)

    def decode(self, tokens: list[int], start: int, all_logits: bool) -> None:
        batch = self.batch
        for i, token in enumerate(tokens):
            batch.token[i], batch.pos[i], batch.n_seq_id[i] = token, start + i, 1
            batch.seq_id[i][0] = 0
            batch.logits[i] = all_logits or i == len(tokens) - 1
        batch.n_tokens = len(tokens)
        if llama.llama_decode(self.ctx, batch) != 0:
            raise RuntimeError("llama_decode failed")

    def answer(self, prompt: list[int], max_new: int, n: int, k: int, tally: Tally) -> list[int]:
        """Greedy answer; with k > 0, drafts verified in one batch (same tokens if logits agree)."""
        llama.llama_memory_clear(self.mem, True)
        sampler = make_sampler(
            self.n_vocab, Sampling(max_tokens=max_new, temperature=0.0, repeat_penalty=1.1), prompt
        )
        for start in range(0, len(prompt), BATCH):
            chunk = prompt[start : start + BATCH]
            self.decode(chunk, start, False)
        token = sampler.sample(self.ctx, len(chunk) - 1)
        answer, context = [token], [*prompt, token]
        began = time.perf_counter()
        while len(answer) < max_new and not llama.llama_vocab_is_eog(self.vocab, token):
            draft = lookup(context, n, min(k, max_new - len(answer) - 1)) if k else []
            position = len(context) - 1
            self.decode([token, *draft], position, True)
            tally.steps, tally.drafted = tally.steps + 1, tally.drafted + len(draft)
            for index in range(len(draft) + 1):
                token = sampler.sample(self.ctx, index)
                answer.append(token)
                context.append(token)
                done = len(answer) >= max_new or llama.llama_vocab_is_eog(self.vocab, token)
                if index == len(draft) or token != draft[index] or done:
                    break
                tally.accepted += 1
            if draft:
                llama.llama_memory_seq_rm(self.mem, 0, position + 1 + index, -1)  # rejected drafts
        tally.seconds += time.perf_counter() - began
        tally.tokens += len(answer) - 1
        return answer


def probe(settings: Settings, prompts: list[list[int]], max_new: int, rounds: int) -> dict[str, Any]:
    decoder = Decoder(settings)
    tallies = {(0, 0): Tally(), **{draft: Tally() for draft in DRAFTS}}
    for _ in range(rounds):
        for prompt in prompts:
            plain = decoder.answer(prompt, max_new, 0, 0, tallies[(0, 0)])
            for n, k in DRAFTS:
                tally = tallies[(n, k)]
                tally.identical &= decoder.answer(prompt, max_new, n, k, tally) == plain
    return {
        "n_threads": settings.n_threads,
        "n_gpu_layers": settings.n_gpu_layers,
        "results": [
            {
                "n": n,
                "k": k,
                "tok_s": round(t.tokens / t.seconds, 1),
                "steps": t.steps,
                "drafted": t.drafted,
                "accepted": t.accepted,
                "acceptance": round(t.accepted / t.drafted, 3) if t.drafted else None,
                "identical_to_plain": t.identical,
            }
            for (n, k), t in tallies.items()
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--gpu-layers", type=int, default=None)
    parser.add_argument("--questions", type=int, default=4)
    parser.add_argument("--tokens", type=int, default=160)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    overrides = {"n_threads": args.threads, "n_gpu_layers": args.gpu_layers}
    settings = load_settings(**{key: value for key, value in overrides.items() if value is not None})
    prompts = asyncio.run(grounded_prompts(settings, args.questions, args.tokens))
    # On a worker thread, as in the engine: under load llama.cpp's threads collapse on the main one.
    with ThreadPoolExecutor(1) as worker:
        figures = worker.submit(probe, settings, prompts, args.tokens, args.rounds).result()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
