"""The audience votes on a debate's motion (Oxford-style): native polls before the first speech and
after the judge, ended by the bot, read back through the API, and the swing reported, after a
restart too. A real discord.py client against the imitation, whose polls refuse what Discord
refuses; a scripted model (the speeches are not what is tested here)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from discord_imitation import DiscordImitation
from discord_imitation.harness import bot_settings, running_bot
from discord_imitation.polls import PollRefused
from discord_imitation.world import StoredMessage

from bot.discord_app.audience import Tally, swing_report
from bot.engine.scripted import ScriptedEngine
from bot.store import Store

MOTION = "Export controls on AI chips make the world safer"
SPEECH = "The race framing puts speed ahead of safety [1]. Researchers fear a Chernobyl moment [2]."


def engine() -> ScriptedEngine:
    return ScriptedEngine(lambda _request: SPEECH, n_slots=1)


async def start_debate(im: DiscordImitation) -> int:
    before = set(im.world.threads)
    await im.command("debate", user="alice", motion=MOTION, rounds=1)
    return int(await im.wait_for(lambda: next(iter(set(im.world.threads) - before), None), what="a thread"))


def polls_in(im: DiscordImitation, thread_id: int) -> list[StoredMessage]:
    return [m for m in im.world.bot_messages(thread_id) if m.poll is not None]


async def judge(im: DiscordImitation, thread_id: int) -> None:
    [controls] = await im.wait_for(
        lambda: [m for m in im.world.bot_messages(thread_id) if "What next?" in m.content][:1],
        what="the debate's controls",
    )
    custom_id = next(c for c in controls.custom_ids() if c.startswith("debate:judge:"))
    await im.click(controls, custom_id, user="alice")


async def report(im: DiscordImitation, thread_id: int) -> StoredMessage:
    [found] = await im.wait_for(
        lambda: [m for m in im.world.bot_messages(thread_id) if "The room's vote" in m.content][:1],
        what="the audience report",
    )
    return found


@pytest.fixture
async def im() -> AsyncIterator[DiscordImitation]:
    imitation = await DiscordImitation().start()
    try:
        yield imitation
    finally:
        await imitation.stop()


async def test_the_room_votes_before_and_after_and_the_swing_is_reported(
    im: DiscordImitation, tmp_path: Path
) -> None:
    voting_over = asyncio.Event()

    async def wait_until(_when: float) -> None:
        await voting_over.wait()

    async with running_bot(bot_settings(im, tmp_path), engine()) as bot:
        cog: Any = bot.get_cog("Debates")
        cog.audience.wait_until = wait_until
        thread_id = await start_debate(im)
        [before] = await im.wait_for(lambda: polls_in(im, thread_id)[:1], what="the first poll")
        assert before.poll is not None and before.poll.answers == ["For", "Against", "Undecided"]
        assert MOTION in before.poll.question
        speeches = await im.wait_for(
            lambda: [m.id for m in im.world.bot_messages(thread_id) if "round 1" in m.text], what="a speech"
        )
        assert before.id < min(speeches), "the room votes before the first speech"
        im.world.vote(before, "alice", 1)
        im.world.vote(before, "bob", 2)
        im.world.vote(before, "carol", 3)

        await judge(im, thread_id)
        after = await im.wait_for(lambda: polls_in(im, thread_id)[1:2], what="the second poll")
        [after] = after
        assert before.poll.finalized, "the first poll ends when the judge has spoken"
        with pytest.raises(PollRefused):
            im.world.vote(before, "bob", 1)
        im.world.vote(after, "alice", 1)
        im.world.vote(after, "bob", 1)
        im.world.vote(after, "carol", 2)
        assert not [m for m in im.world.bot_messages(thread_id) if "The room's vote" in m.content]

        voting_over.set()
        text = (await report(im, thread_id)).content
        assert after.poll is not None and after.poll.finalized
        assert "Before the debate: For 1 · Against 1 · Undecided 1 (3 votes)" in text
        assert "After the debate: For 2 · Against 1 · Undecided 0 (3 votes)" in text
        assert "For +33 points, Against +0 points" in text and "The For side moved the room." in text
        assert not await bot.service.open_audience_polls(), "nothing is left to report"


async def test_the_report_is_posted_after_a_restart(im: DiscordImitation, tmp_path: Path) -> None:
    settings = bot_settings(im, tmp_path, debate_vote_s=3600)
    async with running_bot(settings, engine()):
        thread_id = await start_debate(im)
        [before] = await im.wait_for(lambda: polls_in(im, thread_id)[:1], what="the first poll")
        im.world.vote(before, "bob", 2)
        await judge(im, thread_id)
        [after] = await im.wait_for(lambda: polls_in(im, thread_id)[1:2], what="the second poll")
        im.world.vote(after, "bob", 1)
    assert after.poll is not None and not after.poll.finalized, "the bot stopped within the voting time"

    store = await Store.open(settings.database_path)
    try:
        [open_polls] = await store.open_audience_polls()
        await store.second_poll_opened(open_polls.debate, after.id, 0.0)  # its time ran out meanwhile
    finally:
        await store.aclose()

    async with running_bot(settings, engine()):
        text = (await report(im, thread_id)).content
    assert "Before the debate: For 0 · Against 1 · Undecided 0 (1 vote)" in text
    assert "After the debate: For 1 · Against 0 · Undecided 0 (1 vote)" in text
    assert "The For side moved the room." in text and after.poll.finalized


def test_a_draw_and_an_empty_room_are_said_as_such() -> None:
    even = swing_report(MOTION, Tally(2, 2, 0), Tally(3, 3, 0))
    assert "Neither side moved the room: a draw." in even
    empty = swing_report(MOTION, Tally(0, 0, 0), Tally(1, 0, 0))
    assert "no swing to report" in empty and "moved the room" not in empty


async def test_the_imitation_refuses_the_polls_discord_refuses(im: DiscordImitation) -> None:
    channel = await im.new_channel("polls")  # its own rate-limit bucket: 5 messages per 5 s
    url = f"{im.api_base}/channels/{channel}/messages"
    headers = {"Authorization": f"Bot {im.world.token}"}

    def poll(question: str = "Q?", answers: int = 3, text: str = "A", hours: float = 1) -> dict[str, Any]:
        media = [{"poll_media": {"text": text}} for _ in range(answers)]
        return {"poll": {"question": {"text": question}, "answers": media, "duration": hours}}

    async with aiohttp.ClientSession(headers=headers) as http:
        for refused in (
            poll("Q" * 301),
            poll(answers=11),
            poll(text="x" * 56),
            poll(hours=0.5),
            poll(hours=769),
        ):
            elsewhere = f"{im.api_base}/channels/{await im.new_channel('refused')}/messages"
            async with http.post(elsewhere, json=refused) as response:
                assert response.status == 400 and (await response.json())["code"] == 50035
        async with http.post(url, json=poll()) as response:
            made = await response.json()
        assert made.get("poll", {}).get("results", {}).get("is_finalized") is False, made
        message = f"{url}/{made['id']}"
        async with http.patch(message, json=poll()) as response:
            assert (await response.json())["code"] == 520003, "a poll cannot be edited"
        expire = f"{im.api_base}/channels/{channel}/polls/{made['id']}/expire"
        async with http.post(expire) as response:
            assert (await response.json())["poll"]["results"]["is_finalized"] is True
        async with http.post(expire) as response:
            assert (await response.json())["code"] == 520001, "a poll ends once"


async def test_a_debate_goes_on_when_its_polls_cannot_be_kept(
    im: DiscordImitation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database refuses the polls' record: the debate still runs and the judge still speaks;
    only the room's report is missing."""
    from bot.errors import StoreError

    async with running_bot(bot_settings(im, tmp_path), engine()) as bot:

        async def refused(*_args: object) -> None:
            raise StoreError("the database is locked")

        monkeypatch.setattr(bot.service, "audience_polls_opened", refused)
        thread_id = await start_debate(im)
        await judge(im, thread_id)
        await im.wait_for(
            lambda: [
                m for m in im.world.bot_messages(thread_id) if "The judge" in m.text and "Verdict" in m.text
            ],
            what="the judge's verdict",
        )
        assert not await bot.service.open_audience_polls()
        assert len(polls_in(im, thread_id)) == 1, "the first poll was posted; nothing followed it"
