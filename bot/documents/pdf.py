"""PDF -> `Document` with pdfplumber: every word with its position, size and font.

Why positions rather than the text in content-stream order: producers draw a two-column page in
whatever order they like (some interleave the columns line by line), so the reading order is
rebuilt from where the words are: a vertical gutter that no word crosses splits a page into
columns, read left then right. The same positions find running headers and footers (lines in the
top or bottom margin that repeat on most pages, page numbers aside) and paragraphs (a taller gap
between lines). Headings are the document's own where it has an outline (bookmarks) naming them,
else they come from the layout: lines set larger than the body text, or bold while the body is not.
"""

from __future__ import annotations

import io
import itertools
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from bot.documents.model import Document, DocumentRefused, Section, clean

MAX_PAGES = 150
MAX_OUTLINE = 2000
MARGIN = 0.09  # the top and bottom share of a page where running headers and footers live
HEADING_SIZE = 1.15  # a line this much larger than the body text is a heading
PAGE_NUMBER = re.compile(
    r"^(page\s+)?(\d{1,4}|[ivxlc]{1,7})(\s*(of|/)\s*\d{1,4})?$|^[-–] ?\d{1,4} ?[-–]$", re.I
)
SENTENCE_END = (".", "!", "?", ":", '"', "”", ")")
BOLD = ("bold", "black", "heavy", "semibold")


@dataclass(slots=True)
class Line:
    """One line of text in one column of a page."""

    text: str
    page: int
    top: float
    bottom: float
    size: float
    bold: bool
    margin: bool  # in the top or bottom margin of its page


def convert_pdf(data: bytes) -> Document:
    """The PDF's text as sections, metadata from its document information."""
    import pdfplumber
    from pdfminer.pdfdocument import PDFPasswordIncorrect
    from pdfplumber.utils.exceptions import PdfminerException

    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            if len(pdf.pages) > MAX_PAGES:
                pages = len(pdf.pages)
                raise DocumentRefused(f"The PDF has {pages} pages; the limit is {MAX_PAGES}: split it.")
            lines: list[Line] = []
            images = 0
            for number, page in enumerate(pdf.pages, start=1):
                lines += page_lines(page, number)
                images += len(page.images)
            document = _metadata(pdf.metadata)
            outline = _outline(pdf)
    except PdfminerException as exc:
        cause = exc.args[0] if exc.args else None
        if isinstance(cause, MemoryError):
            raise MemoryError from None  # the worker's memory cap: answered as such
        if isinstance(cause, PDFPasswordIncorrect):
            raise DocumentRefused(
                "The PDF is encrypted with a password; upload an unprotected copy."
            ) from None
        raise DocumentRefused("The PDF is damaged or not a PDF I can read.") from None
    if not lines and images:
        raise DocumentRefused(
            "The PDF has no text layer (it looks like a scan): it needs OCR, which the bot does not do."
        )
    document.sections = sections(strip_running(lines), outline)
    return document


def _metadata(info: dict[str, Any]) -> Document:
    def text(key: str) -> str:
        value = info.get(key, "")
        if isinstance(value, bytes):
            value = value.decode("utf-8", errors="replace")
        return clean(value) if isinstance(value, str) else ""

    date = re.match(r"^D:(\d{4})(\d{2})?(\d{2})?", text("CreationDate"))
    when = "-".join(part for part in date.groups() if part) if date else ""
    return Document(title=text("Title"), author=text("Author"), date=when)


def _outline(pdf: Any) -> set[str]:
    """The titles in the PDF's outline (its bookmarks), lower-cased: the document's own headings."""
    from pdfminer.pdfdocument import PDFNoOutlines

    try:
        entries = itertools.islice(pdf.doc.get_outlines(), MAX_OUTLINE)  # a hostile outline is endless
        return {clean(str(entry[1])).lower() for entry in entries}
    except (PDFNoOutlines, AttributeError, TypeError, ValueError):
        return set()


def _gutter(words: list[dict[str, Any]], width: float) -> float | None:
    """The x of a vertical gap between two columns in the middle of the page, or None. Lines that
    span the page (a title) may cross it: up to 5% of the words."""
    body = [w for w in words if w["x1"] - w["x0"] < width / 2]
    if len(body) < 20:
        return None
    best, crossing = None, len(body)
    for x in range(int(width * 0.3), int(width * 0.7), 2):
        count = sum(1 for w in body if w["x0"] - 2 <= x <= w["x1"] + 2)
        if count < crossing:
            best, crossing = float(x), count
    if best is None or crossing > len(body) * 0.05:
        return None
    left = sum(1 for w in body if w["x1"] < best)
    return best if min(left, len(body) - left) >= len(body) * 0.2 else None


def page_lines(page: Any, number: int) -> list[Line]:
    """The page's lines in reading order: lines across the gutter above the columns, the left
    column, the right column, then lines across the gutter below."""
    words = page.extract_words(extra_attrs=["size", "fontname"], keep_blank_chars=False)
    gutter = _gutter(words, float(page.width))
    columns: dict[int, list[dict[str, Any]]] = {0: [], 1: [], 2: []}
    for word in words:
        if gutter is None or (word["x0"] < gutter < word["x1"]):
            columns[0].append(word)
        else:
            columns[1 if word["x1"] <= gutter else 2].append(word)
    grouped = {column: _group(found, page, number) for column, found in columns.items()}
    top_of_columns = min((ln.top for c in (1, 2) for ln in grouped[c]), default=float("inf"))
    above = [ln for ln in grouped[0] if ln.top < top_of_columns]
    below = [ln for ln in grouped[0] if ln.top >= top_of_columns]
    return above + grouped[1] + grouped[2] + below


def _group(words: list[dict[str, Any]], page: Any, number: int) -> list[Line]:
    """Words of one column as lines, top to bottom (words within 2 pt of a line's top join it)."""
    rows: list[list[dict[str, Any]]] = []
    for word in sorted(words, key=lambda w: (round(w["top"]), w["x0"])):
        if rows and abs(rows[-1][0]["top"] - word["top"]) <= 2:
            rows[-1].append(word)
        else:
            rows.append([word])
    height = float(page.height)
    lines = []
    for row in rows:
        row.sort(key=lambda w: w["x0"])
        top, bottom = min(w["top"] for w in row), max(w["bottom"] for w in row)
        lines.append(
            Line(
                text=clean(" ".join(w["text"] for w in row)),
                page=number,
                top=top,
                bottom=bottom,
                size=max(round(float(w["size"]), 1) for w in row),
                bold=all(any(b in str(w["fontname"]).lower() for b in BOLD) for w in row),
                margin=top < height * MARGIN or bottom > height * (1 - MARGIN),
            )
        )
    return lines


def strip_running(lines: list[Line]) -> list[Line]:
    """Drop page numbers in the margins, and margin lines that repeat (digits aside) on at least
    half of the pages (two at least): running headers and footers."""
    pages = len({ln.page for ln in lines})

    def key(line: Line) -> str:
        return re.sub(r"\d+", "#", line.text.lower())

    seen = Counter(k for k in {(key(ln), ln.page) for ln in lines if ln.margin})
    repeated = Counter(k for k, _page in seen)
    kept = []
    for line in lines:
        if line.margin and PAGE_NUMBER.match(line.text):
            continue
        if line.margin and pages >= 2 and repeated[key(line)] >= max(2, pages / 2):
            continue
        kept.append(line)
    return kept


def _body_style(lines: list[Line]) -> tuple[float, bool]:
    """The size and boldness that most characters are set in: the body text."""
    sizes: Counter[float] = Counter()
    bold: Counter[bool] = Counter()
    for line in lines:
        sizes[line.size] += len(line.text)
        bold[line.bold] += len(line.text)
    return (sizes.most_common(1)[0][0], bold.most_common(1)[0][0]) if sizes else (0.0, False)


def _is_heading(line: Line, body_size: float, body_bold: bool) -> bool:
    words = len(line.text.split())
    if line.text.endswith((".", ",", ";")) or words > 20 or not any(c.isalpha() for c in line.text):
        return False
    return line.size >= body_size * HEADING_SIZE or (line.bold and not body_bold and words <= 15)


def sections(lines: list[Line], outline: set[str] | frozenset[str] = frozenset()) -> list[Section]:
    """Lines in reading order -> sections at the document's own headings (lines its outline names)
    or, when it has none, at those its layout shows; one section per page (`Page 4`) when neither
    does. Lines are joined into paragraphs, undoing line-end hyphenation."""
    marks = [line.text.lower() in outline for line in lines]
    if not any(marks):
        body_size, body_bold = _body_style(lines)
        marks = [_is_heading(line, body_size, body_bold) for line in lines]
    found: list[Section] = []
    previous, after_heading = None, False
    for line, heading in zip(lines, marks, strict=True):
        if heading and after_heading and found and not found[-1].paragraphs:
            found[-1].heading += " " + line.text  # a heading set on two lines
        elif heading:
            found.append(Section(line.text))
        else:
            if not any(marks) and (previous is None or previous.page != line.page):
                found.append(Section(f"Page {line.page}"))
            elif not found:
                found.append(Section(""))  # text before the first heading: the title heads it
            _add(found[-1], previous, line, after_heading)
        previous, after_heading = line, heading
    return found


def _add(section: Section, previous: Line | None, line: Line, after_heading: bool) -> None:
    """Add a line of body text to the section's last paragraph, or start a new one."""
    if previous is None or not section.paragraphs or after_heading or _new_paragraph(previous, line):
        section.paragraphs.append(line.text)
    else:
        section.paragraphs[-1] = join_lines(section.paragraphs[-1], line.text)
    if line.page not in section.pages:
        section.pages.append(line.page)


def _new_paragraph(previous: Line, line: Line) -> bool:
    """A taller gap than a line's own height starts a paragraph; a new column or page continues the
    paragraph unless the last one ended a sentence."""
    if previous.page != line.page or line.top < previous.top:
        return previous.text.endswith(SENTENCE_END)
    return line.top - previous.bottom > (previous.bottom - previous.top) * 0.9


def join_lines(before: str, after: str) -> str:
    """Join two lines of a paragraph: 'verifi-' + 'cation' -> 'verification', 'US-' + 'China' ->
    'US-China', anything else with a space."""
    if before.endswith("-") and len(before) > 1 and before[-2].isalpha() and after[:1].isalpha():
        return before[:-1] + after if after[0].islower() else before + after
    return f"{before} {after}"
