"""/prompts on Discord: moderators list, download, upload (validated, diffed, confirmed), delete and
roll back prompt files. A real discord.py client against the Discord imitation, whose CDN serves the
uploads; the bot runs on a temporary copy of prompts/ (the real folder is never edited)."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from discord_imitation import DiscordImitation, StoredMessage
from discord_imitation.harness import bot_settings, final_reply, final_response, running_bot

from bot.discord_app.client import BriefingBot
from bot.discord_app.cogs import prompts as prompts_cog
from bot.engine.base import GenerationRequest
from bot.engine.scripted import ScriptedEngine
from bot.prompt_admin import admin

REPO_PROMPTS = Path(__file__).resolve().parent.parent / "prompts"
TOPIC = "Singapore verification pilot"
NEW_SOURCE = f"""+++
title = "The {TOPIC}"
framing = ["cooperation"]
+++
## What the pilot did {{#pilot .cooperation}}
In the {TOPIC}, US and Chinese AI labs inspected each other's frontier AI safety evaluations under
a shared protocol. Researchers from both countries said the pilot showed that verification of AI
safety testing can work between rivals without revealing model weights.
""".encode()
QUESTION = f"What did the {TOPIC} show about US and Chinese AI safety testing?"


def cite_the_pilot(request: GenerationRequest) -> str:
    """The model's part, scripted: quote the numbered passage about the pilot, if it was given one."""
    prompt = request.messages[-1].content
    found = re.search(rf"^\[(\d+)\] [^\n]*{TOPIC}[^:]*: ([^.]+)\.", prompt, re.MULTILINE)
    if found is None:
        return "The sources do not cover that [1]."
    return f"{found[2]} [{found[1]}]."


@pytest.fixture(scope="module")
async def prompts_bot(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[DiscordImitation, BriefingBot]]:
    # One level down: the path-trick tests watch the folder above the bot's too, and that must be
    # this module's own, not the session's temporary root where other tests leave their files.
    folder = tmp_path_factory.mktemp("discord-prompts") / "deploy"
    shutil.copytree(REPO_PROMPTS, folder / "prompts")
    imitation = await DiscordImitation().start()
    settings = bot_settings(imitation, folder, prompts_dir=folder / "prompts", prompt_upload_timeout_s=1.0)
    try:
        async with running_bot(settings, ScriptedEngine(cite_the_pilot)) as bot:
            yield imitation, bot
    finally:
        await imitation.stop()


@pytest.fixture
def im(prompts_bot: tuple[DiscordImitation, BriefingBot]) -> DiscordImitation:
    return prompts_bot[0]


@pytest.fixture
def bot(prompts_bot: tuple[DiscordImitation, BriefingBot]) -> BriefingBot:
    return prompts_bot[1]


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under `root` but the bot's database (which records each attempt), to prove that
    nothing else was written."""
    files = (p for p in sorted(root.rglob("*")) if p.is_file() and ".sqlite3" not in p.name)
    return {str(p.relative_to(root)): p.read_bytes() for p in files}


async def prompts(im: DiscordImitation, sub: str, user: str = "mod", **options: Any) -> StoredMessage:
    """Run `/prompts sub ...`; return its (ephemeral) final response."""
    interaction = await im.command("prompts", subcommand=sub, user=user, **options)
    response = await final_response(im, interaction)
    assert response.ephemeral
    return response


async def put(
    im: DiscordImitation, filename: str, data: bytes, user: str = "mod", **options: Any
) -> StoredMessage:
    return await prompts(im, "put", user=user, file=im.upload(filename, data), **options)


async def press(im: DiscordImitation, preview: StoredMessage, action: str, user: str = "mod") -> str:
    """Click Confirm or Cancel on a preview as `user`; return what that user is finally shown."""
    custom_id = next(c for c in preview.custom_ids() if c.startswith(f"prompts:{action}:"))
    click = await im.click(preview, custom_id, user=user)
    await im.wait_for(lambda: click.callbacks, what=f"the answer to {user}'s {action}")
    answer = await im.wait_for(
        lambda: (m := im.response(click)) is not None and m.content != admin_working() and m,
        what=f"the result of {action}",
    )
    return answer.content


def admin_working() -> str:
    from bot.discord_app.cogs.prompts import WORKING

    return WORKING


async def audit(bot: BriefingBot) -> list[dict[str, Any]]:
    """The audit log, newest first (all of it: the module's bot keeps every test's attempts)."""
    return await bot.service._prompt_admin.store.prompt_attempts(limit=100_000)


async def test_upload_diff_confirm_reload_then_the_new_source_answers(
    im: DiscordImitation, bot: BriefingBot
) -> None:
    root = bot.settings.prompts_dir
    before_version = bot.service.prompt_version
    question = await im.send(QUESTION, mention_bot=True)
    assert "singapore-pilot" not in (await final_reply(im, question)).text

    preview = await put(im, "singapore-pilot.md", NEW_SOURCE)
    assert "```diff" in preview.content and f'+title = "The {TOPIC}"' in preview.content
    assert "passages added 1: singapore-pilot#pilot" in preview.content
    assert not (root / "sources" / "singapore-pilot.md").exists()  # nothing written before Confirm
    assert bot.service.prompt_version == before_version

    result = await press(im, preview, "confirm")
    assert (
        f"Prompt set {bot.service.prompt_version} live" in result and "sources/singapore-pilot.md" in result
    )
    assert (root / "sources" / "singapore-pilot.md").read_bytes() == NEW_SOURCE
    assert not preview.components  # the buttons are used up

    question = await im.send(QUESTION, mention_bot=True)
    reply = await final_reply(im, question)
    assert "singapore-pilot#pilot" in reply.text, reply.text

    listing = (await prompts(im, "list")).content
    assert re.search(rf"\n  singapore-pilot\.md +{len(NEW_SOURCE)} B  [0-9a-f]{{8}}  .*  mod, put\n", listing)
    assert "\npersonas/\n  briefer.md " in listing
    outcomes = [(a["action"], a["outcome"]) for a in await audit(bot)]
    assert ("put", "accepted") in outcomes and ("put", "previewed") in outcomes


async def test_prompt_list_is_one_grouped_table_noting_host_edits(
    im: DiscordImitation, bot: BriefingBot
) -> None:
    root = bot.settings.prompts_dir
    edited = root / "messages" / "no_sources.md"
    original = edited.read_bytes()
    edited.write_bytes(original + b"\n")  # a host edit, made live with /reload
    try:
        assert (await bot.service.reload(actor="host test")).ok
        interaction = await im.command("prompts", subcommand="list", user="mod")
        listing = (await final_response(im, interaction)).content
    finally:
        edited.write_bytes(original)
        assert (await bot.service.reload(actor="host test")).ok
    assert not im.followups(interaction) and len(listing) <= 2000  # one message
    rows = listing.split("```")[1].strip("\n").splitlines()
    folders = [r for r in rows if not r.startswith("  ")]
    assert {"messages/", "personas/", "sources/", "templates/", "lexicon/"} <= set(folders)
    assert len(folders) == len(set(folders))  # each folder once, its files under it
    noted = [r for r in rows if prompts_cog.OUTSIDE in r]
    assert [r.split()[0] for r in noted] == ["no_sources.md"]  # a note only where one is due
    assert admin.HOST not in listing


async def test_brief_topics_are_a_prompt_file_and_a_broken_one_never_goes_live(
    im: DiscordImitation, bot: BriefingBot
) -> None:
    hardware = "Hardware dependence and digital sovereignty"  # named in lexicon/topics.toml
    offered = await im.autocomplete("brief", "topic", "chip")  # by what the topic is about
    assert offered[0]["name"] == hardware and len(offered) <= 25
    version = bot.service.prompt_version
    refused = await put(im, "topics.toml", b'[[topic]]\nname = "Chips"\nabout = 3\n')
    assert "lexicon/topics.toml:3: about must be text" in refused.content and not refused.components
    assert bot.service.prompt_version == version
    assert (await im.autocomplete("brief", "topic", "chip"))[0]["name"] == hardware


async def test_refused_upload_leaves_everything_as_it_was(im: DiscordImitation, bot: BriefingBot) -> None:
    root = bot.settings.prompts_dir
    before, version = snapshot(root.parent), bot.service.prompt_version
    broken = (root / "templates" / "answer.md").read_bytes() + b"\n{not_a_placeholder}\n"
    refused = await put(im, "answer.md", broken)
    assert "nothing was changed" in refused.content
    assert re.search(r"templates/answer\.md:\d+: unknown placeholder \{not_a_placeholder\}", refused.content)
    assert not refused.components  # nothing to confirm
    assert snapshot(root.parent) == before and bot.service.prompt_version == version
    [last, *_] = await audit(bot)
    assert (last["action"], last["target"], last["outcome"]) == ("put", "templates/answer.md", "refused")


async def test_non_moderator_is_refused_and_audited(im: DiscordImitation, bot: BriefingBot) -> None:
    before, fetches = snapshot(bot.settings.prompts_dir.parent), len(im.world.cdn.fetches)
    earlier = len(await audit(bot))  # other tests of this module's bot add their own attempts
    for sub, options in (("list", {}), ("get", {"file": "personas/briefer.md"}), ("history", {})):
        assert admin.NOT_A_MODERATOR in (await prompts(im, sub, user="alice", **options)).content
    assert admin.NOT_A_MODERATOR in (await put(im, "x.md", NEW_SOURCE, user="alice")).content
    assert len(im.world.cdn.fetches) == fetches  # a non-moderator's upload is never even fetched
    dm = await im.command("prompts", subcommand="list", user="mod", channel_id=im.world.dm_channel("mod"))
    assert admin.NOT_IN_SERVER in (await final_response(im, dm)).content
    assert await im.autocomplete("prompts", "file", "", user="alice", subcommand="get") == []
    assert snapshot(bot.settings.prompts_dir.parent) == before
    alice = f"discord:{im.world.people['alice'].id} (alice)"
    log = await audit(bot)
    mine = log[: len(log) - earlier]  # newest first: this test's attempts
    refused = [a for a in mine if a["actor"] == alice and a["outcome"] == "refused"]
    assert {a["action"] for a in refused} == {"list", "get", "history", "put"}


async def test_only_the_uploader_can_confirm(im: DiscordImitation, bot: BriefingBot) -> None:
    root = bot.settings.prompts_dir
    before = snapshot(root.parent)
    preview = await put(im, "another.md", NEW_SOURCE.replace(b"pilot", b"trial"))
    for other in ("alice", "admin"):  # a member, and even another moderator
        assert admin.NOT_YOURS in await press(im, preview, "confirm", user=other)
        assert admin.NOT_YOURS in await press(im, preview, "cancel", user=other)
    assert preview.components and snapshot(root.parent) == before
    assert "Cancelled" in await press(im, preview, "cancel")
    assert not preview.components
    assert snapshot(root.parent) == before
    refusals = [a for a in await audit(bot) if a["detail"] == admin.NOT_YOURS]
    assert len(refusals) == 4


@pytest.mark.parametrize(
    ("filename", "name"),
    [
        ("evil.md", "../evil.md"),
        ("evil.md", "sources/../personas/briefer.md"),
        ("evil.md", "sources/sub/evil.md"),
        ("evil.md", "sources\\..\\evil.md"),
        ("evil.md", "/etc/evil.md"),
        ("evil.md", "sources/.hidden.md"),
        ("evil.md", "notes/evil.md"),
        ("evil.md", "sources/evil.py"),
        ("evil.md", "personas/briefer.txt"),
        ("evil.md", "sources/evil\x00.md"),
        ("..md", None),
        (".env", None),
        ("../../evil.md", None),
        ("..\\evil.md", None),
    ],
)
async def test_path_tricks_are_refused(
    im: DiscordImitation, bot: BriefingBot, filename: str, name: str | None
) -> None:
    before = snapshot(bot.settings.prompts_dir.parent.parent)  # the folder above the bot's, too
    options = {"target": name} if name is not None else {}
    refused = await put(im, filename, NEW_SOURCE, **options)
    assert not refused.components and "Upload" not in refused.content, refused.content
    assert snapshot(bot.settings.prompts_dir.parent.parent) == before


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
        (NEW_SOURCE.replace(b"Researchers", "Chercheurs \u00e9".encode("latin-1")), "not valid UTF-8"),
    ],
)
async def test_binary_or_non_utf8_upload_is_refused(
    im: DiscordImitation, bot: BriefingBot, data: bytes, why: str
) -> None:
    before = snapshot(bot.settings.prompts_dir.parent)
    refused = await put(im, "picture.md", data)
    assert why in refused.content and "sources/picture.md:" in refused.content
    assert snapshot(bot.settings.prompts_dir.parent) == before


async def test_oversized_and_slow_uploads_are_refused(im: DiscordImitation, bot: BriefingBot) -> None:
    before, fetches = snapshot(bot.settings.prompts_dir.parent), len(im.world.cdn.fetches)
    huge = NEW_SOURCE + b"More words. " * 30_000
    assert "the limit for sources/huge.md is 262144" in (await put(im, "huge.md", huge)).content
    assert len(im.world.cdn.fetches) == fetches  # refused from the size Discord reports, unfetched
    lying = im.upload("lying.md", huge)
    lying.size = 1000  # the claim is small: the fetch itself stops at the cap
    assert "over the limit of 262144 bytes" in (await prompts(im, "put", file=lying)).content
    persona = b"You are a briefer. " * 4000  # personas have the 64 KiB limit of prompt files
    assert "limit for personas/briefer.md is 65536" in (await put(im, "briefer.md", persona)).content
    im.world.cdn.delay_s = 3.0
    try:
        assert "took longer than 1 s" in (await put(im, "slow.md", NEW_SOURCE)).content
    finally:
        im.world.cdn.delay_s = 0.0
    assert snapshot(bot.settings.prompts_dir.parent) == before


async def test_get_and_autocomplete(im: DiscordImitation, bot: BriefingBot) -> None:
    choices = await im.autocomplete("prompts", "file", "brief", user="mod", subcommand="get")
    assert {c["value"] for c in choices} == {"personas/briefer.md", "templates/brief.md"}
    response = await prompts(im, "get", file="personas/briefer.md")
    assert response.files == {
        "briefer.md": (bot.settings.prompts_dir / "personas" / "briefer.md").read_bytes()
    }
    assert "is in several folders" in (await prompts(im, "get", file="judge.md")).content


async def test_delete_keeps_needed_files_and_previews_a_source(
    im: DiscordImitation, bot: BriefingBot
) -> None:
    root = bot.settings.prompts_dir
    assert "cannot be deleted" in (await prompts(im, "delete", file="personas/judge.md")).content
    (root / "sources" / "scratch.txt").write_text(
        "Scratch notes\n\nUS and China AI notes.\n", encoding="utf-8"
    )
    await bot.service.reload(actor="host")  # added on the host and reloaded: live, and in the history
    preview = await prompts(im, "delete", file="scratch.txt")
    assert "-Scratch notes" in preview.content and "removed 1: scratch#p1" in preview.content
    assert "Removed: sources/scratch.txt" in await press(im, preview, "confirm")
    assert not (root / "sources" / "scratch.txt").exists()


async def test_rollback_restores_a_whole_earlier_version(im: DiscordImitation, bot: BriefingBot) -> None:
    root = bot.settings.prompts_dir
    changed = (root / "personas" / "briefer.md").read_bytes() + b"\nKeep every answer under 80 words.\n"
    await press(im, await put(im, "briefer.md", changed), "confirm")
    history = (await prompts(im, "history")).content
    first = re.findall(r"\*\*#(\d+)\*\* `([0-9a-f]{12})`", history)[-1]  # the oldest: the files as installed
    assert "baseline" in history.splitlines()[-1]  # recorded at start-up, whatever ran before
    preview = await prompts(im, "rollback", version=f"#{first[0]}")
    assert "Roll back to" in preview.content and "-Keep every answer under 80 words." in preview.content
    assert "Prompt set" in await press(im, preview, "confirm")

    def prompt_files(root: Path) -> dict[str, bytes]:  # .reloaded is the note to other bot processes
        return {path: data for path, data in snapshot(root).items() if not path.startswith(".")}

    assert prompt_files(root) == prompt_files(REPO_PROMPTS)  # byte for byte, as installed
    assert "rollback" in (await prompts(im, "history", file="personas/briefer.md")).content
    assert "not a recorded version" in (await prompts(im, "rollback", version="#999")).content


async def test_prompts_is_one_command_with_its_subcommands(im: DiscordImitation) -> None:
    subcommands = {o["name"]: o for o in im.world.commands["prompts"]["options"]}
    assert set(subcommands) == {"list", "get", "put", "delete", "history", "rollback"}
    put_options = [(o["name"], o["type"], o.get("required", False)) for o in subcommands["put"]["options"]]
    assert put_options == [("file", 11, True), ("target", 3, False)]  # 11: an attachment
    assert subcommands["get"]["options"][0]["autocomplete"] is True


async def test_the_imitated_cdn_serves_only_signed_unexpired_urls(im: DiscordImitation) -> None:
    upload = im.upload("a.md", b"hello")
    url = im.world.cdn.url(upload)
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as response:  # no bot token: the CDN does not ask for one
            assert response.status == 200 and await response.read() == b"hello"
        async with session.get(url.replace("hm=", "hm=0")) as response:
            assert response.status == 404
        upload.expires = int(time.time()) - 1
        async with session.get(im.world.cdn.url(upload)) as response:
            assert response.status == 404
