"""One small handler per console command; `COMMANDS` wires them into the argument parser."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.briefing.evaluate import EvalReport
from bot.briefing.models import passage_json
from bot.briefing.sentences import Part, render_part

if TYPE_CHECKING:
    from bot.briefing.brief import Briefing
    from bot.briefing.debate import DebateTurn
from bot.config import Settings
from bot.console.output import (
    CHAT_HELP,
    StatusLine,
    print_json,
    status,
    stream_answer,
    unstreamed,
)
from bot.engine.base import Queued
from bot.errors import InputError
from bot.service import BriefingService

Handler = Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int]]


@asynccontextmanager
async def open_service(settings: Settings) -> AsyncIterator[BriefingService]:
    service = await BriefingService.open(settings)
    try:
        yield service
    finally:
        await service.aclose()


# --- ask / search / chat ---------------------------------------------------------------------


def _configure_ask(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("question")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--conversation", default="console:ask", help="conversation id (default: a fresh one)"
    )


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
    results = await BriefingService.search_prompts(settings, args.query, args.k)  # needs no model
    if args.json:
        print_json([passage_json(r) for r in results])
    else:
        if not results:
            print("No passages match.")
        for rank, r in enumerate(results, start=1):
            page = f", {r.passage.where}" if r.passage.page else ""
            print(f"{rank}. {r.passage.id}  (score {r.score:.2f}{page})\n   {r.passage.text}\n")
    return 0


def _configure_chat(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--conversation", default="console:chat", help="conversation id to continue")


async def cmd_chat(settings: Settings, args: argparse.Namespace) -> int:
    from bot.console.chat import chat_loop

    async with open_service(settings) as service:
        status(f"briefing-bot on {service.model_name}. {CHAT_HELP}")
        await chat_loop(service, args.conversation)
    return 0


# --- moderation / operations -----------------------------------------------------------------


def _configure_check_prompts(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", default=None, help="prompts folder (default: PROMPTS_DIR)")


async def cmd_check_prompts(settings: Settings, args: argparse.Namespace) -> int:
    root = settings.prompts_dir if args.dir is None else Path(args.dir)
    summary, problems = BriefingService.check_prompts(root)
    if summary is None:
        for problem in problems:
            print(problem)
        return 1
    print(f"OK: {summary}.")
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
    from bot.bench import run_bench, sizes_from_args

    await run_bench(settings, json_output=args.json, sizes=sizes_from_args(args), peer_dir=args.peer)
    return 0


# --- brief / debate / check / eval ------------------------------------------------------------


def _configure_brief(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("topic", nargs="?", help="what to brief on (see --list)")
    parser.add_argument("--list", action="store_true", help="list the topics the sources cover")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--conversation", default="console:brief", help="conversation id for follow-ups")


async def cmd_brief(settings: Settings, args: argparse.Namespace) -> int:
    if args.list:
        menu = await BriefingService.topics_of_prompts(settings)  # needs no model
        if args.json:
            print_json(menu)
        else:
            print("\n".join(f"- {topic}" for topic in menu))
        return 0
    if not args.topic:
        raise InputError('Give a topic, e.g. python -m bot brief "track-two diplomacy", or see --list.')
    async with open_service(settings) as service:
        if args.conversation == "console:brief":
            await service.reset(args.conversation)
        events = service.brief(args.topic, conversation_id=args.conversation, user_id="console")
        briefing, streamed = await _stream_brief(events, echo=not args.json)
    if args.json:
        print_json(briefing.to_json())
        return 0
    print(unstreamed(briefing.text, streamed))
    if briefing.citations:
        print("\nSources:")
        for c in briefing.citations:
            print(f'  [{c.number}] {c.label} - {c.title}\n      "{c.quote}"')
    cached = "cached" if briefing.cached else "fresh"
    status(f"({cached}, {briefing.total_ms:.0f} ms, grounded {briefing.grounded:.0%})")
    return 0


async def _stream_brief(events: AsyncIterator[object], *, echo: bool) -> tuple[Briefing, str]:
    """The briefing, and the bottom line's checked sentences as they were shown (when `echo`), with
    the stages before them on one status line."""
    from bot.briefing.brief import Briefed

    briefing: Briefing | None = None
    streamed = ""
    line = StatusLine()
    try:
        async for event in events:
            if isinstance(event, Briefed):
                briefing = event.briefing
            elif not echo or line.note(event):
                continue
            elif isinstance(event, Part):
                line.clear()
                piece = render_part(event)
                print(piece, end="", flush=True)
                streamed += piece
    finally:
        line.clear()
    assert briefing is not None, "briefing stream ended without a result"
    return briefing, streamed


def _configure_debate(parser: argparse.ArgumentParser) -> None:
    from bot.briefing.debate import DEFAULT_ROUNDS, SIDES

    parser.add_argument("motion", help='e.g. "The US must win the AI race against China"')
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS, help=f"default {DEFAULT_ROUNDS}")
    parser.add_argument(
        "--favours",
        choices=SIDES,
        help="the side the motion favours, when the bot reads its direction wrongly (default: read it)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


async def cmd_debate(settings: Settings, args: argparse.Namespace) -> int:
    from bot.briefing.debate import (
        DebateFinished,
        DebateResult,
        Judged,
        JudgeStarted,
        MotionNote,
        TurnFinished,
        TurnStarted,
    )

    echo = not args.json
    result: DebateResult | None = None
    streamed = ""  # the current speech's (or the judge's) checked text, shown as it passes
    async with open_service(settings) as service:
        events = service.debate(
            args.motion,
            rounds=args.rounds,
            conversation_id="console:debate",
            user_id="console",
            favours=args.favours,
        )
        async for event in events:
            if isinstance(event, DebateFinished):
                result = event.result
            elif not echo:
                continue
            elif isinstance(event, MotionNote):
                print(event.text, flush=True)
            elif isinstance(event, TurnStarted | JudgeStarted):
                streamed = ""
                if isinstance(event, JudgeStarted):
                    print("\n== Judge ==", flush=True)
                else:
                    print(f"\n== {event.side.capitalize()} side, round {event.round} ==", flush=True)
            elif isinstance(event, Part):
                piece = render_part(event)
                streamed += piece
                print(piece, end="", flush=True)
            elif isinstance(event, Queued):
                status(f"(waiting: position {event.position} in the queue)")
            elif isinstance(event, TurnFinished):
                print(unstreamed(event.turn.text, streamed))
                print(_turn_footer(event.turn))
            elif isinstance(event, Judged):
                print(unstreamed(event.judge.text, streamed))
    assert result is not None, "debate stream ended without a result"
    if args.json:
        print_json(result.to_json())
        return 0
    print("\nBalance:")
    for side, figures in result.balance().items():
        print(
            f"  {side:<12} {figures['words']:>4} words, {figures['citations']} citations, "
            f"{figures['unsupported']} unsupported, {figures['own_framing_cited']}/{figures['turns']} turns "
            "citing their own framing"
        )
    print(f"  grounded {result.grounded:.0%}; {result.total_ms / 1000:.1f} s")
    return 0


def _turn_footer(turn: DebateTurn) -> str:
    cited = ", ".join(c.id for c in turn.citations) or "nothing"
    own = "" if turn.own_framing_cited else "; the model cited none of its own framing"
    core = "; own sources quoted" if turn.quoted else ""
    return f"  [cites {cited}; {len(turn.unsupported)} unsupported sentence(s) left out{own}{core}]"


def _configure_check(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("claim", help='e.g. "Yi-Ling Liu called DeepSeek-R1 a Sputnik moment"')
    parser.add_argument("--json", action="store_true", help="print one JSON object")


async def cmd_check(settings: Settings, args: argparse.Namespace) -> int:
    async with open_service(settings) as service:
        result = await service.check(args.claim, user_id="console")
    if args.json:
        print_json(result.to_json())
        return 0
    print(f"Verdict: {result.verdict.replace('_', ' ')}\n{result.explanation}")
    for reason in result.reasons:
        print(f"  - {reason}")
    if result.evidence:
        print("\nEvidence:")
        for scored in result.evidence:
            print(f"  {scored.passage.id} - {scored.passage.title}\n      {scored.passage.text}")
    return 0


DEFAULT_EVAL_FILE = Path("tests/data/eval_questions.jsonl")


def _configure_eval(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file",
        type=Path,
        nargs="?",
        default=DEFAULT_EVAL_FILE,
        help=f"question file, JSON lines (default {DEFAULT_EVAL_FILE})",
    )
    parser.add_argument(
        "--claims", type=Path, default=None, help='also fact-check JSON lines {"claim", "verdict", "class"}'
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--ablate",
        action="store_true",
        help="with --claims: verdict accuracy with each meaning check left out (no model needed)",
    )


def _print_eval_table(report: EvalReport) -> None:
    """The summary, then one row per question class (a dash where a figure does not apply)."""
    for key, value in report.summary().items():
        print(f"{key:<24} {value}")
    columns = ("questions", "coverage", "recall_at_3", "declined", "premise_corrected", "latency_mean_ms")
    print("\n" + f"{'class':<16}" + "".join(f"{c:>18}" for c in columns))
    for cls, figures in report.by_class().items():
        cells = ("-" if figures[c] is None else str(figures[c]) for c in columns)
        print(f"{cls:<16}" + "".join(f"{cell:>18}" for cell in cells))
    if report.claims is not None:
        data = report.claims.to_json()
        print(f"\nfact-check accuracy {data['accuracy']} on {data['claims']} claims")
        for cls, figures in data["classes"].items():
            print(f"  {cls:<28} {figures['accuracy']} ({figures['claims']} claims)")


async def cmd_eval(settings: Settings, args: argparse.Namespace) -> int:
    from bot.briefing.evaluate import ClaimItem, EvalItem, load_claims, load_questions

    questions = load_questions(args.file)  # bad files fail before the model loads
    claims = load_claims(args.claims) if args.claims is not None else None

    def progress(number: int, item: EvalItem) -> None:
        found = item.hit if item.recall_at_3 is None else item.recall_at_3
        mark = "DECL" if item.declined else ("hit " if found else "MISS") if item.scored else "?   "
        coverage = "  - " if item.coverage is None else f"{item.coverage:4.0%}"
        figures = f"{item.cls:<14} {mark} {coverage} {item.latency_ms:6.0f} ms"
        status(f"{number:>3}/{len(questions)} {figures}  {item.question}")

    def claim_progress(number: int, item: ClaimItem) -> None:
        mark = "ok  " if item.correct else "FAIL"
        status(f"{number:>3}/{len(claims or [])} {item.cls:<26} {mark} {item.verdict:<15} {item.claim}")

    if args.ablate:
        if claims is None:
            raise InputError("--ablate needs --claims FILE: it measures the fact-check's checks.")
        async with open_service(settings) as service:
            print_json(await service.ablate_claims(claims))
        return 0
    async with open_service(settings) as service:
        report = await service.evaluate(questions, on_item=progress)
        if claims is not None:
            report.claims = await service.evaluate_claims(claims, on_item=claim_progress)
    if args.json:
        print_json(report.to_json())
    else:
        _print_eval_table(report)
    return 0


def _configure_feedback(parser: argparse.ArgumentParser) -> None:
    from bot.feedback import REASONS

    parser.add_argument("action", choices=["export"], help="export: 👎 as eval question lines (JSONL)")
    parser.add_argument("--guild", default=None, help="only this server's feedback (a server id)")
    parser.add_argument("--reason", default="", choices=["", *REASONS], help="only this reason")
    parser.add_argument("-o", "--output", type=Path, default=None, help="write here (default: stdout)")


async def cmd_feedback(settings: Settings, args: argparse.Namespace) -> int:
    """Reads the database only: exporting needs no model (and must not wait for one to load)."""
    count, text = await BriefingService.export_feedback_offline(settings, args.guild, reason=args.reason)
    if args.output is None:
        print(text, end="")
    else:
        try:
            args.output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise InputError(f"{args.output}: cannot write the file ({exc.strerror})") from None
    status(f"exported {count} question{'s' if count != 1 else ''} voted down")
    return 0


def _configure_sources(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["add"], help="add: convert a document into a source")
    parser.add_argument("file", type=Path, help="a .pdf, .html, .htm or .docx document")
    parser.add_argument("--name", default=None, help="the source's name (default: the file's name)")
    parser.add_argument("--dry-run", action="store_true", help="print the converted source; write nothing")


async def cmd_sources(settings: Settings, args: argparse.Namespace) -> int:
    """Needs no model: converts, validates the set and writes (bot/console/sources.py)."""
    from bot.console.sources import add_document

    added = await add_document(settings.prompts_dir, args.file, args.name, dry_run=args.dry_run)
    if args.dry_run:
        print(added.text, end="")
        status(f"(dry run: {added.source} was not written)")
        return 0
    verb = "Replaced" if added.replaced else "Added"
    status(f"{verb} {added.source}; the prompt set validates. Run /reload in Discord to make it live.")
    return 0


COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Handler]] = {
    "ask": ("answer one question, with sources", _configure_ask, cmd_ask),
    "search": ("show the passages that match a query", _configure_search, cmd_search),
    "chat": ("interactive briefing session that remembers the conversation", _configure_chat, cmd_chat),
    "check-prompts": (
        "validate prompts/ and list problems as file:line: message",
        _configure_check_prompts,
        cmd_check_prompts,
    ),
    "run": ("connect to Discord (needs DISCORD_TOKEN)", _configure_run, cmd_run),
    "bench": ("measure speed against a raw llama.cpp reference", _configure_bench, cmd_bench),
    "brief": ("a structured quick briefing on a topic (--list for topics)", _configure_brief, cmd_brief),
    "debate": (
        "the race and cooperation sides debate a motion; a judge sums up",
        _configure_debate,
        cmd_debate,
    ),
    "check": ("fact-check a claim against the sources", _configure_check, cmd_check),
    "eval": ("score answers on a JSON-lines question file", _configure_eval, cmd_eval),
    "feedback": ("export answers voted down as eval questions", _configure_feedback, cmd_feedback),
    "sources": (
        "add a PDF, web page or Word file as a briefing source",
        _configure_sources,
        cmd_sources,
    ),
}
