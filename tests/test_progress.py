"""The stages of a request as the console shows them: one status line on a terminal, rewritten in
place as each stage completes and gone before the answer's text; a redirected stderr gets only the
queue positions, as before."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest

from bot.briefing.models import Answer, Answered
from bot.briefing.progress import CHECKING, READING, Progress, Stage
from bot.briefing.sentences import Part, own_words
from bot.console import output
from bot.engine.base import Queued

FOUND = Stage("found", ("Race narrative", "Chernobyl moment"))
TEXT = "The sources say so."


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


async def events() -> AsyncIterator[object]:
    part = Part((own_words(TEXT),))
    for event in (READING, FOUND, Queued(2), Queued(1), CHECKING, part):
        yield event
    yield Answered(Answer.canned("q", TEXT, passages=[], model="m"))


@pytest.mark.parametrize("tty", [True, False])
async def test_the_console_shows_the_stages_on_one_line(
    tty: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    err = Terminal() if tty else io.StringIO()
    monkeypatch.setattr(output.sys, "stderr", err)
    answer = await output.stream_answer(events(), echo=True)
    assert answer.text == TEXT
    written = err.getvalue()
    if tty:
        assert "\n" not in written  # one line, rewritten in place
        states = [s for s in written.split("\r\x1b[K") if s]
        assert states == [
            "Reading the sources…",
            "Found: Race narrative · Chernobyl moment · Starting to write…",
            "Found: Race narrative · Chernobyl moment · Waiting in the queue: position 2 (1 ahead)",
            "Found: Race narrative · Chernobyl moment · Waiting in the queue: position 1",
            "Found: Race narrative · Chernobyl moment · Checking…",
        ]
        assert written.endswith("\r\x1b[K")  # cleared before the text
    else:
        assert written.splitlines() == [
            "(waiting: position 2 in the queue)",
            "(waiting: position 1 in the queue)",
        ]
    assert capsys.readouterr().out.startswith(TEXT)


def test_progress_forgets_the_queue_once_the_model_writes() -> None:
    progress = Progress()
    progress.note(FOUND)
    progress.queued(3)
    progress.note(CHECKING)
    assert progress.position is None and progress.titles == FOUND.titles
