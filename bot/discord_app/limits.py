"""Per-user rate limit and input length, checked before any work is queued.

Why at the edge and not in the engine: a user who floods the bot should hear "wait N seconds" at
once, without taking a place in the model's queue (which is shared by everyone and bounded).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

import discord

from bot.errors import InputError

WINDOW_S = 60.0
RATE_LIMITED = "You're asking faster than I can keep up - please wait {seconds} s and try again."
TOO_LONG = "That's {length} characters; please keep it under {limit} so I can answer it well."


class RateLimiter:
    """A sliding window: at most `per_minute` accepted requests per user in any 60 seconds."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._swept = clock()

    def __len__(self) -> int:
        """Users with an entry: only those seen in the last window (plus at most one more window)."""
        return len(self._hits)

    def hit(self, user_id: str) -> float:
        """Record a request and return 0, or return the seconds to wait (nothing recorded)."""
        now = self._clock()
        self._sweep(now)
        hits = self._hits.setdefault(user_id, deque())
        while hits and hits[0] <= now - WINDOW_S:
            hits.popleft()
        if len(hits) >= self.per_minute:
            return hits[0] + WINDOW_S - now
        hits.append(now)
        return 0.0

    def _sweep(self, now: float) -> None:
        """Forget users whose last request left the window, once per window: every user who ever
        wrote kept an entry before, so memory grew with the server's whole history."""
        if now - self._swept < WINDOW_S:
            return
        self._swept = now
        for user_id in [u for u, hits in self._hits.items() if not hits or hits[-1] <= now - WINDOW_S]:
            del self._hits[user_id]


def rate_limit_message(wait_s: float) -> str:
    return RATE_LIMITED.format(seconds=max(1, math.ceil(wait_s)))


def check_length(text: str, limit: int) -> None:
    """Refuse over-long input before it reaches retrieval or the model."""
    if len(text) > limit:
        raise InputError(TOO_LONG.format(length=len(text), limit=limit))


async def refuse_if_limited(interaction: discord.Interaction, limiter: RateLimiter) -> bool:
    """Apply the rate limit to a slash command or button (saying so, privately); True = stop."""
    wait = limiter.hit(str(interaction.user.id))
    if wait:
        await interaction.response.send_message(
            rate_limit_message(wait), ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )
    return bool(wait)
