"""The database connection: opening it (WAL, checks, migrations), closing it, and turning SQLite
failures into a `StoreError` carrying one sentence for the user or operator (`guarded`).

`StoreBase` is what every part of the store (conversations, cache, prompt history, feedback) builds
on: the connection and the path, nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import logging
import os
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Self, TypeVar

import aiosqlite

from bot.errors import StoreError
from bot.store._migrations import migrate

log = logging.getLogger("bot.store")


# SQLite primary result codes (https://sqlite.org/rescode.html) and what the operator should do.
PROBLEMS = {
    sqlite3.SQLITE_CORRUPT: "is corrupt: restore it from a backup, or move it away to start afresh",
    sqlite3.SQLITE_NOTADB: "is not a SQLite database: point DATABASE_PATH at the bot's database file",
    sqlite3.SQLITE_READONLY: "is read-only: give the bot write access to the file and its folder",
    sqlite3.SQLITE_CANTOPEN: "cannot be opened: give the bot write access to the file and its folder",
    sqlite3.SQLITE_FULL: "cannot grow because the disk is full: free some space",
    sqlite3.SQLITE_IOERR: "cannot be read or written (an I/O error): check the disk",
    sqlite3.SQLITE_BUSY: "is locked by another program: stop the other process using it",
}
STORE_DOWN = (
    "⚠️ I can't save conversations right now (a problem with my database), so I can't answer - "
    "please try again later."
)


def describe(exc: sqlite3.Error, path: Path) -> str:
    """One sentence for the operator: which file, what is wrong and what to do."""
    code = getattr(exc, "sqlite_errorcode", None)
    problem = PROBLEMS.get(code & 0xFF) if isinstance(code, int) else None
    if problem is None:
        problem = f"cannot be used ({exc})"
    return f"The database {path} {problem}."


R = TypeVar("R")


def guarded(method: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
    """Turn SQLite failures at run time into a `StoreError` the user can read; the cause is logged
    once per call with the operator's sentence."""

    async def run(self: StoreBase, *args: Any, **kwargs: Any) -> R:
        try:
            return await method(self, *args, **kwargs)
        except (sqlite3.Error, ValueError) as exc:  # aiosqlite raises ValueError once closed
            with contextlib.suppress(sqlite3.Error, ValueError):
                await self._db.rollback()  # a half-done write must not be committed by the next one
            cause = describe(exc, self.path) if isinstance(exc, sqlite3.Error) else f"closed ({exc})"
            log.error("database failure in %s: %s", method.__name__, cause)
            raise StoreError(STORE_DOWN, cause) from exc

    @functools.wraps(method)
    async def wrapper(self: StoreBase, *args: Any, **kwargs: Any) -> R:
        # The one connection is shared: a caller cancelled between a write and its commit (a Stop, a
        # timeout, a reply that is done) would leave the transaction open, holding the file's write
        # lock and committed by whichever write comes next. So the call runs to its end (commit or
        # rollback) in a task of its own, and a cancelled caller waits for that before it gives up.
        call = asyncio.ensure_future(run(self, *args, **kwargs))
        try:
            return await asyncio.shield(call)
        except asyncio.CancelledError:
            with contextlib.suppress(BaseException):
                await call
            raise

    return wrapper


class StoreBase:
    """The open database. Open with `await Store.open(path)`; one instance per process."""

    def __init__(self, db: aiosqlite.Connection, path: Path) -> None:
        self._db = db
        self.path = path

    @classmethod
    async def open(cls, path: Path) -> Self:
        """Open (creating folders and file as needed), enable WAL, apply pending migrations, and
        prove the file is sound and writable: a broken database is one sentence at start-up (a
        `StoreError` naming the file and the fix), not a traceback on the first question."""
        db: aiosqlite.Connection | None = None
        try:
            if str(path) != ":memory:":
                path.parent.mkdir(parents=True, exist_ok=True)
            db = await aiosqlite.connect(path)
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute("PRAGMA foreign_keys=ON")
            await db.execute("PRAGMA busy_timeout=5000")
            store = cls(db, path)
            await store._check()
            await store._migrate()
        except (sqlite3.Error, OSError) as exc:
            if db is not None:
                await db.close()
            cause = describe(exc, path) if isinstance(exc, sqlite3.Error) else f"The database {path} {exc}."
            raise StoreError(cause) from exc
        except BaseException:
            if db is not None:
                await db.close()
            raise
        return store

    async def _check(self) -> None:
        """Corruption shows in `quick_check`; a read-only file or a full disk only when written."""
        async with self._db.execute("PRAGMA quick_check") as cursor:
            row = await cursor.fetchone()
        if row is None or row[0] != "ok":
            raise sqlite3.DatabaseError(f"quick_check: {row[0] if row else 'no result'}")
        await self._db.execute("CREATE TABLE IF NOT EXISTS _writable (at REAL)")
        await self._db.execute("INSERT INTO _writable VALUES (?)", (time.time(),))
        await self._db.execute("DELETE FROM _writable")
        await self._db.commit()

    async def aclose(self) -> None:
        await self._db.close()

    async def _migrate(self) -> None:
        """Apply pending migrations while holding a lock file beside the database: two processes
        opening a new file at once (the bot and a host command, two shards) would otherwise both
        read "nothing applied" and the second would fail creating a table the first just made."""
        if str(self.path) == ":memory:":
            await migrate(self._db)
            return
        lock = os.open(self.path.with_name(f"{self.path.name}.migrating"), os.O_CREAT | os.O_RDWR, 0o600)
        try:
            await asyncio.to_thread(fcntl.flock, lock, fcntl.LOCK_EX)
            await migrate(self._db)
        finally:
            os.close(lock)  # closing the descriptor releases its lock

    async def applied_migrations(self) -> list[str]:
        async with self._db.execute("SELECT name FROM _migrations ORDER BY name") as cursor:
            return [row[0] for row in await cursor.fetchall()]
