"""Per-user rate limit and input length, checked before any work is queued.

Why at the edge and not in the engine: a user who floods the bot should hear "wait N seconds" at
once, without taking a place in the model's queue (which is shared by everyone and bounded).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict, deque
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
        self._hits: defaultdict[str, deque[float]] = defaultdict(deque)

    def hit(self, user_id: str) -> float:
        """Record a request and return 0, or return the seconds to wait (nothing recorded)."""
        now = self._clock()
        hits = self._hits[user_id]
        while hits and hits[0] <= now - WINDOW_S:
            hits.popleft()
        if len(hits) >= self.per_minute:
            return hits[0] + WINDOW_S - now
        hits.append(now)
        return 0.0


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
