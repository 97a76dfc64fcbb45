"""The one place where an exception becomes what a Discord user reads.

A `BriefingError` carries its own sentence (queue full, input too long, prompt files broken...).
Anything else is a bug: its traceback goes to the log, and the user gets a short apology instead of
a silent failure or a stack trace in the channel.
"""

from __future__ import annotations

import logging

from bot.errors import BriefingError

log = logging.getLogger("bot.discord_app")

UNEXPECTED = "⚠️ Sorry - something went wrong while answering. The error has been logged; please try again."


def user_message(exc: BaseException, *, doing: str) -> str:
    """The text to show for `exc`; logs the traceback of unexpected errors (`doing` says where)."""
    if isinstance(exc, BriefingError):
        return exc.user_message
    log.error("Unexpected error while %s", doing, exc_info=exc)
    return UNEXPECTED
