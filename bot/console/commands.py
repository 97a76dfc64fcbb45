"""One small handler per console command; `COMMANDS` wires them into the argument parser."""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from bot.briefing.models import Answer, Answered, passage_json
from bot.config import Settings
from bot.console.cli import print_json
from bot.engine.base import Queued
from bot.promptset import load_prompt_set
from bot.service import BriefingService

Handler = Callable[[Settings, argparse.Namespace], Awaitable[int]]


@asynccontextmanager
async def open_service(settings: Settings) -> AsyncIterator[BriefingService]:
    service = await BriefingService.open(settings)
    try:
        yield service
    finally:
        await service.aclose()


def _status(message: str) -> None:
    """Progress for people goes to stderr so stdout stays clean for --json."""
    print(message, file=sys.stderr, flush=True)


def format_answer_sources(answer: Answer) -> str:
    if not answer.citations:
        return ""
    lines = ["", "Sources:"]
    for c in answer.citations:
        lines.append(f'  [{c.number}] {c.id} - {c.title}\n      "{c.quote}"')
    return "\n".join(lines)


async def stream_answer(events: AsyncIterator[object], *, echo: bool) -> Answer:
    """Consume an answer stream, printing text as it arrives when `echo`; return the final answer."""
    final: Answer | None = None
    streamed = False
    async for event in events:
        if isinstance(event, Queued):
            if echo:
                _status(f"(waiting: position {event.position} in the queue)")
        elif isinstance(event, str):
            if echo:
                print(event, end="", flush=True)
                streamed = True
        elif isinstance(event, Answered):
            final = event.answer
    assert final is not None, "answer stream ended without a result"
    if echo:
        if streamed:
            print("\n")
            if final.text:
                print(final.text if final.kind != "answer" else "Checked answer:\n" + final.text)
        else:
            print(final.text)
        print(format_answer_sources(final))
    return final


# --- ask / search / chat ---------------------------------------------------------------------


def _configure_ask(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("question")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--conversation", default="console:ask", help="conversation id (default: a fresh one)")


async def cmd_ask(settings: Settings, args: argparse.Namespace) -> int:
    async with open_service(settings) as service:
        conversation = args.conversation
        if conversation == "console:ask":
            await service.reset(conversation)  # a one-shot question starts fresh
        answer = await stream_answer(
            service.ask(args.question, conversation_id=conversation, user_id="console"), echo=not args.json
        )
        if args.json:
            print_json(answer.to_json())
    return 0


def _configure_search(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("query")
    parser.add_argument("-k", type=int, default=5, help="number of passages (default 5)")
    parser.add_argument("--json", action="store_true", help="print a JSON list")


async def cmd_search(settings: Settings, args: argparse.Namespace) -> int:
    from bot.library import build_snapshot

    # Searching needs no model: load only the prompt set and its index.
    snapshot = await build_snapshot(settings.prompts_dir)
    try:
        from bot.briefing.prompting import clean_user_text

        query = clean_user_text(args.query, max_chars=settings.max_input_chars, what="search")
        results = await snapshot.index.search(query, k=max(1, min(args.k, 20)))
    finally:
        await snapshot.index.aclose()
    if args.json:
        print_json([passage_json(r) for r in results])
    else:
        if not results:
            print("No passages match.")
        for rank, r in enumerate(results, start=1):
            print(f"{rank}. {r.passage.id}  (score {r.score:.2f})\n   {r.passage.text}\n")
    return 0


def _configure_chat(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--conversation", default="console:chat", help="conversation id to continue")


CHAT_HELP = "Ask about the US-China AI race/cooperation debate. Commands: /sources, /reset, /quit"


async def cmd_chat(settings: Settings, args: argparse.Namespace) -> int:
    from bot.console.chat import chat_loop

    async with open_service(settings) as service:
        _status(f"briefing-bot on {service.engine.model_name}. {CHAT_HELP}")
        await chat_loop(service, args.conversation)
    return 0


# --- moderation / operations -----------------------------------------------------------------


def _configure_check_prompts(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", default=None, help="prompts folder (default: PROMPTS_DIR)")


async def cmd_check_prompts(settings: Settings, args: argparse.Namespace) -> int:
    root = settings.prompts_dir if args.dir is None else Path(args.dir)
    prompts, problems = load_prompt_set(root)
    if prompts is None:
        for problem in problems:
            print(problem)
        return 1
    passages = sum(len(s.passages) for s in prompts.sources)
    print(f"OK: prompt set {prompts.version}: {len(prompts.sources)} sources, {passages} passages.")
    return 0


def _configure_run(parser: argparse.ArgumentParser) -> None:
    del parser


async def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.discord_app.run import run_discord

    return await run_discord(settings)


def _configure_bench(parser: argparse.ArgumentParser) -> None:
    from bot.bench import add_bench_arguments

    add_bench_arguments(parser)


async def cmd_bench(settings: Settings, args: argparse.Namespace) -> int:
    from bot.bench import run_bench

    await run_bench(settings, json_output=args.json)
    return 0


COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Handler]] = {
    "ask": ("answer one question, with sources", _configure_ask, cmd_ask),
    "search": ("show the passages that match a query", _configure_search, cmd_search),
    "chat": ("interactive briefing session that remembers the conversation", _configure_chat, cmd_chat),
    "check-prompts": ("validate prompts/ and list problems as file:line: message", _configure_check_prompts, cmd_check_prompts),
    "run": ("connect to Discord (needs DISCORD_TOKEN)", _configure_run, cmd_run),
    "bench": ("measure speed against a raw llama.cpp reference", _configure_bench, cmd_bench),
}
