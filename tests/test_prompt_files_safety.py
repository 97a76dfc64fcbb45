"""`prompts/` is read as regular files inside PROMPTS_DIR only: no symlinks out of it, no FIFO that
hangs a reload, no file read before its size is checked; and what would only fail later, on every
request (deeply nested front matter, a placeholder with a format spec), fails validation with
`file:line: message`."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.errors import PromptSetError
from bot.library import Library
from bot.promptset import load_prompt_set, tree_hash
from bot.sources import MAX_SOURCE_BYTES

REPO = Path(__file__).resolve().parent.parent
SECRET = "DISCORD_TOKEN=sekrit-token-value"
TIMEOUT_S = 10.0  # a hang (FIFO, endless read) would wait forever; this is only a backstop


@pytest.fixture
def prompts(tmp_path: Path) -> Path:
    target = tmp_path / "deploy" / "prompts"
    shutil.copytree(REPO / "prompts", target)
    (tmp_path / "deploy" / ".env").write_text(f"{SECRET}\n")
    return target


def load(root: Path) -> tuple[object, list[str]]:
    async def run() -> tuple[object, list[str]]:
        return await asyncio.wait_for(asyncio.to_thread(load_prompt_set, root), TIMEOUT_S)

    return asyncio.run(run())


def test_a_symlink_to_env_is_never_indexed(prompts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (prompts / "sources" / "notes.txt").symlink_to("../../.env")
    prompt_set, problems = load(prompts)
    assert prompt_set is None
    assert any(p.startswith("sources/notes.txt:1: is a symbolic link") for p in problems), problems
    assert not any("sekrit" in p for p in problems)
    assert main(["check-prompts", "--dir", str(prompts)]) == 1
    out = capsys.readouterr().out
    assert "sources/notes.txt:1: is a symbolic link; only regular files inside PROMPTS_DIR are read" in out
    assert "sekrit" not in out


async def test_reload_refuses_a_symlinked_source_and_keeps_the_old_set(prompts: Path) -> None:
    library = await Library.open(prompts)
    try:
        (prompts / "sources" / "notes.txt").symlink_to("../../.env")
        report = await library.reload()
        assert not report.ok and any("symbolic link" in p for p in report.problems)
        hits = await library.current.index.search("sekrit token value", k=5)
        assert not any("sekrit" in hit.passage.text for hit in hits)
    finally:
        await library.aclose()


def test_symlinked_persona_and_symlinked_sources_folder(prompts: Path, tmp_path: Path) -> None:
    persona = prompts / "personas" / "judge.md"
    outside = tmp_path / "judge.md"
    shutil.move(persona, outside)
    persona.symlink_to(outside)
    _, problems = load(prompts)
    assert any(p.startswith("personas/judge.md:1: is a symbolic link") for p in problems), problems

    shutil.move(prompts / "sources", tmp_path / "elsewhere")
    (prompts / "sources").symlink_to(tmp_path / "elsewhere")
    _, problems = load(prompts)
    assert any(p.startswith("sources/:1: is a symbolic link") for p in problems), problems


def test_a_fifo_does_not_hang_a_reload(prompts: Path) -> None:
    os.mkfifo(prompts / "sources" / "pipe.md")
    os.remove(prompts / "templates" / "brief.md")
    os.mkfifo(prompts / "templates" / "brief.md")
    _, problems = load(prompts)
    assert any(p.startswith("sources/pipe.md:1: is not a regular file") for p in problems), problems
    assert any(p.startswith("templates/brief.md:1: is not a regular file") for p in problems), problems

    async def hashed() -> str:
        return await asyncio.wait_for(asyncio.to_thread(tree_hash, prompts), TIMEOUT_S)

    assert len(asyncio.run(hashed())) == 16


def test_size_is_checked_before_reading(prompts: Path) -> None:
    """A 64 GiB sparse file: reading it first would take minutes and all the memory."""
    huge = prompts / "sources" / "huge.md"
    with huge.open("wb") as handle:
        handle.truncate(64 * 1024**3)
    _, problems = load(prompts)
    assert f"sources/huge.md:1: file is {64 * 1024**3} bytes; the limit is {MAX_SOURCE_BYTES}" in problems


async def test_library_open_names_the_problem(prompts: Path) -> None:
    (prompts / "sources" / "notes.txt").symlink_to("../../.env")
    with pytest.raises(PromptSetError) as caught:
        await Library.open(prompts)
    assert any("symbolic link" in p for p in caught.value.problems)


# --- validation that used to fail later, on every request -----------------------------------------


@pytest.mark.parametrize("depth", [20, 30_000])  # 30,000: past the recursion limit, within the size limits
def test_deeply_nested_front_matter_is_a_file_line_problem(prompts: Path, depth: int) -> None:
    nested = "[" * depth + "]" * depth
    (prompts / "templates" / "judge.md").write_text(
        f"+++\ndescription = {nested}\n+++\n{{motion}} {{transcript}}\n"
    )
    (prompts / "sources" / "deep.md").write_text(
        f'+++\ntitle = "Deep"\nframing = {nested}\n+++\n## A\nText.\n'
    )
    prompt_set, problems = load(prompts)
    assert prompt_set is None
    assert "templates/judge.md:2: front matter is not valid TOML (nested deeper than 8 levels)" in problems
    assert "sources/deep.md:2: front matter is not valid TOML (nested deeper than 8 levels)" in problems


@pytest.mark.parametrize(
    "placeholder",
    ["{question:x}", "{question!r}", "{question.__class__}", "{sources[0]}", "{question!s:>10}"],
)
def test_placeholder_with_spec_conversion_or_access_is_refused(prompts: Path, placeholder: str) -> None:
    answer = f'+++\nstop = ["Q:"]\n+++\nSources: {{sources}}\n\nQ: {placeholder}\n'
    (prompts / "templates" / "answer.md").write_text(answer)
    prompt_set, problems = load(prompts)
    assert prompt_set is None
    name = "sources" if "sources" in placeholder else "question"
    assert problems == [
        f"templates/answer.md:6: placeholder {placeholder} may only be a name: write {{{name}}} "
        "(no '.', '[', ':' or '!')"
    ]
