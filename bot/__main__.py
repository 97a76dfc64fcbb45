"""`python -m bot` entry point: the console front end dispatches every sub-command."""

from __future__ import annotations

import contextlib
import sys


def load_llama_cpp_first() -> None:
    """Import llama.cpp's bindings before aiohttp (discord.py, the remote engine) is imported.

    With a CUDA build of llama-cpp-python, loading a model in a worker thread segfaulted once aiohttp
    had been imported first (H200, 2026-11-26: `import aiohttp` or `import discord` before
    `llama_cpp` crashed in llama_model_load_from_file; `Stemmer`, `sqlite3` did not; with llama_cpp
    imported first the same bench ran). The engine and the bench load the model in a thread, so the
    entry point takes the safe order. A bot that only talks to a remote server may lack the package.
    """
    with contextlib.suppress(ImportError):
        import llama_cpp  # noqa: F401


def main(argv: list[str] | None = None) -> int:
    """Run a sub-command; imported lazily so `--help` stays fast and import has no side effects."""
    load_llama_cpp_first()
    from bot.console.cli import run_cli

    return run_cli(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
