"""Answers as shown, and the 👍/👎 on them with reasons and notes (bot/feedback.py reads them)."""

from __future__ import annotations

import json
import time
from typing import Any, Literal

from bot.store._connection import StoreBase, guarded


class Feedback(StoreBase):
    """The shown_answers and feedback tables (m008)."""

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
    async def shown_record(self, answer_id: int) -> dict[str, Any] | None:
        """The record of a shown answer, or None once retention removed it."""
        async with self._db.execute("SELECT record FROM shown_answers WHERE id = ?", (answer_id,)) as cursor:
            row = await cursor.fetchone()
        return json.loads(row[0]) if row else None

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
