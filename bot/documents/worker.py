"""Conversion in a worker process with a time limit and a memory cap.

Why a process: the parsers (pdfminer, lxml, python-docx) run on bytes a moderator uploaded, and a
hostile or merely huge file can make them loop or allocate without end. In the bot's own process
that would stall every conversation; in a child process it is bounded. The child caps its own
address space (RLIMIT_AS) and CPU time before it reads a byte, and the parent kills it when the
wall-clock limit passes. The child is a fresh, isolated interpreter (`python -I`), not a fork of
the bot: it inherits none of the bot's threads, sockets, memory or environment (so no token).

Protocol: the document's bytes on stdin, its file name as the argument; one JSON object on stdout,
`{"source": text}` or `{"refused": sentence}`.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import tempfile
from pathlib import Path

from bot.documents.model import DocumentRefused
from bot.documents.sniff import check

TIMEOUT_S = 60.0
MEMORY_MIB = 1024
PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])  # the folder holding this `bot` package
# The child's first lines: find this very package (not one in its working directory), then run.
BOOTSTRAP = (
    "import sys; sys.path.insert(0, sys.argv.pop(1)); "
    "from bot.documents.worker import main; sys.exit(main(sys.argv[1:]))"
)


def _memory_refusal(filename: str, memory_mib: int) -> str:
    return f"Converting `{filename}` needed more than {memory_mib} MiB of memory, so it was stopped."


async def convert_in_worker(
    data: bytes, filename: str, *, timeout_s: float = TIMEOUT_S, memory_mib: int = MEMORY_MIB
) -> str:
    """The source text for document `data` named `filename`, converted in a child process;
    DocumentRefused with one sentence on any refusal, time-out or memory overrun."""
    check(data, filename)  # the cheap checks first: a lying or oversized file starts no process
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-I",  # isolated: no environment variables, user site or working directory on the path
        "-c",
        BOOTSTRAP,
        PACKAGE_ROOT,
        filename,
        str(memory_mib),
        str(int(timeout_s) + 1),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8"},  # no token or secret reaches it
        cwd=tempfile.gettempdir(),
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(data), timeout_s)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise DocumentRefused(
            f"Converting `{filename}` took longer than {timeout_s:g} s, so it was stopped."
        ) from None
    return _result(out, err, process.returncode, filename, memory_mib)


def _result(out: bytes, err: bytes, returncode: int | None, filename: str, memory_mib: int) -> str:
    """The worker's answer, or the sentence for how it failed."""
    try:
        answer = json.loads(out.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        answer = None
    if isinstance(answer, dict) and isinstance(answer.get("source"), str):
        return str(answer["source"])
    if isinstance(answer, dict) and isinstance(answer.get("refused"), str):
        raise DocumentRefused(str(answer["refused"]))
    if b"MemoryError" in err or returncode in (-9, -24):  # killed for memory or CPU time
        raise DocumentRefused(_memory_refusal(filename, memory_mib))
    raise DocumentRefused(f"`{filename}` could not be converted: the converter stopped unexpectedly.")


def _limit(memory_mib: int, cpu_s: int) -> None:
    """Cap this process: address space and CPU seconds (a backstop to the parent's wall clock)."""
    cap = memory_mib * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))


def main(argv: list[str]) -> int:
    """The child: limits first, then read, convert and answer with one JSON object."""
    filename, memory_mib, cpu_s = argv[0], int(argv[1]), int(argv[2])
    _limit(memory_mib, cpu_s)
    data = sys.stdin.buffer.read()
    try:
        from bot.documents.convert import convert

        answer = {"source": convert(data, filename)}
    except DocumentRefused as exc:
        answer = {"refused": exc.user_message}
    except MemoryError:
        answer = {"refused": _memory_refusal(filename, memory_mib)}
    except Exception as exc:  # a parser's bug on a strange file is a refusal, not a crash
        answer = {
            "refused": f"`{filename}` could not be converted ({type(exc).__name__}): it may be damaged."
        }
    sys.stdout.write(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
