"""SQLite persistence (aiosqlite, WAL): conversations and their turns, message links, the briefing
cache, the prompt set's history and audit log, the reload log, the replies still being written, the
answers shown with their 👍/👎, and where a debate's audience polls are.

One private module per job, one `Store` for the rest of the bot: `_connection` opens the database and turns
SQLite failures into a `StoreError` carrying one sentence for the user or operator; `_migrations`
is the schema, as named migrations applied in order; `_conversations`, `_briefing_cache`,
`_prompt_history`, `_feedback` and `_audience_polls` each own their tables. `Store` is all of them
over one connection.
"""

from bot.store import _audience_polls, _briefing_cache, _conversations, _feedback, _prompt_history
from bot.store._audience_polls import AudiencePolls
from bot.store._connection import PROBLEMS, STORE_DOWN, describe, guarded
from bot.store._conversations import Exchange, Turn, TurnStatus
from bot.store._migrations import MIGRATIONS, migration
from bot.store._prompt_history import MAX_AUDIT_ROWS, PromptChange

__all__ = [
    "MAX_AUDIT_ROWS",
    "MIGRATIONS",
    "PROBLEMS",
    "STORE_DOWN",
    "AudiencePolls",
    "Exchange",
    "PromptChange",
    "Store",
    "Turn",
    "TurnStatus",
    "describe",
    "guarded",
    "migration",
]


class Store(
    _conversations.Conversations,
    _briefing_cache.BriefingCache,
    _prompt_history.PromptHistory,
    _feedback.Feedback,
    _audience_polls.AudiencePollStore,
):
    """The bot's database. Open with `await Store.open(path)`; one instance per process."""
