"""`python -m bot chat`: an interactive session that streams answers and remembers the conversation."""

from __future__ import annotations

import asyncio
import sys

from bot.console.output import CHAT_HELP, format_answer_sources, stream_answer
from bot.errors import BriefingError
from bot.service import BriefingService

PROMPT = "\nyou> "


async def _read_line() -> str | None:
    """input() in a thread so the event loop (and the engine's callbacks) keep running."""
    try:
        return await asyncio.to_thread(input, PROMPT)
    except EOFError:
        return None


async def chat_loop(service: BriefingService, conversation_id: str) -> None:
    last_sources = ""
    while (line := await _read_line()) is not None:
        command = line.strip().lower()
        if command in {"/quit", "/exit", "/q"}:
            return
        if command == "/reset":
            await service.reset(conversation_id)
            print("Conversation cleared.")
            continue
        if command == "/sources":
            print(last_sources or "No sources yet: ask a question first.")
            continue
        if command in {"/help", "/?"}:
            print(CHAT_HELP)
            continue
        if command.startswith("/"):
            print(f"Unknown command {command!r}. {CHAT_HELP}")
            continue
        print("bot> ", end="", flush=True)
        try:
            answer = await stream_answer(
                service.ask(line, conversation_id=conversation_id, user_id="console"), echo=True
            )
        except BriefingError as exc:
            print(exc.user_message, file=sys.stderr)
            continue
        last_sources = format_answer_sources(answer) or "The last answer cited no sources."
