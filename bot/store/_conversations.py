"""Conversations and their turns, the links from Discord messages to them, and the replies still
being written.

Durability: a question is stored as a *pending* turn before the model starts on it, and its answer
is marked complete, cut off or failed when generation ends (`exchange`), so a crash loses no
question; only complete exchanges are fed back to the model. Replies being streamed are recorded
(`track_reply`) until they are final, so the next start can mark the ones a dead process left
behind.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

from bot.errors import StoreError
from bot.store._connection import StoreBase, guarded


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


class Conversations(StoreBase):
    """The conversation tables (m001, m002, m005, m006)."""

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
