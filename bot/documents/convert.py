"""One document's bytes -> the text of a source file: check, pick the converter, render.

Runs inside the worker process (bot/documents/worker.py), never in the bot's own: the parsers read
hostile bytes.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.documents.html import convert_html
from bot.documents.model import Document, render
from bot.documents.pdf import convert_pdf
from bot.documents.sniff import check
from bot.documents.word import convert_docx

CONVERTERS: dict[str, Callable[[bytes], Document]] = {
    ".pdf": convert_pdf,
    ".html": convert_html,
    ".htm": convert_html,
    ".docx": convert_docx,
}


def convert(data: bytes, filename: str) -> str:
    """The source file text for the document `data` named `filename`; DocumentRefused with one
    sentence when it is not what its name says, too big, unreadable, or converts to nothing."""
    suffix = check(data, filename)
    document = CONVERTERS[suffix](data)
    stem = filename.rsplit("/", 1)[-1][: -len(suffix)]
    return render(document, fallback_title=stem)
