"""What used to grow forever is bounded: the engines' throughput logs, the rate limiter's per-user
entries, old conversations (CONVERSATION_RETENTION_DAYS). Abandoned debates: see
tests/test_discord_debate_controls.py."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING

import aiosqlite
import pytest

from bot.config import load_settings
from bot.discord_app.limits import WINDOW_S, RateLimiter
from bot.engine._throughput import Throughput
from bot.engine.base import ChatMessage, GenerationRequest, Sampling, collect
from bot.engine.scripted import ScriptedEngine
from bot.retention import DAY_S, forget_old_conversations, keep_forgetting
from bot.service import BriefingService
from bot.store import Store, Turn

if TYPE_CHECKING:
    from bot.engine.llama_engine import LlamaEngine

REPO = Path(__file__).resolve().parent.parent


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_throughput_log_is_bounded_and_exact() -> None:
    clock = Clock()
    recent = Throughput(30.0, resolution_s=0.5, clock=clock)
    for _ in range(100_000):  # 100 tokens a second for 1,000 seconds, status never asked
        recent.add(1)
        clock.now += 0.01
    assert len(recent) <= 30.0 / 0.5 + 1
    assert abs(recent.per_second() - 100.0) < 2.0  # the last 30 s, within one bucket
    clock.now += 31
    assert recent.per_second() == 0.0 and len(recent) == 0


async def test_llama_engine_log_does_not_grow_per_decode_step(
    llama_engine: LlamaEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the clock stopped, every decode step falls in one entry (it used to be one per step)."""
    recent = Throughput(30.0)
    monkeypatch.setattr(recent, "_clock", lambda: 5000.0)
    monkeypatch.setattr(llama_engine.admission, "throughput", recent)
    request = GenerationRequest(
        messages=(ChatMessage("user", "Count from one to fifty in words."),),
        sampling=Sampling(max_tokens=40, temperature=0.0),
    )
    _, usage = await collect(llama_engine, request)
    assert usage.completion_tokens >= 5  # several decode steps (the answer varies with the cache state)
    assert len(recent) == 1
    # Every token counted (the last step is recorded just after the Usage goes out, and another
    # test's cancelled request may still add a few).
    assert llama_engine.status().recent_tokens_per_s * 30.0 >= usage.completion_tokens - 1


async def test_scripted_engine_log_is_bounded() -> None:
    engine = ScriptedEngine(["word " * 2000])
    await engine.start()
    request = GenerationRequest(messages=(ChatMessage("user", "hi"),), sampling=Sampling(max_tokens=2000))
    _, usage = await collect(engine, request)
    assert usage.completion_tokens >= 1000 and len(engine.admission.throughput) <= 3


def test_rate_limiter_forgets_users_whose_window_passed() -> None:
    clock = Clock()
    limiter = RateLimiter(2, clock=clock)
    for user in range(10_000):
        assert limiter.hit(str(user)) == 0.0
    assert len(limiter) == 10_000
    clock.now += WINDOW_S / 2
    assert limiter.hit("regular") == 0.0 and limiter.hit("regular") == 0.0
    assert limiter.hit("regular") > 0  # the limit itself still holds
    clock.now += WINDOW_S / 2 + 1
    assert limiter.hit("newcomer") == 0.0
    assert len(limiter) == 2  # "regular" (still inside its window) and "newcomer"
    assert limiter.hit("regular") > 0


# --- conversation retention -------------------------------------------------------------------------


async def age(path: Path, conversation_id: str, days: float) -> None:
    """Make a conversation look idle for `days` (another connection, as another process would)."""
    async with aiosqlite.connect(path) as db:
        await db.execute(
            "UPDATE conversations SET updated_at = ? WHERE id = ?",
            (time.time() - days * DAY_S, conversation_id),
        )
        await db.commit()


async def conversation_with_link(store: Store, conversation_id: str) -> None:
    await store.add_turns(conversation_id, [Turn("user", "q", "q", {}), Turn("assistant", "a", "a", {})])
    await store.link_message(f"msg-{conversation_id}", conversation_id)


async def test_store_forgets_conversations_idle_before_a_cutoff(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    store = await Store.open(path)
    try:
        await conversation_with_link(store, "old")
        await conversation_with_link(store, "recent")
        await store.link_message("msg-orphan", "never-answered")
        await age(path, "old", 10)
        async with aiosqlite.connect(path) as db:
            await db.execute("UPDATE message_links SET created_at = 0 WHERE message_id = 'msg-orphan'")
            await db.commit()
        assert await forget_old_conversations(store, 0) == 0  # the default keeps everything
        assert await store.history("old")
        assert await forget_old_conversations(store, 7) == 1
        assert await store.history("old") == [] and await store.conversation_for_message("msg-old") is None
        assert await store.conversation_for_message("msg-orphan") is None
        assert len(await store.history("recent")) == 2
        assert await store.conversation_for_message("msg-recent") == "recent"
    finally:
        await store.aclose()


async def test_retention_applies_at_start_up_and_periodically(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    store = await Store.open(path)
    await conversation_with_link(store, "stale")
    await conversation_with_link(store, "later")
    await store.aclose()
    await age(path, "stale", 40)

    settings = load_settings(prompts_dir=REPO / "prompts", database_path=path, conversation_retention_days=30)
    service = await BriefingService.open(settings, engine=ScriptedEngine(["ok"]))
    try:
        assert await service.store.history("stale") == []  # at start-up
        assert await service.store.history("later")
        assert service._retention is not None and not service._retention.done()
    finally:
        await service.aclose()

    store = await Store.open(path)
    try:
        await age(path, "later", 31)
        task = asyncio.create_task(keep_forgetting(store, 30, interval_s=0.05))
        try:
            async with asyncio.timeout(10):
                while await store.history("later"):  # noqa: ASYNC110 - polling another task's effect
                    await asyncio.sleep(0.05)
        finally:
            task.cancel()
    finally:
        await store.aclose()
