"""Documents become sources (bot/documents): each converter on a real-looking file made here, the
worker's time and memory limits, every hostile file refused with one sentence, and the console's
`python -m bot sources add` (dry run, write, validation, answers citing the PDF's page)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import document_samples as samples
import pytest

from bot.__main__ import main
from bot.config import load_settings
from bot.documents import DocumentRefused, convert_in_worker
from bot.documents.convert import convert
from bot.documents.sniff import sniff
from bot.sources import load_sources

if TYPE_CHECKING:
    from bot.briefing.models import Answer

REPO = Path(__file__).resolve().parent.parent


def converted(filename: str, data: bytes) -> str:
    """In-process conversion: the converters themselves (the worker is tested on its own below)."""
    return convert(data, filename)


def test_two_column_pdf_reads_in_column_order_without_running_lines(tmp_path: Path) -> None:
    text = converted("report.pdf", samples.report_pdf())
    assert text.startswith(
        '+++\ntitle = "The Geneva compute accord"\nauthor = "Mei Tanaka"\ndate = "2026-11-04"\n'
    )
    assert 'outlet = ""' in text  # a PDF's information names no outlet: left empty, never guessed
    assert "## Summary {#summary page=1}" in text and "## What comes next {#what-comes-next page=2}" in text
    flat = " ".join(text.split())
    # column order and line-end hyphenation ("verifi-" / "cation") undone
    assert "described the registry as the first verification mechanism for frontier AI that both" in flat
    assert "The secretariat publishes a yearly summary without naming the labs." in flat
    for noise in (samples.HEADER, samples.FOOTER, "verifi-", "secre-"):
        assert noise not in text
    assert not any(line.strip().isdigit() for line in text.splitlines())  # page numbers gone
    (tmp_path / "report.md").write_text(text, encoding="utf-8")
    [source], problems = load_sources(tmp_path)
    assert not problems
    assert [(p.id, p.where) for p in source.passages] == [
        ("report#summary", "p. 1"),
        ("report#how-verification-works", "p. 1"),
        ("report#open-questions", "p. 2"),
        ("report#what-comes-next", "p. 2"),
    ]


def test_pdf_without_headings_or_metadata_has_a_section_per_page() -> None:
    text = converted("Geneva Report.pdf", samples.report_pdf(headings=False, with_info=False))
    assert 'title = "Geneva Report"' in text and 'author = ""' in text and 'date = ""' in text
    assert "## Page 1 {#page-1 page=1}" in text and "## Page 2 {#page-2 page=2}" in text


def test_pdf_outline_names_headings_the_layout_does_not_show() -> None:
    text = converted("report.pdf", samples.report_pdf(outline=True))
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == [
        "## Summary {#summary page=1}",
        "## How verification works {#how-verification-works page=1}",
        "## Open questions {#open-questions page=2}",
        "## What comes next {#what-comes-next page=2}",
    ]


def test_a_section_running_over_a_page_break_cites_both_pages(tmp_path: Path) -> None:
    body = [f"Line {n} of the background on the registry and its verification rules" for n in range(8)]
    pages = [
        [samples.Text(72, 700, "Background", 16, bold=True)]
        + [samples.Text(72, 680 - 13 * i, line) for i, line in enumerate(body[:5])],
        [samples.Text(72, 700 - 13 * i, line) for i, line in enumerate(body[5:])]
        + [samples.Text(72, 600, "Annex", 16, bold=True), samples.Text(72, 580, "The annex lists the labs.")],
    ]
    text = converted("long.pdf", samples.pdf_bytes(pages))
    assert "## Background {#background page=1-2}" in text and "## Annex {#annex page=2}" in text
    (tmp_path / "long.md").write_text(text, encoding="utf-8")
    [source], _ = load_sources(tmp_path)
    assert source.passages[0].where == "pp. 1-2"


def test_news_page_keeps_the_article_and_its_metadata_only() -> None:
    text = converted("news.html", samples.news_html())
    assert 'author = "Omar Haddad"' in text and 'date = "2026-11-05"' in text
    assert 'outlet = "The Harbour Times"' in text
    assert 'title = "Geneva accord sets up a registry for big AI training runs"' in text
    assert "## A registry both sides accept {#a-registry-both-sides-accept}" in text
    for noise in ("cookies", "Subscribe", "Related stories", "scam", "Copyright", "dataLayer", "Privacy"):
        assert noise not in text, noise


def test_word_memo_keeps_headings_and_the_table_but_not_the_page_header() -> None:
    text = converted("memo.docx", samples.memo_docx())
    assert 'title = "Memo on the Geneva compute accord"' in text and 'author = "Lena Fischer"' in text
    assert 'date = "2026-11-03"' in text
    assert "## How verification works {#how-verification-works}" in text
    assert "Step: Notice; Who: Lab." in text and "CONFIDENTIAL" not in text and "Internal memo" not in text


def test_word_memo_without_heading_styles_is_one_section_under_its_title() -> None:
    text = converted("memo.docx", samples.memo_docx(headings=False))
    assert text.count("\n## ") == 1 and "## Memo on the Geneva compute accord {#memo-on-the-geneva" in text


@pytest.mark.parametrize("name", sorted(samples.HOSTILE))
def test_hostile_documents_are_refused_in_one_sentence(name: str) -> None:
    filename, make, words = samples.HOSTILE[name]
    with pytest.raises(DocumentRefused, match=words) as refused:
        asyncio.run(convert_in_worker(make(), filename))
    assert refused.value.user_message.count("\n") == 0


def test_magic_bytes_decide_the_format() -> None:
    assert sniff(samples.report_pdf()) == "pdf" and sniff(samples.memo_docx()) == "zip"
    assert sniff(samples.news_html()) == "html" and sniff(b"\x89PNG\r\n\x1a\n\x00\x00") == "unknown"


def test_worker_time_limit_and_memory_cap() -> None:
    with pytest.raises(DocumentRefused, match=r"took longer than 0.01 s"):
        asyncio.run(convert_in_worker(samples.report_pdf(), "report.pdf", timeout_s=0.01))
    with pytest.raises(DocumentRefused, match=r"needed more than 256 MiB of memory"):
        asyncio.run(convert_in_worker(samples.deflate_bomb_pdf(), "bomb.pdf", memory_mib=256))
    assert "## Summary" in asyncio.run(convert_in_worker(samples.report_pdf(), "report.pdf"))


@pytest.fixture
def prompts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(REPO / "prompts", tmp_path / "prompts")
    monkeypatch.setenv("PROMPTS_DIR", str(tmp_path / "prompts"))
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "cli.sqlite3"))
    return tmp_path / "prompts"


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


FORMATS = [
    ("report.pdf", samples.report_pdf, "report#summary", "p. 1"),
    ("news.html", samples.news_html, "news#a-registry-both-sides-accept", ""),
    ("memo.docx", samples.memo_docx, "memo#how-verification-works", ""),
]


@pytest.mark.parametrize(("filename", "make", "passage", "page"), FORMATS)
def test_console_sources_add(
    prompts: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    filename: str,
    make: Callable[[], bytes],
    passage: str,
    page: str,
) -> None:
    document = tmp_path / filename
    document.write_bytes(make())
    before = tree(prompts)
    assert main(["sources", "add", str(document), "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("+++\ntitle = ") and tree(prompts) == before  # a dry run writes nothing

    assert main(["sources", "add", str(document)]) == 0
    stem = filename.rpartition(".")[0]
    assert (prompts / "sources" / f"{stem}.md").read_text(encoding="utf-8") == printed
    assert (prompts / "documents" / filename).read_bytes() == document.read_bytes()
    assert "Added sources/" in capsys.readouterr().err

    assert main(["search", "registry verification secretariat notices", "-k", "8"]) == 0
    found = capsys.readouterr().out
    assert passage in found and (not page or (f"{passage}  (score" in found and page in found))
    answer = asyncio.run(_ask(prompts))
    assert any(c.id.startswith(f"{stem}#") for c in answer.citations), answer.text
    if page:
        assert any(c.page and c.label.endswith(f"({page})") for c in answer.citations)


async def _ask(prompts: Path) -> Answer:
    """A question the new source answers, through the service with a scripted model."""
    from test_documents_discord import QUESTION, cite_the_registry

    from bot.engine.scripted import ScriptedEngine
    from bot.service import BriefingService

    settings = load_settings(prompts_dir=prompts, database_path=prompts.parent / "ask.sqlite3")
    service = await BriefingService.open(settings, engine=ScriptedEngine(cite_the_registry))
    try:
        events = [e async for e in service.ask(QUESTION, conversation_id="t", user_id="t")]
    finally:
        await service.aclose()
    from bot.briefing.models import Answered

    return next(e.answer for e in events if isinstance(e, Answered))


@pytest.mark.parametrize("name", ["zip bomb", "scanned", "lying extension"])
def test_console_refusals_change_nothing(
    prompts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    filename, make, words = samples.HOSTILE[name]
    (tmp_path / filename).write_bytes(make())
    before = tree(prompts)
    assert main(["sources", "add", str(tmp_path / filename)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and words in err and "Traceback" not in err
    assert tree(prompts) == before


def test_console_never_writes_a_source_that_breaks_the_set(
    prompts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (prompts / "sources" / "notes.txt").write_text("Notes\n\nUS and China AI notes.\n", encoding="utf-8")
    (tmp_path / "report.pdf").write_bytes(samples.report_pdf())
    before = tree(prompts)
    assert main(["sources", "add", str(tmp_path / "report.pdf"), "--name", "notes"]) == 2
    err = capsys.readouterr().err
    assert "nothing was written" in err and "sources/notes.txt:1: same name as sources/notes.md" in err
    assert tree(prompts) == before
