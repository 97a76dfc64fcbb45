"""The word lists of retrieval, selection and the debate are validated prompt-set data
(prompts/lexicon/), live from the set the library loaded, and the topic gate knows a source's own names
without a list of them."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.briefing.grounding import cue_score
from bot.briefing.retrieval import is_on_topic, names_the_subject
from bot.index import SourceIndex
from bot.library import Library
from bot.promptset import load_prompt_set
from bot.sources import load_sources
from bot.words.vocabulary import vocabulary
from bot.words.wordlists import live_word_lists, parse_word_lists

REPO = Path(__file__).resolve().parent.parent
LEXICON = REPO / "prompts" / "lexicon"


def _shipped() -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in LEXICON.glob("*.toml")}


@pytest.fixture
def word_lists_restored() -> Iterator[None]:
    """A test that loads other word lists puts the live ones back: they are process-wide."""
    before = live_word_lists()
    yield
    before.install()


def test_cue_phrases_match_whole_words_and_any_ending_after_a_star() -> None:
    race = vocabulary().cues["race"]
    assert cue_score("The competition is fierce.", race) == 3  # "compet*"
    assert cue_score("The racetrack was empty.", race) == 0  # "race" is a whole word
    assert cue_score("A race to the bottom.", race) == 3 - 4  # the critique counts against it
    assert cue_score("Whether it works remains to be seen.", vocabulary().cues["uncertainty"]) == 3 + 1 + 1


def _problems(file: str, old: str, new: str) -> list[str]:
    texts = _shipped()
    assert old in texts[file]
    texts[file] = texts[file].replace(old, new, 1)
    word_lists, problems = parse_word_lists(texts)
    assert word_lists is None
    return problems


def _line(file: str, text: str) -> int:
    return next(n for n, line in enumerate(_shipped()[file].splitlines(), 1) if line.startswith(text))


def test_a_malformed_word_list_names_the_file_line_and_key() -> None:
    assert parse_word_lists(_shipped())[1] == []
    at = _line("words.toml", "[cues.race]") + 1
    assert _problems("words.toml", '"race", "racing"', '"race|win", "racing"') == [
        f"lexicon/words.toml:{at}: cues.race.strong must list words or phrases (a-z 0-9 ' -)"
    ]  # vocabulary, never regex syntax
    at = _line("words.toml", "[cues.cooperation]")
    problems = _problems("words.toml", "[cues.cooperation]\n", "[cues.cooperation]\nloud = ['yes']\n")
    assert problems == [
        f"lexicon/words.toml:{at}: cues.cooperation needs 'strong', and may have only strong, weak, critique"
    ]
    assert _problems("words.toml", "topic_words =", "topic_wordz =") == [
        "lexicon/words.toml:1: topic_words must be a non-empty string of words"  # no line holds it
    ]
    at = _line("factcheck.toml", "cost =")
    assert _problems("factcheck.toml", 'cost = "cost expense"', "cost = 3") == [
        f"lexicon/factcheck.toml:{at}: synonyms.cost must be a non-empty string of words"
    ]
    # a broken pair of an array of tables is found in its own [[antonyms]], not at the first one
    right = [line for line in _shipped()["factcheck.toml"].splitlines() if line.startswith("right = ")]
    at = _line("factcheck.toml", right[2])
    assert _problems("factcheck.toml", right[2], 'right = ""') == [
        f"lexicon/factcheck.toml:{at}: antonyms[3].right must be a non-empty string of words"
    ]
    # an empty list of phrases would match every text: every claim would read as set aside
    assert _problems("factcheck.toml", "set_aside = [", "set_aside = []\nunused = [")[0].endswith(
        "contrast.set_aside must list words or phrases (a-z 0-9 ' -)"
    )
    problems = _problems("factcheck.toml", "minute = 1", "minute = = 1")
    assert problems[0].startswith(
        f"lexicon/factcheck.toml:{_line('factcheck.toml', 'minute = 1')}: not valid TOML"
    )


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


async def test_a_reload_installs_the_new_sets_word_lists_and_refuses_a_broken_one(
    tmp_path: Path, word_lists_restored: None
) -> None:
    root = tmp_path / "prompts"
    shutil.copytree(REPO / "prompts", root)
    words = root / "lexicon" / "words.toml"
    shipped = words.read_text(encoding="utf-8")
    question = "What is the best pizza topping?"
    library = await Library.open(root)
    try:
        assert not names_the_subject(question)
        assert not is_on_topic(question, await library.current.index.search(question, k=3))
        words.write_text(
            shipped.replace('topic_words = """\n', 'topic_words = """\npizza '), encoding="utf-8"
        )
        report = await library.reload()
        assert report.ok and report.changed == ["lexicon/words.toml"]
        assert report.version != report.previous_version  # the cache key moves with the words
        assert is_on_topic(question, await library.current.index.search(question, k=3))

        extended = library.current.prompts.version
        words.write_text(shipped.replace('"race", "racing"', '"race|win", "racing"'), encoding="utf-8")
        report = await library.reload()
        assert not report.ok and library.current.prompts.version == extended
        assert report.problems == [
            f"lexicon/words.toml:{_line('words.toml', '[cues.race]') + 1}: "
            "cues.race.strong must list words or phrases (a-z 0-9 ' -)"
        ]
        assert names_the_subject(question)  # the working lists stay live
    finally:
        await library.aclose()


async def test_an_unknown_lexicon_file_is_refused(tmp_path: Path, word_lists_restored: None) -> None:
    root = tmp_path / "prompts"
    shutil.copytree(REPO / "prompts", root)
    (root / "lexicon" / "stems.toml").write_text("x = 1\n", encoding="utf-8")
    (root / "lexicon" / "factcheck.toml").unlink()
    prompts, problems = load_prompt_set(root)
    assert prompts is None
    assert problems == [
        "lexicon/stems.toml:1: unknown lexicon file; expected one of factcheck.toml, words.toml, topics.toml",
        "lexicon/factcheck.toml:1: required lexicon file is missing",
    ]


async def test_a_request_keeps_the_word_lists_it_started_with(word_lists_restored: None) -> None:
    """A reload installs new lists while a request is in flight: the request reads the lists it
    pinned to the end, in its own task and in the threads it hands work to; a request started after
    the reload reads the new ones."""
    import asyncio
    import dataclasses

    old = live_word_lists()
    new = dataclasses.replace(
        old, vocabulary=dataclasses.replace(old.vocabulary, stopwords=frozenset({"zebra"}))
    )
    started, reloaded = asyncio.Event(), asyncio.Event()

    async def request() -> tuple[frozenset[str], frozenset[str]]:
        old.pin()
        started.set()
        await reloaded.wait()
        in_thread = await asyncio.to_thread(lambda: vocabulary().stopwords)
        return vocabulary().stopwords, in_thread

    in_flight = asyncio.create_task(request())
    await started.wait()
    new.install()
    reloaded.set()
    assert await in_flight == (old.vocabulary.stopwords, old.vocabulary.stopwords)

    async def later() -> frozenset[str]:
        return vocabulary().stopwords

    assert await asyncio.create_task(later()) == frozenset({"zebra"})
