"""Dense retrieval ranks a passage by its sentence closest to the question, and the passage holding
that sentence always reaches the pool, through the real sentence encoder, on a source of the tests'
own written as a reporter writes: a paragraph that runs over several things, one of which answers
a question asked in other words, beside short passages that share the question's words."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from written_sources import index_of  # tests/ is on the path

from bot.briefing.answer import POOL_K
from bot.briefing.answerability import typed_answers
from bot.briefing.evidence import weigh
from bot.index import SourceIndex
from bot.language import LanguageModels

PIER = """+++
title = "A Pier, a Budget and a Long Winter"
author = "Ingrid Solheim"
outlet = "Lakeshore Ledger"
date = "March 2, 2026"
+++

## Ice on the harbour
The ice came early to Grand Marais this year, and by December the old ferry landing was closed.
Ridership on the island run fell by a third over the winter. Captain Aldo Ferris, 61, has skippered
the boat for nineteen seasons. "You learn to read the lake," he said. The state legislature set
aside $3.1 million for the replacement dock in its spring session. The town council expects
construction to start after the thaw.

## The new pier's design
The new pier will be longer than the old one, and its design puts a covered waiting room at the
shore end. Engineers chose steel pilings over timber for the new pier.

## Money for fuel
The ferry line spends more money on fuel each winter than the state's tourism office puts into
promoting the island.

## Tourists and the state
State tourism officials say visitors to the island have doubled since 2019, and the state's new
campaign puts the ferry on its posters.
"""

# "lawmakers" and "pier" are not the answering sentence's words ("legislature", "dock")
ASKED = "How much money did state lawmakers put toward the new pier?"
ANSWERING = "pier#ice-on-the-harbour"


@pytest.fixture
async def pier(tmp_path: Path, language: LanguageModels) -> AsyncIterator[SourceIndex]:
    async with index_of(tmp_path, "pier", PIER, language) as index:
        yield index


def test_a_long_passage_ranks_by_its_sentence_closest_to_the_question(pier: SourceIndex) -> None:
    assert pier.semantic is not None
    ranked = pier.semantic.rank(ASKED, 4)
    assert pier.passages[ranked[0][0]].id == ANSWERING
    # ...where the passage's own vector, the average of all it says, is closer for another passage
    own = pier.semantic.texts @ pier.semantic.vector(ASKED)
    assert max(range(len(own)), key=lambda unit: own[unit]) != pier.position(ANSWERING)


async def test_the_passage_with_the_closest_sentence_always_reaches_the_pool(pier: SourceIndex) -> None:
    for k in (1, 2, 3):
        found = [scored.passage.id for scored in await pier.search(ASKED, k=k)]
        assert len(found) == k and ANSWERING in found, (k, found)
    evidence = weigh(pier, ASKED, await pier.search(ASKED, k=POOL_K))
    assert evidence.answerable
    assert any("$3.1 million" in pick.sentence for pick in evidence.picks)


def test_the_sentence_giving_the_figure_answers_when_about_as_close_as_the_closest() -> None:
    assert typed_answers(meaning=0.5, typed_meaning=0.48)  # within TYPED_MARGIN of the closest
    assert not typed_answers(meaning=0.5, typed_meaning=0.44)
    assert not typed_answers(meaning=0.41, typed_meaning=0.39)  # not about the question at all
