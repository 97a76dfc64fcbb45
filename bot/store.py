"""SQLite persistence (aiosqlite, WAL): conversations and their turns, message links, the briefing
cache and the reload log.

Schema changes are named migrations applied in order and recorded in `_migrations`, so an old
database file is upgraded in place and a new one is built the same way (the simonw/llm pattern).
Never edit a migration that has shipped: add a new one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import aiosqlite

Migration = Callable[[aiosqlite.Connection], Awaitable[None]]
MIGRATIONS: list[tuple[str, Migration]] = []


def migration(func: Migration) -> Migration:
    """Register a migration; its function name is the recorded, never-reused identifier."""
    MIGRATIONS.append((func.__name__, func))
    return func


@migration
async def m001_conversations(db: aiosqlite.Connection) -> None:
    await db.executescript(
        """
        CREATE TABLE conversations (
            id TEXT PRIMARY KEY,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE TABLE turns (
            id INTEGER PRIMARY KEY,
            conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
            content TEXT NOT NULL,   -- exactly what the model saw/wrote (keeps the KV prefix identical)
            display TEXT NOT NULL,   -- what the person typed / the cleaned answer
            meta TEXT NOT NULL DEFAULT '{}',
            created_at REAL NOT NULL
        );
        CREATE INDEX turns_by_conversation ON turns(conversation_id, id);
        """
    )


@migration
async def m002_message_links(db: aiosqlite.Connection) -> None:
    await db.executescript(
        """
        CREATE TABLE message_links (
            message_id TEXT PRIMARY KEY,
            conversation_id TEXT NOT NULL,
            created_at REAL NOT NULL
        );
        """
    )


@migration
async def m003_briefing_cache(db: aiosqlite.Connection) -> None:
    await db.executescript(
        """
        CREATE TABLE briefing_cache (
            prompt_version TEXT NOT NULL,
            key TEXT NOT NULL,
            payload TEXT NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (prompt_version, key)
        );
        """
    )


@migration
async def m004_reloads(db: aiosqlite.Connection) -> None:
    await db.executescript(
        """
        CREATE TABLE reloads (
            id INTEGER PRIMARY KEY,
            actor TEXT NOT NULL,
            at REAL NOT NULL,
            ok INTEGER NOT NULL,
            version TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            summary TEXT NOT NULL
        );
        """
    )


@dataclass(frozen=True, slots=True)
class Turn:
    role: Literal["user", "assistant"]
    content: str
    display: str
    meta: dict[str, Any]


class Store:
    """The bot's database. Open with `await Store.open(path)`; one instance per process."""

    def __init__(self, db: aiosqlite.Connection, path: Path) -> None:
        self._db = db
        self.path = path

    @classmethod
    async def open(cls, path: Path) -> Store:
        """Open (creating folders and file as needed), enable WAL, apply pending migrations."""
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(path)
        try:
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute("PRAGMA foreign_keys=ON")
            await db.execute("PRAGMA busy_timeout=5000")
            store = cls(db, path)
            await store._migrate()
        except Exception:
            await db.close()
            raise
        return store

    async def aclose(self) -> None:
        await self._db.close()

    async def _migrate(self) -> None:
        await self._db.execute(
            "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at REAL)"
        )
        async with self._db.execute("SELECT name FROM _migrations") as cursor:
            done = {row[0] for row in await cursor.fetchall()}
        for name, apply in MIGRATIONS:
            if name in done:
                continue
            await apply(self._db)
            await self._db.execute("INSERT INTO _migrations VALUES (?, ?)", (name, time.time()))
            await self._db.commit()

    async def applied_migrations(self) -> list[str]:
        async with self._db.execute("SELECT name FROM _migrations ORDER BY name") as cursor:
            return [row[0] for row in await cursor.fetchall()]

    # --- conversations ---------------------------------------------------------------------------

    async def add_turns(self, conversation_id: str, turns: list[Turn]) -> None:
        """Append turns atomically (a question and its answer land together or not at all)."""
        now = time.time()
        await self._db.execute(
            "INSERT INTO conversations VALUES (?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET updated_at = excluded.updated_at",
            (conversation_id, now, now),
        )
        await self._db.executemany(
            "INSERT INTO turns (conversation_id, role, content, display, meta, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(conversation_id, t.role, t.content, t.display, json.dumps(t.meta), now) for t in turns],
        )
        await self._db.commit()

    async def history(self, conversation_id: str, limit: int = 40) -> list[Turn]:
        """The last `limit` turns, oldest first."""
        async with self._db.execute(
            "SELECT role, content, display, meta FROM turns "
            "WHERE conversation_id = ? ORDER BY id DESC LIMIT ?",
            (conversation_id, limit),
        ) as cursor:
            rows = await cursor.fetchall()
        return [Turn(role=r[0], content=r[1], display=r[2], meta=json.loads(r[3])) for r in reversed(rows)]

    async def reset(self, conversation_id: str) -> None:
        await self._db.execute("DELETE FROM turns WHERE conversation_id = ?", (conversation_id,))
        await self._db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
        await self._db.commit()

    async def forget_conversations_before(self, cutoff: float) -> int:
        """Delete conversations last updated before `cutoff` (a `time.time()`), with their turns and
        message links, in one transaction; return how many. For CONVERSATION_RETENTION_DAYS."""
        old = "SELECT id FROM conversations WHERE updated_at < ?"
        await self._db.execute(f"DELETE FROM message_links WHERE conversation_id IN ({old})", (cutoff,))
        # Links as old whose conversation never stored a turn (a reply that failed) are as stale.
        await self._db.execute(
            "DELETE FROM message_links WHERE created_at < ? "
            "AND conversation_id NOT IN (SELECT id FROM conversations)",
            (cutoff,),
        )
        await self._db.execute(f"DELETE FROM turns WHERE conversation_id IN ({old})", (cutoff,))
        cursor = await self._db.execute("DELETE FROM conversations WHERE updated_at < ?", (cutoff,))
        await self._db.commit()
        return cursor.rowcount

    # --- message links (Discord reply chains) ----------------------------------------------------

    async def link_message(self, message_id: str, conversation_id: str) -> None:
        await self._db.execute(
            "INSERT OR REPLACE INTO message_links VALUES (?, ?, ?)",
            (message_id, conversation_id, time.time()),
        )
        await self._db.commit()

    async def conversation_for_message(self, message_id: str) -> str | None:
        async with self._db.execute(
            "SELECT conversation_id FROM message_links WHERE message_id = ?", (message_id,)
        ) as cursor:
            row = await cursor.fetchone()
        return row[0] if row else None

    # --- briefing cache ---------------------------------------------------------------------------

    async def cached_briefing(self, prompt_version: str, key: str) -> dict[str, Any] | None:
        async with self._db.execute(
            "SELECT payload FROM briefing_cache WHERE prompt_version = ? AND key = ?", (prompt_version, key)
        ) as cursor:
            row = await cursor.fetchone()
        return json.loads(row[0]) if row else None

    async def cache_briefing(self, prompt_version: str, key: str, payload: dict[str, Any]) -> None:
        await self._db.execute(
            "INSERT OR REPLACE INTO briefing_cache VALUES (?, ?, ?, ?)",
            (prompt_version, key, json.dumps(payload), time.time()),
        )
        # Entries of older prompt versions can never be served again: drop them.
        await self._db.execute("DELETE FROM briefing_cache WHERE prompt_version != ?", (prompt_version,))
        await self._db.commit()

    # --- reload log ----------------------------------------------------------------------------

    async def record_reload(
        self, *, actor: str, ok: bool, version: str, content_hash: str, summary: dict[str, Any]
    ) -> None:
        await self._db.execute(
            "INSERT INTO reloads (actor, at, ok, version, content_hash, summary) VALUES (?, ?, ?, ?, ?, ?)",
            (actor, time.time(), int(ok), version, content_hash, json.dumps(summary)),
        )
        await self._db.commit()

    async def reloads(self, limit: int = 20) -> list[dict[str, Any]]:
        async with self._db.execute(
            "SELECT actor, at, ok, version, content_hash, summary FROM reloads ORDER BY id DESC LIMIT ?",
            (limit,),
        ) as cursor:
            rows = await cursor.fetchall()
        return [
            {
                "actor": r[0],
                "at": r[1],
                "ok": bool(r[2]),
                "version": r[3],
                "content_hash": r[4],
                "summary": json.loads(r[5]),
            }
            for r in rows
        ]
