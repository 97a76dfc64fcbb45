"""What the console prints: progress on stderr, answers and their sources on stdout, JSON.

Shared by the one-shot commands (commands.py) and the interactive loop (chat.py); it imports
neither, so the console's modules import in one direction: cli -> commands -> chat -> output.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from typing import Any, TextIO

from bot.briefing.models import Answer, Answered
from bot.briefing.progress import Progress, Stage
from bot.briefing.sentences import Part, render_part
from bot.engine.base import Queued

CHAT_HELP = "Ask about the US-China AI race/cooperation debate. Commands: /sources, /reset, /quit"


def print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def status(message: str) -> None:
    """Progress for people goes to stderr so stdout stays clean for --json."""
    print(message, file=sys.stderr, flush=True)


class StatusLine:
    """The stages of a request on one line of stderr, rewritten in place as each completes, on a
    terminal. It is cleared before the answer's text starts (and on an error), so the answer reads
    as if the line had never been there. Redirected, only queue positions are written, one line
    each, as before: a log or a script reading stderr wants no carriage returns."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.progress = Progress()
        self._in_place = self.stream.isatty()
        self._shown = ""

    def note(self, event: object) -> bool:
        """Fold a stage or queue position into the line and show it; False for any other event."""
        if isinstance(event, Stage):
            self.progress.note(event)
        elif isinstance(event, Queued):
            self.progress.queued(event.position)
            if not self._in_place:
                status(f"(waiting: position {event.position} in the queue)")
        else:
            return False
        self._show(" · ".join(self.progress.sentences()))
        return True

    def _show(self, text: str) -> None:
        if not self._in_place or not text or text == self._shown:
            return
        self._shown = text
        self.stream.write(f"\r\x1b[K{text}")
        self.stream.flush()

    def clear(self) -> None:
        """Take the line away (on a terminal) before text goes where it stood."""
        if self._in_place and self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
        self._shown = ""


def format_answer_sources(answer: Answer) -> str:
    if not answer.citations:
        return ""
    lines = ["", "Sources:"]
    for c in answer.citations:
        lines.append(f'  [{c.number}] {c.label} - {c.title}\n      "{c.quote}"')
    return "\n".join(lines)


def unstreamed(final: str, streamed: str) -> str:
    """What of `final` the reader has not seen yet. Only checked text is streamed and the final text
    extends it; should it ever not, the whole final text is printed on a new line."""
    return final[len(streamed) :] if final.startswith(streamed) else "\n" + final


async def stream_answer(events: AsyncIterator[object], *, echo: bool) -> Answer:
    """Consume an answer stream, printing text as it arrives when `echo`; return the final answer."""
    final: Answer | None = None
    streamed = ""
    line = StatusLine()
    try:
        async for event in events:
            if isinstance(event, Stage | Queued):
                if echo:
                    line.note(event)
            elif isinstance(event, Part):
                piece = render_part(event)
                if echo:
                    line.clear()
                    print(piece, end="", flush=True)
                streamed += piece
            elif isinstance(event, Answered):
                final = event.answer
    finally:
        line.clear()
    assert final is not None, "answer stream ended without a result"
    if echo:
        print(unstreamed(final.text, streamed))
        print(format_answer_sources(final))
    return final
