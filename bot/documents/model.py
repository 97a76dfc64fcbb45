"""What every converter produces - a `Document`: metadata and sections - and how it becomes a source
file in the bot's own format (bot/sources.py).

Why one intermediate shape: the three formats differ in how they are read, but the rules of the
output are the same for all (slugs from headings and unique, no empty sections, TOML written
safely, one refusal sentence when nothing is left), so they live here once.
"""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import dataclass, field

from bot.errors import InputError
from bot.sources import MAX_SOURCE_BYTES, slugify

WRAP = 100  # the source's lines: short enough to read in a diff, joined again by the loader
MAX_HEADING_CHARS = 200


class DocumentRefused(InputError):
    """A document the bot will not convert; the message is one sentence saying why."""


@dataclass(slots=True)
class Section:
    """A heading and its paragraphs; `pages` are the PDF pages its text came from (empty elsewhere)."""

    heading: str
    paragraphs: list[str] = field(default_factory=list)
    pages: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Document:
    """A converted document. Metadata fields are "" where the document does not state them: the
    converter never guesses (an empty author is honest; a wrong one would be quoted in answers)."""

    title: str = ""
    author: str = ""
    date: str = ""
    outlet: str = ""
    url: str = ""
    sections: list[Section] = field(default_factory=list)

    def words(self) -> int:
        return sum(len(p.split()) for s in self.sections for p in s.paragraphs)


def clean(text: str) -> str:
    """One line of plain text: whitespace runs collapsed, control characters dropped."""
    return " ".join("".join(c if c.isprintable() or c.isspace() else " " for c in text).split())


def _toml(value: str) -> str:
    """A TOML basic string (JSON's escapes are a subset of TOML's)."""
    return json.dumps(value, ensure_ascii=False)


def _page_attr(pages: list[int]) -> str:
    if not pages:
        return ""
    first, last = min(pages), max(pages)
    return f" page={first}" if first == last else f" page={first}-{last}"


def _body(paragraph: str) -> list[str]:
    """A paragraph as wrapped lines that the loader cannot mistake for a heading or a fence."""
    text = re.sub(r"#{2,}", "#", paragraph).replace("+++", "++")
    return textwrap.wrap(text, WRAP, break_long_words=False, break_on_hyphens=False)


def render(document: Document, fallback_title: str) -> str:
    """The source file for `document`; `fallback_title` (the file's own name) stands in for a
    missing title, because the source format requires one. DocumentRefused when nothing is left."""
    sections = [s for s in document.sections if any(p.strip() for p in s.paragraphs)]
    if not sections or document.words() == 0:
        raise DocumentRefused("The document converts to no text at all, so there is nothing to index.")
    title = clean(document.title)[:300] or clean(fallback_title)[:300] or "Untitled document"
    lines = ["+++", f"title = {_toml(title)}"]
    for key in ("author", "date", "outlet", "url"):
        lines.append(f"{key} = {_toml(clean(getattr(document, key))[:300])}")
    lines += ["+++"]
    used: set[str] = set()
    for section in sections:
        heading = clean(section.heading)[:MAX_HEADING_CHARS].replace("{", "(").replace("}", ")") or title
        slug = _unique(slugify(heading), used)
        lines += [f"## {heading} {{#{slug}{_page_attr(section.pages)}}}", ""]
        for paragraph in section.paragraphs:
            if paragraph.strip():
                lines += [*_body(clean(paragraph)), ""]
    text = "\n".join(lines).rstrip() + "\n"
    if len(text.encode("utf-8")) > MAX_SOURCE_BYTES:
        raise DocumentRefused(
            f"The converted source would be {len(text.encode()) // 1024} KiB, over the "
            f"{MAX_SOURCE_BYTES // 1024} KiB limit for a source; split the document and add the parts."
        )
    return text


def _unique(slug: str, used: set[str]) -> str:
    """`slug`, or `slug-2`, `slug-3`, ... when an earlier heading had the same one."""
    candidate, n = slug, 1
    while candidate in used:
        n += 1
        candidate = f"{slug[:60].rstrip('-')}-{n}"
    used.add(candidate)
    return candidate


def table_paragraphs(rows: list[list[str]]) -> list[str]:
    """A table as one line per row, each cell named by its column's header when the first row holds
    headers: 'Step: Notice; Who: Lab.' reads as a sentence and keeps the cells together."""
    rows = [[clean(cell) for cell in row] for row in rows if any(clean(cell) for cell in row)]
    if not rows:
        return []
    header, *body = rows
    if not body:
        return ["; ".join(header) + "."]
    lines = []
    for row in body:
        cells = [f"{name}: {cell}" if name else cell for name, cell in zip(header, row, strict=False) if cell]
        lines.append("; ".join(cells) + ".")
    return lines
