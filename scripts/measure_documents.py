"""Measure the document libraries on the real-looking files of tests/document_samples.py: how much
of the article text comes out in reading order (share of its 6-word runs found), how much page
furniture leaks in (running header/footer, page numbers, navigation, comments, scripts), which
metadata is found, and how long it takes. The figures in docs/documents.md come from this script.

Run: python scripts/measure_documents.py (needs pypdf, pdfplumber, trafilatura, readability-lxml,
markdownify and python-docx; only pdfplumber, trafilatura and python-docx are dependencies).
"""

from __future__ import annotations

import io
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import document_samples as samples

from bot.documents.convert import convert


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def recall(paragraphs: list[list[str]], text: str, n: int = 6) -> float:
    """Share of the expected paragraphs' n-word runs that appear in `text` (order within a run
    matters, so text read across the columns scores low)."""
    want = [tuple(ws[i : i + n]) for ws in paragraphs for i in range(len(ws) - n + 1)]
    got = words(text)
    have = {tuple(got[i : i + n]) for i in range(len(got) - n + 1)}
    return sum(1 for w in want if w in have) / len(want)


def timed(make: Callable[[], str]) -> tuple[str, float]:
    start = time.perf_counter()
    text = make()
    return text, (time.perf_counter() - start) * 1000


def pdf_rows() -> list[tuple[str, str, float, int, float]]:
    import pdfplumber
    import pypdf

    data = samples.report_pdf()
    expected = [words(p) for _h, ps in samples.REPORT for p in ps]
    noise = [samples.HEADER, samples.FOOTER]

    def pypdf_text(mode: str) -> str:
        reader = pypdf.PdfReader(io.BytesIO(data))
        return "\n".join(page.extract_text(extraction_mode=mode) for page in reader.pages)

    def plumber_text() -> str:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            return "\n".join(page.extract_text() or "" for page in pdf.pages)

    candidates = {
        "pypdf extract_text (plain)": lambda: pypdf_text("plain"),
        "pypdf extract_text (layout)": lambda: pypdf_text("layout"),
        "pdfplumber extract_text": plumber_text,
        "pdfplumber words + bot/documents/pdf.py": lambda: convert(data, "report.pdf"),
    }
    rows = []
    for name, make in candidates.items():
        text, ms = timed(make)
        leaks = sum(text.count(n) for n in noise) + len(re.findall(r"(?m)^\s*\d+\s*$", text))
        rows.append(("PDF", name, recall(expected, text), leaks, ms))
    return rows


NEWS_NOISE = ["cookies", "Subscribe", "Related stories", "scam", "Copyright", "dataLayer", "By Omar"]


def html_rows() -> list[tuple[str, str, float, int, float]]:
    from markdownify import markdownify
    from readability import Document

    data = samples.news_html()
    article = re.search(r"<article>(.*)<aside", samples.NEWS_HTML, re.S)
    assert article is not None
    paragraphs = re.findall(r"<p>(.*?)</p>", article[1], re.S)
    expected = [words(p) for p in paragraphs]

    def readability_text() -> str:
        page = Document(data.decode())
        return markdownify(page.summary(html_partial=True))

    candidates = {
        "readability-lxml + markdownify": readability_text,
        "trafilatura + bot/documents/html.py": lambda: convert(data, "news.html"),
    }
    rows = []
    for name, make in candidates.items():
        text, ms = timed(make)
        rows.append(("HTML", name, recall(expected, text), sum(text.count(n) for n in NEWS_NOISE), ms))
    return rows


def docx_rows() -> list[tuple[str, str, float, int, float]]:
    data = samples.memo_docx()
    expected = [words(p) for _h, ps in samples.REPORT[:3] for p in ps] + [words("Step Notice Who Lab")]
    text, ms = timed(lambda: convert(data, "memo.docx"))
    flat = text.replace("Step: Notice; Who: Lab.", "Step Notice Who Lab")
    return [
        (
            "DOCX",
            "python-docx + bot/documents/word.py",
            recall(expected, flat),
            text.count("CONFIDENTIAL"),
            ms,
        )
    ]


def metadata() -> None:
    import trafilatura

    found = trafilatura.extract_metadata(samples.NEWS_HTML)
    print("\ntrafilatura metadata:", {k: getattr(found, k) for k in ("title", "author", "date", "sitename")})
    from readability import Document

    print("readability metadata: title only:", Document(samples.NEWS_HTML).title())


def main() -> None:
    print(f"{'format':<6} {'library':<44} {'recall':>7} {'leaks':>6} {'ms':>8}")
    for kind, name, share, leaks, ms in pdf_rows() + html_rows() + docx_rows():
        print(f"{kind:<6} {name:<44} {share:>7.2f} {leaks:>6} {ms:>8.1f}")
    metadata()


if __name__ == "__main__":
    main()
