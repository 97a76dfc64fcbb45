"""/reload on Discord: who may run it, what a moderator sees, and that a broken file changes nothing
live. The bot runs on a temporary copy of prompts/ (the real folder is never edited)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from discord_imitation import DiscordImitation
from discord_imitation.harness import bot_settings, final_response, running_bot

from bot.discord_app.client import BriefingBot
from bot.discord_app.cogs.moderation import NOT_A_MODERATOR, NOT_IN_DMS
from bot.engine.scripted import ScriptedEngine

REPO_PROMPTS = Path(__file__).resolve().parent.parent / "prompts"
NEW_SOURCE = """+++
title = "A source added by a moderator"
framing = ["cooperation"]
+++
## Track-two talks between US and Chinese AI researchers {#talks .cooperation}
US and Chinese AI researchers met in track-two talks to discuss shared safety norms for frontier AI.
"""


@pytest.fixture(scope="module")
async def reload_bot(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[DiscordImitation, BriefingBot]]:
    folder = tmp_path_factory.mktemp("discord-reload")
    prompts = folder / "prompts"
    shutil.copytree(REPO_PROMPTS, prompts)
    imitation = await DiscordImitation().start()
    settings = bot_settings(imitation, folder, prompts_dir=prompts)
    try:
        async with running_bot(settings, ScriptedEngine(["An answer [1]."])) as bot:
            yield imitation, bot
    finally:
        await imitation.stop()


async def reload_as(im: DiscordImitation, user: str, channel_id: int | None = None) -> str:
    interaction = await im.command("reload", user=user, channel_id=channel_id)
    response = await final_response(im, interaction)
    assert response.ephemeral
    return "\n".join([response.content, *(m.content for m in im.followups(interaction))])


async def test_moderator_role_reloads_and_sees_what_changed(
    reload_bot: tuple[DiscordImitation, BriefingBot],
) -> None:
    im, bot = reload_bot
    before = bot.service.prompt_version
    (bot.settings.prompts_dir / "sources" / "reload-test.md").write_text(NEW_SOURCE, encoding="utf-8")
    summary = await reload_as(im, "mod")
    after = bot.service.prompt_version
    assert after != before and f"Prompt set {after} live" in summary, summary
    assert "Added:" in summary and "reload-test.md" in summary
    results = await bot.service.search("track-two talks shared safety norms", 3)
    assert any(r.passage.id.startswith("reload-test") for r in results)
    [logged, *_] = await bot.service.store.reloads()
    assert logged["ok"] and str(im.world.people["mod"].id) in logged["actor"]


async def test_manage_server_permission_is_enough(reload_bot: tuple[DiscordImitation, BriefingBot]) -> None:
    im, _ = reload_bot
    assert "No files changed." in await reload_as(im, "admin")


async def test_broken_file_is_reported_and_the_old_set_stays_live(
    reload_bot: tuple[DiscordImitation, BriefingBot],
) -> None:
    im, bot = reload_bot
    before = bot.service.prompt_version
    template = bot.settings.prompts_dir / "templates" / "answer.md"
    good = template.read_text(encoding="utf-8")
    template.write_text(good + "\n{not_a_placeholder}\n", encoding="utf-8")
    try:
        summary = await reload_as(im, "mod")
    finally:
        template.write_text(good, encoding="utf-8")
    assert "previous prompt set stays live" in summary
    assert "answer.md:" in summary  # file:line: message
    assert bot.service.prompt_version == before
    [logged, *_] = await bot.service.store.reloads()
    assert not logged["ok"] and logged["summary"]["problems"]
    question = await im.send("What does the race framing say about speed?", mention_bot=True)
    reply = await im.wait_message(lambda m: m.reference_id == question.id and "finished" in m.content)
    assert reply.content  # the live set still answers


async def test_non_moderator_is_refused(reload_bot: tuple[DiscordImitation, BriefingBot]) -> None:
    im, bot = reload_bot
    count = len(await bot.service.store.reloads())
    assert NOT_A_MODERATOR in await reload_as(im, "alice")
    assert len(await bot.service.store.reloads()) == count  # nothing was attempted


async def test_reload_in_a_dm_is_refused(reload_bot: tuple[DiscordImitation, BriefingBot]) -> None:
    im, _ = reload_bot
    assert NOT_IN_DMS in await reload_as(im, "mod", channel_id=im.world.dm_channel("mod"))
