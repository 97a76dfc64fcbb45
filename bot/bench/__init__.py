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

One private module per job: `_workload` (the questions and sizes), `_timing` (streams, decode rate,
loop lateness), `_grounding` (prompts as the bot builds them), `_phases` (the engine's phases),
`_peer` and `_peer_server` (llama-server side by side), `_report` (progress, rounding, the table),
`_run` (the command).
"""

from bot.bench._grounding import Grounding
from bot.bench._peer import PEER_COMPARED
from bot.bench._phases import measure_engine
from bot.bench._report import format_table
from bot.bench._run import add_bench_arguments, run_bench, sizes_from_args
from bot.bench._workload import CONCURRENT_QUESTIONS, CONVERSATIONS, QUICK_SIZES, BenchSizes

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
