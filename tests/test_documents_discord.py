"""/prompts put with a document, through the Discord imitation: a PDF, a saved web page and a Word
memo are each uploaded, converted (the converted file attached to the review), confirmed, cited in
an answer (with its page, for the PDF), and rolled back, which removes the source and the original
document together. Hostile documents are refused with one sentence and change nothing."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import document_samples as samples
import pytest
from discord_imitation import DiscordImitation
from discord_imitation.harness import bot_settings, final_reply
from test_discord_prompts import press, prompts, put, snapshot

from bot.discord_app.client import BriefingBot
from bot.engine.base import GenerationRequest
from bot.engine.scripted import ScriptedEngine

REPO_PROMPTS = Path(__file__).resolve().parent.parent / "prompts"
QUESTION = "What registry did the United States and China agree on for AI training runs in Geneva?"


def cite_the_registry(request: GenerationRequest) -> str:
    """The model's part, scripted: the first sentence of the first numbered passage about the
    registry, cited by its number."""
    prompt = request.messages[-1].content
    for found in re.finditer(r"^\[(\d+)\] [^\n]*?: ([^\n]*registry[^\n]*)$", prompt, re.MULTILINE):
        sentence = found[2].split(". ")[0].rstrip(".")
        return f"{sentence} [{found[1]}]."
    return "The sources do not cover that [1]."


@pytest.fixture(scope="module")
async def documents_bot(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[DiscordImitation, BriefingBot]]:
    from discord_imitation.harness import running_bot

    folder = tmp_path_factory.mktemp("discord-documents")
    shutil.copytree(REPO_PROMPTS, folder / "prompts")
    imitation = await DiscordImitation().start()
    settings = bot_settings(imitation, folder, prompts_dir=folder / "prompts", prompt_upload_timeout_s=5.0)
    try:
        async with running_bot(settings, ScriptedEngine(cite_the_registry)) as bot:
            yield imitation, bot
    finally:
        await imitation.stop()


@pytest.fixture
def im(documents_bot: tuple[DiscordImitation, BriefingBot]) -> DiscordImitation:
    return documents_bot[0]


@pytest.fixture
def bot(documents_bot: tuple[DiscordImitation, BriefingBot]) -> BriefingBot:
    return documents_bot[1]


FORMATS = [
    ("report.pdf", samples.report_pdf, "passages added 4: report#how-verification-works", "(p. 1)"),
    ("news.html", samples.news_html, "passages added 3: news#a-registry-both-sides-accept", ""),
    ("memo.docx", samples.memo_docx, "passages added 3: memo#how-verification-works", ""),
]


@pytest.mark.parametrize(("filename", "make", "index", "page"), FORMATS)
async def test_upload_review_confirm_answer_rollback(
    im: DiscordImitation, bot: BriefingBot, filename: str, make: Callable[[], bytes], index: str, page: str
) -> None:
    root = bot.settings.prompts_dir
    stem = filename.rpartition(".")[0]
    before = snapshot(root)
    data = make()

    preview = await put(im, filename, data)
    assert f"**Upload sources/{stem}.md** (converted; `{stem}.md` is attached)" in preview.content
    assert index in preview.content and '+title = "' in preview.content
    assert f"# documents/{filename}: original document added, {len(data)} bytes" in preview.content
    converted = preview.files[f"{stem}.md"]
    assert converted.startswith(b"+++\ntitle = ") and snapshot(root) == before  # nothing written yet

    result = await press(im, preview, "confirm")
    assert f"Prompt set {bot.service.prompt_version} live" in result
    assert (root / "sources" / f"{stem}.md").read_bytes() == converted
    assert (root / "documents" / filename).read_bytes() == data

    question = await im.send(QUESTION, mention_bot=True)
    reply = (await final_reply(im, question)).text
    assert re.search(rf"`{stem}#[a-z0-9-]+`{re.escape(' ' + page) if page else ''} — ", reply), reply

    listing = (await prompts(im, "history", file=f"documents/{filename}")).content
    assert f"documents/{filename} (added)" in listing and f"sources/{stem}.md (added)" in listing
    newest_first = re.findall(r"\*\*#(\d+)\*\*", (await prompts(im, "history")).content)
    target = newest_first[1]  # the version before this upload
    rollback = await prompts(im, "rollback", version=f"#{target}")
    assert "original document removed" in rollback.content
    assert "Prompt set" in await press(im, rollback, "confirm")
    assert not (root / "sources" / f"{stem}.md").exists() and not (root / "documents" / filename).exists()
    assert {k: v for k, v in snapshot(root).items() if not k.startswith(".")} == {
        k: v for k, v in before.items() if not k.startswith(".")
    }


async def test_the_original_can_be_downloaded_and_goes_with_its_source(
    im: DiscordImitation, bot: BriefingBot
) -> None:
    root = bot.settings.prompts_dir
    data = samples.memo_docx()
    assert "Prompt set" in await press(im, await put(im, "Lena memo.docx", data), "confirm")
    assert (root / "sources" / "Lena-memo.md").exists()
    response = await prompts(im, "get", file="documents/Lena-memo.docx")
    assert response.files == {"Lena-memo.docx": data}
    preview = await prompts(im, "delete", file="sources/Lena-memo.md")
    assert "# documents/Lena-memo.docx: original document removed" in preview.content
    assert "Removed: " in await press(im, preview, "confirm")
    assert not (root / "sources" / "Lena-memo.md").exists()
    assert not (root / "documents" / "Lena-memo.docx").exists()


@pytest.mark.parametrize("name", sorted(samples.HOSTILE))
async def test_hostile_documents_are_refused_and_nothing_changes(
    im: DiscordImitation, bot: BriefingBot, name: str
) -> None:
    filename, make, words = samples.HOSTILE[name]
    before, version = snapshot(bot.settings.prompts_dir.parent), bot.service.prompt_version
    refused = await put(im, filename, make())
    assert words in refused.content and "nothing was changed" in refused.content, refused.content
    assert not refused.components and not refused.files
    assert snapshot(bot.settings.prompts_dir.parent) == before and bot.service.prompt_version == version


async def test_an_oversized_document_is_refused_unfetched(im: DiscordImitation, bot: BriefingBot) -> None:
    before, fetches = snapshot(bot.settings.prompts_dir.parent), len(im.world.cdn.fetches)
    huge = b"%PDF-1.4\n" + b"0" * (9 * 1024 * 1024)
    refused = await put(im, "huge.pdf", huge)
    assert "documents may be at most 8388608" in refused.content
    assert len(im.world.cdn.fetches) == fetches and snapshot(bot.settings.prompts_dir.parent) == before
