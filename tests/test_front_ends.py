"""The front ends (console, Discord) reach the briefing core through `BriefingService` alone: they
import neither the store, the library nor the prompt loader, and never reach through the service
into its parts. Otherwise every change to those parts is a change to two front ends."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FRONT_ENDS = sorted([*(ROOT / "bot/console").rglob("*.py"), *(ROOT / "bot/discord_app").rglob("*.py")])
BEHIND_THE_SERVICE = ("bot.store", "bot.library", "bot.promptset", "bot.retention")
SERVICE_PARTS = {"store", "library", "engine"}


def reaches_past(source: str) -> list[str]:
    """What `source` does that only the service should: imports of its parts, `<x>.service.<part>`
    or `service.<part>` attribute chains."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(BEHIND_THE_SERVICE):
            found.append(f"line {node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.Attribute) and node.attr in SERVICE_PARTS:
            owner = node.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
            if name in {"service", "_service"}:
                found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return sorted(found)


def test_the_check_sees_a_reach() -> None:
    assert reaches_past("x = self.bot.service.store.history(c)\nfrom bot.store import Store") == [
        "line 1: self.bot.service.store",
        "line 2: from bot.store import ...",
    ]
    assert reaches_past("x = service.library.current") == ["line 1: service.library"]
    assert reaches_past("await self.bot.service.reset(c)") == []


@pytest.mark.parametrize("path", FRONT_ENDS, ids=lambda p: str(p.relative_to(ROOT)))
def test_front_end_calls_only_the_service(path: Path) -> None:
    assert reaches_past(path.read_text()) == []
