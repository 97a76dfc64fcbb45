"""Indexes of sources the tests write themselves, through the real language models: a test's own
article, unrelated to the seeds, so nothing passes because of what the shipped sources say."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.index import SourceIndex
from bot.language import LanguageModels
from bot.sources import load_sources


@asynccontextmanager
async def index_of(
    folder: Path, name: str, text: str, language: LanguageModels
) -> AsyncIterator[SourceIndex]:
    """An index of one source written for the test, closed afterwards."""
    (folder / f"{name}.md").write_text(text, encoding="utf-8")
    sources, problems = load_sources(folder)
    assert not problems
    index = await SourceIndex.build(sources, language)
    try:
        yield index
    finally:
        await index.aclose()
