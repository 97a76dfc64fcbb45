"""Feedback without Discord: votes in a real SQLite file (one per user, changeable, per server,
dropped by retention), the eval lines a 👎 becomes, `python -m bot feedback export`, and `/why`'s
explanation on the real bundled model."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.briefing.eval_files import load_questions
from bot.briefing.models import Answer, Answered
from bot.errors import InputError
from bot.feedback import MAX_NOTE_CHARS, shown_answer
from bot.retention import DAY_S, forget_old_conversations
from bot.service import BriefingService

REPO = Path(__file__).resolve().parent.parent
COVERED = "What do researchers fear about a Chernobyl moment for AI?"
OFF_SUBJECT = "What is the best recipe for banana bread?"


async def asked(service: BriefingService, question: str) -> Answer:
    async for event in service.ask(question, conversation_id=f"c:{question}", user_id="u"):
        if isinstance(event, Answered):
            return event.answer
    raise AssertionError("no answer")


async def shown(service: BriefingService, question: str, guild: str = "g1") -> int:
    record = shown_answer(
        await asked(service, question), mode="answer", prompt_version=service.prompt_version
    )
    return await service.record_shown(record, guild_id=guild, asker_id="asker")


async def test_one_changeable_vote_per_user_with_reason_and_note(service: BriefingService) -> None:
    answer_id = await shown(service, COVERED)
    assert await service.vote(answer_id, user_id="ann", vote="down")
    assert await service.explain_vote(answer_id, user_id="ann", reason="wrong", note="  Too   vague. ")
    assert await service.vote(answer_id, user_id="ann", vote="down")  # the same vote again keeps them
    page = await service.feedback_page("g1")
    assert page.total == 1 and (page.items[0]["reason"], page.items[0]["note"]) == ("wrong", "Too vague.")

    assert await service.vote(answer_id, user_id="ann", vote="up")  # changed: no 👎 left to explain
    assert (await service.feedback_page("g1")).total == 0
    assert not await service.explain_vote(answer_id, user_id="ann", reason="other")
    assert not await service.vote(answer_id + 1000, user_id="ann", vote="down")  # not on record

    with pytest.raises(InputError, match="Unknown reason"):
        await service.explain_vote(answer_id, user_id="ann", reason="rude")
    with pytest.raises(InputError, match=str(MAX_NOTE_CHARS)):
        await service.explain_vote(answer_id, user_id="ann", note="x" * (MAX_NOTE_CHARS + 1))


async def test_feedback_is_kept_per_server_and_follows_retention(service: BriefingService) -> None:
    here, there = await shown(service, COVERED, "g1"), await shown(service, OFF_SUBJECT, "g2")
    for answer_id in (here, there):
        await service.vote(answer_id, user_id="ann", vote="down")
    assert [i["answer_id"] for i in (await service.feedback_page("g1")).items] == [here]
    assert [i["answer_id"] for i in (await service.feedback_page("g2")).items] == [there]
    assert (await service.feedback_page(None)).total == 2  # the console sees every server

    await forget_old_conversations(service.store, 30, now=time.time() + 29 * DAY_S)
    assert (await service.feedback_page(None)).total == 2  # younger than the setting: kept
    await forget_old_conversations(service.store, 30, now=time.time() + 31 * DAY_S)
    assert (await service.feedback_page(None)).total == 0
    assert not await service.vote(here, user_id="ann", vote="up")  # the answer went with it


async def test_console_export_is_an_eval_file(
    service: BriefingService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    covered, off = await shown(service, COVERED, "g1"), await shown(service, OFF_SUBJECT, "g1")
    other = await shown(service, "Who wrote the article about meeting China's top AI experts?", "g2")
    for answer_id, reason in ((covered, "should_decline"), (off, "should_answer"), (other, "wrong")):
        await service.vote(answer_id, user_id="ann", vote="down")
        await service.explain_vote(answer_id, user_id="ann", reason=reason, note="see the sources")
    await service.vote(covered, user_id="bob", vote="down")  # voted down twice: exported once

    monkeypatch.setenv("PROMPTS_DIR", str(REPO / "prompts"))
    monkeypatch.setenv("DATABASE_PATH", str(service.store.path))
    out = tmp_path / "failures.jsonl"
    # The console runs its own event loop: in a thread, as from another process.
    assert await asyncio.to_thread(main, ["feedback", "export", "--guild", "g1", "-o", str(out)]) == 0
    questions = {q.question: q for q in load_questions(out)}
    assert set(questions) == {COVERED, OFF_SUBJECT}  # only this server's
    assert questions[COVERED].cls == "not_in_sources" and questions[COVERED].expect == ()
    # Nobody said what a right answer holds: replayed, but unscored (not the question's own words,
    # which the answer voted down usually repeats).
    assert questions[OFF_SUBJECT].in_scope and not questions[OFF_SUBJECT].scored
    assert questions[OFF_SUBJECT].expect == ()

    assert await service.set_expected(off, guild_id="g2", facts="banana") is None  # another server's
    assert await service.set_expected(off, guild_id="g1", facts="banana; loaf|bread") == [
        ["banana"],
        ["loaf", "bread"],
    ]
    with pytest.raises(InputError, match="keywords"):
        await service.set_expected(off, guild_id="g1", facts=";;|")
    assert await asyncio.to_thread(main, ["feedback", "export", "-o", str(out)]) == 0
    assert {q.question: q for q in load_questions(out)}[OFF_SUBJECT].expect == (
        ("banana",),
        ("loaf", "bread"),
    )

    with pytest.raises(SystemExit):  # argparse refuses an unknown reason, naming the choices
        await asyncio.to_thread(main, ["feedback", "export", "--reason", "bogus"])


async def test_why_explains_the_decision_with_a_checked_draft(service: BriefingService) -> None:
    why = await service.why(COVERED, user_id="mod")
    assert why.answerable and why.reason
    assert why.passages and why.passages[0].score > 0
    assert why.draft, "the model writes a draft from the answer's prompt"
    checked = [d for d in why.draft if d.checked]
    answer = await asked(service, COVERED)  # the same question answered for real (greedy decoding)
    # Greedy decoding gives the same draft unless the shared engine batched it with another test's
    # leftover request (batch composition moves the last digits of the logits, and a near-tie can
    # tip): compare the checks where the model wrote the same sentences, which is the usual case.
    dropped = {d.text for d in checked if not d.passed}
    drafted = {d.text for d in checked}
    shown_or_dropped = set(answer.unsupported) | {s.text for p in answer.parts for s in p.sentences}
    if drafted <= shown_or_dropped:
        assert dropped == set(answer.unsupported)

    declined = await service.why(OFF_SUBJECT, user_id="mod")
    assert not declined.answerable and declined.kind == "off_topic" and declined.reason
    assert await service.store.history("c:why") == []  # nothing is stored as a conversation


def test_a_full_page_of_the_longest_feedback_fits_one_embed() -> None:
    from bot.discord_app.cogs.feedback import page_embed
    from bot.feedback import PAGE_SIZE, FeedbackPage

    record = {
        "mode": "answer",
        "question": "why " * 500,
        "answer": "because " * 500,
        "passages": [],
        "decision": {"kind": "not_covered", "reason": "reason " * 300},
        "model": "m" * 200,
        "prompt_version": "v" * 64,
    }
    item = {"answer_id": 10**9, "reason": "should_answer", "note": "n" * MAX_NOTE_CHARS, "at": 1e9}
    items = [{**item, "record": record} for _ in range(PAGE_SIZE)]
    embed = page_embed(
        FeedbackPage(items=items, total=10**6, page=10**5, pages=10**5, reason="should_answer")
    )
    assert len(embed.fields) == PAGE_SIZE and len(embed) <= 6000  # Discord's limit for one embed
    assert all(len(f.value or "") <= 1024 and len(f.name or "") <= 256 for f in embed.fields)
