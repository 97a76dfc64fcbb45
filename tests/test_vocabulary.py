"""The word lists of retrieval, selection and the debate are validated data (bot/briefing/data/
words.toml), and the topic gate knows a source's own names without a list of them."""

from __future__ import annotations

import tomllib
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path

import pytest

from bot.briefing.grounding import cue_score
from bot.briefing.lexicon import LexiconError
from bot.briefing.retrieval import is_on_topic
from bot.briefing.vocabulary import parse, vocabulary
from bot.index import SourceIndex
from bot.sources import load_sources

REPO = Path(__file__).resolve().parent.parent


def _packaged() -> dict:
    text = resources.files("bot.briefing").joinpath("data", "words.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def test_cue_phrases_match_whole_words_and_any_ending_after_a_star() -> None:
    race = vocabulary().cues["race"]
    assert cue_score("The competition is fierce.", race) == 3  # "compet*"
    assert cue_score("The racetrack was empty.", race) == 0  # "race" is a whole word
    assert cue_score("A race to the bottom.", race) == 3 - 4  # the critique counts against it
    assert cue_score("Whether it works remains to be seen.", vocabulary().cues["uncertainty"]) == 3 + 1 + 1


def test_a_malformed_word_list_names_the_file_and_the_key() -> None:
    data = _packaged()
    del data["topic_words"]
    with pytest.raises(LexiconError, match=r"words\.toml: topic_words"):
        parse(data)
    data = _packaged()
    data["cues"]["race"]["strong"] = ["race|win"]  # vocabulary, never regex syntax
    with pytest.raises(LexiconError, match=r"words\.toml: cues\.race\.strong"):
        parse(data)
    data = _packaged()
    data["cues"]["agreement"]["loud"] = ["yes"]
    with pytest.raises(LexiconError, match=r"cues\.agreement"):
        parse(data)
    data = _packaged()
    del data["cues"]["cooperation"]
    with pytest.raises(LexiconError, match=r"\[cooperation\] table is missing"):
        parse(data)


def test_no_source_name_is_written_into_the_topic_words() -> None:
    names = {"liu", "tanwar", "singh", "rednote", "sputnik", "chernobyl", "shenzhen", "chengdu"}
    assert not names & vocabulary().topic_words


@pytest.fixture(scope="module")
async def seeds() -> AsyncIterator[SourceIndex]:
    sources, problems = load_sources(REPO / "prompts" / "sources")
    assert sources and not problems
    index = await SourceIndex.build(sources)
    yield index
    await index.aclose()


@pytest.mark.parametrize(
    ("question", "on_topic"),
    [
        ("Explain the Sputnik analogy", True),  # a rare word the passages use
        ("Yi-Ling Liu studied at Yale University.", True),
        ("What is the best pizza topping?", False),
        ("Who will win the World Cup?", False),  # capitalised, but common words
        ("How do I bake bread?", False),
    ],
)
async def test_the_topic_gate_knows_the_sources_own_names(
    seeds: SourceIndex, question: str, on_topic: bool
) -> None:
    assert is_on_topic(question, await seeds.search(question, k=3)) is on_topic


SOURCE = """+++
title = "Harbor City's Bike-Share Pilot"
author = "Marta Okafor"
outlet = "Civic Transit Review"
date = "2025-03-02"
+++

## Pilot overview {#overview}
Harbor City launched a bike-share pilot in April 2024 with 400 bicycles at 35 docking stations.
Transport director Marta Okafor led the program and recommends electric bikes for the hills.
"""


async def test_a_new_sources_names_need_no_edit_of_the_word_lists(tmp_path: Path) -> None:
    (tmp_path / "bikes.md").write_text(SOURCE, encoding="utf-8")
    sources, problems = load_sources(tmp_path)
    assert sources and not problems
    index = await SourceIndex.build(sources)
    try:
        claim = "Okafor studied at Yale University before joining the council."
        assert is_on_topic(claim, await index.search(claim, k=3))
        pizza = "What is the best pizza topping?"
        assert not is_on_topic(pizza, await index.search(pizza, k=3))
    finally:
        await index.aclose()
