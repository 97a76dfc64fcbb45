"""On a harbour article of our own, with the real English parser and sentence encoder: a follow-up's
"he" or "she" is read as the person the conversation was just about (the previous question's person
first, else the first person its answer named), a follow-up may be answered from a sentence the last
answer already quoted, and a figure question in other words is answered by the closest sentence."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.briefing.evidence import Evidence, weigh
from bot.briefing.referents import person_meant
from bot.briefing.retrieval import retrieve
from bot.index import SourceIndex
from bot.language import LanguageModels
from bot.sources import load_sources
from bot.store import Turn

HARBOUR = """+++
title = "The Harbour That Ran Out of Water"
author = "Ines Albuquerque"
outlet = "Coastal Weekly"
date = "May 3, 2026"
+++

## A new hand at the helm {#helm}
When the port authority needed a new director in 2019, the board chose Nadia Ferreira, then 45, over
two internal candidates. Her deputy, Tomas Brandt, studied civil engineering in Rotterdam and still
runs the dredging crews.

## From the coast guard {#career}
Ferreira studied naval architecture in Delft before she joined the coast guard, where she spent
eleven years. She still sketches hull lines on the back of meeting agendas.

## The council's verdict {#council}
The harbour council is chaired by Ruth Lindqvist, a Green Party member who ran the ferry union for a
decade. Two parties on the council voted against the dredging budget in March.
"""

ASKED = "Who runs the port authority?"
SAID = (
    '"When the port authority needed a new director in 2019, the board chose Nadia Ferreira, then 45, over '
    'two internal candidates." [1]'
)


@pytest.fixture(scope="module")
async def harbour(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SourceIndex]:
    folder = tmp_path_factory.mktemp("harbour")
    (folder / "harbour.md").write_text(HARBOUR, encoding="utf-8")
    sources, problems = load_sources(folder)
    assert not problems
    index = await SourceIndex.build(sources, LanguageModels.shared())
    yield index
    await index.aclose()


async def follow_up(index: SourceIndex, question: str, asked: str, said: str) -> tuple[str, Evidence]:
    """The follow-up read as `answer` reads it, and its evidence."""
    history = [Turn("user", asked, asked, {}), Turn("assistant", said, said, {})]
    read, person = person_meant(question, asked, said, index.models)
    pool = await retrieve(index, read, history, k=8)
    return read, weigh(index, read, pool, asked, said, person)


def test_a_pronoun_becomes_the_person_the_answer_named() -> None:
    models = LanguageModels.shared()
    assert person_meant("Where did she study?", ASKED, SAID, models) == (
        "Where did Nadia Ferreira study?",
        "Nadia Ferreira",
    )
    assert (
        person_meant("What was her first job?", ASKED, SAID, models)[0]
        == "What was Nadia Ferreira's first job?"
    )


def test_the_person_the_previous_question_named_comes_first() -> None:
    models = LanguageModels.shared()
    asked = "What did Tomas Brandt write about the harbour?"
    said = "Brandt quotes the port director, Nadia Ferreira, on the silt."
    assert person_meant("When did he start?", asked, said, models)[0] == "When did Tomas Brandt start?"


def test_after_a_question_asking_which_person_it_is_the_one_the_answer_named() -> None:
    models = LanguageModels.shared()
    said = "Her deputy, Tomas Brandt, studied civil engineering in Rotterdam."
    for asked in ("Which engineer did Nadia Ferreira hire as her deputy?", "Who is Nadia Ferreira's deputy?"):
        assert person_meant("Where did he study?", asked, said, models)[0] == "Where did Tomas Brandt study?"


def test_a_question_that_names_someone_or_a_turn_that_names_no_one_is_left_as_asked() -> None:
    models = LanguageModels.shared()
    for question, asked, said in (
        ("Did she meet Tomas Brandt?", ASKED, SAID),
        ("Where did she study?", "What does the port earn?", "It earns $4 million."),
        ("What does it cost?", ASKED, SAID),
        ("Where did she study?", "", ""),
    ):
        assert person_meant(question, asked, said, models) == (question, ""), question


async def test_a_follow_up_about_her_finds_the_sentence_about_her(harbour: SourceIndex) -> None:
    """The sentence beside the one quoted says "studied" of her deputy; the one about her names her
    by surname alone, in another passage."""
    read, evidence = await follow_up(harbour, "Where did she study?", ASKED, SAID)
    assert read == "Where did Nadia Ferreira study?"
    picked = [p.sentence for p in evidence.picks]
    assert any("Delft" in s for s in picked), picked
    assert not any("Rotterdam" in s for s in picked), picked


async def test_a_follow_up_is_answered_from_the_sentence_already_quoted_when_it_says_so(
    harbour: SourceIndex,
) -> None:
    """The party is in the sentence that answered "who": a new sentence that only shares a word
    with the follow-up is no better answer for being new."""
    asked = "Who chairs the harbour council?"
    said = (
        '"The harbour council is chaired by Ruth Lindqvist, a Green Party member who ran the ferry union '
        'for a decade." [1]'
    )
    for question in ("Which party does she belong to?", "What did she run before?"):
        _, evidence = await follow_up(harbour, question, asked, said)
        assert "Lindqvist" in evidence.picks[0].sentence, [p.sentence for p in evidence.picks]


async def test_a_figure_question_in_other_words_is_answered_by_the_closest_sentence(
    harbour: SourceIndex,
) -> None:
    """The sentence that gives the years is the closest of all to the question: it answers, though
    the question shares few of its words (the closest similarity is compared as the picks carry it)."""
    question = "For how long did Ferreira serve in the coastguard?"
    evidence = weigh(harbour, question, await retrieve(harbour, question, k=8))
    assert evidence.answerable, evidence.reason
    assert "eleven years" in evidence.picks[0].sentence
