"""Where does single-stream decode lose speed as threads grow? One process, raw llama.cpp loops.

Each row decodes the same tokens one at a time and prints tokens/s, changing one thing at a time
between the raw reference loop (`bot.engine.reference`) and the engine's set-up:

- `ref`: the reference context (one sequence), in the main thread;
- `worker`: the same loop in a second thread (the engine's model thread);
- `slots`: the engine's context (N_SLOTS sequences, split KV cache, bigger batch);
- `gen-1`: one-token steps with one thread fewer than batches (the engine's `generation_threads`);
- `loop`: the worker thread while an asyncio loop in the main thread is woken every 40 ms, as the
  engine's emit groups do.

Usage: python scripts/thread_probe.py [THREADS ...]   (default: every core, half of them, 2)
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import llama_cpp as llama

from bot.config import usable_cores
from bot.engine._llama_native import load_model, set_llama_logging
from bot.engine.model_file import resolve_model_path
from bot.engine.reference import _decode, _filler_tokens

N_PROMPT = 128
N_DECODE = 128


@dataclass(frozen=True)
class Setup:
    name: str
    slots: int = 1
    gen_threads_delta: int = 0
    worker: bool = False
    loop: bool = False


SETUPS = [
    Setup("ref"),
    Setup("worker", worker=True),
    Setup("slots", slots=4),
    Setup("gen-1", gen_threads_delta=-1),
    Setup("loop", worker=True, loop=True),
    Setup("engine-like", slots=4, gen_threads_delta=-1, worker=True, loop=True),
]


def decode_rate(model: object, threads: int, setup: Setup) -> float:
    params = llama.llama_context_default_params()
    params.n_ctx = 2048 * setup.slots
    params.n_seq_max = setup.slots
    params.kv_unified = False
    params.n_batch = params.n_ubatch = 256 + setup.slots
    params.n_threads = max(1, threads + setup.gen_threads_delta)
    params.n_threads_batch = threads
    params.flash_attn_type = llama.LLAMA_FLASH_ATTN_TYPE_AUTO
    params.no_perf = True
    ctx = llama.llama_init_from_model(model, params)
    batch = llama.llama_batch_init(params.n_batch, 0, 1)
    sampler = llama.llama_sampler_init_greedy()
    try:
        prompt = _filler_tokens(model, N_PROMPT)
        _decode(ctx, batch, prompt, 0)
        token = llama.llama_sampler_sample(sampler, ctx, len(prompt) - 1)
        for position in range(len(prompt), len(prompt) + 8):  # warm-up
            _decode(ctx, batch, [token], position)
            token = llama.llama_sampler_sample(sampler, ctx, 0)
        start = len(prompt) + 8
        began = time.perf_counter()
        for position in range(start, start + N_DECODE):
            _decode(ctx, batch, [token], position)
            token = llama.llama_sampler_sample(sampler, ctx, 0)
        return N_DECODE / (time.perf_counter() - began)
    finally:
        llama.llama_sampler_free(sampler)
        llama.llama_batch_free(batch)
        llama.llama_free(ctx)


def in_worker(fn: Callable[[], float], *, loop: bool) -> float:
    result: list[float] = []
    thread = threading.Thread(target=lambda: result.append(fn()))
    if not loop:
        thread.start()
        thread.join()
        return result[0]

    async def main() -> None:
        ev = asyncio.get_running_loop()
        thread.start()
        while thread.is_alive():
            ev.call_soon_threadsafe(lambda: None)
            await asyncio.sleep(0.04)

    asyncio.run(main())
    thread.join()
    return result[0]


def main() -> None:
    cores = usable_cores()
    counts = [int(a) for a in sys.argv[1:]] or sorted({cores, max(1, cores // 2), 2}, reverse=True)
    set_llama_logging(False)
    llama.llama_backend_init()
    path = resolve_model_path(Path(os.environ["MODEL_PATH"]) if os.environ.get("MODEL_PATH") else None)
    model = load_model(path, int(os.environ.get("N_GPU_LAYERS", "0")))
    print(f"cores={cores} gpu_layers={os.environ.get('N_GPU_LAYERS', '0')}", flush=True)
    wanted = os.environ.get("PROBE_SETUPS")  # e.g. "worker,ref,worker": the order matters (see bench)
    setups = [next(s for s in SETUPS if s.name == name) for name in wanted.split(",")] if wanted else SETUPS
    for threads in counts:
        for setup in setups:
            rates = []
            for _ in range(2):

                def run(s: Setup = setup, t: int = threads) -> float:
                    return decode_rate(model, t, s)

                rates.append(in_worker(run, loop=setup.loop) if setup.worker else run())
            print(f"threads={threads:2d} {setup.name:12s} {max(rates):7.1f} tok/s", flush=True)
    llama.llama_model_free(model)


if __name__ == "__main__":
    main()
