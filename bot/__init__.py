"""briefing-bot: grounded policy briefings on the US-China AI race-versus-cooperation debate.

The public names below are what a front end needs: the service, its settings and the errors whose
`user_message` it shows. Result types live in `bot.briefing`, engines in `bot.engine`. Names load
on first use (bot/exports.py), so `import bot` loads nothing else.
"""

import typing as _typing

from bot.exports import lazy_exports as _lazy_exports

if _typing.TYPE_CHECKING:
    from bot.config import Settings, load_settings
    from bot.errors import (
        BackendError,
        BriefingError,
        ConfigError,
        InputError,
        ModelFileError,
        PromptSetError,
        QueueFullError,
        StoreError,
    )
    from bot.service import BriefingService, ServiceStatus

__version__ = "0.1.0"

_EXPORTS = {  # module -> the public names it defines
    "bot.config": (
        "load_settings",
        "Settings",
    ),
    "bot.errors": (
        "BackendError",
        "BriefingError",
        "ConfigError",
        "InputError",
        "ModelFileError",
        "PromptSetError",
        "QueueFullError",
        "StoreError",
    ),
    "bot.service": (
        "BriefingService",
        "ServiceStatus",
    ),
}
__all__ = [
    "BackendError",
    "BriefingError",
    "BriefingService",
    "ConfigError",
    "InputError",
    "ModelFileError",
    "PromptSetError",
    "QueueFullError",
    "ServiceStatus",
    "Settings",
    "StoreError",
    "__version__",
    "load_settings",
]
__getattr__, __dir__ = _lazy_exports(__name__, _EXPORTS, globals())
