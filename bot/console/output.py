"""What the console prints: progress on stderr, answers and their sources on stdout, JSON.

Shared by the one-shot commands (commands.py) and the interactive loop (chat.py); it imports
neither, so the console's modules import in one direction: cli -> commands -> chat -> output.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from typing import Any

from bot.briefing.models import Answer, Answered
from bot.briefing.sentences import Part, render_part
from bot.engine.base import Queued

CHAT_HELP = "Ask about the US-China AI race/cooperation debate. Commands: /sources, /reset, /quit"


def print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def status(message: str) -> None:
    """Progress for people goes to stderr so stdout stays clean for --json."""
    print(message, file=sys.stderr, flush=True)


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
    async for event in events:
        if isinstance(event, Queued):
            if echo:
                status(f"(waiting: position {event.position} in the queue)")
        elif isinstance(event, Part):
            piece = render_part(event)
            if echo:
                print(piece, end="", flush=True)
            streamed += piece
        elif isinstance(event, Answered):
            final = event.answer
    assert final is not None, "answer stream ended without a result"
    if echo:
        print(unstreamed(final.text, streamed))
        print(format_answer_sources(final))
    return final
