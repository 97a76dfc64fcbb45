"""The briefing cache key follows the briefing code: no hand-bumped format number to forget."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.briefing import code_version


def test_any_change_to_a_briefing_file_changes_the_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "briefing"
    shutil.copytree(code_version.PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    terms = tmp_path / "terms.py"
    shutil.copy(code_version.SHARED[0], terms)
    monkeypatch.setattr(code_version, "PACKAGE", copy)
    monkeypatch.setattr(code_version, "SHARED", (terms,))

    def version() -> str:
        code_version.briefing_code_version.cache_clear()
        return code_version.briefing_code_version()

    original = version()
    assert version() == original  # stable for the same files
    (copy / "__pycache__").mkdir()
    (copy / "__pycache__" / "x.pyc").write_bytes(b"compiled")
    assert version() == original  # bytecode is not code
    brief = copy / "brief.py"
    brief.write_text(brief.read_text() + "\n# assembled differently\n")
    assert version() != original
    brief.write_text(brief.read_text().removesuffix("\n# assembled differently\n"))
    assert version() == original
    terms.write_text(terms.read_text() + "\n# splits sentences differently\n")
    assert version() != original  # so are the shared word and sentence helpers
    code_version.briefing_code_version.cache_clear()
