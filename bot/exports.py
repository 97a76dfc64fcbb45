"""Lazy public names for a package's `__init__` (PEP 562).

Why lazy: `import bot.errors` must not load the engine, the database layer and every briefing mode,
and `python -m bot --help` must stay fast. A package lists its public names in `__all__`, imports
them under `TYPE_CHECKING` for the type checker, and says which module defines each in `_EXPORTS`;
this module gives it the `__getattr__` and `__dir__` that import a name's module on first use.
tests/test_public_names.py checks that the lists agree and that every listed name imports.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, Iterable[str]], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """`(__getattr__, __dir__)` for `package`; `exports` maps each module to the names it defines."""
    home = {name: module for module, names in exports.items() for name in names}

    def get(name: str) -> Any:
        module = home.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value  # cached: later lookups never reach __getattr__
        return value

    def listing() -> list[str]:
        return sorted({*namespace, *home})

    return get, listing
