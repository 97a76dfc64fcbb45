"""Answerability, the extractive core, false premises and the sentence gate, without the model.

Most cases run on a short source of our own that has nothing to do with the seeds (a city's bike-share
pilot), so the rules are shown to hold for whatever a moderator drops into `prompts/sources/`.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import threading
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from bot.briefing.checked import SentenceGate
from bot.briefing.evidence import Evidence, focus_of, goes_on, question_parts, weigh
from bot.briefing.focus import has_type, stands_for_a_subject, subject_of
from bot.briefing.models import Answer, Answered
from bot.briefing.premise import contradicted_premise, proposition
from bot.briefing.sentences import (
    QUOTE_LEAD,
    Citation,
    Part,
    Shown,
    attribution,
    from_source,
    render_part,
)
from bot.briefing.verdicts import compare, decide
from bot.index import Corpus, ScoredPassage, SourceIndex
from bot.language import LanguageModels
from bot.promptset import load_prompt_set
from bot.sources import Passage
from bot.words.lexicon import LexiconError, lexicon, parse

REPO = Path(__file__).resolve().parent.parent
BIKE_SOURCE = """+++
title = "Harbor City's Bike-Share Pilot: What the First Year Showed"
author = "Marta Okafor"
outlet = "Civic Transit Review"
date = "2025-03-02"
+++

## Pilot overview: 400 bicycles at 35 docking stations {#overview}
Harbor City launched a bike-share pilot in April 2024 with 400 bicycles at 35 docking stations. The
city council funded the pilot with 2.5 million dollars from its transport budget. Transport director
Marta Okafor led the program.

## Who rode the bikes {#riders}
Most trips were short commutes of under three kilometres. Students and shift workers made up more
than half of all riders, according to the city's survey.

## Problem one: empty docks in the hills {#problem-docks}
The first problem the pilot ran into was empty docks in the hills each morning, because riders
coasted downhill to work and took the bus home.

## Problem two: theft and vandalism {#problem-theft}
The second problem the pilot ran into was theft: 38 bicycles were stolen or vandalised during the
first year.

## Problem three: winter ridership {#problem-winter}
The third problem the pilot ran into was a sharp drop in ridership during the winter months, when
trips fell by 60 percent.

## A common myth about bike lanes and shop sales {#myth}
Shop owners feared that bike lanes would cut their sales. Okafor calls this fear a myth: shops on
streets with new bike lanes reported steady sales.

## What comes next: electric bikes and a winter pass {#next}
Okafor recommends adding electric bikes for the hills and a winter discount pass. The council will
vote on a permanent bike-share program in 2026.
"""


async def _index(prompts: Path) -> SourceIndex:
    prompt_set, problems = load_prompt_set(prompts)
    assert prompt_set is not None, problems
    return await SourceIndex.build(prompt_set.sources)


@pytest.fixture(scope="module")
async def bikes(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SourceIndex]:
    """An index over the bike-share source alone (the shipped personas and templates, our source)."""
    root = tmp_path_factory.mktemp("prompts") / "prompts"
    shutil.copytree(REPO / "prompts", root)
    for path in (root / "sources").iterdir():
        path.unlink()
    (root / "sources" / "bike-share.md").write_text(BIKE_SOURCE, encoding="utf-8")
    index = await _index(root)
    yield index
    await index.aclose()


@pytest.fixture(scope="module")
async def shipped() -> AsyncIterator[SourceIndex]:
    index = await _index(REPO / "prompts")
    yield index
    await index.aclose()


async def weighed(index: SourceIndex, question: str, context: str = "") -> Evidence:
    return weigh(index, question, await index.search(f"{question} {context}", k=8), context)


def picked(evidence: Evidence) -> str:
    return " ".join(p.sentence for p in evidence.picks).lower()


async def test_an_answerable_question_gets_the_sentence_that_answers_it(bikes: SourceIndex) -> None:
    evidence = await weighed(bikes, "How many bicycles did the pilot start with?")
    assert evidence.answerable, evidence.reason
    assert "400 bicycles" in picked(evidence)


async def test_a_paraphrase_still_finds_its_passage(bikes: SourceIndex) -> None:
    evidence = await weighed(bikes, "Who directed the pilot?")  # "director" in the source
    assert evidence.answerable, evidence.reason
    assert "okafor led the program" in picked(evidence)
    # A paraphrase with no word in common is declined, not answered with the wrong sentence:
    # "ran" matches "ran into" (a problem), but no sentence with a name answers "who".
    assert not (await weighed(bikes, "Who ran the scheme?")).answerable


async def test_off_topic_and_uncovered_questions_are_declined_with_the_closest_topics(
    bikes: SourceIndex,
) -> None:
    off = await weighed(bikes, "What is the best recipe for banana bread?")
    assert (off.answerable, off.kind) == (False, "off_topic")
    uncovered = await weighed(bikes, "What did the Harbor City Chamber of Commerce say about the pilot?")
    assert (uncovered.answerable, uncovered.kind) == (False, "not_covered")
    assert "Harbor City Chamber" in uncovered.reason, "the decline says which name the sources lack"
    assert uncovered.closest, "a decline names the closest topics the sources do cover"


async def test_a_name_the_sources_use_does_not_carry_an_unrelated_question(
    shipped: SourceIndex, bikes: SourceIndex
) -> None:
    # "Chengdu" is in the sources, in a few passages; train tickets are not. (In the one-source
    # bike corpus every name is in many passages, so it names what the sources are about.)
    evidence = await weighed(shipped, "Where can I buy cheap train tickets in Chengdu?")
    assert not evidence.answerable
    assert "asks about its names" in evidence.reason
    answered = await weighed(bikes, "What does Okafor recommend for the hills?")
    assert answered.answerable and "electric bikes" in picked(answered)


async def test_a_question_for_a_kind_of_thing_the_sources_never_name_is_declined(
    bikes: SourceIndex,
) -> None:
    evidence = await weighed(bikes, "What fines does the council impose on riders who damage a bicycle?")
    assert (evidence.answerable, evidence.kind) == (False, "not_covered")
    assert "fines" in evidence.reason
    answered = await weighed(bikes, "What problems did the pilot run into in the hills?")
    assert answered.answerable and "empty docks" in picked(answered)
    owned = await weighed(bikes, "What is the bike scheme's insurance premium?")
    assert (owned.answerable, owned.kind) == (False, "not_covered"), owned.reason


async def test_a_question_for_a_figure_the_sources_never_give_is_declined(bikes: SourceIndex) -> None:
    evidence = await weighed(bikes, "How much does a winter discount pass cost?")
    assert not evidence.answerable and evidence.kind == "not_covered"
    answered = await weighed(bikes, "How much money did the council put into the pilot?")
    assert answered.answerable and "2.5 million dollars" in picked(answered)


def test_a_sum_in_any_currency_gives_money_once_the_parser_reads_it(language: LanguageModels) -> None:
    """spaCy's MONEY entity knows currencies no word list holds ("Swiss francs", "rand"); without
    the parser only a sign or a listed currency word counts."""
    sentence = "The review was finished after 19 days at a cost of 240,000 Swiss francs."
    assert has_type(sentence, "money", language)
    assert not has_type(sentence, "money")
    assert not has_type("The review was finished after 19 days by 12 auditors.", "money", language)


async def test_a_count_does_not_answer_a_question_for_a_sum_of_money(bikes: SourceIndex) -> None:
    """ "How much did the ... cost?" wants money: the source counts the bicycles and the stations in
    the same passage, but never gives what the docking stations cost."""
    assert focus_of("How much did the docking stations cost?").answer_type == "money"
    assert focus_of("How much of the city rode the bikes?").answer_type == "number"
    evidence = await weighed(bikes, "How much did the 35 docking stations cost?")
    assert (evidence.answerable, evidence.kind) == (False, "not_covered"), evidence.reason
    assert "sum of money" in evidence.reason
    answered = await weighed(bikes, "How much did the city spend on the pilot?")
    assert answered.answerable and "2.5 million dollars" in picked(answered)


@pytest.mark.parametrize(
    ("question", "answerable"),
    [
        ("How many bicycles were stolen or vandalised in the first year?", True),
        # "electric" is in the sources (what comes next), never in the sentence giving the thefts
        ("How many electric bikes were stolen or vandalised in the first year?", False),
        ("By how much did trips fall during the winter months?", True),
        ("By how much did trips fall in the hills during the winter months?", False),
    ],
)
async def test_a_figure_of_something_else_does_not_answer(
    bikes: SourceIndex, question: str, answerable: bool
) -> None:
    """A figure answers only if its sentence (with its heading) holds the question's words that
    single out one thing among those the sources speak of: the thefts of all bicycles are not the
    thefts of the electric bikes the sources only recommend."""
    evidence = await weighed(bikes, question)
    assert evidence.answerable == answerable, evidence.reason


async def test_what_is_the_x_of_asks_for_x(bikes: SourceIndex) -> None:
    """ "What is the annual salary of the transport director?" asks for a salary, which no source
    mentions, though the director is in them; "What was the source of the pilot's funding?" asks
    for a source the text gives (the transport budget)."""
    assert focus_of("What is the annual salary of the transport director?").asked_for == {"annual", "salari"}
    declined = await weighed(bikes, "What is the annual salary of the transport director?")
    assert (declined.answerable, declined.kind) == (False, "not_covered"), declined.reason
    answered = await weighed(bikes, "What was the source of the pilot's funding?")
    assert answered.answerable, answered.reason


async def test_a_list_question_gathers_items_from_sibling_passages(bikes: SourceIndex) -> None:
    evidence = await weighed(bikes, "Which problems did the pilot run into?")
    assert evidence.focus.wants_list
    text = picked(evidence)
    assert "empty docks" in text and "theft" in text and "winter" in text


async def test_a_sentence_that_announces_items_is_quoted_with_them(shipped: SourceIndex) -> None:
    # "Liu highlights two common misconceptions about China." names them only in "The first is ..."
    # and "The second is ...", which open with words that carry on a count (openers.dangling).
    assert goes_on("The first is treating China as a monolith.") and goes_on("Second, it spreads.")
    assert not goes_on("People who arrive first pay less.")
    # "One path is ... The other, harder path is ...": the other half of a pair carries on too
    assert goes_on("The other, harder path is a concerted effort.") and goes_on("Other towns wait.")
    evidence = await weighed(shipped, "What misconceptions about China does Liu point out?")
    assert evidence.answerable, evidence.reason
    assert "monolith" in picked(evidence) and "dissident" in picked(evidence)


async def test_a_compound_question_is_answered_from_both_places(bikes: SourceIndex) -> None:
    question = "Who made up most of the riders, and what does Okafor recommend next?"
    assert len(question_parts(question)) == 2
    text = picked(await weighed(bikes, question))
    assert "students" in text and "electric bikes" in text


async def test_an_opening_like_according_to_leads_in_and_asks_nothing(bikes: SourceIndex) -> None:
    """ "According to Okafor, which problems ...?" is one list question, not two parts: its opening
    names whose account is wanted, and the kind of answer is read after it."""
    question = "According to the city's survey, which problems did the pilot run into?"
    assert question_parts(question) == []
    assert focus_of(question).wants_list, "the list is asked for after the opening"
    assert focus_of("In Okafor's view, who made up most riders?").answer_type == "person"
    assert len(question_parts("Who made up most of the riders, and what does Okafor recommend next?")) == 2
    text = picked(await weighed(bikes, question))
    assert "empty docks" in text and "theft" in text and "winter" in text


async def test_a_follow_up_weighs_its_own_words_above_the_previous_question(bikes: SourceIndex) -> None:
    evidence = await weighed(bikes, "What about theft?", context="Which problems did the pilot run into?")
    assert "38 bicycles" in picked(evidence)


def test_focus_reads_what_a_question_wants() -> None:
    assert focus_of("Which cities are mentioned?").wants_list
    assert focus_of("What warning signs do researchers watch for?").wants_list
    assert not focus_of("What does Liu say about the race?").wants_list
    assert not focus_of("What remains unclear?").wants_list
    # a plural with a short phrase of its own before the question's verb
    assert focus_of("What reasons for cautious optimism does Singh give?").wants_list
    assert focus_of("What fixes for empty docks did the city try?").wants_list
    assert not focus_of("What stays unresolved even if the app is sold?").wants_list
    assert not focus_of("Which author warns about a race to the bottom?").wants_list, "'warns' is the verb"
    assert focus_of("Which sectors does the essay say AI will reshape?").wants_list
    assert focus_of("Which regions face choices about hardware?").wants_list
    assert focus_of("Which contradictory truths about China must policy hold?").wants_list, "a noun"
    assert not focus_of("Which skill does the essay call the most critical?").wants_list
    assert focus_of("In what year did it happen?").answer_type == "year"
    assert focus_of("When is the vote?").answer_type == "date"
    assert focus_of("How many bicycles were stolen?").answer_type == "number"
    assert focus_of("Who says shop sales held up?").answer_type == "source", "a reporting verb"
    assert focus_of("Who ran the scheme?").answer_type == "person"
    how_many = focus_of("How many chips did DeepSeek-R1 need?").answer_type
    assert not has_type("DeepSeek-R1 rattled the G7 and H100 buyers.", how_many), "a digit in a name"
    assert has_type("It needed 2,000 chips.", how_many) and has_type("It needed two thousand.", how_many)
    assert focus_of("What penalties does the compact impose?").asked_for == {"penalti"}
    assert focus_of("What is the bike firm's yearly turnover?").asked_for == {"year", "turnov"}
    assert not focus_of("What could outside inspectors do?").asked_for, "'could' is the verb, not a kind"
    focus = focus_of("What role could auditors play?")
    assert focus.weights["auditor"] > focus.weights["play"], "a question's subject outweighs its frame"


async def test_a_false_premise_is_corrected_from_the_source(bikes: SourceIndex) -> None:
    evidence = await weighed(bikes, "Why did bike lanes cut shop sales?")
    found = contradicted_premise("Why did bike lanes cut shop sales?", evidence.ranked, bikes.corpus)
    assert found is not None and found.kind == "premise"
    assert "myth" in found.comparison.sentence.lower() or "steady" in found.comparison.sentence.lower()
    yes_no = "Were the docking stations in the hills full every morning?"
    no = contradicted_premise(yes_no, (await weighed(bikes, yes_no)).ranked, bikes.corpus)
    assert no is not None and no.kind == "yes_no"


async def test_a_which_question_takes_for_granted_that_there_is_such_a_thing(bikes: SourceIndex) -> None:
    # "Which docking stations were full...?" assumes some were; the source says they were empty.
    question = "Which docking stations were full in the hills each morning?"
    found = contradicted_premise(question, (await weighed(bikes, question)).ranked, bikes.corpus)
    assert found is not None and found.kind == "premise"
    assert "empty docks" in found.comparison.sentence
    question = "Which problems did the pilot run into?"
    assert contradicted_premise(question, (await weighed(bikes, question)).ranked, bikes.corpus) is None


async def test_questions_without_a_premise_are_never_corrected(bikes: SourceIndex) -> None:
    assert proposition("What does Okafor recommend?") is None
    assert proposition("How could the city fix the hills?") is None
    question = "Why did the pilot have empty docks in the hills?"
    assert contradicted_premise(question, (await weighed(bikes, question)).ranked, bikes.corpus) is None


def test_fact_check_reads_a_sentence_that_points_back_and_a_double_negation() -> None:
    passage = Passage(
        id="t#dock",
        source="t",
        title="T",
        heading="Dock staff",
        text="Dock staff told Okafor they feel overworked in the hills. They cannot openly ask for "
        "breaks without being seen as lazy.",
        framing=(),
    )
    scored = ScoredPassage(passage, 1.0)
    corpus = Corpus.of([passage])
    # "They cannot ask" is about the dock staff of the sentence before: it contradicts, and the
    # evidence shown carries both sentences.
    against = compare("Dock staff openly ask for breaks.", scored, corpus)
    assert against.contradicts and against.sentence.startswith("Dock staff told Okafor")
    # "cannot ask without being seen as lazy": asking is seen as lazy; and a claim's "if" clause
    # asserts nothing a "cannot" could contradict.
    assert compare("Dock staff fear being seen as lazy if they ask for breaks.", scored, corpus).supports


def test_fact_check_reads_what_a_source_sets_aside() -> None:
    """ "Rather than X, Okafor recommends Y": a claim that she recommends X is contradicted (a premise
    built on it is corrected the same way); one that states the contrast itself, or says Y, is not."""
    passage = Passage(
        id="t#next",
        source="t",
        title="T",
        heading="Next steps",
        text="Rather than building new docks in the hills, Okafor recommends adding electric bikes. "
        "The focus is shifting from how many bikes the city owns to how often they are ridden.",
        framing=(),
    )
    scored, corpus = ScoredPassage(passage, 1.0), Corpus.of([passage])
    against = compare("Okafor recommends building new docks in the hills.", scored, corpus)
    assert against.contradicts and against.sentence.startswith("Rather than building")
    assert compare("The focus is on how many bikes the city owns.", scored, corpus).contradicts
    assert compare("Okafor recommends adding electric bikes.", scored, corpus).supports
    instead = "Okafor recommends adding electric bikes rather than building new docks in the hills."
    assert not compare(instead, scored, corpus).contradicts
    # ...nor does one that puts the set-aside thing in the past
    assert not compare("The focus used to be on how many bikes the city owns.", scored, corpus).contradicts


async def test_fact_check_reads_a_myth_as_a_contradiction_and_an_unknown_employer_as_absent(
    bikes: SourceIndex,
) -> None:
    async def verdict(claim: str) -> str:
        found = await bikes.search(claim, k=4)
        return decide([compare(claim, s, bikes.corpus) for s in found])[0]

    assert await verdict("Bike lanes cut the sales of shops on those streets.") == "contradicted"
    assert await verdict("Marta Okafor works for the Harbor City Gazette.") == "not_in_sources"
    assert await verdict("The pilot started with 500 bicycles.") == "contradicted"
    assert await verdict("The pilot started with 400 bicycles.") == "supported"


async def test_the_gate_releases_only_complete_checked_sentences(shipped: SourceIndex) -> None:
    passages = await shipped.search("Yi-Ling Liu track-two dialogue recommends", k=3)
    gate = SentenceGate(passages, shipped.corpus)
    shown = Shown()
    streamed = []
    text = (
        "Yi-Ling Liu recommends expanding track-two dialogues between scientists and civil society [1]. "
        "The moon is made of green cheese according to NASA engineers in Houston. "
        "Yi-Ling Liu recommends expanding track-two dialogues between scientists and civil society [1]."
    )
    for start in range(0, len(text), 7):  # pieces cut anywhere, markers included
        for check in gate.feed(text[start : start + 7]):
            streamed.append(render_part(shown.add(Part((check,))) or Part(())))
        assert "[1" not in "".join(streamed) or "[1]" in "".join(streamed), (
            "a marker is never shown half-written"
        )
    for check in gate.finish():
        streamed.append(render_part(shown.add(Part((check,))) or Part(())))
    assert "".join(streamed) == shown.text
    assert shown.text.count("track-two") == 1, "a repeat is not shown twice"
    assert "cheese" not in shown.text, "an unsupported sentence is never shown"
    assert gate.unsupported and gate.grounded < 1


def test_the_gate_drops_a_sentence_that_only_names_its_source() -> None:
    """ "Harbor City's Bike-Share Pilot [1]." is the source's title, not an answer, even where the
    passage quotes it; a sentence that echoes a heading may answer (headings summarise), so it stays."""
    passage = Passage(
        id="t#about",
        source="t",
        title="Harbor City's Bike-Share Pilot",
        heading="About the bike-share pilot report",
        text='Marta Okafor wrote "Harbor City\'s Bike-Share Pilot" for the Civic Transit Review. '
        "The report covers the first year of the bike-share pilot.",
        framing=(),
    )
    gate = SentenceGate([ScoredPassage(passage, 1.0)], Corpus.of([passage]))
    shown = gate.feed("Harbor City's Bike-Share Pilot [1]. The report covers the bike-share pilot [1]. ")
    assert [s.text for s in shown + gate.finish()] == ["The report covers the bike-share pilot."]
    # saying what the title says, in a sentence of its own, is no title
    gate = SentenceGate([ScoredPassage(passage, 1.0)], Corpus.of([passage]))
    said = "Okafor wrote Harbor City's Bike-Share Pilot for the Civic Transit Review"
    assert [s.text for s in gate.feed(f"{said} [1]. ") + gate.finish()] == [f"{said}."]
    assert gate.checks[0].supported, "the title is in the passage: only the new rule drops it"


def test_a_quotes_part_is_inline_for_one_quote_and_a_list_for_several() -> None:
    def quotes(*sentences: tuple[str, int]) -> str:
        cited = [from_source(text, Citation(n, f"p{n}", "s", "t", text)) for text, n in sentences]
        return render_part(Part(tuple(cited), QUOTE_LEAD, "quotes"))

    assert quotes(("A fact.", 1)) == f'{QUOTE_LEAD} "A fact." [1]'
    assert quotes(("A.", 1), ("B.", 2)).splitlines() == [QUOTE_LEAD, '- "A." [1]', '- "B." [2]']
    assert quotes(('He said "no" to it.', 3)) == f'{QUOTE_LEAD} He said "no" to it. [3]', (
        "no quotes in quotes"
    )


async def test_a_lead_that_names_its_author_is_not_attributed_twice(bikes: SourceIndex) -> None:
    """The lead says whose words they are once: a sentence that names its author (a surname is
    enough) needs no "According to" before it."""
    passage = bikes.get("bike-share#next")
    assert passage is not None and passage.by == "Marta Okafor"
    named = from_source("Okafor recommends adding electric bikes.", Citation.of(1, passage, "x"))
    unnamed = from_source("Electric bikes come next.", Citation.of(1, passage, "x"))
    assert attribution(named) == ""
    assert attribution(unnamed) == "According to Marta Okafor:"
    assert render_part(Part((named,), attribution(named), "attributed")) == (
        '"Okafor recommends adding electric bikes." [1]'
    )


async def test_a_quote_names_the_source_it_is_from(bikes: SourceIndex) -> None:
    """Quotes of two articles say which said what: the byline (author, else outlet) follows each,
    taken from the source's front matter, so it holds for any source a moderator adds."""
    passage = bikes.get("bike-share#next")
    assert passage is not None and passage.by == "Marta Okafor"
    quote = from_source("Electric bikes come next.", Citation.of(2, passage, "x"))
    assert render_part(Part((quote,), QUOTE_LEAD, "quotes")) == (
        f'{QUOTE_LEAD} "Electric bikes come next." (Marta Okafor) [2]'
    )
    named = from_source("Okafor recommends adding electric bikes.", Citation.of(2, passage, "x"))
    assert render_part(Part((named,), QUOTE_LEAD, "quotes")) == (
        f'{QUOTE_LEAD} "Okafor recommends adding electric bikes." [2]'
    ), "a quote that names its author needs no byline"
    unsigned = Citation.of(1, Passage("s#p", "s", "t", "", "Text.", ()), "Text.")
    assert render_part(Part((from_source("Text.", unsigned),), "", "quotes")) == '"Text." [1]'


def test_the_lexicon_is_validated_data() -> None:
    assert any("trapped" in right for _, right in lexicon().antonyms)
    with pytest.raises(LexiconError, match="synonyms"):
        parse({"generic": "say"})


async def _answered(tmp_path: Path, sources: dict[str, str], reply: str, question: str) -> Answer:
    """The answer to `question` from the scripted model's `reply`, with `sources` (file name: text)
    as the only briefing sources."""
    from bot.config import load_settings
    from bot.engine import ScriptedEngine
    from bot.service import BriefingService

    root = tmp_path / "prompts"
    shutil.copytree(REPO / "prompts", root)
    for path in (root / "sources").iterdir():
        path.unlink()
    for name, text in sources.items():
        (root / "sources" / name).write_text(text, encoding="utf-8")
    settings = load_settings(prompts_dir=root, database_path=tmp_path / "db.sqlite3")
    service = await BriefingService.open(settings, engine=ScriptedEngine([reply]))
    try:
        events = [e async for e in service.ask(question, conversation_id="c", user_id="u")]
    finally:
        await service.aclose()
    return next(e.answer for e in events if isinstance(e, Answered))


async def test_an_answer_whose_model_text_fails_leads_with_the_best_sentence_attributed(
    tmp_path: Path,
) -> None:
    """Nothing the model wrote passes the checks: the answer's first line is still one sentence that
    answers, the best source sentence, said to be its author's; any other quotes follow it."""
    reply = "Bicycles are popular in many cities around the world."  # true of nothing in the source
    answer = await _answered(
        tmp_path, {"bike-share.md": BIKE_SOURCE}, reply, "How many bicycles were stolen?"
    )
    first_line = answer.text.splitlines()[0]
    assert first_line.startswith("According to Marta Okafor:"), answer.text
    assert "38 bicycles were stolen" in first_line and first_line.endswith("[1]"), answer.text
    assert "(Marta Okafor)" not in first_line, "the lead names the author once"


async def test_citation_numbers_run_in_the_order_the_reader_meets_them(tmp_path: Path) -> None:
    """The model cites the prompt's third passage first: the answer shows it as [1], with no gap,
    and its sources list holds the same numbers for the same passages."""
    reply = (
        "The second problem the pilot ran into was theft, with 38 bicycles stolen or vandalised in the "
        "first year [3]. The first problem was empty docks in the hills each morning [2]."
    )
    answer = await _answered(
        tmp_path, {"bike-share.md": BIKE_SOURCE}, reply, "What problems did the pilot run into?"
    )
    markers = [int(n) for n in re.findall(r"\[(\d+)\]", answer.text)]
    first_seen = list(dict.fromkeys(markers))
    assert first_seen == list(range(1, len(first_seen) + 1)) and len(first_seen) == 3, answer.text
    assert [c.number for c in answer.citations] == first_seen
    assert (
        answer.text.startswith("The second problem") and answer.citations[0].id == "bike-share#problem-theft"
    )


async def test_an_answer_to_who_carries_the_name_the_source_gives(tmp_path: Path) -> None:
    # Two checked sentences that say who led the program only as "the transport director".
    reply = "The transport director led the program [1]. The pilot started with 400 bicycles [1]."
    answer = await _answered(tmp_path, {"bike-share.md": BIKE_SOURCE}, reply, "Who led the program?")
    assert "transport director led the program" in answer.text.lower(), answer.text
    assert "Marta Okafor" in answer.text, "the source's name follows the model's checked sentences"


@pytest.mark.parametrize(
    "question",
    [
        "Who writes that the council recommends a night ferry service?",
        "Which journalist writes that the council recommends a night ferry service?",
    ],
)
async def test_an_answer_to_who_says_it_names_the_source_the_model_left_unnamed(
    tmp_path: Path, question: str
) -> None:
    """The model restates the ferry article's point without saying whose it is: the source sentence
    is quoted after it, with its byline, so "who writes ...?" (or "which journalist ...?") is
    answered in the text."""
    reply = "Three ferries now cross the estuary every hour [1]. The council recommends a night service [1]."
    sources = {"bike-share.md": BIKE_SOURCE, "ferries.md": FERRY_SOURCE}
    answer = await _answered(tmp_path, sources, reply, question)
    assert "council recommends a night service" in answer.text, answer.text
    assert "(Jonas Berg)" in answer.text, answer.text


FERRY_SOURCE = """+++
title = "Ferries Return to the Estuary"
author = "Jonas Berg"
outlet = "Coastal Affairs"
date = "2025-05-10"
+++

## Ferry timetable {#timetable}
Three ferries now cross the estuary every hour, and the council recommends a night service.
"""

AUTHOR_NOTE = """
## About the author {#author}
Marta Okafor is the author of The Spoke Ledger, a history of cycling in port cities, and writes on
transport for Civic Transit Review.
"""


async def test_a_source_described_by_its_authors_book_is_answered_from_the_right_passage(
    tmp_path: Path,
) -> None:
    """A book named only in one source's author note points at that source, not at the note: the
    rest of the question chooses the passage (source anchors in evidence.py)."""
    root = tmp_path / "prompts"
    shutil.copytree(REPO / "prompts", root)
    for path in (root / "sources").iterdir():
        path.unlink()
    (root / "sources" / "bike-share.md").write_text(BIKE_SOURCE + AUTHOR_NOTE, encoding="utf-8")
    (root / "sources" / "ferries.md").write_text(FERRY_SOURCE, encoding="utf-8")
    index = await _index(root)
    try:
        question = "What does the writer of The Spoke Ledger recommend for the hills?"
        evidence = await weighed(index, question)
        assert evidence.answerable, evidence.reason
        assert evidence.ranked[0].passage.id == "bike-share#next", [s.passage.id for s in evidence.ranked]
        # The note still answers what it is about.
        evidence = await weighed(index, "Who wrote The Spoke Ledger?")
        assert evidence.ranked[0].passage.id == "bike-share#author", [s.passage.id for s in evidence.ranked]
        # A name the source only uses (a place in the story), not said of its author, points at no
        # source: the question about it must be answered by what one passage says of it.
        assert index.said_of_author["bike-share"] >= {"spoke", "ledger"}
        assert "harbor" not in index.said_of_author["bike-share"]
    finally:
        await index.aclose()


FAULTS_PASSAGE = """
## Software faults at the docks {#faults}
A software fault caused long delays at the docking stations in May, when the payment system failed.
"""


async def _bike_index(tmp_path: Path, source: str) -> SourceIndex:
    """An index over one bike-share source (`source`), with the shipped personas and templates."""
    root = tmp_path / "prompts"
    shutil.copytree(REPO / "prompts", root)
    for path in (root / "sources").iterdir():
        path.unlink()
    (root / "sources" / "bike-share.md").write_text(source, encoding="utf-8")
    return await _index(root)


async def test_a_follow_up_stays_on_the_thread_of_the_previous_question(tmp_path: Path) -> None:
    """ "What caused it?" after "What is the winter drop?": the passage that says "caused" about
    something else must not outrank the one about the winter drop, which never says "cause"."""
    index = await _bike_index(tmp_path, BIKE_SOURCE + FAULTS_PASSAGE)
    try:
        for earlier, expected in (
            ("What is the winter drop?", "bike-share#problem-winter"),
            ("What is the vandalism?", "bike-share#problem-theft"),
        ):
            evidence = await weighed(index, "What caused it?", earlier)
            assert evidence.ranked[0].passage.id == expected, [s.passage.id for s in evidence.ranked]
            # The extractive core comes from the thread too, not from the passage that says "caused".
            assert evidence.picks[0].scored.passage.id == expected, picked(evidence)
        # Asked on its own, the question about causes finds the passage that names one.
        evidence = await weighed(index, "What caused the delays at the docking stations?")
        assert evidence.ranked[0].passage.id == "bike-share#faults", [s.passage.id for s in evidence.ranked]
    finally:
        await index.aclose()


HILL_DOCKS_PASSAGE = """
## Why the hill docks stood empty {#hill-docks}
Riders coasted downhill to work in the morning and took the bus home in the evening. So the docks at
the top of the hills stood empty by nine o'clock every day.
"""


async def test_a_quoted_consequence_brings_the_sentence_that_gives_its_reason(tmp_path: Path) -> None:
    """ "So the docks ... stood empty" answers "why?" only with the sentence before it, so the quote
    carries both (words.toml's openers.consequence); scoring still rests on the chosen sentence."""
    index = await _bike_index(tmp_path, BIKE_SOURCE + HILL_DOCKS_PASSAGE)
    try:
        evidence = await weighed(index, "Why were the docks at the top of the hills empty by nine o'clock?")
        assert evidence.answerable, evidence.reason
        quote = next(p.sentence for p in evidence.picks if "So the docks" in p.sentence)
        assert quote.startswith("Riders coasted downhill to work"), quote
    finally:
        await index.aclose()


async def test_a_long_follow_up_about_something_else_is_declined(shipped: SourceIndex) -> None:
    """A long question that points back ("those scientists") is read with the previous question, but
    the previous question's words must not make the weather in Paris look covered."""
    asked_before = "What do Chinese scientists think about AI safety?"
    weather = "What do those scientists think about the weather in Paris this coming weekend?"
    assert (await weighed(shipped, weather, context=asked_before)).kind == "off_topic"
    earlier = "Which earlier technologies does Singh say followed the same pattern as AI?"
    stages = "What three stages did those earlier technologies go through before the reckoning?"
    assert (await weighed(shipped, stages, context=earlier)).answerable


async def test_a_sentence_that_only_adds_who_wrote_it_is_quoted_with_the_next(shipped: SourceIndex) -> None:
    """ "Rajendra Singh Tanwar, bylined as Rajendra Singh, wrote '...' after meeting China's top AI
    experts" tells nothing new but its author's name: like an announcement, it is quoted with the
    sentence after it, which says where the piece appeared."""
    previous = "Who wrote the article about meeting China's top AI experts?"
    evidence = await weighed(shipped, "Where was it published?", previous)
    assert evidence.answerable, evidence.reason
    assert "news headline alert" in picked(evidence)


async def test_a_phrase_the_question_quotes_is_looked_for_as_quoted(shipped: SourceIndex) -> None:
    """ "Which author warns about a 'race to the bottom' ...": the quoted words are the user's
    exact words, so the sentence holding them answers that part, not one about an author who warns
    about the race narrative. An apostrophe inside a word opens no quote."""
    assert focus_of("What does 'China envy' mean?").phrases == ("china envy",)
    assert focus_of("What is Liu's view of the race?").phrases == ()
    question = "Which author warns about a 'race to the bottom', and which about rolling back regulation?"
    evidence = await weighed(shipped, question)
    assert "race to the bottom" in picked(evidence)


NIGHT_SHIFT_PASSAGES = """
## Riders after the last bus {#night-riders}
Hospital night-shift workers told the city they relied on the bikes after the last bus. They cannot get
home safely in winter unless the docking stations are lit.

## The night-shift survey {#night-survey}
The city's survey of hospital night-shift workers ran for two weeks in May at six docking stations.
"""


async def test_a_sentence_that_says_they_is_scored_with_who_they_are(tmp_path: Path) -> None:
    """ "They cannot get home safely ... unless the docking stations are lit" answers what the
    night-shift workers cannot do, but who "they" are is in the sentence before: that sentence counts
    (at half weight, as it holds claims of its own) and is quoted with it, so the answer beats a
    sentence that only names the same workers."""
    index = await _bike_index(tmp_path, BIKE_SOURCE + NIGHT_SHIFT_PASSAGES)
    try:
        evidence = await weighed(index, "What can't hospital night-shift workers do in winter?")
        assert evidence.answerable, evidence.reason
        first = evidence.picks[0].sentence
        assert first.startswith("Hospital night-shift workers told the city"), picked(evidence)
        assert "cannot get home safely" in first, picked(evidence)
    finally:
        await index.aclose()
    assert stands_for_a_subject("It calls for baseline standards.")
    assert stands_for_a_subject("These are the first steps.")
    assert not stands_for_a_subject("This spread of Chinese technology is part of a wider shift.")
    assert subject_of("A common misreading, she notes, is that the compact bans it.") == "a common misreading"


async def test_a_name_her_views_are_about_does_not_point_at_her_source(shipped: SourceIndex) -> None:
    """ "AGI" is in sentences naming Liu ("Yi-Ling Liu cautions that ... AGI") but also in ones
    that do not ("Policymakers who assume China is racing toward AGI"): it is what her views are
    about, not a name for her, like her book. So "Does Liu think China is secretly racing toward
    AGI?" is answered from the passage on AGI, not from any passage of her source."""
    said = shipped.said_of_author["liu-race-narrative"]
    assert {"wall", "dancer"} <= said, sorted(said)
    assert "agi" not in said
    evidence = await weighed(shipped, "Does Liu think China is secretly racing toward AGI?")
    first = evidence.picks[0].scored.passage.id
    assert first == "liu-race-narrative#agi-not-beijing-priority", picked(evidence)


async def test_the_answer_shows_no_model_sentence_off_the_question_or_naming_what_the_source_does_not(
    tmp_path: Path,
) -> None:
    """Two of the model's three sentences pass the word-overlap check and are still not shown: one
    is true of the source but says nothing of the question (the commutes, asked about thefts), and
    one names a maker the source never names ("Velora")."""
    reply = (
        "Most trips were short commutes of under three kilometres [1]. "
        "The 38 bicycles stolen or vandalised during the first year were Velora bicycles [1]. "
        "During the first year, 38 bicycles were stolen or vandalised [1]."
    )
    question = "How many bicycles were stolen in the first year?"
    answer = await _answered(tmp_path, {"bike-share.md": BIKE_SOURCE}, reply, question)
    assert answer.text.startswith("During the first year, 38 bicycles were stolen"), answer.text
    assert "commutes" not in answer.text, answer.text
    assert "Velora" not in answer.text, answer.text


async def test_the_gate_checks_a_streamed_sentence_off_the_event_loop() -> None:
    """A sentence's checks (a parse, an embedding) take tens of milliseconds: in a streaming loop they
    run in a worker thread, so the loop serves other members meanwhile. Here the check waits for the
    loop to answer; run on the loop itself, it would wait in vain."""
    passage = Passage("t#board", "t", "Harbour news", "The board", "The harbour board met on Monday.", ())
    started, released = threading.Event(), threading.Event()

    def placed(text: str, cited: Sequence[ScoredPassage]) -> bool:
        started.set()
        return released.wait(timeout=10)

    gate = SentenceGate([ScoredPassage(passage, 1.0)], Corpus.of([passage]), placed=placed)
    checking = asyncio.create_task(gate.afeed("The harbour board met on Monday [1]. It"))
    assert await asyncio.to_thread(started.wait, 10)
    released.set()  # the loop is free while the check runs
    assert [s.text for s in await checking] == ["The harbour board met on Monday."]
