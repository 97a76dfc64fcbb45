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
import os
import socket
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.bench import (
    PEER_COMPARED,
    QUICK_SIZES,
    BenchSizes,
    add_bench_arguments,
    format_table,
    run_bench,
    sizes_from_args,
)
from bot.bench._peer_server import peer_server, server_binary
from bot.config import load_settings
from bot.errors import BackendError
from bot.measures import percentile

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


FAKE_SERVER = Path(__file__).with_name("fake_llama_server.py")


def fake_peer_dir(folder: Path, log: Path, *, fail: bool = False) -> Path:
    """A folder whose `llama-server` is `fake_llama_server.py`, logging its pid and arguments to `log`."""
    folder.mkdir(parents=True, exist_ok=True)
    server = folder / "llama-server"
    fail_env = "FAKE_PEER_FAIL=1 " if fail else ""
    server.write_text(
        f'#!/bin/sh\n{fail_env}FAKE_PEER_LOG="{log}" exec "{sys.executable}" "{FAKE_SERVER}" "$@"\n'
    )
    server.chmod(0o755)
    return folder


def peer_starts(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def assert_stopped(pid: int) -> None:
    """The process is gone (reaped), not merely idle."""
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


@pytest.fixture(scope="module")
async def bench_result(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    """One tiny run on the local engine side by side with a stand-in `llama-server`, with its stdout."""
    # One thread: with two, llama.cpp's threads spin-wait on each other and a busy shared machine
    # can slow them tenfold; this test checks shape, not speed.
    folder = tmp_path_factory.mktemp("bench")
    settings = load_settings(llm_base_url="", n_ctx=2048, n_threads=1, database_path=folder / "db.sqlite3")
    peer = fake_peer_dir(folder / "peer", folder / "peer.log")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = await run_bench(settings, json_output=True, sizes=TINY, peer_dir=peer)
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


async def test_peer_figures_and_ratios(bench_result: tuple[dict[str, Any], str]) -> None:
    """`--peer`: the stand-in ran the same phases; every compared figure has an engine ÷ peer ratio."""
    result, _ = bench_result
    assert result["peer_concurrent4_tokens"] == TINY.concurrent_users * TINY.concurrent_tokens
    assert len(result["peer_ttft_interleaved_s"]) == TINY.conversations
    for key in PEER_COMPARED:
        ratio = result[f"{key.removesuffix('_s').removesuffix('_tok')}_vs_peer"]
        assert math.isclose(ratio, result[key] / result[f"peer_{key}"], rel_tol=0.02), key


async def test_peer_started_like_the_engine_and_stopped(
    bench_result: tuple[dict[str, Any], str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    result, _ = bench_result
    log = next(tmp_path_factory.getbasetemp().glob("bench*/peer.log"))
    (start,) = peer_starts(log)
    argv = start["argv"]

    def option(name: str) -> str:
        return argv[argv.index(name) + 1]

    assert option("--host") == "127.0.0.1"
    assert option("--threads") == "1" and option("--parallel") == str(result["n_slots"])
    assert int(option("--ctx-size")) == 2048 * result["n_slots"]  # n_ctx per slot, as in the engine
    assert option("--model").endswith(result["model"])
    assert "--spec-type" not in argv
    assert_stopped(start["pid"])


async def test_peer_that_fails_to_start_is_reported_and_reaped(tmp_path: Path) -> None:
    log = tmp_path / "peer.log"
    settings = load_settings(llm_base_url="", n_threads=1, database_path=tmp_path / "db.sqlite3")
    with pytest.raises(BackendError, match="failed to load model"):
        async with peer_server(fake_peer_dir(tmp_path / "peer", log, fail=True), settings):
            pass
    assert_stopped(peer_starts(log)[0]["pid"])


async def test_peer_is_stopped_when_the_bench_fails_midway(tmp_path: Path) -> None:
    log = tmp_path / "peer.log"
    settings = load_settings(llm_base_url="", n_threads=1, database_path=tmp_path / "db.sqlite3")
    with pytest.raises(RuntimeError, match="midway"):
        async with peer_server(fake_peer_dir(tmp_path / "peer", log), settings) as url:
            assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
            raise RuntimeError("midway")
    assert_stopped(peer_starts(log)[0]["pid"])


def test_missing_peer_binary_says_where_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="build-llama-server"):
        server_binary(tmp_path)


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
    assert not [key for key in result if "peer" in key]  # without --peer the output is as before


def test_arguments_and_sizes() -> None:
    parser = argparse.ArgumentParser()
    add_bench_arguments(parser)
    args = parser.parse_args(["--json", "--quick", "--peer", "/opt/llama"])
    assert args.json and sizes_from_args(args) == QUICK_SIZES and args.peer == Path("/opt/llama")
    assert sizes_from_args(parser.parse_args([])) == BenchSizes()
    with pytest.raises(ValueError, match="conversations"):
        BenchSizes(conversations=0)


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([3.0], 0.99) == 3.0
    assert percentile([], 0.5) == 0.0
