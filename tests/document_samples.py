"""Real-looking documents, made in the test: the moderators' PDF reports, saved news pages and Word
memos, and the hostile files a converter must refuse.

The PDFs are written as raw PDF bytes by a tiny generator (no PDF library needed to make them): a
two-column report with a running header and footer, page numbers, bold and larger headings and a
word hyphenated at a line end; its content stream draws the two columns' lines interleaved (left,
right, left, ...), as some producers do, so a converter that reads the stream in order gets the
reading order wrong. The Word memo is made with python-docx; the news page is plain HTML with a
navigation bar, a cookie banner, comments and scripts around the article.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

TOPIC = "Geneva compute accord"


@dataclass(frozen=True, slots=True)
class Text:
    """One line of text on a PDF page: position (points from the bottom left), size, bold."""

    x: float
    y: float
    text: str
    size: float = 10.0
    bold: bool = False


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _stream(body: bytes, extra: str = "") -> bytes:
    return b"<< /Length %d%s >>\nstream\n" % (len(body), extra.encode()) + body + b"\nendstream"


def _outline_objects(objects: list[bytes], outline: Sequence[tuple[str, int]], page_ids: list[int]) -> str:
    """Append the outline (bookmarks: title, page index) to `objects`; the catalog's entry for it."""
    if not outline:
        return ""
    first = len(objects) + 2  # the outline root comes first, then its items
    objects.append(f"<< /Type /Outlines /First {first} 0 R /Last {first + len(outline) - 1} 0 R >>".encode())
    for n, (title, page) in enumerate(outline):
        links = (f" /Prev {first + n - 1} 0 R" if n else "") + (
            f" /Next {first + n + 1} 0 R" if n < len(outline) - 1 else ""
        )
        dest = f"[{page_ids[page]} 0 R /XYZ 0 792 0]"
        objects.append(
            f"<< /Title ({_escape(title)}) /Parent {first - 1} 0 R{links} /Dest {dest} >>".encode()
        )
    return f" /Outlines {first - 1} 0 R"


def pdf_bytes(
    pages: list[list[Text]],
    info: dict[str, str] | None = None,
    *,
    images: bool = False,
    outline: Sequence[tuple[str, int]] = (),
) -> bytes:
    """A PDF of `pages` (each a list of text lines) with Helvetica and Helvetica-Bold, and the
    document information `info` (Title, Author, CreationDate, ...). `images`: each page instead
    shows a small grey image and no text at all, as a scan does."""
    objects: list[bytes] = [b"", b""]  # 1: catalog, 2: pages (filled in below)
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
    page_ids: list[int] = []
    for lines in pages:
        if images:
            pixels = zlib.compress(bytes([128]) * (64 * 64))
            objects.append(
                _stream(
                    pixels,
                    " /Type /XObject /Subtype /Image /Width 64 /Height 64 "
                    "/ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode",
                )
            )
            image_id = len(objects)
            content = b"q 500 0 0 700 56 46 cm /Im1 Do Q"
            resources = f"<< /XObject << /Im1 {image_id} 0 R >> >>"
        else:
            ops = [
                f"BT /{'F2' if t.bold else 'F1'} {t.size:g} Tf {t.x:g} {t.y:g} Td ({_escape(t.text)}) Tj ET"
                for t in lines
            ]
            content = "\n".join(ops).encode("latin-1")
            resources = "<< /Font << /F1 3 0 R /F2 4 0 R >> >>"
        objects.append(_stream(content))
        content_id = len(objects)
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content_id} 0 R "
            f"/Resources {resources} >>".encode()
        )
        page_ids.append(len(objects))
    outlines = _outline_objects(objects, outline, page_ids)
    objects[0] = f"<< /Type /Catalog /Pages 2 0 R{outlines} >>".encode()
    kids = " ".join(f"{i} 0 R" for i in page_ids)
    objects[1] = f"<< /Type /Pages /Kids [{kids}] /Count {len(page_ids)} >>".encode()
    info_id = 0
    if info:
        entries = " ".join(f"/{key} ({_escape(value)})" for key, value in info.items())
        objects.append(f"<< {entries} >>".encode("latin-1"))
        info_id = len(objects)
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    trailer = (
        f"<< /Size {len(objects) + 1} /Root 1 0 R" + (f" /Info {info_id} 0 R" if info_id else "") + " >>"
    )
    out.write(f"trailer\n{trailer}\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def _wrap(text: str, width: int) -> list[str]:
    """Greedy line wrap at `width` characters."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


# The report's sections: (heading, paragraphs). Page 1 holds the first two, page 2 the rest.
REPORT = [
    (
        "Summary",
        [
            f"The {TOPIC} commits the United States and China to report every training run above a "
            "shared compute threshold to a joint registry in Geneva. Negotiators described the registry "
            "as the first verification mechanism for frontier AI that both governments accepted.",
        ],
    ),
    (
        "How verification works",
        [
            "Each lab files a signed notice before a large training run begins. Inspectors from a "
            "neutral secretariat compare the notices with data centre power records every quarter. "
            "The secretariat publishes a yearly summary without naming the labs.",
        ],
    ),
    (
        "Open questions",
        [
            "Critics warn that the threshold will age quickly as chips grow more efficient. The accord "
            "asks the secretariat to review the threshold every two years, and either side may ask for "
            "an early review after a major hardware advance.",
        ],
    ),
    (
        "What comes next",
        [
            "Both delegations agreed to meet again in Singapore to extend the registry to fine-tuning "
            "runs. Observers said that the talks showed that verification can work between rivals "
            "when each side keeps its model weights private.",
        ],
    ),
]
HEADER = "Policy Review - Compute Governance Series"
FOOTER = "Institute for Technology Diplomacy"


def report_pdf(*, with_info: bool = True, headings: bool = True, outline: bool = False) -> bytes:
    """The two-column report: two sections per page (one per column), a bold 14 pt heading above
    each, a running header and footer and the page number on every page, the column lines drawn
    interleaved, and 'cooper-/ation'-style hyphenation where a line ends inside a word. `outline`:
    the headings are set like the body text (no layout shows them) and the PDF's outline (its
    bookmarks) names them instead."""
    pages: list[list[Text]] = []
    for number, pair in enumerate((REPORT[:2], REPORT[2:]), start=1):
        page = [Text(72, 760, HEADER, 8), Text(72, 30, FOOTER, 8), Text(540, 30, str(number), 8)]
        columns: list[list[Text]] = []
        for x, (heading, paragraphs) in zip((72.0, 320.0), pair, strict=True):
            shown = Text(x, 700, heading) if outline else Text(x, 700, heading, 14, bold=True)
            column = [shown] if headings else []
            lines = _wrap(" ".join(paragraphs), 44)
            lines = _hyphenate(lines)
            column += [Text(x, 680 - 13 * i, line) for i, line in enumerate(lines)]
            columns.append(column)
        left, right = columns
        for i in range(max(len(left), len(right))):  # interleaved, as some producers write them
            page += left[i : i + 1] + right[i : i + 1]
        pages.append(page)
    info = {"Title": f"The {TOPIC}", "Author": "Mei Tanaka", "CreationDate": "D:20261104120000Z"}
    marks = [(heading, i // 2) for i, (heading, _) in enumerate(REPORT)] if outline else []
    return pdf_bytes(pages, info if with_info else None, outline=marks)


def _hyphenate(lines: list[str]) -> list[str]:
    """Split the first long word that ends a line as a typesetter would: 'verifi-' / 'cation ...'."""
    for i in range(len(lines) - 1):
        word = lines[i + 1].split()[0]
        if len(word) >= 10 and word.isalpha():
            cut = len(word) // 2
            lines[i] += " " + word[:cut] + "-"
            lines[i + 1] = word[cut:] + lines[i + 1][len(word) :]
            return lines
    return lines


def scanned_pdf() -> bytes:
    """Two pages that are images only: what a scanner makes."""
    return pdf_bytes([[], []], {"Title": "Scanned memo"}, images=True)


def blank_pdf() -> bytes:
    """A PDF whose pages hold only a running header and page numbers: converts to nothing."""
    return pdf_bytes([[Text(72, 760, HEADER, 8), Text(540, 30, str(n), 8)] for n in (1, 2, 3)])


def encrypted_pdf() -> bytes:
    """The report, encrypted with a user password (pypdf's writer, RC4: no cryptography needed)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(report_pdf())))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


NEWS_HTML = f"""<!DOCTYPE html>
<html lang="en"><head>
<meta charset="utf-8">
<title>Geneva accord sets a compute registry | The Harbour Times</title>
<meta property="og:title" content="Geneva accord sets up a registry for big AI training runs">
<meta property="og:site_name" content="The Harbour Times">
<meta name="author" content="Omar Haddad">
<meta property="article:published_time" content="2026-11-05T09:30:00Z">
<script>window.dataLayer = [];function track(e){{dataLayer.push(e)}}</script>
<style>body {{ font-family: serif }}</style>
</head><body>
<div class="cookie-banner">We use cookies to improve your experience. <a href="#">Accept all</a></div>
<header><nav class="site-nav"><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li>
<li><a href="/tech">Technology</a></li><li><a href="/subscribe">Subscribe</a></li></ul></nav></header>
<main><article>
<h1>Geneva accord sets up a registry for big AI training runs</h1>
<p class="byline">By Omar Haddad</p>
<p>Negotiators from the United States and China signed the {TOPIC} on Tuesday, agreeing to report
every AI training run above a shared compute threshold to a joint registry in Geneva.</p>
<h2>A registry both sides accept</h2>
<p>Officials said the registry is the first verification mechanism for frontier AI that both
governments have accepted. A neutral secretariat will compare the notices that labs file with data
centre power records every quarter.</p>
<p>The secretariat will publish a yearly summary of the filings without naming individual labs, a
compromise that both delegations described as essential to reaching a deal.</p>
<h2>Doubts about the threshold</h2>
<p>Critics warned that the compute threshold will age quickly as chips become more efficient. The
text asks for a review every two years, and either side may request an earlier one.</p>
<aside class="related"><h3>Related stories</h3><ul><li><a href="/a">Chip export talks stall</a></li>
<li><a href="/b">Ten things to know about AI safety</a></li></ul></aside>
</article></main>
<section id="comments"><h2>Comments (3)</h2>
<div class="comment"><p>Great article, thanks for sharing! Subscribe to my channel for more.</p></div>
<div class="comment"><p>This will never work, the whole thing is a scam.</p></div>
</section>
<footer><p>Copyright 2026 The Harbour Times. All rights reserved.</p>
<p><a href="/privacy">Privacy policy</a> | <a href="/terms">Terms of use</a></p></footer>
<script>track({{"page": "article"}});</script>
</body></html>
"""


def news_html() -> bytes:
    return NEWS_HTML.encode("utf-8")


def script_only_html() -> bytes:
    """A page that is all script: a single-page app shell with no article text."""
    return (
        b"<!DOCTYPE html><html><head><title>App</title><script>var x = 1;</script></head>"
        b"<body><div id='root'></div><script>"
        + b"render(document.getElementById('root'));" * 50
        + b"</script><noscript>You need to enable JavaScript to run this app.</noscript></body></html>"
    )


def memo_docx(*, headings: bool = True) -> bytes:
    """A Word memo: title and author in the document properties, Heading 1 sections, a table."""
    import docx

    document = docx.Document()
    document.core_properties.title = f"Memo on the {TOPIC}"
    document.core_properties.author = "Lena Fischer"
    document.core_properties.created = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
    if headings:
        document.add_paragraph("Internal memo", style="Title")
    for heading, paragraphs in REPORT[:3]:
        if headings:
            document.add_heading(heading, level=1)
        for paragraph in paragraphs:
            document.add_paragraph(paragraph)
        if heading == "How verification works":
            table = document.add_table(rows=3, cols=2)
            for row, cells in zip(
                table.rows, [("Step", "Who"), ("Notice", "Lab"), ("Audit", "Secretariat")], strict=True
            ):
                row.cells[0].text, row.cells[1].text = cells
    document.sections[0].header.paragraphs[0].text = "CONFIDENTIAL - internal use only"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def zip_bomb_docx() -> bytes:
    """A DOCX-shaped zip whose document.xml declares (and would inflate to) 200 MB of zeros."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            chunk = b"\0" * (1 << 20)
            for _ in range(200):
                member.write(chunk)
    return out.getvalue()


def deflate_bomb_pdf(inflated_mib: int = 400) -> bytes:
    """A one-page PDF whose content stream is ~0.4 MB compressed and `inflated_mib` MiB inflated."""
    packer = zlib.compressobj(9)
    chunk = b" " * (1 << 20)
    body = b"".join(packer.compress(chunk) for _ in range(inflated_mib)) + packer.flush()
    stream = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(body) + body + b"\nendstream"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        stream,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R /Resources << >> >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + obj + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 5\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets))
    out.write(b"trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def long_pdf(pages: int = 300) -> bytes:
    """A report of `pages` pages (one line each): over the page limit, however small in bytes."""
    return pdf_bytes([[Text(72, 700, f"Page {n} of the annex on compute thresholds.")] for n in range(pages)])


HOSTILE = {
    # name: (file name, bytes maker, words the refusal must contain)
    "encrypted": ("locked.pdf", encrypted_pdf, "encrypted"),
    "zip bomb": ("bomb.docx", zip_bomb_docx, "zip bomb"),
    "300 pages": ("annex.pdf", long_pdf, "300 pages"),
    "all script": ("app.html", script_only_html, "almost all script"),
    "lying extension": ("memo.pdf", lambda: memo_docx(), "not what its name says"),
    "html called docx": ("page.docx", news_html, "not what its name says"),
    "scanned": ("scan.pdf", scanned_pdf, "needs OCR"),
    "converts to nothing": ("blank.pdf", blank_pdf, "converts to no text"),
}
