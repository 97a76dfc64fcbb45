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
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.briefing.prompting import SOURCES_META, fit_question
from bot.briefing.retrieval import retrieve
from bot.config import Settings
from bot.engine import build_engine
from bot.engine.base import ChatMessage, Engine, GenerationRequest, Sampling, Usage
from bot.index import SourceIndex
from bot.library import build_snapshot
from bot.measures import percentile
from bot.promptset import PromptSet
from bot.store import Turn

if TYPE_CHECKING:  # the reference imports libllama: loaded only when the bench runs
    from bot.engine.reference import ReferenceSpeed

# Every grounded question is asked once, so no phase finds another phase's prompt already cached
# (which would flatter its time to first token). Phrased the way users ask; follow-ups are short on
# purpose (the bot adds the previous question to the search, the prompt carries the previous turn).
COLD_QUESTION = ("What is the 'Chernobyl moment' that AI experts fear?", "Who warned about it?")
NEW_QUESTION = "Why does Yi-Ling Liu think the AI race narrative is dangerous?"
CONVERSATIONS: tuple[tuple[str, str], ...] = (
    ("Was DeepSeek-R1 really a Sputnik moment for the United States?", "Why was it overhyped?"),
    ("What are track-two dialogues between American and Chinese scientists?", "Who takes part?"),
    ("What does 'China envy' mean in the tech industry?", "Why does that matter?"),
    ("Do Chinese AI researchers worry about AI safety too?", "What worries them most?"),
    ("How do export controls on chips shape US-China AI competition?", "Do they slow China down?"),
    ("Could the US and China agree on shared AI safety standards?", "What would that look like?"),
    ("Why is the Space Race a misleading analogy for AI?", "Is there a better analogy?"),
    ("What warning signs suggest AI is being deployed without enough testing?", "Which one is worst?"),
)
CONCURRENT_QUESTIONS: tuple[str, ...] = (
    "What role could independent auditors play in AI safety?",
    "How does the race to deploy models quickly affect alignment research?",
    "Why would a catastrophic AI failure not respect national borders?",
    "What risks come from global dependence on Chinese apps and hardware?",
    "Which cities in China are mentioned as AI research hubs?",
    "How could joint task forces monitor emerging AI risks?",
    "What does Yi-Ling Liu recommend to policymakers in Washington?",
    "Is the fear of an AI accident shared by researchers on both sides?",
)
DECODE_PROMPT = (
    ChatMessage(role="system", content="You are a thorough policy analyst who writes long, detailed essays."),
    ChatMessage(
        role="user",
        content=(
            "Write a long essay, at least 800 words in ten numbered sections, on the debate over whether "
            "the United States and China are in an AI race or should cooperate on AI safety."
        ),
    ),
)
# The "users at once" phase is measured twice: with short chat prompts, the load llama.cpp's server
# is usually benchmarked with (so `concurrent4_*` compares side by side with it), and with the bot's
# grounded prompts (~450 tokens each, `concurrent4_grounded_*`), where prompt processing dominates
# on a CPU.
CHAT_SYSTEM = ChatMessage(role="system", content="You are a helpful policy analyst.")
BENCH_USER = "bench"
MIB = 1024.0  # ru_maxrss is in KiB on Linux


@dataclass(frozen=True, slots=True)
class BenchSizes:
    """How much work each phase does. The defaults keep the run under ~2 minutes on 2 cores with
    the bundled 135M model; tests shrink them."""

    reference_decode_tokens: int = 128
    reference_prompt_tokens: int = 256
    decode_tokens: int = 128
    answer_tokens: int = 24  # answers in the TTFT phases (their text becomes the next turn's history)
    passages: int = 3  # retrieved per question, as the bot does; fewer make shorter prompts (tests)
    conversations: int = 8
    concurrent_users: int = 4
    concurrent_tokens: int = 96
    tick_ms: float = 10.0

    def __post_init__(self) -> None:
        if self.passages < 1:
            raise ValueError("passages must be at least 1")
        if not 1 <= self.conversations <= len(CONVERSATIONS):
            raise ValueError(f"conversations must be 1..{len(CONVERSATIONS)}")
        if not 1 <= self.concurrent_users <= len(CONCURRENT_QUESTIONS):
            raise ValueError(f"concurrent_users must be 1..{len(CONCURRENT_QUESTIONS)}")


@dataclass(slots=True)
class Timed:
    """One streamed request as the user saw it."""

    text: str
    ttft_s: float
    first_at: float
    last_at: float
    usage: Usage


# --- reference -------------------------------------------------------------------------------------


def reference_figures(settings: Settings, sizes: BenchSizes) -> ReferenceSpeed | None:
    """The raw llama.cpp loops (`bot.engine.reference`), or None when they cannot run here: no
    model file or no llama-cpp-python, as on a bot that only talks to a remote server."""
    from bot.errors import BriefingError

    try:
        from bot.engine.reference import measure_reference

        return measure_reference(
            settings.model_path,
            n_threads=settings.n_threads,
            n_gpu_layers=settings.n_gpu_layers,
            n_prompt=sizes.reference_prompt_tokens,
            n_decode=sizes.reference_decode_tokens,
        )
    except (BriefingError, ImportError) as exc:
        _progress(f"reference skipped: {getattr(exc, 'user_message', exc)}")
        return None


# --- measuring the engine ----------------------------------------------------------------------------


class LoopLag:
    """A task that asks to wake every `interval` and records how late it wakes, in ms.

    Lateness is what a Discord heartbeat or another user's stream would suffer while the engine
    works; the engine must never block the loop.
    """

    def __init__(self, interval_ms: float) -> None:
        self.interval = interval_ms / 1000
        self.samples_ms: list[float] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._tick())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + self.interval
            await asyncio.sleep(self.interval)
            self.samples_ms.append(max(0.0, loop.time() - due) * 1000)


async def timed(engine: Engine, request: GenerationRequest) -> Timed:
    """Stream `request` to the end, noting when the first and last text pieces arrived."""
    began = time.perf_counter()
    first_at = last_at = 0.0
    pieces: list[str] = []
    usage = Usage(prompt_tokens=0, completion_tokens=0)
    async for event in engine.stream(request):
        if isinstance(event, str):
            last_at = time.perf_counter()
            first_at = first_at or last_at
            pieces.append(event)
        elif isinstance(event, Usage):
            usage = event
    if not first_at:
        first_at = last_at = time.perf_counter()
    return Timed("".join(pieces), first_at - began, first_at, last_at, usage)


@dataclass(slots=True)
class Grounding:
    """Builds grounded prompts the way the bot does (retrieval, persona, history, fitting)."""

    engine: Engine
    prompts: PromptSet
    index: SourceIndex
    passages: int = 3
    histories: dict[str, list[Turn]] = field(default_factory=dict)
    listed: dict[str, list[tuple[int, str]]] = field(default_factory=dict)  # the last prompt's new sources

    async def request(self, conversation: str, question: str, max_tokens: int) -> GenerationRequest:
        history = self.histories.get(conversation, [])
        passages = await retrieve(self.index, question, history, k=self.passages)
        if not passages:
            passages = await self.index.search(question, k=self.passages)
        prompt = fit_question(self.engine, self.prompts, self.index, passages, history, question, max_tokens)
        self.listed[conversation] = prompt.listed
        sampling = Sampling(
            max_tokens=max_tokens, temperature=0.0, repeat_penalty=1.1, stop=self.prompts.stop_strings
        )
        return GenerationRequest(
            messages=prompt.messages,
            sampling=sampling,
            user_id=f"{BENCH_USER}:{conversation}",
            conversation_id=conversation,
        )

    def remember(self, conversation: str, request: GenerationRequest, question: str, answer: str) -> None:
        """Store the exchange as the bot does: the prompt's user turn and the stripped answer."""
        self.histories.setdefault(conversation, []).extend(
            [
                Turn(
                    role="user",
                    content=request.messages[-1].content,
                    display=question,
                    meta={SOURCES_META: self.listed.get(conversation, [])},
                ),
                Turn(role="assistant", content=answer.strip(), display=answer.strip(), meta={}),
            ]
        )

    async def ask(self, conversation: str, question: str, max_tokens: int) -> Timed:
        request = await self.request(conversation, question, max_tokens)
        result = await timed(self.engine, request)
        self.remember(conversation, request, question, result.text)
        return result


async def measure_engine(
    engine: Engine, grounding: Grounding, sizes: BenchSizes, *, label: str = "engine"
) -> dict[str, Any]:
    """Every engine phase, in an order that makes each measurement mean what its name says."""
    out: dict[str, Any] = {}
    first_q, first_follow = COLD_QUESTION

    _progress(f"{label}: cold grounded question")
    cold = await grounding.ask("bench:cold", first_q, sizes.answer_tokens)
    out["ttft_cold_s"] = cold.ttft_s
    out["cold_prompt_tokens"] = cold.usage.prompt_tokens

    _progress(f"{label}: follow-up in the same conversation")
    follow = await grounding.ask("bench:cold", first_follow, sizes.answer_tokens)
    out["ttft_followup_s"] = follow.ttft_s
    out["followup_prompt_tokens"] = follow.usage.prompt_tokens
    out["followup_cached_tokens"] = follow.usage.cached_tokens

    _progress(f"{label}: new question, instructions cached")
    fresh = await grounding.ask("bench:new", NEW_QUESTION, sizes.answer_tokens)
    out["ttft_new_question_s"] = fresh.ttft_s
    out["new_question_prompt_tokens"] = fresh.usage.prompt_tokens
    out["new_question_cached_tokens"] = fresh.usage.cached_tokens

    _progress(f"{label}: single-stream decode, {sizes.decode_tokens} tokens")
    first_decode = await decode_rate(engine, sizes)

    _progress(f"{label}: {sizes.conversations} interleaved conversations, then a follow-up in each")
    names = [f"bench:conv{i}" for i in range(sizes.conversations)]
    for name, (question, _) in zip(names, CONVERSATIONS, strict=False):
        await grounding.ask(name, question, sizes.answer_tokens)
    follow_ttfts, follow_new_tokens = [], []
    for name, (_, follow_up) in zip(names, CONVERSATIONS, strict=False):
        result = await grounding.ask(name, follow_up, sizes.answer_tokens)
        follow_ttfts.append(result.ttft_s)
        follow_new_tokens.append(result.usage.prompt_tokens - result.usage.cached_tokens)
    out["ttft_interleaved_s"] = follow_ttfts
    out["interleaved_new_prompt_tokens"] = follow_new_tokens  # what each follow-up had to process
    out["ttft_interleaved_max_s"] = max(follow_ttfts)
    out["ttft_interleaved_mean_s"] = statistics.fmean(follow_ttfts)

    _progress(f"{label}: {sizes.concurrent_users} users at once, {sizes.concurrent_tokens} tokens each")
    requests = [
        await grounding.request(f"bench:together{i}", question, sizes.concurrent_tokens)
        for i, question in enumerate(CONCURRENT_QUESTIONS[: sizes.concurrent_users])
    ]
    out["concurrent_users"] = sizes.concurrent_users
    out.update(await together(engine, requests, "concurrent4_grounded"))

    _progress(f"{label}: {sizes.concurrent_users} users at once, short chat prompts (as a server test sends)")
    chats = [
        GenerationRequest(
            messages=(CHAT_SYSTEM, ChatMessage(role="user", content=question)),
            sampling=Sampling(max_tokens=sizes.concurrent_tokens, temperature=0.0, repeat_penalty=1.1),
            user_id=f"{BENCH_USER}:chat{i}",
            conversation_id=f"bench:chat{i}",
        )
        for i, question in enumerate(CONCURRENT_QUESTIONS[: sizes.concurrent_users])
    ]
    out.update(await together(engine, chats, "concurrent4"))

    _progress(f"{label}: single-stream decode again (best of two, like the reference)")
    second_decode = await decode_rate(engine, sizes)
    rate, tokens = max(first_decode, second_decode)
    out["decode_tok_s"], out["decode_tokens"] = rate or None, tokens
    return out


async def together(engine: Engine, requests: Sequence[GenerationRequest], key: str) -> dict[str, Any]:
    """Send `requests` at once: total generated tokens/s over the wall time, and each one's TTFT."""
    began = time.perf_counter()
    results = await asyncio.gather(*(timed(engine, r) for r in requests))
    wall = time.perf_counter() - began
    tokens = sum(r.usage.completion_tokens for r in results)
    return {
        f"{key}_tokens": tokens,
        f"{key}_prompt_tokens": [r.usage.prompt_tokens for r in results],
        f"{key}_total_tok_s": tokens / wall if wall > 0 else None,
        f"{key}_ttft_s": [r.ttft_s for r in results],
        f"{key}_ttft_max_s": max(r.ttft_s for r in results),
    }


async def decode_rate(engine: Engine, sizes: BenchSizes) -> tuple[float, int]:
    """(tokens/s between the first and the last token, tokens generated) of one long greedy answer.

    Prompt processing is left out (the span starts at the first token) so the figure is comparable
    with the reference decode loop. There is no "ignore EOS" in the Engine API, so the prompt asks
    for a long essay; if the model still stops early the rate is over what it produced.
    """
    result = await timed(
        engine,
        GenerationRequest(
            messages=DECODE_PROMPT,
            sampling=Sampling(max_tokens=sizes.decode_tokens, temperature=0.0, repeat_penalty=1.1),
            user_id=BENCH_USER,
            conversation_id="bench:decode",
        ),
    )
    generated = result.usage.completion_tokens
    span = result.last_at - result.first_at
    if generated < sizes.decode_tokens:
        _progress(f"  (the model stopped after {generated} tokens; the rate is over those)")
    return ((generated - 1) / span if generated > 1 and span > 0 else 0.0), generated


# --- the command ------------------------------------------------------------------------------------


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print exactly one JSON object on stdout")
    parser.add_argument(
        "--quick", action="store_true", help="smaller sizes for a fast smoke run (figures are noisier)"
    )
    parser.add_argument(
        "--peer",
        type=Path,
        metavar="DIR",
        help="also measure llama.cpp's llama-server from DIR side by side (same model, threads, slots)",
    )


QUICK_SIZES = BenchSizes(
    reference_decode_tokens=32,
    reference_prompt_tokens=128,
    decode_tokens=32,
    answer_tokens=8,
    conversations=3,
    concurrent_users=2,
    concurrent_tokens=16,
)


def sizes_from_args(args: argparse.Namespace) -> BenchSizes:
    return QUICK_SIZES if getattr(args, "quick", False) else BenchSizes()


async def run_bench(
    settings: Settings,
    *,
    json_output: bool,
    sizes: BenchSizes | None = None,
    peer_dir: Path | None = None,
) -> dict[str, Any]:
    """Run the reference, then the engine (then the peer, with `peer_dir`); print the figures (JSON
    or a table) and return them."""
    sizes = sizes or BenchSizes()
    began = time.perf_counter()
    _progress("reference: raw llama.cpp prompt processing and decode loop")
    reference = await asyncio.to_thread(reference_figures, settings, sizes)

    snapshot = await build_snapshot(settings.prompts_dir)
    engine = build_engine(settings)
    lag = LoopLag(sizes.tick_ms)
    peer: dict[str, Any] = {}
    try:
        _progress("engine: starting")
        await engine.start()
        status = engine.status()
        lag.start()
        figures = await measure_engine(
            engine, Grounding(engine, snapshot.prompts, snapshot.index, sizes.passages), sizes
        )
        await lag.stop()
        if peer_dir is not None:
            peer = await measure_peer(peer_dir, settings, engine, snapshot, sizes)
    finally:
        await lag.stop()
        await engine.aclose()
        await snapshot.index.aclose()
    reference = await _second_reference(reference, settings, sizes)

    decode = figures.pop("decode_tok_s")
    result: dict[str, Any] = {
        "model": status.model,
        "backend": status.backend,
        "n_threads": settings.n_threads,
        "n_gpu_layers": status.n_gpu_layers if not settings.llm_base_url else None,
        "n_slots": settings.n_slots,
        "reference_decode_tok_s": reference.decode_tokens_per_s if reference else None,
        "reference_prompt_tok_s": reference.prompt_tokens_per_s if reference else None,
        "decode_tok_s": decode,
        "decode_ratio": decode / reference.decode_tokens_per_s if reference and decode else None,
        **figures,
        "loop_lag_p50_ms": percentile(lag.samples_ms, 0.50),
        "loop_lag_p99_ms": percentile(lag.samples_ms, 0.99),
        "loop_lag_max_ms": max(lag.samples_ms, default=0.0),
        "loop_lag_samples": len(lag.samples_ms),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / MIB,
    }
    if peer:
        result.update(peer_ratios({**figures, "decode_tok_s": decode}, peer))
    result["bench_s"] = time.perf_counter() - began
    result = {key: _rounded(key, value) for key, value in result.items()}
    if json_output:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(format_table(result))
    return result


async def _second_reference(
    reference: ReferenceSpeed | None, settings: Settings, sizes: BenchSizes
) -> ReferenceSpeed | None:
    """Shared machines only ever slow a run down: the reference is measured before and after the
    engine and the better run kept, as the engine's decode is (best of two)."""
    if reference is None:
        return None
    _progress("reference: second run")
    again = await asyncio.to_thread(reference_figures, settings, sizes)
    if again is None:
        return reference
    return replace(
        reference,
        prompt_tokens_per_s=max(reference.prompt_tokens_per_s, again.prompt_tokens_per_s),
        decode_tokens_per_s=max(reference.decode_tokens_per_s, again.decode_tokens_per_s),
    )


# --- the peer: llama.cpp's own server ----------------------------------------------------------------

# Figures compared with the peer: one stream, users at once (chat and grounded), follow-ups among
# interleaved conversations, and the single-question TTFTs. Each `<key>_vs_peer` is engine ÷ peer:
# above 1 is better for tokens/s, below 1 is better for times.
PEER_COMPARED = (
    "decode_tok_s",
    "concurrent4_total_tok_s",
    "concurrent4_ttft_max_s",
    "concurrent4_grounded_total_tok_s",
    "concurrent4_grounded_ttft_max_s",
    "ttft_interleaved_max_s",
    "ttft_interleaved_mean_s",
    "ttft_cold_s",
    "ttft_new_question_s",
    "ttft_followup_s",
)


async def measure_peer(
    peer_dir: Path, settings: Settings, engine: Engine, snapshot: Any, sizes: BenchSizes
) -> dict[str, Any]:
    """The same phases through `llama-server` (started from `peer_dir`, stopped at the end) and its
    OpenAI API, on the prompts the engine's tokenizer fitted."""
    from bot.bench_peer import PeerClient, peer_server

    _progress(f"peer: starting llama-server from {peer_dir}")
    async with peer_server(peer_dir, settings) as url:
        client = PeerClient(url, counter=engine)
        await client.start()
        try:
            grounding = Grounding(client, snapshot.prompts, snapshot.index, sizes.passages)
            figures = await measure_engine(client, grounding, sizes, label="peer")
        finally:
            await client.aclose()
    return figures


def peer_ratios(engine: dict[str, Any], peer: dict[str, Any]) -> dict[str, Any]:
    """`peer_<key>` for each of the peer's figures, then `<key>_vs_peer` = engine ÷ peer."""
    out: dict[str, Any] = {f"peer_{key}": value for key, value in peer.items()}
    for key in PEER_COMPARED:
        mine, theirs = engine.get(key), peer.get(key)
        if isinstance(mine, int | float) and isinstance(theirs, int | float) and theirs > 0:
            out[f"{key.removesuffix('_s').removesuffix('_tok')}_vs_peer"] = mine / theirs
    return out


def _rounded(key: str, value: Any) -> Any:
    """Figures to a sensible precision (ratios finer: they are compared against 0.95)."""
    if isinstance(value, list):
        return [_rounded(key, v) for v in value]
    if not isinstance(value, float):
        return value
    if key.endswith("_tok_s"):
        return round(value, 2)
    return round(value, 4 if key.endswith(("_ratio", "_s", "_vs_peer")) else 2)


UNITS = (("_tok_s", "tokens/s"), ("_ms", "ms"), ("_mib", "MiB"), ("_s", "s"))


def format_table(result: dict[str, Any]) -> str:
    """Aligned `name  value unit` lines for people."""
    width = max(len(key) for key in result)
    lines = []
    for key, value in result.items():
        unit = next((u for suffix, u in UNITS if key.endswith(suffix)), "")
        shown = "n/a" if value is None else ", ".join(map(str, value)) if isinstance(value, list) else value
        lines.append(f"{key:<{width}}  {shown} {unit}".rstrip())
    return "\n".join(lines)


def _progress(message: str) -> None:
    """Progress on stderr, with the clock so slow phases stand out; stdout stays clean for --json."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
