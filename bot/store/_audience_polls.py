"""The audience's votes on a debate's motion: which messages hold the two native polls (before the
first speech, after the judge) and when the second closes, so a restart can still close it and
report the swing. The votes themselves stay Discord's; only where to read them is kept here."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.store._connection import StoreBase, guarded


@dataclass(frozen=True, slots=True)
class AudiencePolls:
    """One debate's polls: `after_id` and `closes_at` are None until the judge has spoken."""

    debate: str
    channel_id: int
    motion: str
    before_id: int
    after_id: int | None = None
    closes_at: float | None = None  # wall-clock time (it must mean the same after a restart)


class AudiencePollStore(StoreBase):
    """The audience_polls table (m009)."""

    @guarded
    async def polls_opened(self, debate: str, channel_id: int, motion: str, before_id: int) -> None:
        await self._db.execute(
            "INSERT OR REPLACE INTO audience_polls VALUES (?, ?, ?, ?, NULL, NULL, ?)",
            (debate, str(channel_id), motion, str(before_id), time.time()),
        )
        await self._db.commit()

    @guarded
    async def second_poll_opened(self, debate: str, after_id: int, closes_at: float) -> None:
        await self._db.execute(
            "UPDATE audience_polls SET after_id = ?, closes_at = ? WHERE debate = ?",
            (str(after_id), closes_at, debate),
        )
        await self._db.commit()

    @guarded
    async def polls_done(self, debate: str) -> None:
        await self._db.execute("DELETE FROM audience_polls WHERE debate = ?", (debate,))
        await self._db.commit()

    @guarded
    async def open_audience_polls(self) -> list[AudiencePolls]:
        """Every debate whose polls were not yet reported, oldest first."""
        async with self._db.execute(
            "SELECT debate, channel_id, motion, before_id, after_id, closes_at FROM audience_polls "
            "ORDER BY created_at"
        ) as cursor:
            rows = await cursor.fetchall()
        return [
            AudiencePolls(r[0], int(r[1]), r[2], int(r[3]), int(r[4]) if r[4] else None, r[5]) for r in rows
        ]
