"""The database's schema as named migrations, applied in order and recorded in `_migrations`.

An old database file is upgraded in place and a new one is built the same way (the simonw/llm
pattern). Never edit a migration that has shipped: add a new one.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

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


@migration
async def m009_audience_polls(db: aiosqlite.Connection) -> None:
    """Where a debate's two audience polls are and when the second closes (see _audience_polls)."""
    await db.executescript(
        """
        CREATE TABLE audience_polls (
            debate TEXT PRIMARY KEY,
            channel_id TEXT NOT NULL,
            motion TEXT NOT NULL,
            before_id TEXT NOT NULL,
            after_id TEXT,
            closes_at REAL,
            created_at REAL NOT NULL
        );
        """
    )


async def migrate(db: aiosqlite.Connection) -> None:
    """Apply every migration not yet recorded, each committed with its record."""
    await db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at REAL)")
    async with db.execute("SELECT name FROM _migrations") as cursor:
        done = {row[0] for row in await cursor.fetchall()}
    for name, apply in MIGRATIONS:
        if name in done:
            continue
        await apply(db)
        await db.execute("INSERT INTO _migrations VALUES (?, ?)", (name, time.time()))
        await db.commit()
