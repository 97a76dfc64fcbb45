"""Conversations on Discord with the real bundled model: a mention streams a grounded answer with
its sources, a reply to the bot continues the conversation, and a DM gets a structured briefing
whose follow-up continues the DM conversation. One bot (on the shared `llama_engine`) serves the
module.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

import pytest
from discord_imitation import DiscordImitation
from discord_imitation.harness import bot_settings, final_reply, finished, running_bot

from bot.briefing.sentences import Part
from bot.discord_app import formatting
from bot.discord_app.client import BriefingBot

if TYPE_CHECKING:
    from bot.engine.llama_engine import LlamaEngine

QUESTION = "Why do researchers in China and the US fear a Chernobyl moment for AI?"


@pytest.fixture(scope="module")
async def chat_bot(
    llama_engine: LlamaEngine, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[DiscordImitation, BriefingBot]]:
    imitation = await DiscordImitation().start()
    # Short answers keep the module fast; length is not what these tests are about.
    settings = bot_settings(imitation, tmp_path_factory.mktemp("discord-chat"), max_answer_tokens=64)
    try:
        async with running_bot(settings, llama_engine) as bot:
            yield imitation, bot
    finally:
        await imitation.stop()


def held_after_first_part(
    ask: Callable[..., AsyncIterator[object]], flowing: asyncio.Event
) -> Callable[..., AsyncIterator[object]]:
    """`ask` with its events after the first shown part held until `flowing` is set: a fast machine
    writes a short answer inside one edit interval, when no preview is due yet."""

    async def held(*args: object, **kwargs: object) -> AsyncIterator[object]:
        shown = False
        async for event in ask(*args, **kwargs):
            if shown:
                await flowing.wait()
            shown = shown or isinstance(event, Part)
            yield event

    return held


async def test_mention_streams_a_grounded_answer_with_sources(
    chat_bot: tuple[DiscordImitation, BriefingBot], monkeypatch: pytest.MonkeyPatch
) -> None:
    im, bot = chat_bot
    flowing = asyncio.Event()
    monkeypatch.setattr(bot.service, "ask", held_after_first_part(bot.service.ask, flowing))
    question = await im.send(QUESTION, mention_bot=True)
    try:
        await im.wait_message(
            lambda m: m.reference_id == question.id and formatting.WRITING in m.content,
            within=120,
            what="the answer half-written",
        )
    finally:
        flowing.set()
    reply = await final_reply(im, question, within=120)
    assert finished(reply)
    assert any(channel == question.channel_id for channel, _ in im.world.typing)  # typing while thinking
    previews = [v for v in reply.versions if formatting.WRITING in v.content]
    assert previews, "the answer was not streamed"
    assert all(not v.embeds for v in previews) and formatting.FINISHED not in previews[0].content
    gaps = [b.at - a.at for a, b in zip(reply.versions, reply.versions[1:], strict=False)]
    # Edits at most about once a second. A lower bound that load cannot break: the bot starts its
    # one-second wait when Discord has answered an edit, which the imitation records on arrival.
    assert all(gap >= 0.9 for gap in gaps)
    assert reply.embeds and reply.embeds[0]["title"] == "Sources"
    source_ids = {p.passage.id for p in await bot.service.search(QUESTION, 10)}
    assert any(f"`{pid}`" in reply.embeds[0]["description"] for pid in source_ids)
    assert formatting.WRITING not in reply.content
    assert all(v.allowed_mentions and v.allowed_mentions["parse"] == [] for v in reply.versions)


async def test_reply_to_the_bot_continues_the_conversation(
    chat_bot: tuple[DiscordImitation, BriefingBot],
) -> None:
    im, bot = chat_bot
    first = await im.send("What is the race framing of US-China AI competition?", mention_bot=True)
    answer = await final_reply(im, first, within=120)
    follow_up = await im.send("What does the cooperation framing say instead?", reply_to=answer.id)
    second = await final_reply(im, follow_up, within=120)
    assert finished(second)
    conversation = await bot.conversations.of_message(second.id)
    assert conversation == await bot.conversations.of_message(answer.id) == f"discord:msg:{first.id}"
    history = await bot.service.store.history(conversation)
    assert [t.role for t in history] == ["user", "assistant", "user", "assistant"]
    assert "race framing" in history[0].display and "cooperation framing" in history[2].display


async def test_dm_gets_a_briefing_and_a_follow_up_continues_it(
    chat_bot: tuple[DiscordImitation, BriefingBot],
) -> None:
    im, bot = chat_bot
    topic = await im.dm("Chernobyl moment for AI", author="bob")
    briefing = await final_reply(im, topic, within=120)
    assert finished(briefing)
    for section in ("Bottom line", "Key facts", "race framing", "cooperation framing", "uncertain"):
        assert section in briefing.content
    assert briefing.embeds and briefing.embeds[0]["title"] == "Sources"
    follow_up = await im.dm("What did the 1986 Chernobyl meltdown have to do with it?", author="bob")
    answer = await final_reply(im, follow_up, within=120)
    assert finished(answer) and "Bottom line" not in answer.content  # answered, not briefed again
    history = await bot.service.store.history(f"discord:dm:{im.world.dm_channel('bob')}")
    assert len(history) == 4
