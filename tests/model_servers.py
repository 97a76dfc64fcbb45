"""Model servers the remote backend is tested against, run as subprocesses on loopback.

- llama-cpp-python's own server (`python -m llama_cpp.server`): installed with the bot.
- llama.cpp's `llama-server` (the "peer"), which users are told to run: built by
  `../shared/tools/build-llama-server`, which `./dev test` calls and whose folder it passes in
  LLAMA_SERVER_DIR. Without it the tests that need it skip and say why - except under CI (CI=true),
  where they fail, so CI cannot go green without having run them.

Loaded by `conftest.py` as a pytest plugin: `llama_server` (the peer, shared by the session) and
`python_server` (llama-cpp-python's) are fixtures; `ModelServer` starts, kills and restarts one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.config import Settings
from bot.engine.model_file import resolve_model_path
from bot.engine.remote import RemoteEngine
from bot.engine.repacking import repacking_works, server_options

START_TIMEOUT_S = 90.0
PEER_ENV = "LLAMA_SERVER_DIR"
NO_PEER = (
    "llama.cpp's llama-server was not found: run ../shared/tools/build-llama-server and set "
    f"{PEER_ENV} to the folder it prints (./dev test does both), or put llama-server on PATH"
)
# One context of 8192 tokens split over 4 parallel slots: 2048 per conversation, like the bot's tests.
# One thread: llama.cpp's threads spin-wait on each other, and on a shared 2-core machine beside
# other busy processes two of them made an 8-token answer take 44 s instead of 0.7 s.
PEER_ARGS = ("-np", "4", "-c", "8192", "-t", "1")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def peer_binary() -> Path | None:
    """llama-server from LLAMA_SERVER_DIR, else from PATH; None when neither has it."""
    folder = os.environ.get(PEER_ENV, "").strip()
    if folder:
        candidate = Path(folder) / "llama-server"
        return candidate if candidate.is_file() else None
    found = shutil.which("llama-server")
    return Path(found) if found else None


def require_peer() -> Path:
    """The peer binary, or skip (fail under CI) with the reason."""
    binary = peer_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the llama-server tests: {NO_PEER}")
        pytest.skip(NO_PEER)
    return binary


class ModelServer:
    """One OpenAI-compatible server process on a fixed loopback port; kill and start it again at will."""

    def __init__(self, name: str, command: list[str], port: int, log_path: Path) -> None:
        self.name = name
        self.command = command
        self.port = port
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> ModelServer:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._answers():
            if self.process.poll() is not None:
                tail = self.log_path.read_text(errors="replace")[-2000:]
                pytest.fail(f"{self.name} exited with {self.process.returncode}: {tail}")
            if time.monotonic() > deadline:
                pytest.fail(f"{self.name} did not answer within {START_TIMEOUT_S:.0f} s")
            time.sleep(0.2)
        return self

    def _answers(self) -> bool:
        """/v1/models answers 200 (llama-server answers 503 while it loads the model)."""
        try:
            with urllib.request.urlopen(f"{self.url}/models", timeout=2) as reply:
                return bool(reply.status == 200)
        except (OSError, urllib.error.HTTPError):
            return False

    def kill(self) -> None:
        """SIGKILL, as a crash or an OOM kill would: no goodbye to open connections."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def peer_server(binary: Path, log_dir: Path) -> ModelServer:
    """llama-server on the bundled model, as the README tells users to run it (`-np 4`)."""
    port = free_port()
    model = resolve_model_path(None)
    command = [str(binary), "-m", str(model), "--host", "127.0.0.1", "--port", str(port), *PEER_ARGS]
    command += server_options(model)
    return ModelServer("llama-server", command, port, log_dir / f"llama-server-{port}.log")


# llama-cpp-python's server has no switch for weight repacking: where it crashes (repacking.py),
# start the server with the bindings' default model parameters turned off for it.
_SERVER_WITHOUT_REPACKING = """
import runpy
import llama_cpp.llama_cpp as native
default = native.llama_model_default_params
def without_repacking():
    params = default()
    params.use_extra_bufts = False
    return params
native.llama_model_default_params = without_repacking
runpy.run_module("llama_cpp.server", run_name="__main__")
"""


def python_server(log_dir: Path) -> ModelServer:
    """llama-cpp-python's server on the bundled model.

    `--interrupt_requests False`: by default that server cuts a running stream off whenever another
    request arrives, which would defeat the client-side queue under test.
    """
    port = free_port()
    model = resolve_model_path(None)
    launch = ["-m", "llama_cpp.server"] if repacking_works(model) else ["-c", _SERVER_WITHOUT_REPACKING]
    command = [
        sys.executable, *launch, "--model", str(model), "--host", "127.0.0.1",
        "--port", str(port), "--n_ctx", "2048", "--interrupt_requests", "False", "--verbose", "False",
    ]  # fmt: skip
    return ModelServer("llama_cpp.server", command, port, log_dir / f"llama-cpp-python-{port}.log")


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModelServer]:
    """llama.cpp's llama-server for the whole session (skips, or fails under CI, without it)."""
    server = peer_server(require_peer(), tmp_path_factory.mktemp("llama-server")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def python_llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModelServer]:
    """llama-cpp-python's server for the whole session."""
    server = python_server(tmp_path_factory.mktemp("llama-cpp-python")).start()
    try:
        yield server
    finally:
        server.stop()


@contextlib.asynccontextmanager
async def started(settings: Settings) -> AsyncIterator[RemoteEngine]:
    """A started RemoteEngine for the block, closed after it."""
    engine = RemoteEngine(settings)
    await engine.start()
    try:
        yield engine
    finally:
        await engine.aclose()
