"""bot/prompt_admin without Discord: the name rules, and what happens when the files move between a
preview and its confirmation (a stale preview, a reload that fails after the write, an expired
preview, a link in place of a file). The service runs on a temporary copy of prompts/ with a real
SQLite file; uploads come from the Discord imitation's CDN."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from discord_imitation import DiscordImitation

from bot.config import load_settings
from bot.engine.scripted import ScriptedEngine
from bot.errors import InputError
from bot.prompt_admin import Actor, admin, names
from bot.service import BriefingService
from bot.store import _prompt_history as store_module

REPO_PROMPTS = Path(__file__).resolve().parent.parent / "prompts"
MOD = Actor(id="test:1", name="mod", moderator=True, in_server=True)
SOURCE = b"Verification notes\n\nUS and Chinese AI labs compared safety evaluations in a pilot.\n"
EXISTING = ["personas/judge.md", "templates/judge.md", "sources/liu.md"]


@pytest.mark.parametrize(
    ("spec", "path"),
    [
        ("new.md", "sources/new.md"),
        ("notes.txt", "sources/notes.txt"),
        ("liu.md", "sources/liu.md"),
        ("lexicon/words.toml", "lexicon/words.toml"),
        ("personas/judge.md", "personas/judge.md"),
        ("  templates/judge.md ", "templates/judge.md"),
    ],
)
def test_plain_names_resolve_to_their_folder(spec: str, path: str) -> None:
    assert names.resolve(spec, EXISTING) == path


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        ("judge.md", "several folders"),
        ("../x.md", "folder must be one of"),
        ("sources/../x.md", "not a plain file name"),
        ("sources/..x.md", "`..`"),
        ("sources/a/x.md", "not a plain file name"),
        ("sources\\x.md", "not a plain file name"),
        ("sources/.x.md", "hidden"),
        ("sources/x", "only .docx, .htm, .html, .md, .pdf, .toml, .txt"),
        ("lexicon/words.md", "end in .toml"),
        ("sources/words.toml", "end in .md or .txt"),
        ("personas/x.txt", "end in .md"),
        ("sources/x y.md", "letters, digits"),
        ("sources/x\n.md", "control characters"),
        ("", "Name a file"),
    ],
)
def test_other_names_are_refused_with_the_rule_they_break(spec: str, why: str) -> None:
    with pytest.raises(InputError, match=re.escape(why)):
        names.resolve(spec, EXISTING)


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[BriefingService, DiscordImitation]]:
    shutil.copytree(REPO_PROMPTS, tmp_path / "prompts")
    settings = load_settings(prompts_dir=tmp_path / "prompts", database_path=tmp_path / "bot.sqlite3")
    imitation = await DiscordImitation().start()
    service = await BriefingService.open(settings, engine=ScriptedEngine(["An answer [1]."]))
    try:
        yield service, imitation
    finally:
        await service.aclose()
        await imitation.stop()


async def propose(service: BriefingService, im: DiscordImitation, filename: str, data: bytes) -> int:
    upload = im.upload(filename, data)
    proposal = await service.propose_prompt_upload(
        MOD, None, filename, url=im.world.cdn.url(upload), size=len(data)
    )
    return proposal.key


async def test_a_preview_made_stale_by_a_host_edit_writes_nothing(
    setup: tuple[BriefingService, DiscordImitation],
) -> None:
    service, im = setup
    root = service.settings.prompts_dir
    key = await propose(service, im, "pilot.txt", SOURCE)
    edited = (root / "personas" / "briefer.md").read_bytes() + b"\nBe brief.\n"
    (root / "personas" / "briefer.md").write_bytes(edited)
    with pytest.raises(InputError, match="changed since this preview"):
        await service.confirm_prompt_change(MOD, key)
    assert not (root / "sources" / "pilot.txt").exists()
    assert (root / "personas" / "briefer.md").read_bytes() == edited  # the host's edit is kept


async def test_a_reload_that_fails_after_the_write_puts_the_files_back(
    setup: tuple[BriefingService, DiscordImitation],
) -> None:
    service, im = setup
    root, version = service.settings.prompts_dir, service.prompt_version
    key = await propose(service, im, "pilot.txt", SOURCE)
    os.mkfifo(root / "sources" / "pipe.md")  # appears after the preview; read_live cannot see it
    with pytest.raises(InputError) as refused:
        await service.confirm_prompt_change(MOD, key)
    assert "sources/pipe.md:1:" in refused.value.user_message and "put back" in refused.value.user_message
    assert not (root / "sources" / "pilot.txt").exists() and service.prompt_version == version
    [attempt, *_] = await service.store.prompt_attempts()
    assert attempt["outcome"] == "failed"


async def test_an_expired_preview_cannot_be_confirmed(
    setup: tuple[BriefingService, DiscordImitation], monkeypatch: pytest.MonkeyPatch
) -> None:
    service, im = setup
    key = await propose(service, im, "pilot.txt", SOURCE)
    monkeypatch.setattr(admin, "PROPOSAL_TTL_S", -1.0)
    with pytest.raises(InputError, match="no longer pending"):
        await service.confirm_prompt_change(MOD, key)
    assert not (service.settings.prompts_dir / "sources" / "pilot.txt").exists()


async def test_an_upload_replaces_a_link_and_never_writes_through_it(
    setup: tuple[BriefingService, DiscordImitation], tmp_path: Path
) -> None:
    service, im = setup
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"not a prompt file\n")
    link = service.settings.prompts_dir / "sources" / "pilot.txt"
    link.symlink_to(outside)
    key = await propose(service, im, "pilot.txt", SOURCE)
    report = await service.confirm_prompt_change(MOD, key)
    assert report.ok and not link.is_symlink() and link.read_bytes() == SOURCE
    assert outside.read_bytes() == b"not a prompt file\n"


async def test_history_is_content_addressed(setup: tuple[BriefingService, DiscordImitation]) -> None:
    service, im = setup
    for data in (SOURCE, SOURCE + b"\nMore.\n", SOURCE):
        await service.confirm_prompt_change(MOD, await propose(service, im, "pilot.txt", data))
    baseline, first, second, third = reversed(await service.prompt_history(MOD, None))
    assert baseline.action == "baseline" and first.action == second.action == third.action == "put"
    assert first.set_hash == third.set_hash != second.set_hash  # same files, same address
    [(path, previous, new)] = third.files
    assert path == "sources/pilot.txt" and previous == second.manifest[path] and new == first.manifest[path]
    assert await service.store.prompt_blob(previous) == SOURCE + b"\nMore.\n"  # the previous content


async def test_the_audit_log_keeps_the_newest_attempts_only(
    setup: tuple[BriefingService, DiscordImitation], monkeypatch: pytest.MonkeyPatch
) -> None:
    service, _ = setup
    monkeypatch.setattr(store_module, "MAX_AUDIT_ROWS", 3)
    alice = Actor(id="test:2", name="alice", moderator=False, in_server=True)
    for _ in range(5):  # anyone may try, so attempts must not pile up without end
        with pytest.raises(InputError, match="Only moderators"):
            await service.prompt_files(alice)
    attempts = await service.store.prompt_attempts()
    assert len(attempts) == 3 and {a["outcome"] for a in attempts} == {"refused"}


async def test_a_moderator_extends_the_lexicon_through_get_and_put(
    setup: tuple[BriefingService, DiscordImitation],
) -> None:
    from bot.briefing.retrieval import names_the_subject
    from bot.words.wordlists import live_word_lists

    service, im = setup
    before, version = live_word_lists(), service.prompt_version
    try:
        rel, words = await service.prompt_file(MOD, "words.toml")
        assert rel == "lexicon/words.toml" and rel in service.prompt_file_names()
        broken = words.replace(b'"race", "racing"', b'"race|win", "racing"')
        with pytest.raises(InputError, match=r"lexicon/words\.toml:\d+: cues\.race\.strong"):
            await propose(service, im, "words.toml", broken)
        assert not names_the_subject("Which pizza topping is best?")
        extended = words.replace(b'topic_words = """\n', b'topic_words = """\npizza ')
        report = await service.confirm_prompt_change(MOD, await propose(service, im, "words.toml", extended))
        assert report.ok and report.changed == ["lexicon/words.toml"] and report.version != version
        assert names_the_subject("Which pizza topping is best?")
        with pytest.raises(InputError, match="cannot be deleted"):
            await service.propose_prompt_delete(MOD, "lexicon/words.toml")
    finally:
        before.install()
