"""The console front end: `python -m bot <command>`.

Thin by design: parse arguments, open the service, call one domain function, print. Domain errors
become their one-sentence message here (exit status 2); anything unexpected is a bug and keeps its
traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.config import load_settings
from bot.console.commands import COMMANDS, Handler
from bot.errors import BriefingError

EXIT_USER_ERROR = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Grounded briefings on the US-China AI race-versus-cooperation debate.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (helptext, configure, handler) in COMMANDS.items():
        command_parser = sub.add_parser(name, help=helptext, description=helptext)
        configure(command_parser)
        command_parser.set_defaults(handler=handler)
    return parser


def run_cli(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
        handler: Handler = args.handler
        return asyncio.run(handler(settings, args))
    except BriefingError as exc:
        print(f"error: {exc.user_message}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        return 130
