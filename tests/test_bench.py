"""The benchmark's shape, not its speed: it runs once with tiny sizes on the real bundled model.

Speed is never asserted (these machines are shared and noisy); what is checked is that every figure
the README and the lead's reports rely on is present, has the right type and sign, that ratios are
the quotients they claim to be, and that `--json` prints exactly one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import math
import socket
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.bench import (
    QUICK_SIZES,
    BenchSizes,
    add_bench_arguments,
    format_table,
    percentile,
    run_bench,
    sizes_from_args,
)
from bot.config import load_settings

TINY = BenchSizes(
    reference_decode_tokens=16,
    reference_prompt_tokens=64,
    decode_tokens=16,
    answer_tokens=4,
    passages=1,
    conversations=2,
    concurrent_users=2,
    concurrent_tokens=8,
)
REQUIRED_POSITIVE = (
    "reference_decode_tok_s",
    "reference_prompt_tok_s",
    "decode_tok_s",
    "decode_ratio",
    "ttft_cold_s",
    "ttft_new_question_s",
    "ttft_followup_s",
    "ttft_interleaved_max_s",
    "concurrent4_total_tok_s",
    "concurrent4_ttft_max_s",
    "peak_rss_mib",
)
REQUIRED_NON_NEGATIVE = ("loop_lag_p50_ms", "loop_lag_p99_ms")


@pytest.fixture(scope="module")
async def bench_result(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    """One tiny run on the local engine, with its stdout."""
    # One thread: with two, llama.cpp's threads spin-wait on each other and a busy shared machine
    # can slow them tenfold; this test checks shape, not speed.
    settings = load_settings(
        llm_base_url="",
        n_ctx=2048,
        n_threads=1,
        database_path=tmp_path_factory.mktemp("bench") / "db.sqlite3",
    )
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = await run_bench(settings, json_output=True, sizes=TINY)
    return result, out.getvalue()


async def test_json_output_is_exactly_one_object_with_every_key(
    bench_result: tuple[dict[str, Any], str],
) -> None:
    result, stdout = bench_result
    assert json.loads(stdout) == result  # one object, nothing else on stdout
    assert stdout.count("\n") == 1
    for key in (*REQUIRED_POSITIVE, *REQUIRED_NON_NEGATIVE, "model", "n_threads", "n_gpu_layers"):
        assert key in result, key
    assert result["model"].endswith(".gguf")
    assert result["n_threads"] == 1 and result["n_gpu_layers"] == 0


async def test_figures_are_positive_and_consistent(bench_result: tuple[dict[str, Any], str]) -> None:
    result, _ = bench_result
    for key in REQUIRED_POSITIVE:
        assert isinstance(result[key], int | float) and result[key] > 0, (key, result[key])
    for key in REQUIRED_NON_NEGATIVE:
        assert result[key] >= 0, key
    assert result["loop_lag_p50_ms"] <= result["loop_lag_p99_ms"] <= result["loop_lag_max_ms"]
    assert result["loop_lag_samples"] > 0
    # The ratio is the quotient of the two rates it is computed from (up to their rounding).
    assert math.isclose(
        result["decode_ratio"], result["decode_tok_s"] / result["reference_decode_tok_s"], rel_tol=0.01
    )
    interleaved = result["ttft_interleaved_s"]
    assert len(interleaved) == TINY.conversations
    assert result["ttft_interleaved_max_s"] == max(interleaved)
    assert min(interleaved) <= result["ttft_interleaved_mean_s"] <= max(interleaved)
    assert len(result["concurrent4_ttft_s"]) == TINY.concurrent_users == result["concurrent_users"]
    assert result["concurrent4_ttft_max_s"] == max(result["concurrent4_ttft_s"])
    assert 0 < result["concurrent4_tokens"] <= TINY.concurrent_users * TINY.concurrent_tokens
    assert 1 < result["decode_tokens"] <= TINY.decode_tokens
    # A follow-up's prompt starts with the previous exchange verbatim: the engine reuses it.
    assert result["followup_cached_tokens"] > 0


async def test_table_lists_every_figure(bench_result: tuple[dict[str, Any], str]) -> None:
    result, _ = bench_result
    table = format_table(result)
    assert len(table.splitlines()) == len(result)
    assert "decode_tok_s" in table and "tokens/s" in table and " ms" in table


async def fake_openai_server() -> tuple[web.AppRunner, str]:
    """An OpenAI-compatible server on loopback that streams `max_tokens` pieces of " word"."""

    async def models(request: web.Request) -> web.Response:
        return web.json_response({"data": [{"id": "fake-remote"}]})

    async def chat(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        reply = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await reply.prepare(request)
        for _ in range(body["max_tokens"]):
            chunk = {"choices": [{"index": 0, "delta": {"content": " word"}, "finish_reason": None}]}
            await reply.write(f"data: {json.dumps(chunk)}\n\n".encode())
            await asyncio.sleep(0.002)
        await reply.write(b"data: [DONE]\n\n")
        return reply

    app = web.Application()
    app.router.add_get("/v1/models", models)
    app.router.add_post("/v1/chat/completions", chat)
    runner = web.AppRunner(app)
    await runner.setup()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}/v1"


async def test_remote_backend_runs_engine_parts_remotely(tmp_path: Path) -> None:
    """With LLM_BASE_URL set the engine figures come from the server; the reference still runs here."""
    runner, url = await fake_openai_server()
    try:
        settings = load_settings(llm_base_url=url, n_threads=1, database_path=tmp_path / "db.sqlite3")
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            result = await run_bench(settings, json_output=False, sizes=TINY)
    finally:
        await runner.cleanup()
    assert result["backend"] == "openai-compatible" and result["model"] == "fake-remote"
    assert result["n_gpu_layers"] is None
    assert result["reference_decode_tok_s"] > 0 and result["decode_ratio"] > 0
    assert result["decode_tokens"] == TINY.decode_tokens
    assert result["concurrent4_tokens"] == TINY.concurrent_users * TINY.concurrent_tokens
    assert "openai-compatible" in out.getvalue() and not out.getvalue().lstrip().startswith("{")


def test_arguments_and_sizes() -> None:
    parser = argparse.ArgumentParser()
    add_bench_arguments(parser)
    args = parser.parse_args(["--json", "--quick"])
    assert args.json and sizes_from_args(args) == QUICK_SIZES
    assert sizes_from_args(parser.parse_args([])) == BenchSizes()
    with pytest.raises(ValueError, match="conversations"):
        BenchSizes(conversations=0)


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([3.0], 0.99) == 3.0
    assert percentile([], 0.5) == 0.0
