"""Managing the prompt files from a front end (Discord's `/prompts`): list, get, put, delete,
history and rollback, each validated as a whole prompt set before anything is written.

Modules: `names` (which file a moderator may name), `files` (reading the live folder, staging a
candidate set, diffs, atomic writes), `history` (the content-addressed record of accepted changes),
`admin` (`PromptAdmin`: permissions, proposals waiting for confirmation, the audit log).
"""

from bot.prompt_admin.admin import Actor, FileInfo, PromptAdmin, Proposal
from bot.store import PromptChange

__all__ = ["Actor", "FileInfo", "PromptAdmin", "PromptChange", "Proposal"]
