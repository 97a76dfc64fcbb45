"""SQLite persistence (aiosqlite, WAL): conversations and their turns, message links, the briefing
cache, the prompt set's history and audit log, the reload log, the replies still being written, and
the answers shown with their 👍/👎.

One job per module, one `Store` for the rest of the bot: `connection` opens the database and turns
SQLite failures into a `StoreError` carrying one sentence for the user or operator; `migrations` is
the schema, as named migrations applied in order; `conversations`, `briefing_cache`,
`prompt_history` and `feedback` each own their tables. `Store` is all of them over one connection.
"""

from __future__ import annotations

from bot.store.briefing_cache import BriefingCache
from bot.store.connection import PROBLEMS, STORE_DOWN, describe, guarded
from bot.store.conversations import Conversations, Exchange, Turn, TurnStatus
from bot.store.feedback import Feedback
from bot.store.migrations import MIGRATIONS, migration
from bot.store.prompt_history import MAX_AUDIT_ROWS, PromptChange, PromptHistory

__all__ = [
    "MAX_AUDIT_ROWS",
    "MIGRATIONS",
    "PROBLEMS",
    "STORE_DOWN",
    "Exchange",
    "PromptChange",
    "Store",
    "Turn",
    "TurnStatus",
    "describe",
    "guarded",
    "migration",
]


class Store(Conversations, BriefingCache, PromptHistory, Feedback):
    """The bot's database. Open with `await Store.open(path)`; one instance per process."""
