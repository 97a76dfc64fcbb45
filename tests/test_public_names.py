"""The package's public names (httpx's habit): every name a package lists in `__all__` imports, the
lists a lazy package keeps agree, and nothing private leaks into a package's namespace."""

from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
import sys
import types
from pathlib import Path

import pytest

PACKAGES = [
    "bot",
    "bot.briefing",
    "bot.briefing.debate",
    "bot.engine",
    "bot.store",
    "bot.bench",
    "bot.discord_app",
    "bot.console",
]
LAZY = ["bot", "bot.briefing", "bot.discord_app", "bot.console"]


@pytest.mark.parametrize("name", PACKAGES)
def test_listed_names_import_and_nothing_else_is_public(name: str) -> None:
    package = importlib.import_module(name)
    listed = package.__all__
    assert listed, f"{name} lists no public names"
    assert len(set(listed)) == len(listed), f"{name}.__all__ repeats a name"
    for public in listed:
        assert not public.startswith("_") or public == "__version__", f"{name} exports {public}"
        getattr(package, public)  # AttributeError names the culprit
    namespace = {}
    exec(f"from {name} import *", namespace)  # what a star import gives is exactly __all__
    assert set(namespace) - {"__builtins__"} == set(listed)
    # Whatever else is public in the namespace must be a submodule (`import bot.x` binds it): a
    # helper imported for the package's own use (TYPE_CHECKING, Any, a function) would leak.
    leaked = [
        key
        for key, value in vars(package).items()
        if not key.startswith("_") and key not in listed and not isinstance(value, types.ModuleType)
    ]
    assert leaked == [], f"{name} leaks {leaked}"


def _type_checking_names(package: types.ModuleType) -> set[str]:
    tree = ast.parse(inspect.getsource(package))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom)
                names |= {alias.asname or alias.name for alias in statement.names}
    return names


@pytest.mark.parametrize("name", LAZY)
def test_lazy_lists_agree(name: str) -> None:
    """`__all__`, the modules map and the type checker's imports name the same things, and each name
    comes from the module the map says (so the checker and the runtime see the same object)."""
    package = importlib.import_module(name)
    mapped = {n for names in package._EXPORTS.values() for n in names}
    assert mapped == set(package.__all__) - {"__version__"}
    assert _type_checking_names(package) == mapped
    for module, names in package._EXPORTS.items():
        for public in names:
            assert getattr(package, public) is getattr(importlib.import_module(module), public)


def test_unknown_name_is_an_attribute_error() -> None:
    import bot

    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        _ = bot.nothing_here  # type: ignore[attr-defined]


def test_importing_the_package_loads_nothing_else() -> None:
    """`import bot` (every `python -m bot` run) must not load the service, the engine or discord."""
    code = "import sys, bot, bot.briefing; print(sorted(m for m in sys.modules if m.startswith('bot')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(sorted(["bot", "bot.briefing", "bot.exports"]))


BOT = Path(__file__).resolve().parent.parent / "bot"


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def test_a_private_module_is_used_only_inside_its_own_package() -> None:
    """A leading underscore is a promise: no other part of the bot reaches into that module, so it
    can change freely. (Tests may: they test the parts.)"""
    private = {
        ".".join(path.relative_to(BOT.parent).with_suffix("").parts): path.parent
        for path in BOT.rglob("_*.py")
        if not path.name.startswith("__")
    }
    assert len(private) >= 20, "the engine's, the store's and the bench's internals are private"
    reaches = [
        f"{path.relative_to(BOT.parent)} imports {module}"
        for path in BOT.rglob("*.py")
        for module in _imported_modules(path)
        if module in private and not path.is_relative_to(private[module])
    ]
    assert reaches == []
