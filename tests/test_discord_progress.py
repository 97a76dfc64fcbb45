"""Progress a member sees from the first second: the reply is posted at once with its Stop button,
shows the passages found and then "checking", keeps the queue position in view when the bot is
busy, can be stopped before the model has written a word, and every stage edit stays within the
channel's rate budget.

The model is scripted and held: it stands for one that takes 10 s (or any time at all) to write its
first word, and writes it only when the test lets it. So the tests wait on events, not on the clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from discord_imitation import DiscordImitation
from discord_imitation.harness import bot_settings, final_reply, finished, pending, running_bot
from discord_imitation.world import StoredMessage

from bot.briefing.sentences import QUOTE_LEAD
from bot.discord_app import feedback_ui, formatting
from bot.engine.base import GenerationRequest, StreamEvent
from bot.engine.scripted import ScriptedEngine

QUESTION = "What do researchers fear about a Chernobyl moment for AI?"
ANSWER = "The race framing puts speed ahead of safety [1]. Researchers fear a Chernobyl moment [2]."
FIRST_MESSAGE_S = 1.0  # the promise: the reply is there within a second of the question


class HeldEngine(ScriptedEngine):
    """A scripted model whose first word of every answer waits for `first`, and the rest for `rest`:
    a prompt evaluation as slow as the test wants. `generated` counts the words it let out."""

    def __init__(self, replies: Callable[[GenerationRequest], str], **kwargs: Any) -> None:
        super().__init__(replies, **kwargs)
        self.first = asyncio.Event()
        self.rest = asyncio.Event()
        self.generated = 0

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        words = 0
        async with contextlib.aclosing(super().stream(request)) as events:  # type: ignore[type-var]
            async for event in events:
                if isinstance(event, str):
                    await (self.rest if words else self.first).wait()
                    words += 1
                    self.generated += 1
                yield event


def stop_id(message: StoredMessage) -> str:
    return next(c for c in message.custom_ids() if c.startswith("reply:stop:"))


async def first_reply(im: DiscordImitation, question: StoredMessage) -> StoredMessage:
    return await im.wait_message(lambda m: m.reference_id == question.id, what="the bot's first reply")


async def showing(im: DiscordImitation, reply: StoredMessage, *lines: str) -> str:
    """Wait until the reply shows every one of `lines`; return what it shows then."""
    return str(
        await im.wait_for(
            lambda: all(line in reply.content for line in lines) and reply.content, what=f"{lines} shown"
        )
    )


async def test_the_reply_is_there_at_once_and_shows_each_stage(tmp_path: Path) -> None:
    im = await DiscordImitation().start()
    engine = HeldEngine(lambda _r: ANSWER)
    try:
        async with running_bot(bot_settings(im, tmp_path), engine) as bot:
            asked = await im.send(QUESTION, mention_bot=True)
            reply = await first_reply(im, asked)
            first = reply.versions[0]
            # Real time is the point here. The imitation stamps both messages on arrival; the reply
            # is posted before any retrieval (the service's first event), so even a busy machine
            # leaves it far inside the second, while the model has not written a word.
            assert first.at - asked.versions[0].at < FIRST_MESSAGE_S
            assert engine.generated == 0 and pending(reply)
            assert first.components and stop_id(reply)  # Stop from the first version on
            titles = {s.title for s in bot.service.sources().sources}
            found = await showing(im, reply, "📚 found:")
            assert any(title[:30] in found for title in titles)  # titles are shortened to fit a line
            engine.first.set()  # the model's first word: its sentences are being checked now
            checking = await showing(im, reply, formatting.CHECKING, "📚 found:")
            assert formatting.READING not in checking
            engine.rest.set()
            done = await final_reply(im, asked)
    finally:
        await im.stop()
    assert finished(done) and "Chernobyl moment" in done.content
    contents = [v.content for v in done.versions]
    assert formatting.READING in contents[0] or "📚 found:" in contents[0]
    order = [
        next(i for i, c in enumerate(contents) if "📚 found:" in c),
        next(i for i, c in enumerate(contents) if formatting.CHECKING in c),
        next(i for i, c in enumerate(contents) if "Chernobyl moment" in c),
    ]
    assert order == sorted(order)
    assert all(v.allowed_mentions and v.allowed_mentions["parse"] == [] for v in done.versions)


async def test_stop_works_in_the_queue_and_before_the_first_word(tmp_path: Path) -> None:
    im = await DiscordImitation().start()
    engine = HeldEngine(lambda _r: ANSWER, n_slots=1)  # one answer at a time: the second waits
    try:
        async with running_bot(bot_settings(im, tmp_path), engine) as bot:
            alice_asked = await im.send(QUESTION, author="alice", mention_bot=True)
            alice = await first_reply(im, alice_asked)
            await showing(im, alice, "📚 found:")
            bob_asked = await im.send(QUESTION, author="bob", mention_bot=True)
            bob = await first_reply(im, bob_asked)
            queued = await showing(im, bob, "📚 found:", "waiting in the queue: position 1")
            assert engine.generated == 0 and len(engine.requests) == 1

            await im.click(bob, stop_id(bob), user="bob")  # stopped while waiting in the queue
            await showing(im, bob, "Stopped by")
            await im.click(alice, stop_id(alice), user="alice")  # stopped before the first word
            await showing(im, alice, "Stopped by")
            for stopped in (alice, bob):
                assert not stopped.components and not pending(stopped)
            assert "📚 found:" in queued  # the passages were found before it waited

            carol_asked = await im.send(QUESTION, author="carol", mention_bot=True)
            engine.first.set()
            engine.rest.set()
            carol = await final_reply(im, carol_asked)
            statuses = [
                [status for _, _, status in await bot.service.store.turns(f"discord:msg:{q.id}")]
                for q in (alice_asked, bob_asked)
            ]
    finally:
        await im.stop()
    assert finished(carol)
    assert engine.generated == len(ANSWER.split())  # only carol's answer was ever written
    assert statuses == [["cut_off"], ["cut_off"]]  # each question kept, marked cut off; no answer stored
    assert feedback_ui.STOPPED.format(who="").strip(" .") in alice.content


async def test_stage_edits_stay_within_the_channel_budget(tmp_path: Path) -> None:
    im = await DiscordImitation().start()
    engine = HeldEngine(lambda _r: ANSWER, n_slots=2)
    people = ("alice", "bob", "carol", "mod")
    try:
        async with running_bot(bot_settings(im, tmp_path), engine):
            asked = [await im.send(QUESTION, author=who, mention_bot=True) for who in people]
            replies = [await first_reply(im, q) for q in asked]
            for reply in replies:
                await showing(im, reply, "📚 found:")
            engine.first.set()
            engine.rest.set()
            done = await asyncio.gather(*(final_reply(im, q, within=120) for q in asked))
    finally:
        await im.stop()
    assert all(finished(r) for r in done)
    assert im.refused == [], f"{len(im.refused)} requests got 429"
    for reply in done:
        assert len(reply.versions) >= 3  # stages, then the answer
        gaps = [b.at - a.at for a, b in zip(reply.versions, reply.versions[1:], strict=False)]
        # At most about one edit a second per reply: a lower bound that load cannot break (the bot
        # waits a second from Discord's answer to its last edit, recorded here on arrival).
        assert all(gap >= 0.9 for gap in gaps)


async def test_an_ordinary_answer_is_one_message_that_answers_first_with_numbers_in_order(
    tmp_path: Path,
) -> None:
    """The model cites its second passage first: the member reads one message, whose first line is
    a checked sentence (not a list of quotes), with [1], [2], ... in reading order, and the sources
    embed numbered the same way."""
    reply_text = "Researchers fear a Chernobyl moment [2]. The race framing puts speed ahead of safety [1]."
    im = await DiscordImitation().start()
    try:
        async with running_bot(bot_settings(im, tmp_path), ScriptedEngine(lambda _r: reply_text)):
            question = await im.send(QUESTION, mention_bot=True)
            reply = await final_reply(im, question)
            assert finished(reply) and len(im.replies_to(question.id)) == 1 and len(reply.content) <= 2000
            first_line = reply.content.splitlines()[0]
            assert "Chernobyl moment" in first_line and not first_line.startswith(QUOTE_LEAD), first_line
            shown = [int(n) for n in re.findall(r"\[(\d+)\]", reply.content)]
            in_order = list(dict.fromkeys(shown))
            assert in_order == list(range(1, len(in_order) + 1)) and len(in_order) >= 2, reply.content
            listed = [int(n) for n in re.findall(r"\*\*\[(\d+)\]\*\*", reply.embeds[0]["description"])]
            assert listed == in_order, "the sources list holds the numbers the text shows"
    finally:
        await im.stop()
