"""Everything the bot sends fits Discord's 2000-character limit (the imitation answers 400 beyond
it, as Discord does): failures, fact-check verdicts, and a code fence with a very long opening line
(which used to make the splitter loop forever)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from discord_imitation import DiscordImitation
from discord_imitation.harness import bot_settings, final_reply, final_response, running_bot

from bot.discord_app.chunks import MESSAGE_LIMIT, split_message
from bot.discord_app.client import BriefingBot
from bot.engine.base import GenerationRequest
from bot.engine.scripted import ScriptedEngine
from bot.errors import BackendError

LONG_FAILURE = "The model server said: " + "overloaded, " * 300 + "please retry."
Running = tuple[DiscordImitation, BriefingBot]
QUESTION = "What does the race framing say about speed?"


def script(request: GenerationRequest) -> str:
    if "failtest" in request.messages[-1].content:
        raise BackendError(LONG_FAILURE)
    return "The race framing puts speed ahead of safety [1]."


@pytest.fixture(scope="module")
async def discord_bot(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Running]:
    imitation = await DiscordImitation().start()
    settings = bot_settings(imitation, Path(tmp_path_factory.mktemp("long-messages")))
    try:
        async with running_bot(settings, ScriptedEngine(script, n_slots=1)) as bot:
            yield imitation, bot
    finally:
        await imitation.stop()


@pytest.fixture
def im(discord_bot: Running) -> DiscordImitation:
    return discord_bot[0]


async def test_a_long_failure_is_split_not_lost(im: DiscordImitation) -> None:
    question = await im.send(f"{QUESTION} failtest", mention_bot=True)
    reply = await final_reply(im, question)
    more = await im.wait_for(
        lambda: [
            m for m in im.world.bot_messages(question.channel_id) if m.id > reply.id and "retry" in m.content
        ],
        what="the rest of the failure message",
    )
    shown = "\n".join(m.content for m in [reply, *more])
    assert all(len(m.content) <= MESSAGE_LIMIT for m in [reply, *more])
    assert " ".join(shown.split()) == " ".join(LONG_FAILURE.split())


async def test_a_long_fact_check_verdict_is_split(
    im: DiscordImitation, discord_bot: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    cog = discord_bot[1].get_cog("SlashCommands")
    loaded = sys.modules[type(cog).__module__]  # discord.py loads extensions as fresh module objects
    real = loaded.factcheck_message
    long_explanation = "The sources say: " + "export controls slow the race, " * 120

    def long_verdict(check: Any) -> tuple[str, Any]:
        content, embed = real(check)
        return f"{content}\n{long_explanation}", embed

    monkeypatch.setattr(loaded, "factcheck_message", long_verdict)
    interaction = await im.command("factcheck", claim="Export controls slow China's AI progress.")
    first = await final_response(im, interaction)
    rest = await im.wait_for(lambda: im.followups(interaction), what="the rest of the verdict")
    assert len(first.content) <= MESSAGE_LIMIT and all(len(m.content) <= MESSAGE_LIMIT for m in rest)
    assert "export controls slow the race" in rest[-1].content
    assert first.content.startswith("**Claim:**")


def test_a_fence_line_of_two_thousand_characters_is_split_without_looping() -> None:
    fence = "```" + "python" * 333  # ~2,000 characters: no room left for code once repeated
    text = f"Before.\n{fence}\nprint('hello')\nx = 1\n```\nAfter."
    chunks = split_message(text)  # used to loop forever
    assert all(len(c) <= MESSAGE_LIMIT for c in chunks)
    assert "".join("".join(chunks).split()) == "".join(text.split())


@pytest.mark.parametrize(
    "length", [MESSAGE_LIMIT // 4 - 3, MESSAGE_LIMIT - 10, MESSAGE_LIMIT, 3 * MESSAGE_LIMIT]
)
def test_fence_lines_of_any_length_and_a_long_body(length: int) -> None:
    fence = "```" + "x" * length
    body = "\n".join(f"line {i} " + "y" * 50 for i in range(100))
    text = f"{fence}\n{body}\n```"
    chunks = split_message(text)
    assert all(len(c) <= MESSAGE_LIMIT for c in chunks)
    assert all(f"line {i} " in "".join(chunks) for i in range(100))
