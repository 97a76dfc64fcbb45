"""Domain errors. Each carries the sentence a user should read.

Front ends (console, Discord) turn a `BriefingError` into its `user_message` in exactly one place
each; anything else is a bug, logged with its traceback and answered with a generic apology.
"""

from __future__ import annotations


class BriefingError(Exception):
    """Base class: an expected failure with a message fit to show a user as-is."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


class ConfigError(BriefingError):
    """A setting is invalid or missing (names the setting)."""


class ModelFileError(BriefingError):
    """The model file is missing, unreadable or not a GGUF file (names the path and the fix)."""


class InputError(BriefingError):
    """The user's text cannot be used (empty, too long, ...)."""


class QueueFullError(BriefingError):
    """Too many requests are waiting; the user should try again shortly."""

    def __init__(
        self, user_message: str = "I'm busy with other questions right now - please try again in a minute."
    ) -> None:
        super().__init__(user_message)


class PromptSetError(BriefingError):
    """A prompt file is invalid. `problems` holds `file:line: message` lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("The prompt files have errors:\n" + "\n".join(problems))
        self.problems = problems


class BackendError(BriefingError):
    """The language-model backend failed (remote server down, context overflow, ...)."""


class StoreError(BriefingError):
    """The database failed (corrupt, read-only, disk full, locked). `user_message` is the sentence
    for whoever reads it: the operator at start-up, the user at run time; `operator` is the cause."""

    def __init__(self, user_message: str, operator: str = "") -> None:
        super().__init__(user_message)
        self.operator = operator or user_message
