"""Deleting conversations nobody has touched for CONVERSATION_RETENTION_DAYS (0, the default, keeps
everything), and the answers kept for feedback (with their votes and notes) older than that.

Why: every thread, DM and mention is a stored conversation, so without a limit the database grows
with the server's whole history. Applied once when the service opens, then every
RETENTION_INTERVAL_S while it runs.
"""

from __future__ import annotations

import asyncio
import logging
import time

from bot.store import Store

RETENTION_INTERVAL_S = 3600.0
DAY_S = 86_400.0

log = logging.getLogger(__name__)


async def forget_old_conversations(store: Store, days: float, *, now: float | None = None) -> int:
    """Delete conversations idle for more than `days` (none when `days` is 0); return how many."""
    if days <= 0:
        return 0
    cutoff = (time.time() if now is None else now) - days * DAY_S
    removed = await store.forget_conversations_before(cutoff)
    if removed:
        log.info("retention: deleted %d conversations idle for over %g days", removed, days)
    # Answers kept for feedback (with their votes and notes) follow the same setting.
    if shown := await store.forget_feedback_before(cutoff):
        log.info("retention: deleted %d answers (and their feedback) older than %g days", shown, days)
    return removed


async def keep_forgetting(store: Store, days: float, interval_s: float = RETENTION_INTERVAL_S) -> None:
    """Apply the retention every `interval_s` until cancelled. A failure (a busy or read-only
    database) is logged and tried again next time: retention must never stop the bot."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await forget_old_conversations(store, days)
        except Exception:
            log.warning("retention: could not delete old conversations", exc_info=True)


__all__ = ["RETENTION_INTERVAL_S", "forget_old_conversations", "keep_forgetting"]
