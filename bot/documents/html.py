"""A saved web page -> `Document` with trafilatura: the article text without the page around it.

Why trafilatura: on the test news page (navigation, cookie banner, related links, comments,
scripts) it kept every article paragraph and heading and dropped all of the rest, and it reads the
page's own metadata (og:title, author, article:published_time, og:site_name). Its XML output keeps
headings, paragraphs, lists and tables apart, so no Markdown has to be parsed back. Dates come from
the page's markup only (`extensive_search` off): a date guessed from the text could be wrong.
"""

from __future__ import annotations

from typing import Any

from bot.documents.model import Document, DocumentRefused, Section, clean, table_paragraphs

MIN_WORDS = 25  # below this, a page that is mostly script is refused as such
SCRIPT_SHARE = 0.5


def convert_html(data: bytes) -> Document:
    """The page's article as sections at its headings; metadata from its markup."""
    import trafilatura
    from lxml import etree

    xml = trafilatura.extract(
        data,
        output_format="xml",
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_formatting=False,
        include_images=False,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    root = etree.fromstring(xml.encode("utf-8")) if xml else None
    document = Document()
    if root is not None:
        document = Document(
            title=clean(root.get("title") or ""),
            author=clean(root.get("author") or ""),
            date=clean(root.get("date") or ""),
            outlet=clean(root.get("sitename") or ""),
            url=clean(root.get("url") or ""),
        )
        main = root.find("main")
        document.sections = _sections(main if main is not None else root, document.title)
    if document.words() < MIN_WORDS and _script_share(data) > SCRIPT_SHARE:
        raise DocumentRefused(
            "The page is almost all script: its text is made by JavaScript in a browser, so the saved "
            "file holds no article to convert (save the page after it has loaded, or as PDF)."
        )
    return document


def _text(element: Any) -> str:
    return clean("".join(element.itertext()))


def _sections(main: Any, title: str) -> list[Section]:
    """Headings start sections; paragraphs, list items and table rows are the text."""
    found: list[Section] = []
    for element in main:
        tag = element.tag
        if tag == "head":
            heading = _text(element)
            if heading and heading != title:
                found.append(Section(heading))
            continue
        if not found:
            found.append(Section(""))
        if tag == "list":
            found[-1].paragraphs += [_text(item) for item in element.iter("item")]
        elif tag == "table":
            rows = [[_text(cell) for cell in row.iter("cell")] for row in element.iter("row")]
            found[-1].paragraphs += table_paragraphs(rows)
        else:
            found[-1].paragraphs.append(_text(element))
    return found


def _script_share(data: bytes) -> float:
    """How much of the page is inside <script> elements (a rough measure, by bytes)."""
    lowered = data.lower()
    inside, start = 0, 0
    while (open_at := lowered.find(b"<script", start)) >= 0:
        close_at = lowered.find(b"</script>", open_at)
        end = len(lowered) if close_at < 0 else close_at
        inside += end - open_at
        start = end + 1
    return inside / max(len(data), 1)
