"""`python -m bot bench [--json]`: how fast the bot's engine is, as ratios to a raw llama.cpp loop.

Absolute tokens/s say little across machines, so one process measures, in one run and on the same
cores, a **reference** (llama.cpp's low-level API driven as plainly as possible: greedy, batch of one)
and then **the bot's engine** through the same streaming API the briefing layer uses, with prompts
built exactly as the bot builds them (persona, retrieved passages, history). What users feel is
reported directly: time to first token cold, for a new question once the instructions are cached,
for a follow-up, for follow-ups among many interleaved conversations, with several users at once,
and how late the event loop (Discord heartbeats) runs meanwhile.

With LLM_BASE_URL set the engine figures come from the remote server; the reference still runs
locally when the model file is here (otherwise its keys are null). Progress goes to stderr, so
`--json` prints exactly one JSON object on stdout.

One job per module: `workload` (the questions and sizes), `timing` (streams, decode rate, loop
lateness), `grounding` (prompts as the bot builds them), `phases` (the engine's phases), `peer` and
`peer_server` (llama-server side by side), `report` (progress, rounding, the table), `run` (the
command).
"""

from __future__ import annotations

from bot.bench.grounding import Grounding
from bot.bench.peer import PEER_COMPARED
from bot.bench.phases import measure_engine
from bot.bench.report import format_table
from bot.bench.run import add_bench_arguments, run_bench, sizes_from_args
from bot.bench.workload import CONCURRENT_QUESTIONS, CONVERSATIONS, QUICK_SIZES, BenchSizes

__all__ = [
    "CONCURRENT_QUESTIONS",
    "CONVERSATIONS",
    "PEER_COMPARED",
    "QUICK_SIZES",
    "BenchSizes",
    "Grounding",
    "add_bench_arguments",
    "format_table",
    "measure_engine",
    "run_bench",
    "sizes_from_args",
]
