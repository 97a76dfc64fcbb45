"""`/reload` reaching every bot process that shares PROMPTS_DIR (bot/reload_signal.py): two services
on one copied prompt folder, each with its own database, as two processes of a sharded bot."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.engine.scripted import ScriptedEngine
from bot.reload_signal import NOTE, follow_reloads, publish, published
from bot.service import BriefingService

REPO_PROMPTS = Path(__file__).resolve().parent.parent / "prompts"
NEW_SOURCE = """+++
title = "A source added by a moderator"
framing = ["cooperation"]
+++
## Track-two talks {#talks .cooperation}
US and Chinese AI researchers met in track-two talks to discuss shared safety norms for frontier AI.
"""
POLL_S = 0.05


@contextlib.asynccontextmanager
async def process(prompts: Path, folder: Path) -> AsyncIterator[BriefingService]:
    """What one bot process holds: its own database, the shared prompt folder, a watcher."""
    settings = load_settings(prompts_dir=prompts, database_path=folder / "db.sqlite3")
    service = await BriefingService.open(settings, engine=ScriptedEngine(["An answer [1]."]))
    watcher = asyncio.create_task(follow_reloads(service, prompts, POLL_S))
    try:
        yield service
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        await service.aclose()


async def until(condition: Callable[[], bool], within: float = 5.0) -> None:
    for _ in range(int(within / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"not within {within} s")


async def test_a_reload_in_one_process_reaches_the_other(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts"
    shutil.copytree(REPO_PROMPTS, prompts)
    async with process(prompts, tmp_path / "a") as a, process(prompts, tmp_path / "b") as b:
        before = b.prompt_version
        (prompts / "sources" / "talks.md").write_text(NEW_SOURCE, encoding="utf-8")
        await asyncio.sleep(POLL_S * 4)
        assert b.prompt_version == before  # saving a file reloads nothing: /reload does
        report = await a.reload(actor="discord:mod")
        assert report.ok and published(prompts) == report.version
        await until(lambda: b.prompt_version == report.version)
        await asyncio.sleep(POLL_S * 4)
        reloads = await b.store.reloads()
        assert len(reloads) == 1 and "another bot process" in reloads[0]["actor"]  # once, not per poll
        assert len(await a.store.reloads()) == 1  # the reloading process does not reload again


async def test_a_note_from_before_the_start_is_not_followed(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts"
    shutil.copytree(REPO_PROMPTS, prompts)
    publish(prompts, "0123456789ab")
    async with process(prompts, tmp_path / "a") as a:
        await asyncio.sleep(POLL_S * 4)
        assert await a.store.reloads() == []


def test_unwritable_folder_and_missing_note(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    assert published(tmp_path) is None
    publish(tmp_path / "missing", "v1")  # logged, not raised: the reload itself succeeded
    assert "could not tell other bot processes" in caplog.text
    publish(tmp_path, "v2")
    assert published(tmp_path) == "v2" and (tmp_path / NOTE).read_text() == "v2\n"
    assert [p.name for p in tmp_path.iterdir()] == [NOTE]  # no temporary file left behind
