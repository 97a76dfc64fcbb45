"""A Word file (.docx) -> `Document` with python-docx: paragraphs and tables in document order.

Why python-docx: it reads the paragraph styles, so the memo's own headings ("Heading 1", ...) are
known rather than guessed, and its document properties give title, author and date. Page headers
and footers live in parts of the file that the body never includes, so they cannot leak into the
text. When no paragraph has a heading style, short lines set wholly in bold are taken as headings.
"""

from __future__ import annotations

import io
from typing import Any

from bot.documents.model import Document, DocumentRefused, Section, clean, table_paragraphs

MAX_BOLD_HEADING_WORDS = 15


def convert_docx(data: bytes) -> Document:
    """The memo's text as sections at its headings; metadata from its core properties."""
    import docx
    from docx.table import Table

    try:
        word = docx.Document(io.BytesIO(data))
    except Exception:  # python-docx raises a variety (KeyError, BadZipFile, XML errors)
        raise DocumentRefused("The Word file is damaged or not a .docx I can read.") from None
    props = word.core_properties
    created = props.created
    document = Document(
        title=clean(props.title or ""),
        author=clean(props.author or ""),
        date=created.date().isoformat() if created is not None else "",
    )
    blocks: list[tuple[str, str]] = []  # (kind, text): kind is title, heading, bold or text
    for block in word.iter_inner_content():
        if isinstance(block, Table):
            rows = [[cell.text for cell in row.cells] for row in block.rows]
            blocks += [("text", line) for line in table_paragraphs(rows)]
        else:
            blocks.append((_kind(block), clean(block.text)))
    if not document.title:
        document.title = next((text for kind, text in blocks if kind == "title" and text), "")
    document.sections = _sections(blocks)
    return document


def _kind(paragraph: Any) -> str:
    style = (paragraph.style.name if paragraph.style is not None else "") or ""
    if style == "Title":
        return "title"
    if style.startswith("Heading"):
        return "heading"
    runs = [run for run in paragraph.runs if run.text.strip()]
    text = clean(paragraph.text)
    short = 0 < len(text.split()) <= MAX_BOLD_HEADING_WORDS and not text.endswith((".", ",", ";"))
    return "bold" if runs and short and all(run.bold for run in runs) else "text"


def _sections(blocks: list[tuple[str, str]]) -> list[Section]:
    """Heading-styled paragraphs start sections; bold lines do when no paragraph is heading-styled."""
    heading_kind = "heading" if any(kind == "heading" for kind, _ in blocks) else "bold"
    found: list[Section] = []
    for kind, text in blocks:
        if not text or kind == "title":
            continue
        if kind == heading_kind:
            found.append(Section(text))
            continue
        if not found:
            found.append(Section(""))
        found[-1].paragraphs.append(text)
    return found
