"""Closing the loop on Discord: 👍/👎 under answers (one changeable vote per user, a reason and a note
for a 👎, still working after a restart), moderators' /feedback and /why (refused to anyone else),
a round trip from /feedback export to `eval`, and Stop cancelling a reply while it streams.

A real discord.py client against the Discord imitation, with a scripted model: what matters here is
who may press what and what is stored, not what the answers say.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from discord_imitation import DiscordImitation
from discord_imitation.harness import bot_settings, final_reply, final_response, finished, running_bot

from bot.briefing.eval_files import load_questions
from bot.discord_app import feedback_ui
from bot.discord_app.cogs import feedback as feedback_cog
from bot.engine.base import GenerationRequest, StreamEvent
from bot.engine.scripted import ScriptedEngine
from bot.feedback import PAGE_SIZE
from bot.store import STORE_DOWN

QUESTION = "What do researchers fear about a Chernobyl moment for AI?"
OFF_SUBJECT = "What is the best recipe for banana bread?"
WRONG_QUESTION = "Why is a Chernobyl moment feared for AI?"
ANSWER = "The race framing puts speed ahead of safety [1]. Researchers fear a Chernobyl moment [2]."
NOTE = "It should have said the sources do not cover this."
RECORD = {
    "mode": "answer",
    "question": QUESTION,
    "answer": ANSWER,
    "passages": [],
    "decision": {"kind": "answer", "reason": ""},
    "model": "scripted",
    "prompt_version": "v",
}


class CountingEngine(ScriptedEngine):
    """Counts the text pieces it has generated: how far generation got after a Stop."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.generated = 0

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        async for event in super().stream(request):
            if isinstance(event, str):
                self.generated += 1
            yield event


def vote_ids(message: Any) -> tuple[str, str]:
    ids = message.custom_ids()
    up = next(c for c in ids if c.startswith("fb:up:"))
    down = next(c for c in ids if c.startswith("fb:down:"))
    return up, down


async def answered(im: DiscordImitation, question: str, user: str = "alice") -> Any:
    """Ask by mention; return the bot's finished reply."""
    asked = await im.send(question, author=user, mention_bot=True)
    reply = await final_reply(im, asked)
    assert finished(reply)
    return reply


async def click(im: DiscordImitation, message: Any, custom_id: str, user: str, **kwargs: Any) -> Any:
    """Click as `user`; return the click once the bot has answered it."""
    interaction = await im.click(message, custom_id, user=user, **kwargs)
    await im.wait_for(lambda: interaction.callbacks, what=f"the answer to {user}'s click on {custom_id}")
    return interaction


def private_answer(im: DiscordImitation, interaction: Any) -> Any:
    answer = im.response(interaction)
    assert answer is not None and answer.ephemeral
    return answer


async def votes(bot: Any, answer_id: int) -> dict[str, tuple[str, str, str]]:
    """user id -> (vote, reason, note) on one answer, read from the database."""
    rows: dict[str, tuple[str, str, str]] = {}
    for vote in ("up", "down"):
        _, items = await bot.service.store.feedback_rows(None, vote=vote, limit=-1)
        rows |= {
            i["user_id"]: (i["vote"], i["reason"], i["note"]) for i in items if i["answer_id"] == answer_id
        }
    return rows


async def test_votes_reasons_and_notes_survive_a_restart(tmp_path: Path) -> None:
    im = await DiscordImitation().start()
    settings = bot_settings(im, tmp_path)
    alice, bob = str(im.world.people["alice"].id), str(im.world.people["bob"].id)
    try:
        async with running_bot(settings, ScriptedEngine(lambda _r: ANSWER)) as bot:
            reply = await answered(im, QUESTION)
            up, down = vote_ids(reply)
            assert not any(c.startswith("reply:stop:") for c in reply.custom_ids())  # Stop is gone
            answer_id = int(up.rsplit(":", 1)[1])

            thanks = await click(im, reply, up, "bob")
            assert feedback_ui.THANKS_UP in private_answer(im, thanks).content
            asked = await click(im, reply, down, "alice")
            form = private_answer(im, asked)
            assert feedback_ui.WHAT_WRONG in form.content
            reason_id = next(c for c in form.custom_ids() if c.startswith("fb:reason:"))
            chosen = await click(im, form, reason_id, "alice", values=["should_decline"])
            assert chosen.callbacks[0]["type"] == 7  # the private message is updated in place
            assert "Should have declined" in form.content

            note_id = next(c for c in form.custom_ids() if c.startswith("fb:note:"))
            opened = await click(im, form, note_id, "alice")
            assert opened.modal is not None
            with pytest.raises(AssertionError):  # Discord's form refuses a note over the limit
                await im.submit(opened, {"note": "x" * 301})
            sent = await im.submit(opened, {"note": NOTE})
            await im.wait_for(lambda: sent.callbacks, what="the answer to the note")
            assert feedback_ui.NOTE_SAVED in private_answer(im, sent).content
            assert not any(NOTE in m.text for m in im.world.bot_messages())  # kept for moderators only
            assert await votes(bot, answer_id) == {
                bob: ("up", "", ""),
                alice: ("down", "should_decline", NOTE),
            }
            stored = await bot.service.feedback_page(str(im.world.guild_id))
            record = stored.items[0]["record"]
            assert record["question"] == QUESTION and record["answer"] in reply.content
            assert record["model"] == "scripted" and record["prompt_version"] == bot.service.prompt_version
            assert record["decision"]["kind"] == "answer" and record["passages"]
            assert all(isinstance(p["score"], float) for p in record["passages"])

        async with running_bot(settings, ScriptedEngine(lambda _r: ANSWER)) as bot:
            changed = await click(im, reply, down, "bob")  # a button from before the restart
            assert feedback_ui.WHAT_WRONG in private_answer(im, changed).content
            again = await click(im, reply, up, "alice")  # one vote per user: changing it replaces it
            assert feedback_ui.THANKS_UP in private_answer(im, again).content
            assert await votes(bot, answer_id) == {bob: ("down", "", ""), alice: ("up", "", "")}
            stale = await click(im, form, reason_id, "alice", values=["wrong"])  # her 👎 is gone
            assert feedback_ui.NOT_DOWN in stale.callbacks[0]["data"]["content"]

            await bot.service.store.aclose()  # the database fails: the click gets a sentence, not silence
            failed = await click(im, reply, down, "carol")
            assert private_answer(im, failed).content == STORE_DOWN
    finally:
        await im.stop()


@pytest.fixture(scope="module")
async def discord_bot(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[DiscordImitation, Any]]:
    im = await DiscordImitation().start()
    settings = bot_settings(im, Path(tmp_path_factory.mktemp("feedback")))
    try:
        async with running_bot(settings, ScriptedEngine(lambda _r: ANSWER)) as bot:
            yield im, bot
    finally:
        await im.stop()


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("feedback recent", {}),
        ("feedback export", {}),
        ("feedback expect", {"answer": 1, "facts": "chernobyl"}),
        ("why", {"question": QUESTION}),
    ],
)
async def test_non_moderators_are_refused(
    discord_bot: tuple[DiscordImitation, Any], command: str, options: dict[str, Any]
) -> None:
    im, _ = discord_bot
    for user in ("alice", "bob"):
        interaction = await im.command(command, user=user, **options)
        answer = await im.wait_for(lambda i=interaction: im.response(i), what=f"/{command}'s refusal")
        assert answer.ephemeral and answer.content == feedback_cog.MODERATORS_ONLY
    dm = await im.command(command, user="mod", channel_id=im.world.dm_channel("mod"), **options)
    answer = await im.wait_for(lambda: im.response(dm), what=f"/{command} in a DM")
    assert answer.content == feedback_cog.MODERATORS_ONLY  # no server, no moderator


async def test_feedback_export_round_trip_to_eval(
    discord_bot: tuple[DiscordImitation, Any], tmp_path: Path
) -> None:
    im, bot = discord_bot
    declined = await answered(im, OFF_SUBJECT, user="carol")
    good = await answered(im, QUESTION, user="carol")
    for reply, reason in ((declined, "should_answer"), (good, "should_decline")):
        _, down = vote_ids(reply)
        form = private_answer(im, await click(im, reply, down, "carol"))
        reason_id = next(c for c in form.custom_ids() if c.startswith("fb:reason:"))
        await click(im, form, reason_id, "carol", values=[reason])

    listed = await final_response(im, await im.command("feedback recent", user="mod"))
    assert listed.ephemeral and QUESTION in listed.text and "Should have declined" in listed.text
    only = await final_response(im, await im.command("feedback recent", user="mod", reason="should_answer"))
    assert OFF_SUBJECT in only.text and QUESTION not in only.text

    declined_id = int(vote_ids(declined)[0].rsplit(":", 1)[1])
    facts = "banana ; bread | loaf"
    saved = await final_response(
        im, await im.command("feedback expect", user="mod", answer=declined_id, facts=facts)
    )
    assert saved.ephemeral and "[['banana'], ['bread', 'loaf']]" in saved.content
    bad = await final_response(
        im, await im.command("feedback expect", user="mod", answer=declined_id, facts=" ; |")
    )
    assert "keywords" in bad.content  # a clear sentence, nothing saved

    export = await final_response(im, await im.command("feedback export", user="mod"))
    assert export.ephemeral and set(export.files) == {feedback_cog.EXPORT_FILE}
    path = tmp_path / "from-discord.jsonl"
    path.write_bytes(export.files[feedback_cog.EXPORT_FILE])
    questions = {q.question: q for q in load_questions(path)}  # the format eval reads
    assert questions[QUESTION].cls == "not_in_sources" and not questions[QUESTION].in_scope
    assert questions[OFF_SUBJECT].in_scope and questions[OFF_SUBJECT].expect == (
        ("banana",),
        ("bread", "loaf"),
    )
    report = await bot.service.evaluate(list(questions.values()))
    by_question = {item.question: item for item in report.items}
    assert by_question[OFF_SUBJECT].declined  # still failing: the eval now shows it
    assert not by_question[QUESTION].declined


async def test_a_wrong_answer_without_facts_exports_unscored_never_a_hit(
    discord_bot: tuple[DiscordImitation, Any], tmp_path: Path
) -> None:
    im, bot = discord_bot
    wrong = await answered(im, WRONG_QUESTION, user="bob")
    assert "chernobyl moment" in wrong.content.lower()  # it repeats the question's own key terms
    _, down = vote_ids(wrong)
    form = private_answer(im, await click(im, wrong, down, "bob"))
    reason_id = next(c for c in form.custom_ids() if c.startswith("fb:reason:"))
    await click(im, form, reason_id, "bob", values=["wrong"])

    async def exported() -> Any:
        export = await final_response(im, await im.command("feedback export", user="mod", reason="wrong"))
        path = tmp_path / "wrong.jsonl"
        path.write_bytes(export.files[feedback_cog.EXPORT_FILE])
        assert '"expect": "unknown"' in path.read_text() or '"expect": [[' in path.read_text()
        question = {q.question: q for q in load_questions(path)}[WRONG_QUESTION]
        report = await bot.service.evaluate([question])
        return question, report.items[0], report.summary()

    question, item, summary = await exported()
    assert not question.scored and question.in_scope
    assert not item.scored and not item.hit and item.coverage is None
    assert summary["unscored"] == 1 and summary["coverage"] is None
    assert summary["retrieval_hit_rate"] is None  # nothing to hit: not counted either way

    answer_id = int(down.rsplit(":", 1)[1])
    await final_response(
        im, await im.command("feedback expect", user="mod", answer=answer_id, facts="reactor; meltdown")
    )
    question, item, summary = await exported()
    assert question.scored and question.expect == (("reactor",), ("meltdown",))
    assert item.scored and item.coverage == 0.0 and summary["unscored"] == 0  # the facts it lacks


async def test_why_shows_passages_decision_and_checked_draft(
    discord_bot: tuple[DiscordImitation, Any],
) -> None:
    im, bot = discord_bot
    before = await bot.service.store.feedback_rows(None, limit=-1)
    public = len([m for m in im.world.bot_messages(im.world.general) if not m.ephemeral])
    answer = await final_response(im, await im.command("why", user="mod", question=QUESTION))
    assert answer.ephemeral
    text = answer.text
    assert "Decision:** answer" in text
    passage = (await bot.service.search(QUESTION, k=1))[0]
    assert passage.passage.id in text
    assert "✅" in text  # a draft sentence that passes the check
    declined = await final_response(im, await im.command("why", user="mod", question=OFF_SUBJECT))
    assert "Decision:** decline" in declined.text
    assert len([m for m in im.world.bot_messages(im.world.general) if not m.ephemeral]) == public
    assert await bot.service.store.feedback_rows(None, limit=-1) == before


async def test_fact_checks_and_debate_speeches_take_votes_too(
    discord_bot: tuple[DiscordImitation, Any],
) -> None:
    im, bot = discord_bot
    check = await final_response(im, await im.command("factcheck", user="carol", claim=QUESTION.rstrip("?")))
    up, _ = vote_ids(check)
    await click(im, check, up, "carol")

    before = set(im.world.threads)
    await im.command("debate", user="carol", motion="The US should race China to build AI", rounds=1)
    thread = await im.wait_for(lambda: next(iter(set(im.world.threads) - before), None), what="a thread")
    speech = await im.wait_message(lambda m: m.channel_id == thread and finished(m), what="a finished speech")
    _, down = vote_ids(speech)
    await click(im, speech, down, "carol")

    modes = {}
    for vote in ("up", "down"):
        _, items = await bot.service.store.feedback_rows(str(im.world.guild_id), vote=vote, limit=-1)
        modes |= {
            i["record"]["mode"]: i["record"]
            for i in items
            if i["user_id"] == str(im.world.people["carol"].id)
        }
    assert modes["factcheck"]["question"] == QUESTION.rstrip("?")
    assert modes["debate"]["question"].startswith("The US should race China")
    assert modes["debate"]["answer"] in speech.content


async def test_feedback_pages_turn_for_moderators_only(discord_bot: tuple[DiscordImitation, Any]) -> None:
    im, bot = discord_bot
    guild = str(im.world.guild_id)
    for n in range(PAGE_SIZE + 1):  # more than one page, whatever earlier tests left
        record = {**RECORD, "question": f"Paged question {n}?"}
        answer_id = await bot.service.record_shown(record, guild_id=guild, asker_id="1")
        await bot.service.vote(answer_id, user_id="2", vote="down")
    total = (await bot.service.feedback_page(guild)).total
    pages = -(-total // PAGE_SIZE)

    first = await final_response(im, await im.command("feedback recent", user="mod"))
    assert f"page 1 of {pages}" in first.text and "Paged question 5?" in first.text
    older = next(c for c in first.custom_ids() if c == "fb:page:2:")
    refused = await click(im, first, older, "alice")
    assert private_answer(im, refused).content == feedback_cog.MODERATORS_ONLY
    assert f"page 1 of {pages}" in first.text
    await click(im, first, older, "mod")
    assert f"page 2 of {pages}" in first.text and "Paged question 5?" not in first.text


# Last: a bot of its own points discord.py (a process-wide setting) at its own imitation, so the
# shared bot above must have finished first.
async def test_stop_cancels_the_generation_within_a_few_tokens(tmp_path: Path) -> None:
    im = await DiscordImitation().start()
    settings = bot_settings(im, tmp_path, max_answer_tokens=400)
    long_answer = (
        ANSWER
        + " "
        + " ".join(f"Point {n} is that researchers fear a Chernobyl moment [2]." for n in range(60))
    )
    engine = CountingEngine(lambda _r: long_answer, delay=0.05)
    try:
        async with running_bot(settings, engine) as bot:
            asked = await im.send(QUESTION, mention_bot=True)
            preview = await im.wait_message(
                lambda m: (
                    m.reference_id == asked.id
                    and not m.content.startswith("-#")  # the answer's text, not the stages before it
                    and any(c.startswith("reply:stop:") for c in m.custom_ids())
                ),
                what="a streaming reply with a Stop button",
            )
            stop = next(c for c in preview.custom_ids() if c.startswith("reply:stop:"))
            refused = await click(im, preview, stop, "bob")
            assert private_answer(im, refused).content == feedback_ui.STOP_NOT_YOURS
            assert engine.generated < len(long_answer.split()) - 10  # still generating

            shown = preview.content.split("\n-# ")[0]  # the text streamed so far, above "still writing"
            assert shown
            await im.click(preview, stop, user="alice")
            at_click = engine.generated
            stopped = await im.wait_for(
                lambda: "Stopped by" in preview.content and preview, what="the reply marked as stopped"
            )
            assert engine.generated - at_click <= 3
            await asyncio.sleep(0.5)  # ten more pieces' worth of time: none come
            assert engine.generated - at_click <= 3
            assert not stopped.components  # the Stop button went with the stream
            assert stopped.content.startswith(shown)  # what was shown stays, marked as stopped
            turns = await bot.service.store.turns(f"discord:msg:{asked.id}")
            assert [status for _, _, status in turns] == ["cut_off", "cut_off"]
    finally:
        await im.stop()


async def test_stop_ends_a_debate_mid_speech(tmp_path: Path) -> None:
    im = await DiscordImitation().start()
    settings = bot_settings(im, tmp_path, max_answer_tokens=400)
    long_speech = " ".join(f"Point {n}: the race framing puts speed ahead of safety [1]." for n in range(60))
    engine = CountingEngine(lambda _r: long_speech, delay=0.05)
    try:
        async with running_bot(settings, engine) as bot:
            before = set(im.world.threads)
            await im.command("debate", user="alice", motion="The US should race China to build AI", rounds=2)
            thread = await im.wait_for(
                lambda: next(iter(set(im.world.threads) - before), None), what="a thread"
            )
            speech = await im.wait_message(
                lambda m: m.channel_id == thread and any(c.startswith("reply:stop:") for c in m.custom_ids()),
                what="a speech being written, with a Stop button",
            )
            stop = next(c for c in speech.custom_ids() if c.startswith("reply:stop:"))
            await im.click(speech, stop, user="mod")  # a moderator may stop anyone's debate
            at_click = engine.generated
            await im.wait_for(lambda: "Stopped by" in speech.content, what="the speech marked as stopped")
            await asyncio.sleep(0.5)
            assert engine.generated - at_click <= 3
            assert not speech.components
            assert not any("What next?" in m.content for m in im.world.bot_messages(thread))  # ended
            assert not bot.get_cog("Debates").debates
            assert not bot.courier.active  # nothing left counted as in progress
    finally:
        await im.stop()


async def test_more_from_the_sources_shows_privately_what_the_answer_did_not_quote(tmp_path: Path) -> None:
    im = await DiscordImitation().start()
    try:
        async with running_bot(bot_settings(im, tmp_path), ScriptedEngine(lambda _r: ANSWER)):
            reply = await answered(im, QUESTION)
            more = next(c for c in reply.custom_ids() if c.startswith("fb:more:"))
            shown = await click(im, reply, more, "bob")  # anyone may read more, not only the asker
            text = private_answer(im, shown).content
            assert text.startswith(f"**{feedback_ui.MORE_LABEL}**"), text
            more_ids = re.findall(r"`([^`]+#[^`]+)`", text)
            cited_ids = re.findall(r"`([^`]+#[^`]+)`", reply.text)
            assert more_ids and cited_ids, (text, reply.text)
            assert not set(more_ids) & set(cited_ids), "only what the answer did not quote"
    finally:
        await im.stop()
