"""What goes wrong talking to a model server, and who reads about it.

Two readers, two texts. The person in the Discord channel gets one short sentence that says what to
do (try again, ask again); it never carries the base URL (it may hold credentials), the server's own
error text (a stack trace, a file path) or setting names (they mean nothing to them). The operator
gets all of that in the log, with the URL's credentials and query string removed.

`ServerProblem` is raised inside the engine with a `kind` and the operator's detail; the engine turns
it into the user's `BackendError` at one place, where it knows whether part of an answer was already
shown (then the sentence says the answer is incomplete, and the shown part stays).
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
import time
from typing import Literal

import aiohttp
import yarl

from bot.errors import BackendError

log = logging.getLogger("bot.engine.remote")

MAX_ERROR_BODY_BYTES = 64 * 1024
MAX_ERROR_CHARS = 300

ProblemKind = Literal["unreachable", "busy", "slow", "failed"]

USER_MESSAGES: dict[ProblemKind, str] = {
    "unreachable": "⚠️ The language model server can't be reached right now - please try again in a minute.",
    "busy": "⚠️ The language model server is busy - please try again in a minute.",
    "slow": "⚠️ The language model server took too long to answer - please try again in a minute.",
    "failed": (
        "⚠️ The language model server could not answer this - please try again; if it keeps happening, "
        "tell a moderator (the details are in the bot's log)."
    ),
}
CUT_OFF = (
    "⚠️ The language model server stopped in the middle of this answer, so the text above is "
    "incomplete - please ask again."
)

# Back-off on 429 / 503: honour Retry-After (seconds or an HTTP date), else 1, 2, 4 s. A server that
# asks for more than MAX_BACKOFF_S (or past the request's deadline) is as good as down for a chat:
# the user is told it is busy rather than retried early against its wish.
BACKOFF_BASE_S = 1.0
MAX_BACKOFF_S = 20.0


class ServerProblem(Exception):
    """A failure of the server or the connection: `kind` picks the user's sentence, `detail` is
    for the log only."""

    def __init__(self, kind: ProblemKind, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


def redact_url(url: str) -> str:
    """`url` without user, password, query or fragment: fit for a log line."""
    try:
        parsed = yarl.URL(url)
    except (TypeError, ValueError):
        return "(unparsable URL)"
    return str(parsed.with_user(None).with_password(None).with_query(None).with_fragment(None))


URL_PATTERN = re.compile(r"https?://[^\s'\"<>]+")


def scrub(detail: str) -> str:
    """`detail` with every URL in it redacted (exception texts quote the URL they failed on)."""
    return URL_PATTERN.sub(lambda match: redact_url(match.group(0)), detail)


def user_error(problem: ServerProblem, *, url: str, mid_answer: bool) -> BackendError:
    """Log the operator's detail; return the user's sentence. `mid_answer`: text was already shown."""
    log.warning(
        "model server %s: %s%s", redact_url(url), scrub(problem.detail), " (mid-answer)" if mid_answer else ""
    )
    return BackendError(CUT_OFF if mid_answer else USER_MESSAGES[problem.kind])


def retry_after_s(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds a `Retry-After` header asks to wait (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff_s(attempt: int, retry_after: float | None, remaining_s: float) -> float | None:
    """How long to wait before retry number `attempt` (0-based) after a 429 or 503; None = give up."""
    wanted = retry_after if retry_after is not None else BACKOFF_BASE_S * 2**attempt
    return wanted if wanted <= min(MAX_BACKOFF_S, remaining_s) else None


__all__ = [
    "CUT_OFF",
    "USER_MESSAGES",
    "ServerProblem",
    "backoff_s",
    "redact_url",
    "retry_after_s",
    "scrub",
    "user_error",
]


async def read_capped(response: aiohttp.ClientResponse, cap: int) -> bytes:
    """The whole body, or ServerProblem once it passes `cap` bytes."""
    data = bytearray()
    async for block in response.content.iter_chunked(64 * 1024):
        data += block
        if len(data) > cap:
            raise ServerProblem("failed", f"the response passed {cap} bytes")
    return bytes(data)


def let_go(response: aiohttp.ClientResponse, completed: bool) -> None:
    """Back to the pool only a response read to its end; any other is closed with its connection,
    so the next request never inherits half a stream and the server stops generating."""
    if completed and response.content.at_eof():
        response.release()
    else:
        response.close()


async def error_detail(response: aiohttp.ClientResponse) -> str:
    """The server's error text (for the log), read within a cap; the connection is closed after."""
    try:
        body = (await response.content.read(MAX_ERROR_BODY_BYTES)).decode("utf-8", errors="replace")
    except aiohttp.ClientError:
        body = ""
    finally:
        response.close()
    return error_message_from_body(body) if body else response.reason or "no details"


def status_hint(status: int) -> str:
    if status in (401, 403):
        return " - check LLM_API_KEY"
    if status == 404:
        return " - check LLM_BASE_URL (usually it ends in /v1) and LLM_MODEL"
    return ""


def short(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    """First line of a server message, cut to `limit`: enough to act on, never a wall of text."""
    text = " ".join(text.strip().split("\n", 1)[0].split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def error_message_from_body(body: str) -> str:
    """The human part of an error body: OpenAI style {"error": {"message"}}, FastAPI {"detail"},
    a bare {"message"} or {"error": "..."}; otherwise the text itself."""
    try:
        data = json.loads(body)
    except ValueError:
        return short(body) or "(empty response)"
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and error.get("message"):
            return short(str(error["message"]))
        for value in (error, data.get("detail"), data.get("message")):
            if value:
                return short(value if isinstance(value, str) else json.dumps(value))
    return short(body)
