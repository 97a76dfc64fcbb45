"""The `bench` command: its arguments, the reference before and after the engine, the engine (and
the peer) between them, and the one result they make."""

from __future__ import annotations

import argparse
import json
import resource
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.bench._grounding import Grounding
from bot.bench._peer import measure_peer, peer_ratios
from bot.bench._phases import measure_engine
from bot.bench._report import format_table, progress, rounded
from bot.bench._timing import LoopLag
from bot.bench._workload import QUICK_SIZES, BenchSizes
from bot.config import Settings
from bot.engine import build_engine
from bot.engine.base import EngineStatus
from bot.engine.own_thread import in_own_thread
from bot.library import build_snapshot
from bot.measures import percentile

if TYPE_CHECKING:  # the reference imports libllama: loaded only when the bench runs
    from bot.engine.reference import ReferenceSpeed

MIB = 1024.0  # ru_maxrss is in KiB on Linux


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


def sizes_from_args(args: argparse.Namespace) -> BenchSizes:
    return QUICK_SIZES if getattr(args, "quick", False) else BenchSizes()


async def run_bench(
    settings: Settings,
    *,
    json_output: bool,
    sizes: BenchSizes | None = None,
    peer_dir: Path | None = None,
) -> dict[str, Any]:
    """Run the reference, then the engine (then the peer, with `peer_dir`), then the reference again;
    print the figures (JSON or a table) and return them."""
    sizes = sizes or BenchSizes()
    began = time.perf_counter()
    progress("reference: raw llama.cpp prompt processing and decode loop")
    reference = await in_own_thread(lambda: reference_figures(settings, sizes))
    measured = await _measure(settings, sizes, peer_dir)
    reference = await _second_reference(reference, settings, sizes)
    result = _result(settings, reference, measured)
    result["bench_s"] = time.perf_counter() - began
    result = {key: rounded(key, value) for key, value in result.items()}
    if json_output:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(format_table(result))
    return result


@dataclass(slots=True)
class _Measured:
    """What the engine phases (and the peer's) gave, with the loop's lateness meanwhile."""

    status: EngineStatus
    figures: dict[str, Any]
    lag_ms: list[float]
    peer: dict[str, Any] = field(default_factory=dict)


async def _measure(settings: Settings, sizes: BenchSizes, peer_dir: Path | None) -> _Measured:
    """Start the engine, run its phases with the loop watched (then the peer's), close it all."""
    snapshot = await build_snapshot(settings.prompts_dir)
    engine = build_engine(settings)
    lag = LoopLag(sizes.tick_ms)
    try:
        progress("engine: starting")
        await engine.start()
        status = engine.status()
        lag.start()
        figures = await measure_engine(
            engine, Grounding(engine, snapshot.prompts, snapshot.index, sizes.passages), sizes
        )
        await lag.stop()
        measured = _Measured(status, figures, lag.samples_ms)
        if peer_dir is not None:
            measured.peer = await measure_peer(peer_dir, settings, engine, snapshot, sizes)
    finally:
        await lag.stop()
        await engine.aclose()
        await snapshot.index.aclose()
    return measured


def _result(settings: Settings, reference: ReferenceSpeed | None, measured: _Measured) -> dict[str, Any]:
    """One flat dict of figures, the reference's and the ratios to it first."""
    figures, lag_ms, status = dict(measured.figures), measured.lag_ms, measured.status
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
        "loop_lag_p50_ms": percentile(lag_ms, 0.50),
        "loop_lag_p99_ms": percentile(lag_ms, 0.99),
        "loop_lag_max_ms": max(lag_ms, default=0.0),
        "loop_lag_samples": len(lag_ms),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / MIB,
    }
    if measured.peer:
        result.update(peer_ratios({**figures, "decode_tok_s": decode}, measured.peer))
    return result


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
        progress(f"reference skipped: {getattr(exc, 'user_message', exc)}")
        return None


async def _second_reference(
    reference: ReferenceSpeed | None, settings: Settings, sizes: BenchSizes
) -> ReferenceSpeed | None:
    """Shared machines only ever slow a run down: the reference is measured before and after the
    engine and the better run kept, as the engine's decode is (best of two)."""
    if reference is None:
        return None
    progress("reference: second run")
    again = await in_own_thread(lambda: reference_figures(settings, sizes))
    if again is None:
        return reference
    return replace(
        reference,
        prompt_tokens_per_s=max(reference.prompt_tokens_per_s, again.prompt_tokens_per_s),
        decode_tokens_per_s=max(reference.decode_tokens_per_s, again.decode_tokens_per_s),
    )
