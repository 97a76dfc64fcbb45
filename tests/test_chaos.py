"""Chaos tests: the bot as an operator runs it (`python -m bot run`, the bundled model) against the
Discord imitation with Discord's rate limits on, while things go wrong.

- kill -9 mid-answer with others queued, then a restart: nothing committed is lost and no reply is
  left "still writing" or "waiting in the queue";
- SIGTERM drains: the answer in progress finishes before the process exits;
- a burst of 40 users in one channel: every one gets an answer or a clear "busy", with zero 429s,
  the event loop's lag under 50 ms at p99 (measured inside the bot) and no "Can't keep up";
- the gateway connection drops: the bot resumes and no mention is lost;
- the database turns read-only mid-run: the user reads a clear message, the reply never freezes.

Each prints one `chaos:` line with what it measured (run with `-s` to see them; the README's
reliability section quotes them).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from discord_imitation import DiscordImitation
from discord_imitation.harness import BotProcess, bot_env, final_reply, finished, pending

from bot.discord_app.courier import INTERRUPTED
from bot.errors import QueueFullError
from bot.store import STORE_DOWN

QUESTIONS = (
    "What is the race framing of US-China AI competition?",
    "Why do researchers fear a Chernobyl moment for AI?",
    "What does the cooperation framing propose?",
    "What warning signs do researchers on both sides watch?",
)
READY_S = 120.0
LAG_P99_LIMIT_MS = 50.0


@pytest.fixture(autouse=True)
def show_bot_output(request: pytest.FixtureRequest) -> Iterator[None]:
    """On failure, the tail of every bot process's log: what the bot saw is the diagnosis."""
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for bot in RUNNING:
            print(f"--- bot output ---\n{bot.output[-6000:]}")
    RUNNING.clear()


RUNNING: list[BotProcess] = []


@pytest.fixture
async def im() -> AsyncIterator[DiscordImitation]:
    imitation = await DiscordImitation().start()
    yield imitation
    await imitation.stop()


async def run_bot(im: DiscordImitation, folder: Path, **settings: str) -> BotProcess:
    bot = await BotProcess(bot_env(folder, **im.env(), **settings), folder).start()
    RUNNING.append(bot)
    try:
        await im.wait_ready(within=READY_S)
    except BaseException:
        await bot.stop(signal.SIGKILL)
        raise
    return bot


def turns(database: Path) -> list[tuple[str, str, str]]:
    """(role, display, status) of every stored turn, read as another process would."""
    with sqlite3.connect(database) as db:
        return db.execute("SELECT role, display, status FROM turns ORDER BY id").fetchall()


def open_replies(database: Path) -> int:
    with sqlite3.connect(database) as db:
        return db.execute("SELECT COUNT(*) FROM open_replies").fetchone()[0]


async def test_kill_9_mid_answer_then_restart(im: DiscordImitation, tmp_path: Path) -> None:
    settings = {"N_SLOTS": "1", "MAX_ANSWER_TOKENS": "120"}
    bot = await run_bot(im, tmp_path, **settings)
    try:
        done = await final_reply(im, await im.send(QUESTIONS[0], mention_bot=True), within=120)
        assert finished(done)
        asked = [
            await im.send(q, author=who, mention_bot=True)
            for q, who in zip(QUESTIONS[1:], ("alice", "bob", "carol"), strict=True)
        ]
        await im.wait_for(
            lambda: all(im.replies_to(q.id) and pending(im.replies_to(q.id)[0]) for q in asked),
            within=120,
            what="the first answer streaming and the others queued",
        )
        # The reply is posted (and recorded) at once, before the request saves its question: wait
        # for both, so the kill lands on questions the bot has taken in, not on one still arriving.
        await im.wait_for(
            lambda: (
                open_replies(tmp_path / "run.sqlite3") == 3
                and sum(role == "user" for role, _, _ in turns(tmp_path / "run.sqlite3")) == len(QUESTIONS)
            ),
            what="the replies and the questions recorded",
        )
    finally:
        await bot.stop(signal.SIGKILL)
    stored = turns(tmp_path / "run.sqlite3")
    assert stored[:2] == [("user", QUESTIONS[0], "complete"), ("assistant", stored[1][1], "complete")]
    asked_turns = [(q, status) for role, q, status in stored[2:] if role == "user"]
    assert sorted(q for q, _ in asked_turns) == sorted(QUESTIONS[1:]), "every question asked was saved"
    # An answer that finished before the kill is stored complete with its question; the rest stay pending
    # (recorded, never fed to the model), and at least one was cut mid-answer by the kill.
    completed = {q for q, status in asked_turns if status == "complete"}
    assert {status for _, status in asked_turns} <= {"pending", "complete"} and len(completed) < 3
    assert sum(role == "assistant" for role, _, _ in stored[2:]) == len(completed), "no half answer stored"
    cut = [q not in completed for q in QUESTIONS[1:]]

    started = time.monotonic()
    bot = await run_bot(im, tmp_path, **settings)
    try:
        replies = [im.replies_to(q.id)[0] for q in asked]
        await im.wait_for(lambda: not any(pending(r) for r in replies), within=60, what="the clean-up")
        cleaned_s = time.monotonic() - started
        shown = [r.content == INTERRUPTED for r in replies]
        assert all(said for said, was_cut in zip(shown, cut, strict=True) if was_cut), "a cut reply says so"
        # An answer stored just before the kill may not have reached its final edit: its reply then
        # also says "interrupted" (the answer itself is kept in the conversation).
        # The edit comes first, then its record is dropped: wait for the record too.
        await im.wait_for(lambda: open_replies(tmp_path / "run.sqlite3") == 0, what="the records cleared")
        again = await im.send(QUESTIONS[1], reply_to=done.id)
        assert finished(await final_reply(im, again, within=120)), "the old conversation continues"
    finally:
        assert await bot.stop() == 0, bot.output[-3000:]
    assert turns(tmp_path / "run.sqlite3")[:2] == stored[:2]
    assert not im.refused
    print(
        f"chaos: kill -9 with {sum(cut)} replies open; restart marked them interrupted"
        f" {cleaned_s:.1f} s after start"
    )


async def test_sigterm_drains_the_answer_in_progress(im: DiscordImitation, tmp_path: Path) -> None:
    bot = await run_bot(im, tmp_path, MAX_ANSWER_TOKENS="120")
    question = await im.send(QUESTIONS[1], mention_bot=True)
    await im.wait_message(lambda m: m.reference_id == question.id and pending(m), within=120)
    stopped = time.monotonic()
    code = await bot.stop(signal.SIGTERM)
    drained_s = time.monotonic() - stopped
    assert code == 0, bot.output[-3000:]
    [reply] = im.replies_to(question.id)
    assert finished(reply), reply.content
    assert turns(tmp_path / "run.sqlite3")[-1][2] == "complete"
    print(f"chaos: SIGTERM mid-answer; the answer finished and the process exited in {drained_s:.1f} s")


async def test_a_burst_of_40_users_in_one_channel(im: DiscordImitation, tmp_path: Path) -> None:
    lag_file = tmp_path / "lag.json"
    bot = await run_bot(
        im, tmp_path, MAX_ANSWER_TOKENS="16", N_SLOTS="4", MAX_QUEUE="32", LOOP_STATS_PATH=str(lag_file)
    )
    try:
        people = [im.world.add_person(f"user{i:02d}") for i in range(40)]
        started = time.monotonic()
        asked = await asyncio.gather(
            *(
                im.send(QUESTIONS[i % len(QUESTIONS)], author=p, mention_bot=True)
                for i, p in enumerate(people)
            )
        )
        replies = await asyncio.gather(*(final_reply(im, q, within=300) for q in asked))
        last_s = time.monotonic() - started
    finally:
        code = await bot.stop()
    answered = sum(finished(r) for r in replies)
    busy = sum(r.content == QueueFullError().user_message for r in replies)
    assert answered + busy == 40, [r.content for r in replies if not finished(r)]
    assert answered >= 30
    assert code == 0, bot.output[-3000:]
    assert im.refused == [], f"{len(im.refused)} requests got 429"
    assert "Can't keep up" not in bot.output
    lag = json.loads(lag_file.read_text())
    assert lag["ticks"] > 100 and lag["p99_ms"] < LAG_P99_LIMIT_MS, lag
    print(
        f"chaos: burst of 40: {answered} answered, {busy} busy, last reply after {last_s:.0f} s, "
        f"0 x 429, loop lag p50 {lag['p50_ms']:.0f} ms p99 {lag['p99_ms']:.0f} ms max {lag['max_ms']:.0f} ms"
    )


async def test_gateway_drop_and_resume_lose_no_mention(im: DiscordImitation, tmp_path: Path) -> None:
    bot = await run_bot(im, tmp_path)
    try:
        await im.gateway.drop()
        asked = [
            await im.send(q, author=who, mention_bot=True)
            for q, who in zip(QUESTIONS, ("alice", "bob", "carol"), strict=False)
        ]
        replies = await asyncio.gather(*(final_reply(im, q, within=180) for q in asked))
    finally:
        code = await bot.stop()
    assert all(finished(r) for r in replies)
    assert len(im.world.identifies) == 1 and len(im.gateway.resumes) >= 1, "resumed, not identified afresh"
    assert code == 0, bot.output[-3000:]
    print(f"chaos: gateway dropped, {len(asked)} mentions sent while down: all answered after RESUME")


async def test_database_read_only_mid_run(
    im: DiscordImitation, tmp_path: Path, read_only: Callable[[Path], None]
) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root can make a file that a process holds open read-only (chattr +i)")
    bot = await run_bot(im, tmp_path)
    try:
        first = await im.send(QUESTIONS[0], mention_bot=True)
        assert finished(await final_reply(im, first, within=120))
        read_only(tmp_path / "run.sqlite3")
        second = await im.send(QUESTIONS[1], author="bob", mention_bot=True)
        reply = await final_reply(im, second, within=120)
        assert reply.content == STORE_DOWN
        assert bot.process is not None and bot.process.returncode is None, "the bot keeps running"
    finally:
        await bot.stop()
    assert "database failure in" in bot.output, "the operator reads the cause in the log"
    print("chaos: database read-only mid-run: the user was told at once, the bot kept running")
