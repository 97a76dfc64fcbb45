"""The SQLite store: migrations recorded, WAL, round trips that survive reopening the file."""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from bot.store import MIGRATIONS, Store, Turn


async def test_round_trip_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "bot.sqlite3"
    store = await Store.open(path)
    await store.add_turns(
        "discord:thread:1",
        [
            Turn(role="user", content="Sources: ...\nQuestion: q", display="q", meta={}),
            Turn(role="assistant", content="raw [1]", display="clean [1]", meta={"citations": ["a#b"]}),
        ],
    )
    await store.link_message("555", "discord:thread:1")
    await store.cache_briefing("v1", "chernobyl", {"text": "cached"})
    await store.record_reload(
        actor="mod#1", ok=False, version="v1", content_hash="abc", summary={"problems": ["x"]}
    )
    await store.aclose()

    store = await Store.open(path)
    try:
        turns = await store.history("discord:thread:1")
        assert [t.role for t in turns] == ["user", "assistant"]
        assert turns[1].meta == {"citations": ["a#b"]} and turns[1].display == "clean [1]"
        assert await store.conversation_for_message("555") == "discord:thread:1"
        assert await store.conversation_for_message("556") is None
        assert await store.cached_briefing("v1", "chernobyl") == {"text": "cached"}
        assert await store.cached_briefing("v2", "chernobyl") is None
        (reload,) = await store.reloads()
        assert reload["actor"] == "mod#1" and reload["ok"] is False
        assert await store.applied_migrations() == sorted(name for name, _ in MIGRATIONS)
        await store.reset("discord:thread:1")
        assert await store.history("discord:thread:1") == []
    finally:
        await store.aclose()


async def test_wal_and_history_limit(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    store = await Store.open(path)
    try:
        for i in range(5):
            await store.add_turns("c", [Turn(role="user", content=f"q{i}", display=f"q{i}", meta={})])
        assert [t.content for t in await store.history("c", limit=2)] == ["q3", "q4"]
    finally:
        await store.aclose()
    async with aiosqlite.connect(path) as db, db.execute("PRAGMA journal_mode") as cursor:
        assert (await cursor.fetchone())[0] == "wal"


async def test_new_cache_version_evicts_old(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "b.sqlite3")
    try:
        await store.cache_briefing("v1", "t", {"a": 1})
        await store.cache_briefing("v2", "t", {"a": 2})
        assert await store.cached_briefing("v1", "t") is None
        assert await store.cached_briefing("v2", "t") == {"a": 2}
    finally:
        await store.aclose()
