"""Discord's rate limits, as a client meets them
(https://discord.com/developers/docs/topics/rate-limits).

- Each route has a bucket, shared per major parameter (channel, webhook token): creating messages
  in one channel is one bucket, editing messages in it another. A bucket allows `limit` requests,
  then refuses until `Reset-After` seconds after its first request.
- Every response of a limited route carries `X-RateLimit-Limit`, `-Remaining`, `-Reset`,
  `-Reset-After` and `-Bucket`; a request over the limit gets 429 with `{"retry_after", "global"}`
  and Discord's `Via: 1.1 google` header (without it discord.py takes the 429 for a Cloudflare ban
  and raises at once instead of retrying).
- A global limit (50 requests a second by default) applies across routes; interaction callbacks
  are exempt, as on Discord.

Every 429 is recorded in `RateLimits.refused`, so a test can assert that the bot caused none.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

# (method, route template under /api/v10) -> (bucket name, limit, period in seconds, major parameter)
ROUTES: dict[tuple[str, str], tuple[str, int, float, str]] = {
    ("POST", "/channels/{channel}/messages"): ("create-message", 5, 5.0, "channel"),
    ("PATCH", "/channels/{channel}/messages/{message}"): ("edit-message", 5, 5.0, "channel"),
    ("DELETE", "/channels/{channel}/messages/{message}"): ("delete-message", 5, 5.0, "channel"),
    ("POST", "/channels/{channel}/typing"): ("typing", 5, 5.0, "channel"),
    ("POST", "/channels/{channel}/threads"): ("create-thread", 5, 5.0, "channel"),
    ("POST", "/channels/{channel}/messages/{message}/threads"): ("create-thread", 5, 5.0, "channel"),
    ("POST", "/webhooks/{app}/{token}"): ("webhook", 5, 5.0, "token"),
    ("GET", "/webhooks/{app}/{token}/messages/{message}"): ("webhook", 5, 5.0, "token"),
    ("PATCH", "/webhooks/{app}/{token}/messages/{message}"): ("webhook", 5, 5.0, "token"),
    ("DELETE", "/webhooks/{app}/{token}/messages/{message}"): ("webhook", 5, 5.0, "token"),
}
GLOBAL_EXEMPT = "/interactions/"
GLOBAL_PER_SECOND = 50


@dataclass
class Bucket:
    """A fixed window opened by its first request, as Discord's buckets behave."""

    name: str
    limit: int
    period: float
    used: int = 0
    resets_at: float = 0.0

    def take(self, now: float) -> bool:
        if now >= self.resets_at:
            self.used, self.resets_at = 0, now + self.period
        if self.used >= self.limit:
            return False
        self.used += 1
        return True

    def headers(self, now: float) -> dict[str, str]:
        reset_after = max(0.0, self.resets_at - now)
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, self.limit - self.used)),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": self.name,
        }


@dataclass(frozen=True)
class Refusal:
    """One 429: which request, and whether the global limit refused it."""

    method: str
    path: str
    bucket: str
    is_global: bool
    retry_after: float
    at: float


@dataclass
class Verdict:
    """What the limiter says about one request: headers to add, or a 429 to answer instead."""

    headers: dict[str, str] = field(default_factory=dict)
    retry_after: float | None = None
    is_global: bool = False

    def body(self) -> dict[str, object]:
        return {
            "message": "You are being rate limited.",
            "retry_after": self.retry_after,
            "global": self.is_global,
        }

    def refusal_headers(self) -> dict[str, str]:
        assert self.retry_after is not None
        return {
            **self.headers,
            "Retry-After": str(math.ceil(self.retry_after)),
            "Via": "1.1 google",
            "X-RateLimit-Scope": "global" if self.is_global else "user",
            **({"X-RateLimit-Global": "true"} if self.is_global else {}),
        }


class RateLimits:
    """The buckets of one imitated Discord. `enabled = False` switches every limit off."""

    def __init__(self, global_per_second: int = GLOBAL_PER_SECOND) -> None:
        self.enabled = True
        self.global_bucket = Bucket("global", global_per_second, 1.0)
        self.buckets: dict[tuple[str, str], Bucket] = {}
        self.refused: list[Refusal] = []

    def check(self, method: str, template: str, path: str, params: dict[str, str]) -> Verdict:
        """Count the request against its bucket and the global limit."""
        if not self.enabled:
            return Verdict()
        now = time.monotonic()
        if GLOBAL_EXEMPT not in path and not self.global_bucket.take(now):
            return self._refuse(method, path, self.global_bucket, now, is_global=True)
        rule = ROUTES.get((method, template))
        if rule is None:
            return Verdict()
        name, limit, period, major = rule
        key = (name, params.get(major, ""))
        bucket = self.buckets.setdefault(key, Bucket(f"{name}-{key[1]}"[:64], limit, period))
        if not bucket.take(now):
            return self._refuse(method, path, bucket, now, is_global=False)
        return Verdict(headers=bucket.headers(now))

    def _refuse(self, method: str, path: str, bucket: Bucket, now: float, *, is_global: bool) -> Verdict:
        retry_after = round(max(0.001, bucket.resets_at - now), 3)
        self.refused.append(Refusal(method, path, bucket.name, is_global, retry_after, now))
        headers = {} if is_global else bucket.headers(now)
        return Verdict(headers=headers, retry_after=retry_after, is_global=is_global)
