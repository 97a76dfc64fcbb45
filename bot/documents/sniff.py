"""Is this upload what its name says, and small enough to open? Checked before any parser sees it.

Why first, in the bot's own process and by hand: these checks read a few bytes and the zip's
directory, so they are cheap and cannot be attacked; everything that parses the document itself
runs in the worker (bot/documents/worker.py). A file whose extension lies (a zip called .pdf, a PDF
called .html) is refused here, by its magic bytes, so no parser ever reads a format it was not
chosen for. A DOCX is a zip: its declared uncompressed sizes are added up before anything inflates
it, so a zip bomb is refused without being opened (Python's zipfile never reads a member past its
declared size, so the declared sizes are a real bound).
"""

from __future__ import annotations

import io
import zipfile

from bot.documents.model import DocumentRefused

SUFFIXES = (".pdf", ".html", ".htm", ".docx")
MAX_DOCUMENT_BYTES = 8 * 1024 * 1024  # an upload or a file to add, before conversion
MAX_DOCX_UNCOMPRESSED = 64 * 1024 * 1024  # all members of a DOCX together, as declared
MAX_DOCX_MEMBERS = 2000
MAX_DOCX_RATIO = 200  # one member's declared inflated size over its compressed size
HTML_MARKERS = (b"<html", b"<!doctype html", b"<head", b"<body", b"<article", b"<p", b"<div", b"<h1")


def suffix_of(filename: str) -> str:
    """The document suffix of `filename` in lower case ('.pdf', ...), or '' if it is none of them."""
    lowered = filename.lower()
    return next((s for s in SUFFIXES if lowered.endswith(s)), "")


def check(data: bytes, filename: str) -> str:
    """The document's suffix when `data` is what `filename` claims and within the limits;
    DocumentRefused with one sentence otherwise."""
    suffix = suffix_of(filename)
    if not suffix:
        raise DocumentRefused(f"`{filename}` is not a document I can convert (.pdf, .html, .htm or .docx).")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DocumentRefused(
            f"`{filename}` is {len(data) // 1024} KiB; documents may be at most "
            f"{MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB."
        )
    if not data.strip():
        raise DocumentRefused(f"`{filename}` is empty.")
    kind = sniff(data)
    expected = {".pdf": "pdf", ".docx": "zip", ".html": "html", ".htm": "html"}[suffix]
    if kind != expected:
        found = {"pdf": "a PDF", "zip": "a zip archive", "html": "an HTML page"}.get(kind, "something else")
        raise DocumentRefused(
            f"`{filename}` is not what its name says: its content is {found}, not {suffix[1:].upper()}."
        )
    if suffix == ".docx":
        check_docx_zip(data, filename)
    return suffix


def sniff(data: bytes) -> str:
    """'pdf', 'zip', 'html' or 'unknown', from the content alone."""
    head = data[:1024]
    if b"%PDF-" in head:  # the header may follow up to 1 KiB of junk (PDF 1.7, 7.5.2)
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if b"\x00" in data[:8192]:
        return "unknown"  # binary: images, executables, UTF-16 text
    lowered = data[:65536].lower()
    if any(marker in lowered for marker in HTML_MARKERS):
        return "html"
    return "unknown"


def check_docx_zip(data: bytes, filename: str) -> None:
    """Refuse a DOCX whose zip is broken, is not a Word document, or declares too much content."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise DocumentRefused(f"`{filename}` is not a readable .docx file (a broken zip archive).") from None
    names = {info.filename for info in infos}
    if "word/document.xml" not in names:
        raise DocumentRefused(
            f"`{filename}` is a zip archive but not a Word document (no word/document.xml)."
        )
    total = sum(info.file_size for info in infos)
    ratio = max((info.file_size / max(info.compress_size, 1) for info in infos), default=0.0)
    if len(infos) > MAX_DOCX_MEMBERS or total > MAX_DOCX_UNCOMPRESSED or ratio > MAX_DOCX_RATIO:
        raise DocumentRefused(
            f"`{filename}` would unpack to {total // (1024 * 1024)} MiB in {len(infos)} parts "
            f"(compressed up to {ratio:.0f} times), which looks like a zip bomb; refused without opening it."
        )
