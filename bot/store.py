"""SQLite persistence (aiosqlite, WAL): conversations and their turns, message links, the briefing
cache, the reload log, the replies still being written, and the answers shown with their 👍/👎.

Durability: a question is stored as a *pending* turn before the model starts on it, and its answer
is marked complete, cut off or failed when generation ends (`Store.exchange`), so a crash loses no
question; only complete exchanges are fed back to the model. Replies being streamed are recorded
(`track_reply`) until they are final, so the next start can mark the ones a dead process left
behind. Every SQLite failure becomes a `StoreError` carrying one sentence for the user or operator.

Schema changes are named migrations applied in order and recorded in `_migrations`, so an old
database file is upgraded in place and a new one is built the same way (the simonw/llm pattern).
Never edit a migration that has shipped: add a new one.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import aiosqlite

from bot.errors import StoreError

log = logging.getLogger(__name__)

MAX_AUDIT_ROWS = 10_000  # attempts kept in the /prompts audit log (accepted changes are all kept)

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


@migration
async def m005_turn_status(db: aiosqlite.Connection) -> None:
    """A question is stored before its answer exists: 'pending' until the answer is 'complete',
    'cut_off' (stopped mid-way) or 'failed'. Turns stored before this migration were complete."""
    await db.executescript(
        """
        ALTER TABLE turns ADD COLUMN status TEXT NOT NULL DEFAULT 'complete'
            CHECK (status IN ('pending', 'complete', 'cut_off', 'failed'));
        """
    )


@migration
async def m006_open_replies(db: aiosqlite.Connection) -> None:
    """Bot messages still being written (placeholders, previews), so a restart can finish them."""
    await db.executescript(
        """
        CREATE TABLE open_replies (
            channel_id TEXT NOT NULL,
            message_id TEXT NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (channel_id, message_id)
        );
        """
    )


@migration
async def m007_prompt_history(db: aiosqlite.Connection) -> None:
    """Prompt files changed from Discord: every accepted version of the whole set (its manifest of
    file -> content hash), the files each change touched with their previous and new hash, the
    contents themselves stored once per hash, and an audit log of every attempt, refused ones too."""
    await db.executescript(
        """
        CREATE TABLE prompt_blobs (
            hash TEXT PRIMARY KEY,     -- sha256 of the bytes
            content BLOB NOT NULL
        );
        CREATE TABLE prompt_changes (
            id INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,      -- baseline, reload, put, delete, rollback
            detail TEXT NOT NULL,
            prompt_version TEXT NOT NULL,
            set_hash TEXT NOT NULL,    -- content address of the whole set
            manifest TEXT NOT NULL     -- JSON {"folder/name": hash}
        );
        CREATE INDEX prompt_changes_by_set ON prompt_changes(set_hash);
        CREATE TABLE prompt_change_files (
            change_id INTEGER NOT NULL REFERENCES prompt_changes(id),
            path TEXT NOT NULL,
            old_hash TEXT,             -- NULL: the file was added
            new_hash TEXT,             -- NULL: the file was removed
            PRIMARY KEY (change_id, path)
        );
        CREATE INDEX prompt_change_files_by_path ON prompt_change_files(path, change_id);
        CREATE TABLE prompt_audit (
            id INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            outcome TEXT NOT NULL,     -- shown, previewed, accepted, refused, cancelled, failed
            detail TEXT NOT NULL
        );
        """
    )


@migration
async def m008_answer_feedback(db: aiosqlite.Connection) -> None:
    """Every final answer, brief, fact-check and debate speech shown on Discord, exactly as shown
    and with what it rested on, so a 👍/👎 on it (one per user, changeable) keeps that context even
    after the conversation moved on. Rows are per server (`guild_id`, '' in DMs)."""
    await db.executescript(
        """
        CREATE TABLE shown_answers (
            id INTEGER PRIMARY KEY,
            guild_id TEXT NOT NULL,
            asker_id TEXT NOT NULL,
            record TEXT NOT NULL,      -- JSON: mode, question, answer, passages, decision, model, ...
            created_at REAL NOT NULL
        );
        CREATE TABLE feedback (
            answer_id INTEGER NOT NULL REFERENCES shown_answers(id) ON DELETE CASCADE,
            user_id TEXT NOT NULL,
            vote TEXT NOT NULL CHECK (vote IN ('up', 'down')),
            reason TEXT NOT NULL DEFAULT '',
            note TEXT NOT NULL DEFAULT '',
            at REAL NOT NULL,
            PRIMARY KEY (answer_id, user_id)
        );
        CREATE INDEX shown_answers_by_guild ON shown_answers(guild_id, id);
        CREATE INDEX shown_answers_by_time ON shown_answers(created_at);
        """
    )


# --- failures ----------------------------------------------------------------------------------

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

    @functools.wraps(method)
    async def wrapper(self: Store, *args: Any, **kwargs: Any) -> R:
        try:
            return await method(self, *args, **kwargs)
        except (sqlite3.Error, ValueError) as exc:  # aiosqlite raises ValueError once closed
            with contextlib.suppress(sqlite3.Error, ValueError):
                await self._db.rollback()  # a half-done write must not be committed by the next one
            cause = describe(exc, self.path) if isinstance(exc, sqlite3.Error) else f"closed ({exc})"
            log.error("database failure in %s: %s", method.__name__, cause)
            raise StoreError(STORE_DOWN, cause) from exc

    return wrapper


@dataclass(frozen=True, slots=True)
class Turn:
    role: Literal["user", "assistant"]
    content: str
    display: str
    meta: dict[str, Any]


TurnStatus = Literal["pending", "complete", "cut_off", "failed"]


@dataclass(slots=True)
class Exchange:
    """A question stored as pending (see `Store.exchange`); `answered` records its answer."""

    turn_id: int
    answer: Turn | None = None
    status: TurnStatus = "complete"

    def answered(self, answer: Turn, *, cut_off: bool = False) -> None:
        self.answer = answer
        self.status = "cut_off" if cut_off else "complete"


@dataclass(frozen=True, slots=True)
class PromptChange:
    """One accepted version of the prompt set (see m007_prompt_history)."""

    actor: str
    action: str
    detail: str
    prompt_version: str
    set_hash: str
    manifest: dict[str, str]  # "folder/name" -> sha256 of its bytes
    files: list[tuple[str, str | None, str | None]]  # (path, previous hash, new hash)
    id: int = 0
    at: float = 0.0


class Store:
    """The bot's database. Open with `await Store.open(path)`; one instance per process."""

    def __init__(self, db: aiosqlite.Connection, path: Path) -> None:
        self._db = db
        self.path = path

    @classmethod
    async def open(cls, path: Path) -> Store:
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

    @guarded
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

    @contextlib.asynccontextmanager
    async def exchange(
        self, conversation_id: str, question: Turn, partial: list[str] | None = None
    ) -> AsyncIterator[Exchange]:
        """Store `question` as a pending turn now; settle it when the block ends.

        Inside the block the caller generates and calls `exchange.answered(turn)`. A normal exit
        stores the answer and marks the exchange complete (or cut off, if `answered` said so); an
        exception marks it failed, and a cancellation or a closed stream (GeneratorExit) cut off,
        keeping what `partial` holds so far. The question survives a crash as 'pending'.
        """
        exchange = Exchange(await self._begin(conversation_id, question))
        try:
            yield exchange
        except BaseException as exc:
            status: TurnStatus = "failed" if isinstance(exc, Exception) else "cut_off"
            text = "".join(partial or [])
            with contextlib.suppress(StoreError):  # already logged; the original error matters more
                await self._settle(
                    exchange.turn_id, status, Turn("assistant", text, text, {}) if text else None
                )
            raise
        if exchange.answer is None:
            raise RuntimeError("an exchange ended without an answer")
        await self._settle(exchange.turn_id, exchange.status, exchange.answer)

    @guarded
    async def _begin(self, conversation_id: str, question: Turn) -> int:
        now = time.time()
        await self._db.execute(
            "INSERT INTO conversations VALUES (?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET updated_at = excluded.updated_at",
            (conversation_id, now, now),
        )
        cursor = await self._db.execute(
            "INSERT INTO turns (conversation_id, role, content, display, meta, created_at, status) "
            "VALUES (?, ?, ?, ?, ?, ?, 'pending')",
            (
                conversation_id,
                question.role,
                question.content,
                question.display,
                json.dumps(question.meta),
                now,
            ),
        )
        await self._db.commit()
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    @guarded
    async def _settle(self, turn_id: int, status: TurnStatus, answer: Turn | None) -> None:
        """Mark the question `status` and store its answer (if any) with the same status, at once."""
        now = time.time()
        await self._db.execute("UPDATE turns SET status = ? WHERE id = ?", (status, turn_id))
        if answer is not None:
            await self._db.execute(
                "INSERT INTO turns (conversation_id, role, content, display, meta, created_at, status) "
                "SELECT conversation_id, ?, ?, ?, ?, ?, ? FROM turns WHERE id = ?",
                (answer.role, answer.content, answer.display, json.dumps(answer.meta), now, status, turn_id),
            )
        await self._db.commit()

    @guarded
    async def turns(self, conversation_id: str) -> list[tuple[str, str, TurnStatus]]:
        """Every stored turn as (role, display, status), oldest first: the record, not the history."""
        async with self._db.execute(
            "SELECT role, display, status FROM turns WHERE conversation_id = ? ORDER BY id",
            (conversation_id,),
        ) as cursor:
            return [(r[0], r[1], r[2]) for r in await cursor.fetchall()]

    @guarded
    async def history(self, conversation_id: str, limit: int = 40) -> list[Turn]:
        """The last `limit` turns of complete exchanges, oldest first: a question still pending, or
        whose answer was cut off or failed, is never fed back to the model."""
        async with self._db.execute(
            "SELECT role, content, display, meta FROM turns "
            "WHERE conversation_id = ? AND status = 'complete' ORDER BY id DESC LIMIT ?",
            (conversation_id, limit),
        ) as cursor:
            rows = list(await cursor.fetchall())
        return [Turn(role=r[0], content=r[1], display=r[2], meta=json.loads(r[3])) for r in reversed(rows)]

    @guarded
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

    @guarded
    async def link_message(self, message_id: str, conversation_id: str) -> None:
        await self._db.execute(
            "INSERT OR REPLACE INTO message_links VALUES (?, ?, ?)",
            (message_id, conversation_id, time.time()),
        )
        await self._db.commit()

    @guarded
    async def conversation_for_message(self, message_id: str) -> str | None:
        async with self._db.execute(
            "SELECT conversation_id FROM message_links WHERE message_id = ?", (message_id,)
        ) as cursor:
            row = await cursor.fetchone()
        return row[0] if row else None

    # --- replies being written (placeholders and previews on Discord) ------------------------------

    @guarded
    async def track_reply(self, channel_id: int, message_id: int) -> None:
        """Remember a reply that is not final yet, so a restart can tell its reader it was cut off."""
        await self._db.execute(
            "INSERT OR REPLACE INTO open_replies VALUES (?, ?, ?)",
            (str(channel_id), str(message_id), time.time()),
        )
        await self._db.commit()

    @guarded
    async def untrack_reply(self, channel_id: int, message_id: int) -> None:
        await self._db.execute(
            "DELETE FROM open_replies WHERE channel_id = ? AND message_id = ?",
            (str(channel_id), str(message_id)),
        )
        await self._db.commit()

    @guarded
    async def open_replies(self) -> list[tuple[int, int]]:
        """(channel id, message id) of every reply left unfinished, oldest first."""
        async with self._db.execute(
            "SELECT channel_id, message_id FROM open_replies ORDER BY created_at"
        ) as cursor:
            return [(int(r[0]), int(r[1])) for r in await cursor.fetchall()]

    # --- briefing cache ---------------------------------------------------------------------------

    @guarded
    async def cached_briefing(self, prompt_version: str, key: str) -> dict[str, Any] | None:
        async with self._db.execute(
            "SELECT payload FROM briefing_cache WHERE prompt_version = ? AND key = ?", (prompt_version, key)
        ) as cursor:
            row = await cursor.fetchone()
        return json.loads(row[0]) if row else None

    @guarded
    async def cache_briefing(self, prompt_version: str, key: str, payload: dict[str, Any]) -> None:
        await self._db.execute(
            "INSERT OR REPLACE INTO briefing_cache VALUES (?, ?, ?, ?)",
            (prompt_version, key, json.dumps(payload), time.time()),
        )
        # Entries of older prompt versions can never be served again: drop them.
        await self._db.execute("DELETE FROM briefing_cache WHERE prompt_version != ?", (prompt_version,))
        await self._db.commit()

    # --- prompt files changed from Discord (bot/prompt_admin) -----------------------------------

    @guarded
    async def add_prompt_change(self, change: PromptChange, blobs: dict[str, bytes]) -> int:
        """Record an accepted version with the contents it needs (each stored once per hash)."""
        await self._db.executemany("INSERT OR IGNORE INTO prompt_blobs VALUES (?, ?)", list(blobs.items()))
        cursor = await self._db.execute(
            "INSERT INTO prompt_changes (at, actor, action, detail, prompt_version, set_hash, manifest) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                time.time(),
                change.actor,
                change.action,
                change.detail,
                change.prompt_version,
                change.set_hash,
                json.dumps(change.manifest, sort_keys=True),
            ),
        )
        change_id = cursor.lastrowid
        await self._db.executemany(
            "INSERT INTO prompt_change_files VALUES (?, ?, ?, ?)",
            [(change_id, path, old, new) for path, old, new in change.files],
        )
        await self._db.commit()
        assert change_id is not None
        return change_id

    @guarded
    async def prompt_changes(
        self, *, path: str | None = None, ref: str | None = None, limit: int = 20
    ) -> list[PromptChange]:
        """Accepted versions, newest first: all, those that touched `path`, or the one `ref` names
        (`#12` / `12`, or a prefix of its set hash)."""
        where, args = "", []
        if path is not None:
            where = "WHERE id IN (SELECT change_id FROM prompt_change_files WHERE path = ?)"
            args.append(path)
        elif ref is not None:
            number = ref.removeprefix("#")
            where = "WHERE id = ?" if number.isdigit() else "WHERE set_hash LIKE ? || '%'"
            args.append(number if number.isdigit() else ref.lower())
        async with self._db.execute(
            "SELECT id, at, actor, action, detail, prompt_version, set_hash, manifest FROM prompt_changes "
            f"{where} ORDER BY id DESC LIMIT ?",
            (*args, limit),
        ) as cursor:
            rows = await cursor.fetchall()
        changes = []
        for r in rows:
            async with self._db.execute(
                "SELECT path, old_hash, new_hash FROM prompt_change_files WHERE change_id = ? ORDER BY path",
                (r[0],),
            ) as cursor:
                files = [(f[0], f[1], f[2]) for f in await cursor.fetchall()]
            changes.append(
                PromptChange(r[2], r[3], r[4], r[5], r[6], json.loads(r[7]), files, id=r[0], at=r[1])
            )
        return changes

    @guarded
    async def prompt_blob(self, content_hash: str) -> bytes | None:
        async with self._db.execute(
            "SELECT content FROM prompt_blobs WHERE hash = ?", (content_hash,)
        ) as cursor:
            row = await cursor.fetchone()
        return bytes(row[0]) if row else None

    @guarded
    async def prompt_file_changes(self) -> list[tuple[str, str, float, str, str]]:
        """(path, new hash, when, who, action) of every recorded file change, oldest first."""
        async with self._db.execute(
            "SELECT f.path, f.new_hash, c.at, c.actor, c.action FROM prompt_change_files f "
            "JOIN prompt_changes c ON c.id = f.change_id WHERE f.new_hash IS NOT NULL ORDER BY c.id"
        ) as cursor:
            return [(r[0], r[1], r[2], r[3], r[4]) for r in await cursor.fetchall()]

    @guarded
    async def record_prompt_attempt(
        self, *, actor: str, action: str, target: str, outcome: str, detail: str = ""
    ) -> None:
        await self._db.execute(
            "INSERT INTO prompt_audit (at, actor, action, target, outcome, detail) VALUES (?, ?, ?, ?, ?, ?)",
            (time.time(), actor, action, target, outcome, detail),
        )
        # Bounded: anyone can try /prompts, so only the newest MAX_AUDIT_ROWS attempts are kept.
        await self._db.execute(
            "DELETE FROM prompt_audit WHERE id <= (SELECT MAX(id) FROM prompt_audit) - ?", (MAX_AUDIT_ROWS,)
        )
        await self._db.commit()

    @guarded
    async def prompt_attempts(self, limit: int = 50) -> list[dict[str, Any]]:
        """The audit log of `/prompts`, newest first."""
        async with self._db.execute(
            "SELECT at, actor, action, target, outcome, detail FROM prompt_audit ORDER BY id DESC LIMIT ?",
            (limit,),
        ) as cursor:
            rows = await cursor.fetchall()
        keys = ("at", "actor", "action", "target", "outcome", "detail")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    # --- reload log ----------------------------------------------------------------------------

    @guarded
    async def record_reload(
        self, *, actor: str, ok: bool, version: str, content_hash: str, summary: dict[str, Any]
    ) -> None:
        await self._db.execute(
            "INSERT INTO reloads (actor, at, ok, version, content_hash, summary) VALUES (?, ?, ?, ?, ?, ?)",
            (actor, time.time(), int(ok), version, content_hash, json.dumps(summary)),
        )
        await self._db.commit()

    @guarded
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

    # --- answers shown and their feedback (👍/👎) -------------------------------------------------

    @guarded
    async def record_shown(self, guild_id: str, asker_id: str, record: dict[str, Any]) -> int:
        """Keep an answer as shown (see m008_answer_feedback); its id goes into the feedback buttons'
        custom ids."""
        cursor = await self._db.execute(
            "INSERT INTO shown_answers (guild_id, asker_id, record, created_at) VALUES (?, ?, ?, ?)",
            (guild_id, asker_id, json.dumps(record), time.time()),
        )
        await self._db.commit()
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    @guarded
    async def set_vote(self, answer_id: int, user_id: str, vote: Literal["up", "down"]) -> bool:
        """One vote per user per answer: a second click replaces the first (a 👍 clears the reason
        and note a 👎 had). False when the answer is no longer on record (retention removed it)."""
        async with self._db.execute("SELECT 1 FROM shown_answers WHERE id = ?", (answer_id,)) as cursor:
            if await cursor.fetchone() is None:
                return False
        await self._db.execute(
            "INSERT INTO feedback (answer_id, user_id, vote, at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(answer_id, user_id) DO UPDATE SET vote = excluded.vote, at = excluded.at, "
            "reason = CASE WHEN excluded.vote = feedback.vote THEN feedback.reason ELSE '' END, "
            "note = CASE WHEN excluded.vote = feedback.vote THEN feedback.note ELSE '' END",
            (answer_id, user_id, vote, time.time()),
        )
        await self._db.commit()
        return True

    @guarded
    async def explain_vote(
        self, answer_id: int, user_id: str, *, reason: str | None = None, note: str | None = None
    ) -> bool:
        """Add what was wrong to a user's 👎 (a reason, a note, or both). False without that 👎."""
        cursor = await self._db.execute(
            "UPDATE feedback SET reason = COALESCE(?, reason), note = COALESCE(?, note) "
            "WHERE answer_id = ? AND user_id = ? AND vote = 'down'",
            (reason, note, answer_id, user_id),
        )
        await self._db.commit()
        return cursor.rowcount > 0

    @guarded
    async def feedback_rows(
        self, guild_id: str | None, *, vote: str = "down", reason: str = "", limit: int = 10, offset: int = 0
    ) -> tuple[int, list[dict[str, Any]]]:
        """(how many match, the page of them newest first): votes with their answer's record.
        `guild_id` None means every server (the console); `reason` '' means any reason."""
        where = "f.vote = ? AND (? = '' OR f.reason = ?) AND (? IS NULL OR a.guild_id = ?)"
        args = (vote, reason, reason, guild_id, guild_id)
        joined = "FROM feedback f JOIN shown_answers a ON a.id = f.answer_id WHERE " + where
        async with self._db.execute(f"SELECT COUNT(*) {joined}", args) as cursor:
            row = await cursor.fetchone()
        total = row[0] if row else 0
        async with self._db.execute(
            "SELECT f.answer_id, f.user_id, f.vote, f.reason, f.note, f.at, a.guild_id, a.asker_id, "
            f"a.record {joined} ORDER BY f.at DESC, f.answer_id DESC LIMIT ? OFFSET ?",
            (*args, limit, offset),
        ) as cursor:
            rows = await cursor.fetchall()
        keys = ("answer_id", "user_id", "vote", "reason", "note", "at", "guild_id", "asker_id")
        return total, [{**dict(zip(keys, r[:8], strict=True)), "record": json.loads(r[8])} for r in rows]

    async def forget_feedback_before(self, cutoff: float) -> int:
        """Delete answers shown before `cutoff`, and their votes (CONVERSATION_RETENTION_DAYS)."""
        await self._db.execute(
            "DELETE FROM feedback WHERE answer_id IN (SELECT id FROM shown_answers WHERE created_at < ?)",
            (cutoff,),
        )
        cursor = await self._db.execute("DELETE FROM shown_answers WHERE created_at < ?", (cutoff,))
        await self._db.commit()
        return cursor.rowcount

    @guarded
    async def set_expected(self, answer_id: int, guild_id: str, expect: list[list[str]]) -> bool:
        """A moderator's expected facts for a kept answer's question (used by the eval export).
        False when no such answer is kept for that server."""
        cursor = await self._db.execute(
            "UPDATE shown_answers SET record = json_set(record, '$.expect', json(?)) "
            "WHERE id = ? AND guild_id = ?",
            (json.dumps(expect), answer_id, guild_id),
        )
        await self._db.commit()
        return cursor.rowcount > 0
