"""Where an installed package's files lie, found without importing it.

The models and WordNet's files come from packages that are data, not code the bot calls: importing
them would run whatever their `__init__` does, so they are only located.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

__all__ = ["package_folder"]


def package_folder(name: str) -> Path | None:
    """Where an installed package lives, without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))
