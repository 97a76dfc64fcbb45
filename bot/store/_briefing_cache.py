"""The briefing cache: finished briefings keyed by the prompt-set version and a request key."""

from __future__ import annotations

import json
import time
from typing import Any

from bot.store._connection import StoreBase, guarded


class BriefingCache(StoreBase):
    """The briefing_cache table (m003). Only the newest prompt version's entries are kept."""

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
