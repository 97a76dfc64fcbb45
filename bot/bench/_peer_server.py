"""llama.cpp's own `llama-server` as the side-by-side peer of `bench --peer DIR`.

The engine exists because a bot could otherwise just run `llama-server` and talk to it; so the fair
yardstick is that server, on the same model, cores, thread count and number of parallel slots,
measured in the same run through its OpenAI API. The server is started on 127.0.0.1 at a free port
and always stopped again, whatever happens.

`PeerClient` is deliberately minimal (one streaming POST per request, a fresh connection each time)
so that no client-side queueing or connection reuse shapes the peer's figures: llama-server's HTTP
library drops idle keep-alive connections after a few seconds, and a pooled one then fails mid-write.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import IO, Any

import aiohttp

from bot.config import Settings
from bot.engine.base import ChatMessage, Engine, EngineStatus, GenerationRequest, StreamEvent, Usage
from bot.engine.model_file import resolve_model_path
from bot.engine.openai_wire import SSEParser, chat_payload
from bot.engine.repacking import server_options
from bot.errors import BackendError

SERVER_BINARY = "llama-server"
READY_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 10.0
POLL_INTERVAL_S = 0.2
LOG_TAIL_CHARS = 600


def free_port() -> int:
    """A TCP port on loopback nobody listens on now (the server binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_command(binary: Path, settings: Settings, port: int, *, speculative: bool = False) -> list[str]:
    """The peer's command line: the engine's model, threads and slots; each slot gets `n_ctx`
    tokens, as each engine slot does (llama-server splits `-c` between its `-np` slots), and no
    weight repacking where the engine has none (`server_options`)."""
    model = resolve_model_path(settings.model_path)
    command = [
        str(binary),
        "--model",
        str(model),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--threads",
        str(settings.n_threads),
        "--threads-batch",
        str(settings.n_threads),
        "--parallel",
        str(settings.n_slots),
        "--ctx-size",
        str(settings.n_ctx * settings.n_slots),
        "--n-gpu-layers",
        str(settings.n_gpu_layers if settings.n_gpu_layers >= 0 else 999),
        *server_options(model),
    ]
    if speculative:
        command += ["--spec-type", "ngram-simple"]
    return command


def server_binary(peer_dir: Path) -> Path:
    """`llama-server` in `peer_dir`, or a BackendError that says how to get one."""
    binary = peer_dir.expanduser() / SERVER_BINARY
    if not binary.is_file():
        raise BackendError(
            f"No {SERVER_BINARY} in {peer_dir}: pass the folder that holds llama.cpp's binaries "
            "(../shared/tools/build-llama-server prints it after building them)."
        )
    return binary


@contextlib.asynccontextmanager
async def peer_server(peer_dir: Path, settings: Settings, *, speculative: bool = False) -> AsyncIterator[str]:
    """Run `llama-server` for the duration of the block; yields its OpenAI base URL (…/v1)."""
    binary = server_binary(peer_dir)
    port = free_port()
    with tempfile.TemporaryFile() as log:
        process = await asyncio.create_subprocess_exec(
            *server_command(binary, settings, port, speculative=speculative),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
        try:
            await _wait_ready(process, f"http://127.0.0.1:{port}", log)
            yield f"http://127.0.0.1:{port}/v1"
        finally:
            await _stop(process)


async def _wait_ready(process: asyncio.subprocess.Process, root: str, log: IO[bytes]) -> None:
    """Poll /health until the model is loaded (200); fail with the server's last words if it exits."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise BackendError(f"{SERVER_BINARY} exited with status {process.returncode}: {_tail(log)}")
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.get(f"{root}/health") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(POLL_INTERVAL_S)
    raise BackendError(f"{SERVER_BINARY} was not ready after {READY_TIMEOUT_S:.0f} s: {_tail(log)}")


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        await process.wait()


def _tail(log: IO[bytes]) -> str:
    """The end of the server's log, on one line (what a person needs to see why it failed)."""
    log.seek(0)
    text = log.read().decode("utf-8", errors="replace")
    return " ".join(text[-LOG_TAIL_CHARS:].split()) or "(no output)"


class PeerClient:
    """The `Engine` calls `bench` makes, answered by the peer's /v1/chat/completions (streaming).

    Prompt tokens are counted by `counter` (the bot's engine), so prompts are fitted exactly as for
    the engine and both answer the same prompts.
    """

    def __init__(self, base_url: str, counter: Engine) -> None:
        self.base_url = base_url
        self._counter = counter
        self._session: aiohttp.ClientSession | None = None

    @property
    def model_name(self) -> str:
        return SERVER_BINARY

    @property
    def context_size(self) -> int:
        return self._counter.context_size

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(force_close=True),
            timeout=aiohttp.ClientTimeout(total=None, sock_read=READY_TIMEOUT_S),
        )

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def count_tokens(self, messages: Sequence[ChatMessage]) -> int:
        return self._counter.count_tokens(messages)

    def status(self) -> EngineStatus:
        return EngineStatus(SERVER_BINARY, SERVER_BINARY, 0, self.context_size, 0, 0, 0.0)

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        """Text pieces as they arrive, then the server's usage (prompt, completion, cached tokens)."""
        if self._session is None:
            raise BackendError("The peer client is not started.")
        started = time.perf_counter()
        first_ms, finish = 0.0, "cancelled"
        usage: dict[str, Any] = {}
        parser = SSEParser()
        url = f"{self.base_url}/chat/completions"
        async with self._session.post(url, json=chat_payload(request, "")) as response:
            if response.status != 200:
                raise BackendError(f"{SERVER_BINARY} answered {response.status}: {await response.text()}")
            async for raw in response.content:
                data = parser.feed(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
                if data is None or data.strip() == "[DONE]":
                    continue
                chunk = json.loads(data)
                usage = chunk.get("usage") or usage
                for choice in chunk.get("choices") or ():
                    text = (choice.get("delta") or {}).get("content")
                    finish = choice.get("finish_reason") or finish
                    if text:
                        first_ms = first_ms or (time.perf_counter() - started) * 1000
                        yield text
        details = usage.get("prompt_tokens_details") or {}
        yield Usage(
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
            cached_tokens=int(details.get("cached_tokens", 0)),
            first_token_ms=first_ms,
            total_ms=(time.perf_counter() - started) * 1000,
            finish_reason="length" if finish == "length" else "stop" if finish == "stop" else "cancelled",
        )
