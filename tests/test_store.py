"""The SQLite store: migrations recorded, WAL, round trips that survive reopening the file."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import aiosqlite
import pytest

from bot.errors import BackendError, StoreError
from bot.store import MIGRATIONS, STORE_DOWN, Store, Turn


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


QUESTION = Turn(role="user", content="Sources: ...\nQuestion: q", display="q", meta={})
ANSWER = Turn(role="assistant", content="a [1]", display="a [1]", meta={})


async def test_question_is_saved_before_the_answer_and_settled_after(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "bot.sqlite3")
    try:
        async with store.exchange("c", QUESTION) as exchange:
            assert await store.turns("c") == [("user", "q", "pending")]
            assert await store.history("c") == [], "a pending question is not fed to the model"
            exchange.answered(ANSWER)
        assert await store.turns("c") == [("user", "q", "complete"), ("assistant", "a [1]", "complete")]

        with pytest.raises(BackendError):
            async with store.exchange("c", QUESTION):
                raise BackendError("the model failed")
        pieces = ["Half an ", "answer"]
        with pytest.raises(asyncio.CancelledError):
            async with store.exchange("c", QUESTION, pieces):
                raise asyncio.CancelledError
        async with store.exchange("c", QUESTION) as exchange:
            exchange.answered(ANSWER, cut_off=True)
        assert [status for *_, status in await store.turns("c")] == [
            "complete",
            "complete",
            "failed",
            "cut_off",
            "cut_off",
            "cut_off",
            "cut_off",
        ]
        assert ("assistant", "Half an answer", "cut_off") in await store.turns("c")
        assert [t.display for t in await store.history("c")] == ["q", "a [1]"], "only complete exchanges"
    finally:
        await store.aclose()


async def test_open_replies_survive_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    store = await Store.open(path)
    await store.track_reply(10, 1)
    await store.track_reply(10, 2)
    await store.untrack_reply(10, 1)
    await store.aclose()
    store = await Store.open(path)
    try:
        assert await store.open_replies() == [(10, 2)]
    finally:
        await store.aclose()


async def test_a_corrupt_or_read_only_database_is_one_sentence(
    tmp_path: Path, read_only: Callable[[Path], None]
) -> None:
    corrupt = tmp_path / "corrupt.sqlite3"
    corrupt.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError) as caught:
        await Store.open(corrupt)
    assert caught.value.user_message == f"The database {corrupt} is not a SQLite database: " + (
        "point DATABASE_PATH at the bot's database file."
    )

    path = tmp_path / "ro" / "bot.sqlite3"
    store = await Store.open(path)
    await store.aclose()
    read_only(path)
    with pytest.raises(StoreError) as caught:
        await Store.open(path)
    sentence = caught.value.user_message
    assert (
        sentence.startswith(f"The database {path}") and "write access to the file and its folder" in sentence
    )


async def test_a_full_database_at_run_time_is_a_clear_message(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "bot.sqlite3")
    try:
        await store._db.execute("PRAGMA max_page_count = 1")  # what a full disk looks like to SQLite
        with pytest.raises(StoreError) as caught:
            await store.add_turns("c", [Turn(role="user", content="x" * 100_000, display="q", meta={})])
        assert caught.value.user_message == STORE_DOWN
        assert "disk is full" in caught.value.operator
        assert await store.history("c") == [], "nothing half-written"
    finally:
        await store.aclose()


async def test_two_openers_of_a_new_database_migrate_it_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first opener's first migration waits until the second opener has got as far as it can:
    into the migrations too (nothing stops it), or to the lock that makes it wait its turn. Without
    the lock both read "nothing applied" and the second failed creating the first's tables."""
    import fcntl

    loop = asyncio.get_running_loop()
    other_got_there = asyncio.Event()
    lock_calls: list[int] = []
    flock = fcntl.flock

    def counted_flock(fd: int, operation: int) -> None:
        lock_calls.append(operation)
        if len(lock_calls) == 2:  # the second opener, about to wait for the first
            loop.call_soon_threadsafe(other_got_there.set)
        flock(fd, operation)

    name, first_migration = MIGRATIONS[0]
    entered: list[aiosqlite.Connection] = []

    async def after_the_other(db: aiosqlite.Connection) -> None:
        entered.append(db)
        if len(entered) == 1:
            await other_got_there.wait()
        else:
            other_got_there.set()
        await first_migration(db)

    monkeypatch.setattr(fcntl, "flock", counted_flock)
    monkeypatch.setattr("bot.store._migrations.MIGRATIONS", [(name, after_the_other), *MIGRATIONS[1:]])
    path = tmp_path / "fresh.sqlite3"
    first, second = await asyncio.gather(Store.open(path), Store.open(path))
    try:
        assert await first.applied_migrations() == await second.applied_migrations()
        assert len(await first.applied_migrations()) == len(MIGRATIONS)
    finally:
        await first.aclose()
        await second.aclose()
