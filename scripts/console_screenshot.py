"""Screenshots of the console for the README, from a real run: `python -m bot ask` in a terminal
(a pseudo-terminal made by util-linux `script`), drawn as the terminal showed it at two moments.

    .venv/bin/python scripts/console_screenshot.py "QUESTION" docs/img/console

writes `console-waiting.png` (the status line while the bot works: the passages found, then
"Checking…") and `console-answer.png` (the screen once the answer is there). Needs Pillow and the
DejaVu Sans Mono font; the text is the run's own, only drawn here.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
COLUMNS = 100
SIZE = 15
BACKGROUND, TEXT, DIM, PROMPT = (30, 30, 36), (225, 225, 225), (140, 140, 150), (120, 200, 120)
STATUS_SPLIT = "\r\x1b[K"  # how the console redraws its one status line
ESCAPES = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def run(command: str) -> str:
    """The bytes the command wrote to a terminal, as text (llama.cpp's log lines left out)."""
    with tempfile.NamedTemporaryFile(suffix=".typescript") as out:
        subprocess.run(["script", "-qc", command, out.name], check=True, capture_output=True, timeout=600)
        with open(out.name, encoding="utf-8", errors="replace", newline="") as written:
            raw = written.read()  # newline="": the status line's "\r" must survive
    body = raw.split("\n", 1)[1].rsplit("Script done", 1)[0]
    lines = body.split("\n")
    return "\n".join(line for line in lines if not line.startswith(("llama", "load", "print_info")))


def screens(command: str, output: str) -> tuple[list[str], list[str]]:
    """(the screen while waiting, the screen at the end), as lines."""
    pieces = [p for p in output.replace("\r\n", "\n").split(STATUS_SPLIT) if p.strip()]
    statuses, final = pieces[:-1], pieces[-1]
    waiting = [f"$ {command}", ESCAPES.sub("", statuses[-1]).strip()] if statuses else [f"$ {command}"]
    answer = [f"$ {command}", *ESCAPES.sub("", final).rstrip().split("\n")]
    return waiting, answer


def draw(lines: list[str], path: Path) -> None:
    font = ImageFont.truetype(FONT, SIZE)
    wrapped = [
        part for line in lines for part in (textwrap.wrap(line, COLUMNS, drop_whitespace=False) or [""])
    ]
    width = int(font.getlength("M" * COLUMNS)) + 32
    height = (SIZE + 6) * len(wrapped) + 32
    image = Image.new("RGB", (width, height), BACKGROUND)
    pen = ImageDraw.Draw(image)
    for i, line in enumerate(wrapped):
        colour = PROMPT if line.startswith("$ ") else DIM if line.startswith(("Found", "Reading")) else TEXT
        pen.text((16, 16 + i * (SIZE + 6)), line, font=font, fill=colour)
    image.save(path)


def main() -> None:
    question, folder = sys.argv[1], Path(sys.argv[2])
    folder.mkdir(parents=True, exist_ok=True)
    command = f'.venv/bin/python -m bot ask "{question}"'
    waiting, answer = screens(command.replace(".venv/bin/", ""), run(command))
    draw(waiting, folder / "console-waiting.png")
    draw(answer, folder / "console-answer.png")
    print(folder / "console-waiting.png", folder / "console-answer.png")


if __name__ == "__main__":
    main()
