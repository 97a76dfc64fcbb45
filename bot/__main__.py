"""`python -m bot` entry point: the console front end dispatches every sub-command."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Run a sub-command; imported lazily so `--help` stays fast and import has no side effects."""
    from bot.console.cli import run_cli

    return run_cli(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
