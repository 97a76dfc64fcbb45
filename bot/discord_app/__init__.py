"""The Discord front end: a thin layer that turns Discord events into `BriefingService` calls and
results into messages.

- `client.py`: `BriefingBot`, owning the service, loading the cogs, syncing slash commands
- `run.py`: `python -m bot run`
- `cogs/`: `chat` (mentions, replies, threads, DMs), `commands` (/ask /brief /factcheck /sources
  /reset /status), `debate` (/debate and its buttons), `moderation` (/reload)
- `streaming.py`: streaming a reply with throttled edits; `chunks.py`: splitting at 2000 characters;
  `formatting.py`: how results look; `limits.py`: rate limit and input length;
  `conversations.py`: which conversation a message continues; `failures.py`: errors -> messages
"""

import typing as _typing

from bot.exports import lazy_exports as _lazy_exports

if _typing.TYPE_CHECKING:
    from bot.discord_app.client import BriefingBot
    from bot.discord_app.run import run_discord

_EXPORTS = {  # module -> the public names it defines
    "bot.discord_app.client": ("BriefingBot",),
    "bot.discord_app.run": ("run_discord",),
}
__all__ = ["BriefingBot", "run_discord"]
__getattr__, __dir__ = _lazy_exports(__name__, _EXPORTS, globals())
