"""Console front end (`python -m bot ...`): `cli` parses arguments and dispatches to one handler
in `commands`; `chat` is the interactive loop; `output` prints answers and sources."""

import typing as _typing

from bot.exports import lazy_exports as _lazy_exports

if _typing.TYPE_CHECKING:
    from bot.console.cli import run_cli

_EXPORTS = {  # module -> the public names it defines
    "bot.console.cli": ("run_cli",),
}
__all__ = ["run_cli"]
__getattr__, __dir__ = _lazy_exports(__name__, _EXPORTS, globals())
