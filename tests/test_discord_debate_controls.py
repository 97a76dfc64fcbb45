"""Debate buttons answer only the member who started the debate or a moderator, and debates nobody
finishes do not pile up: a real discord.py client against the Discord imitation, with a scripted
model (what matters here is who may press what, not what the speeches say)."""

from __future__ import annotations

import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from discord_imitation import DiscordImitation
from discord_imitation.harness import bot_settings, finished, running_bot

from bot.discord_app.client import BriefingBot
from bot.discord_app.cogs import debate as debate_cog
from bot.engine.scripted import ScriptedEngine

MOTION = "The US should race China to build more powerful AI as fast as possible"
ANSWER = "The race framing puts speed ahead of safety [1]. Researchers fear a Chernobyl moment [2]."


@pytest.fixture(scope="module")
async def discord_bot(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[DiscordImitation, BriefingBot]]:
    imitation = await DiscordImitation().start()
    settings = bot_settings(imitation, Path(tmp_path_factory.mktemp("debate-controls")))
    try:
        async with running_bot(settings, ScriptedEngine(lambda _request: ANSWER, n_slots=1)) as bot:
            yield imitation, bot
    finally:
        await imitation.stop()


@pytest.fixture
def im(discord_bot: tuple[DiscordImitation, BriefingBot]) -> DiscordImitation:
    return discord_bot[0]


@pytest.fixture
def cog(discord_bot: tuple[DiscordImitation, BriefingBot]) -> Any:
    return discord_bot[1].get_cog("Debates")


async def start_debate(im: DiscordImitation, user: str = "alice", rounds: int = 3) -> tuple[int, Any]:
    """Start a debate as `user`; return its thread and the first control message."""
    before = set(im.world.threads)
    await im.command("debate", user=user, motion=MOTION, rounds=rounds)
    thread_id = await im.wait_for(lambda: next(iter(set(im.world.threads) - before), None), what="a thread")
    return thread_id, await controls(im, thread_id, 1)


async def controls(im: DiscordImitation, thread_id: int, count: int) -> Any:
    [message] = await im.wait_for(
        lambda: [m for m in im.world.bot_messages(thread_id) if "What next?" in m.content][count - 1 : count],
        what=f"debate controls #{count}",
    )
    return message


async def press(im: DiscordImitation, message: Any, action: str, user: str) -> Any:
    """Click `action` as `user`; return the interaction once the bot has answered it."""
    custom_id = next(c for c in message.custom_ids() if c.startswith(f"debate:{action}:"))
    click = await im.click(message, custom_id, user=user)
    await im.wait_for(lambda: click.callbacks, what=f"the answer to {user}'s click on {action}")
    return click


async def test_only_the_starter_or_a_moderator_may_press_the_buttons(im: DiscordImitation) -> None:
    thread_id, first = await start_debate(im, user="alice")
    speeches = len([m for m in im.world.bot_messages(thread_id) if finished(m)])

    for action in ("next", "judge", "stop"):
        refused = await press(im, first, action, user="bob")
        answer = im.response(refused)
        assert answer is not None and answer.ephemeral and debate_cog.NOT_YOURS in answer.content
    assert first.components  # the buttons are still there for alice
    assert len([m for m in im.world.bot_messages(thread_id) if finished(m)]) == speeches  # nothing played

    await press(im, first, "next", user="mod")  # a moderator may run someone else's debate
    second = await controls(im, thread_id, 2)
    assert not first.components
    await press(im, second, "stop", user="alice")
    await im.wait_message(lambda m: m.channel_id == thread_id and "Debate stopped" in m.content)


async def test_abandoned_debates_are_bounded(
    im: DiscordImitation, cog: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = sys.modules[type(cog).__module__]  # discord.py loads extensions as fresh module objects
    cog.debates.clear()
    monkeypatch.setattr(loaded, "MAX_DEBATES", 2)
    _, oldest = await start_debate(im, user="alice", rounds=1)
    _, idle = await start_debate(im, user="carol", rounds=1)
    assert len(cog.debates) == 2
    await start_debate(im, user="bob", rounds=1)  # over the cap: the least recently used goes
    assert len(cog.debates) == 2
    gone = await press(im, oldest, "judge", user="alice")
    assert debate_cog.GONE in im.response(gone).content

    monkeypatch.setattr(loaded, "MAX_DEBATES", 100)
    idle_key = int(idle.custom_ids()[0].rsplit(":", 1)[1])
    cog.debates[idle_key].last_active = time.monotonic() - debate_cog.DEBATE_IDLE_S - 1
    await start_debate(im, user="alice", rounds=1)  # an hour without a click: dropped
    assert idle_key not in cog.debates and len(cog.debates) == 2
