"""Fact-checks: the verdict rests on the retrieved evidence, not on the model.

Every claim below is built from `prompts/sources/` (a true statement, the same with a wrong year,
number, name or direction, and statements the sources never make). The verdict does not depend on the
model, so the table runs on `ScriptedEngine`; one test runs the three verdicts on the real model to
check the explanation and the evidence.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.briefing.factcheck import EVIDENCE_K, FactCheck
from bot.briefing.negation import negated_terms
from bot.briefing.stance import AGAINST, FOR, prescribes, stance_of
from bot.briefing.verdicts import compare, decide
from bot.config import load_settings
from bot.engine import ScriptedEngine
from bot.engine.base import Engine
from bot.index import SourceIndex
from bot.names import names_in
from bot.service import BriefingService
from bot.sources import load_sources
from bot.terms import words

REPO = Path(__file__).resolve().parent.parent

CLAIMS = [
    # supported: restated from a passage
    ("The Chernobyl nuclear disaster happened in 1986.", "supported"),
    # common words weigh little: "took place" for the source's "happened"
    ("The Chernobyl nuclear disaster took place in 1986.", "supported"),
    ("Yi-Ling Liu wrote The Wall Dancers.", "supported"),
    ("Researchers in Shenzhen and Beijing work under immense pressure.", "supported"),
    ("No international body has the authority to enforce AI safety standards.", "supported"),
    ("Liu recommends expanding track-two dialogues.", "supported"),
    ("The article names three clear risks of the US-China AI race.", "supported"),
    ("Singh says governance is losing.", "supported"),
    # contradicted: a wrong year, number, name, polarity or stance
    ("The Chernobyl disaster happened in 1991.", "contradicted"),
    ("Rajendra Singh Tanwar wrote The Wall Dancers.", "contradicted"),
    ("Yi-Ling Liu writes for News Headline Alert.", "contradicted"),
    ("The article names five clear risks of the US-China AI race.", "contradicted"),
    ("Governments are spending millions of dollars on compute infrastructure.", "contradicted"),
    ("An international body has the authority to enforce AI safety standards.", "contradicted"),
    ("Liu opposes track-two dialogues between scientists and civil-society groups.", "contradicted"),
    ("The essay rejects joint task forces to monitor emerging AI risks.", "contradicted"),
    ("Singh says governance is winning.", "contradicted"),
    (
        "Chinese researchers can publicly call for a slowdown without being seen as unpatriotic.",
        "contradicted",
    ),
    ("Chinese AI experts are celebrating their country's progress.", "contradicted"),
    # A "not" must be the source's too, on the same word; "without safety testing" is no "not worried".
    ("Chinese experts are not worried about AI safety.", "contradicted"),
    ("Yi-Ling Liu recommends fewer track-two dialogues.", "contradicted"),
    # the source says "little evidence that" it is
    ("Liu says AGI is clearly a coordinated national priority for Beijing.", "contradicted"),
    ("Chinese AI researchers are eager to voice their fears publicly.", "contradicted"),
    ("Liu argues the race narrative can accelerate development at the expense of safety.", "supported"),
    ("There is no international body with the authority to set AI safety standards.", "supported"),
    # a view the source gives as an impression ("reinforce the impression that..."), stated as fact
    ("Visits to China by tech leaders show that China is sprinting ahead.", "contradicted"),
    ("Liu says short trips to China reinforce the impression that China is sprinting ahead.", "supported"),
    ("DeepSeek-R1 rattled US regulators and American corporate leaders.", "supported"),
    # ...but a cue in another clause of the sentence ("...safeguards; Liu calls DeepSeek-R1 overhyped")
    ("Liu says race rhetoric could be used to weaken safeguards.", "supported"),
    # ...nor in a claim that reports what the source says (she does call it a Sputnik moment)
    ("Liu calls DeepSeek-R1 a Sputnik moment.", "supported"),
    # "accurate" where the source says "misleading"; the same word where it says "accurate"
    ("Liu says framing the rivalry as a winner-take-all race is accurate.", "contradicted"),
    ("Liu says accurate China policy demands nuance.", "supported"),
    # a title-case word of a title ("Researchers") is no name: only the text's names count
    ("Researchers at China's AI frontier are alarmed rather than triumphant.", "supported"),
    # a surname opening the claim is a name the sources use: Liu recommends them, not Singh
    ("Singh recommends expanding track-two dialogues.", "contradicted"),
    # "says" reports what the source says, so the source's hedge ("looks like a simple contest") counts
    ("The essay says the AI race is simply a contest of computing resources.", "contradicted"),
    # "will not disappear overnight": a negated word changes side ("continue" against "end")
    ("The essay expects the AI arms race to end within a few years.", "contradicted"),
    # "is no longer only a Chinese story" denies "only", as "not only" does
    ("The push-and-pull Liu observed in China is only a Chinese story.", "contradicted"),
    ("The tug of war between governments, platforms and users is no longer only Chinese.", "supported"),
    # what the source sets aside ("As a practical alternative to an all-out AI race, Liu recommends ...")
    ("Liu recommends an all-out AI race.", "contradicted"),
    # A negative claim is supported by a source that denies the same thing, in its own words ("does
    # not identify ... by name"), by setting it aside ("as an alternative to an all-out AI race") or
    # with a "cannot" of its own; a claim word the claim itself negates ("not publicly") is no antonym.
    ("Liu does not recommend an all-out AI race.", "supported"),
    ("Singh does not name the Chinese experts he met.", "supported"),
    ("Chinese AI researchers do not publicly call for a slowdown.", "supported"),
    ("The essay does not propose joint task forces.", "contradicted"),
    # a "not" reaches no further than its part of the sentence: "whose author ... are not named, is
    # written by someone who spent time ..." does not deny the time spent
    ("The essay's author did not spend time with AI researchers in China.", "contradicted"),
    # "does not think/say/warn [clause]" denies the clause as a whole: a source saying its opposite
    # supports it, one saying it as it stands contradicts it
    ("Singh does not think the real race is between nations.", "supported"),
    ("Singh does not say the Chinese experts celebrate their country's AI progress.", "supported"),
    ("The essay does not warn about deployment without safety testing.", "contradicted"),
    ("Singh does not say that no international body can enforce AI safety standards.", "contradicted"),
    # what ought to be: the source's stance decides (a warning is against, a recommendation for), and
    # a "not" on the "should" is no denial of what the source describes
    ("Liu says the US should not treat the competition as zero-sum.", "supported"),
    ("Liu thinks Washington should treat the competition as winner-take-all.", "contradicted"),
    ("Liu thinks AI regulation should not be rolled back to beat China.", "supported"),
    ("Liu says the US should not expand track-two dialogues with Chinese experts.", "contradicted"),
    ("Singh's advice is that ordinary citizens should stay informed about AI developments.", "supported"),
    ("The essay says the US and China should not share research on model alignment.", "contradicted"),
    ("Singh says the US should host an AI treaty conference in Geneva.", "not_in_sources"),
    # a "not" in one clause says nothing of the next: "The article does not identify any of the
    # Chinese AI researchers by name; the experts Singh met remain anonymous"
    ("Singh met with China's top AI experts.", "supported"),
    ("Singh's article names the Chinese AI researchers he met.", "contradicted"),
    # the "not"s fall on different words of one clause; the name is the passage's byline
    ("Singh says a Terminator-style uprising is not the immediate worry.", "supported"),
    # one of several alternatives where the source says another
    ("DeepSeek-R1 was released by an American company.", "contradicted"),
    # not in the sources
    ("The US and China signed a binding AI safety treaty in 2023.", "not_in_sources"),
    ("The EU AI Act bans facial recognition in 2024.", "not_in_sources"),
    ("Lionel Messi won the World Cup in 2022.", "not_in_sources"),
    # the names are the sources', what is said of them is not ("lives" in no passage about her)
    ("Yi-Ling Liu lives in Beijing.", "not_in_sources"),
    # Liu wrote one book: that says nothing of what Tanwar has written
    ("Rajendra Singh Tanwar has written three books about China.", "not_in_sources"),
]


def assert_evidence(result: FactCheck, texts: dict[str, str]) -> None:
    data = result.to_json()
    assert {"claim", "verdict", "evidence", "explanation"} <= set(data)
    assert data["explanation"].strip()
    for item in data["evidence"]:
        assert set(item) == {"id", "source", "title", "text"} and item["text"] == texts[item["id"]]
    if result.verdict != "not_in_sources":
        assert data["evidence"], "a verdict from the sources shows its evidence"
        assert result.quote and result.quote in data["evidence"][0]["text"], "the deciding sentence, verbatim"
        assert result.reasons
        for citation in data["citations"]:
            assert citation["quote"] in texts[citation["id"]]


@pytest.fixture(scope="module")
async def scripted_service(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BriefingService]:
    database = tmp_path_factory.mktemp("check") / "check.sqlite3"
    settings = load_settings(prompts_dir=REPO / "prompts", database_path=database)
    # A model that agrees with everything: the verdict must not follow it.
    service = await BriefingService.open(settings, engine=ScriptedEngine(["Yes, the claim is true."]))
    yield service
    await service.aclose()


@pytest.mark.parametrize(("claim", "verdict"), CLAIMS)
async def test_verdict_rests_on_the_sources(
    scripted_service: BriefingService, claim: str, verdict: str, shipped_passages: dict[str, str]
) -> None:
    result = await scripted_service.check(claim, user_id="u")
    assert result.verdict == verdict, result.reasons
    assert_evidence(result, shipped_passages)
    assert "Yes, the claim is true" not in result.explanation, "an unverifiable explanation is not shown"


async def test_contradiction_names_the_mismatch(scripted_service: BriefingService) -> None:
    result = await scripted_service.check("The Chernobyl disaster happened in 1991.", user_id="u")
    assert any("1991" in reason and "1986" in reason for reason in result.reasons)
    assert "1986" in result.explanation
    # a word of the claim's own side, negated in the source, is named with its "not"
    result = await scripted_service.check("The essay recommends slowing down AI progress.", user_id="u")
    assert "antonym: the claim says 'slowing', the source 'not slowing'" in result.reasons


async def test_real_model_three_verdicts(
    tmp_path: Path, llama_engine: Engine, shipped_passages: dict[str, str]
) -> None:
    settings = load_settings(prompts_dir=REPO / "prompts", database_path=tmp_path / "real.sqlite3")
    service = await BriefingService.open(settings, engine=llama_engine)
    try:
        for claim, verdict in (
            ("Liu calls DeepSeek-R1 a Sputnik moment.", "supported"),
            ("The Chernobyl meltdown happened in 1996.", "contradicted"),
            ("Japan plans a national AI supercomputer in Osaka by 2030.", "not_in_sources"),
        ):
            result = await service.check(claim, user_id="u")
            assert result.verdict == verdict, (claim, result.reasons)
            assert_evidence(result, shipped_passages)
            markers = {int(n) for n in re.findall(r"\[(\d+)\]", result.explanation)}
            assert markers <= {c.number for c in result.citations}, (claim, result.explanation)
    finally:
        await service.aclose()


def test_a_word_opening_a_sentence_is_a_name_only_when_the_sources_use_it_as_one() -> None:
    """ "Singh recommends ..." names Singh when the sources name him mid-sentence (`Corpus.names`);
    "Many fear ..." names no one, and neither does an unknown capitalised opener."""
    known = frozenset({"singh", "liu"})
    assert names_in("Singh recommends talks.", known) == [("Singh",)]
    assert names_in("Singh's article ran on Monday.", known) == [("Singh's",), ("Monday",)]
    assert names_in("Many fear a race with Liu.", known) == [("Liu",)]
    assert names_in("Singh recommends talks.") == []


RIVER_CLAIMS = [
    # the source calls it a misreading: denying it is right, saying it is wrong
    ("The compact does not ban fertilizer on farms.", "supported"),
    ("The compact bans fertilizer near the river.", "contradicted"),
    ("Villanueva found no factory that moved after the signing.", "supported"),
    ("The compact does not pay farmers for buffer strips.", "contradicted"),
    ("The monitoring stations do not publish their readings.", "contradicted"),
    # the passage names the other person as the one who designed it (the heading holds "monitoring")
    ("Tomas Reyes designed the monitoring network.", "contradicted"),
    ("Villanueva does not say the compact bans fertilizer.", "supported"),
    ("Villanueva does not write that phosphate fell in the first year.", "contradicted"),
    ("Amara Okafor was born in Marrow.", "not_in_sources"),
    # the chamber warned that stricter rules could push factories away: it is against them
    ("Kelland's chamber of commerce said discharge rules should be made stricter.", "contradicted"),
    ("The compact says fertilizer use on farms near the river should be banned.", "contradicted"),
    ("Villanueva says the compact should build a new dam at Haldor.", "not_in_sources"),
]


@pytest.fixture(scope="module")
async def river_index() -> AsyncIterator[SourceIndex]:
    sources, problems = load_sources(REPO / "tests" / "data" / "other_sources")
    assert not problems
    index = await SourceIndex.build(sources)
    yield index
    await index.aclose()


@pytest.mark.parametrize(("claim", "verdict"), RIVER_CLAIMS)
async def test_verdicts_on_a_source_unrelated_to_the_seeds(
    river_index: SourceIndex, claim: str, verdict: str
) -> None:
    """The comparison the fact-check makes, on a source about a river clean-up: the rules are the
    sources' grammar, not the seeds' words."""
    found = await river_index.search(claim, k=EVIDENCE_K)
    decided, deciding = decide([compare(claim, scored, river_index.corpus) for scored in found])
    assert decided == verdict, deciding.mismatches if deciding else []


STORM = (
    "The trust's engineers inspected the tower after the January gales. "
    "The old lamp was not repaired: the trust replaced it with a solar beacon in April."
)
ROTA = (
    "Morrow writes that the rota now has thirty volunteers. "
    "She does not think the rota needs paid staff, as long as the volunteers keep training each spring."
)
LIGHTHOUSE = f"""+++
title = "Keeping the Lights On: The Skerry Lighthouse Trust"
author = "Ines Morrow"
outlet = "Coastal Heritage Notes"
date = "May 9, 2025"
framing = ["cooperation"]
+++

## Storm damage to the Skerry lighthouse lamp {{#storm}}
{STORM}

## Volunteer keepers and the trust's rota {{#keepers}}
{ROTA}
"""


async def _verdict_on(folder: Path, source: str, claim: str) -> tuple[str, list[str]]:
    """The fact-check's verdict on `claim` against one source file of the test's own, with the
    reasons of the comparison that decided it."""
    (folder / "skerry.md").write_text(source, encoding="utf-8")
    sources, problems = load_sources(folder)
    assert not problems
    index = await SourceIndex.build(sources)
    try:
        found = await index.search(claim, k=EVIDENCE_K)
        decided, deciding = decide([compare(claim, scored, index.corpus) for scored in found])
    finally:
        await index.aclose()
    return decided, deciding.mismatches if deciding else []


HEADING_CLAIMS = [
    # The sentence says the negation; its heading says what it is about ("storm", "lighthouse").
    ("After the storm, engineers repaired the old lighthouse lamp.", "contradicted"),
    ("After the storm, the old lighthouse lamp was not repaired.", "supported"),
    # A "not" on a different verb with different objects says nothing of this claim.
    ("Morrow does not count the keepers among the trust's staff.", "not_in_sources"),
]


@pytest.mark.parametrize(("claim", "verdict"), HEADING_CLAIMS)
async def test_a_sentence_is_read_with_its_heading_for_negation(
    tmp_path: Path, claim: str, verdict: str
) -> None:
    """A sentence leans on its heading for its subject ("The old lamp was not repaired" under
    "Storm damage to the Skerry lighthouse lamp"), so the heading counts toward how much of the
    claim it carries; the "not" itself must be in the sentence, and the sentence must share more of
    the claim than the word the "not" falls on."""
    decided, reasons = await _verdict_on(tmp_path, LIGHTHOUSE, claim)
    assert decided == verdict, reasons


def test_the_stance_word_nearest_before_what_the_claim_is_about_decides() -> None:
    """A modal of the sentence's own decides; else the nearest stance word before the claim's first
    word: "calls for establishing baseline standards ... to monitor emerging risks" is for the
    standards, though "risks" is a warning word."""
    proposals = "It calls for establishing baseline standards and task forces to monitor emerging risks."
    assert stance_of(proposals, words(proposals).index("establishing")) == FOR
    warning = "Liu warns that treating the competition as zero-sum risks a self-fulfilling prophecy."
    assert stance_of(warning, words(warning).index("treating")) == AGAINST
    assert stance_of("Experts warn that labs must slow down.", 3) == FOR
    assert stance_of("Labs should not race ahead.", 0) == AGAINST
    assert stance_of("The race gives labs an incentive to put speed ahead of safety.", 2) == 0
    assert prescribes("The US shouldn't treat AI as a race.")
    assert not prescribes("The US treats AI as a race.")


BEACON = """
## The new solar beacon {#beacon}
The solar beacon that replaced the old lamp was built by a Canadian firm and installed in April.
"""

VISIT = (
    "\n## Visiting the volunteer keepers {#visit}\n"
    "Morrow, who visited and photographed the volunteer keepers in March, writes about their winter "
    "routine. Morrow's note does not name any of the volunteer keepers; the keepers she met stay anonymous.\n"
)

FLEET = (
    "\n## The beacon and the fishing fleet {#fleet}\n"
    'The skippers of the fishing fleet praised the beacon as a "lifesaver" in the winter storms. '
    "The beacon's fame among the skippers of the fishing fleet is overhyped, Morrow adds.\n"
)

WORKSHOPS = (
    "\n## Repairs away from the rock {#workshops}\n"
    "Old lamps cannot be mended on the islands: keepers send them to regional workshops and share "
    "spare parts between lighthouses.\n"
)

OUTRIGHT_CLAIMS = [
    ("Morrow photographed the volunteer keepers.", "supported"),
    # a source named by its title ("Keeping the Lights On: The Skerry Lighthouse Trust")
    ("The Skerry Lighthouse note says Morrow photographed the volunteer keepers.", "supported"),
    # the "not" is in the clause before the colon
    ("Keepers on the islands send old lamps to regional workshops and share spare parts.", "supported"),
    ("Old lamps are mended on the islands.", "contradicted"),
    ("Morrow names the volunteer keepers.", "contradicted"),
    # said outright before the doubt; a term in quotation marks is only reported
    ("Skippers of the fishing fleet praised the beacon.", "supported"),
    ("The beacon was a lifesaver for the fishing fleet.", "contradicted"),
]


@pytest.mark.parametrize(("claim", "verdict"), OUTRIGHT_CLAIMS)
async def test_a_sentence_that_says_the_claim_outright_outweighs_a_not_on_another_verb(
    tmp_path: Path, claim: str, verdict: str
) -> None:
    """ "Morrow's note does not name any of the keepers" denies naming them, not photographing them,
    which the sentence before says outright; a claim of naming them still meets the "not". So with
    a doubt ("overhyped") cast on the part of a claim that another sentence says plainly, and with
    a "not" in the clause before a colon. A claim may name its source by its title."""
    decided, reasons = await _verdict_on(tmp_path, LIGHTHOUSE + VISIT + FLEET + WORKSHOPS, claim)
    assert decided == verdict, reasons


def test_a_not_stops_at_a_verb_of_wanting() -> None:
    """ "Neither wants to fall behind" denies the wanting, not the falling behind; a claim that
    names the wanting still meets the "not"."""
    assert negated_terms("Neither side wants to fall behind.", {"behind", "fall"}) == set()
    assert negated_terms("Neither side wants to fall behind.", {"want", "behind"}) == {"want"}
    assert negated_terms("The keepers did not fall behind.", {"behind", "fall"}) == {"fall"}


FUNDING = (
    "\n## Who paid for the beacon {#funding}\n"
    "The Marlow Foundation paid for the solar beacon that replaced the old lamp in April, after the "
    "United States Coast Guard approved its design.\n"
)

NAME_CLAIMS = [
    # a name the sources never use, where the sentence saying the rest of the claim names another
    ("The Harbour Fund paid for the solar beacon that replaced the old lamp.", "contradicted"),
    ("The Marlow Foundation paid for the solar beacon that replaced the old lamp.", "supported"),
    # a name the sources never use, and little else: an attribute they never give
    ("Morrow was interviewed by the BBC.", "not_in_sources"),
    # the country by another of its names
    ("An American coast guard approved the design of the solar beacon.", "supported"),
    # the source itself: every passage stands for it
    ("The essay says the Marlow Foundation paid for the solar beacon.", "supported"),
]


@pytest.mark.parametrize(("claim", "verdict"), NAME_CLAIMS)
async def test_a_name_the_sources_never_use_in_a_role_they_give_another_is_a_contradiction(
    tmp_path: Path, claim: str, verdict: str
) -> None:
    """ "The Harbour Fund paid for the beacon" against "The Marlow Foundation paid for the beacon":
    the sentence says all the rest of the claim and names another. "Morrow was interviewed by the
    BBC" says too little besides the name to be contradicted by anything."""
    decided, reasons = await _verdict_on(tmp_path, LIGHTHOUSE + BEACON + FUNDING, claim)
    assert decided == verdict, reasons


ASIDE_CLAIMS = [
    # the claim sets aside what the source says of the same thing
    (
        "Keepers on the islands send old lamps to the mainland rather than to regional workshops.",
        "contradicted",
    ),
    # ...but not what the source itself denies ("cannot be mended on the islands")
    ("Keepers send old lamps to regional workshops rather than mending them on the islands.", "supported"),
]


@pytest.mark.parametrize(("claim", "verdict"), ASIDE_CLAIMS)
async def test_a_claim_that_sets_aside_what_the_source_says_is_a_contradiction(
    tmp_path: Path, claim: str, verdict: str
) -> None:
    """ "X rather than Y", "away from Y", "instead of Y" (factcheck.toml's set_aside) against a
    sentence that says Y of the same thing, with no "not" on it."""
    decided, reasons = await _verdict_on(tmp_path, LIGHTHOUSE + WORKSHOPS, claim)
    assert decided == verdict, reasons


DUTIES = (
    "Morrow says the keepers of both lights have three duties: logging the weather, winding the clock "
    "and guiding visitors."
)
FIGURES = f"""
## Visitors and the keepers' watch {{#figures}}
The Skerry lighthouse drew about 12,000 visitors last summer, compared with 4,500 at the Hollin light.
Each keeper's watch lasts 90 minutes, and the logbooks are kept for 30 days.
The trust was founded in 1962; the new beacon was installed in 2024.
Morrow's essay appeared in Coastal Heritage Notes on May 9, 2025.
{DUTIES}
"""

FIGURE_CLAIMS = [
    # two names compared, each with its figure in the sentence (which one is ahead is no longer
    # read: the comparison check added nothing on sources nobody tuned on, docs/language.md)
    ("The Skerry lighthouse drew more visitors last summer than the Hollin light.", "supported"),
    # a stretch of time in other units
    ("Each keeper's watch lasts two hours.", "contradicted"),
    ("The keepers' logbooks are kept for a month.", "supported"),
    ("The keepers' logbooks are kept for a full year.", "contradicted"),
    # a decade holds its years
    ("The new beacon was installed in the 2020s.", "supported"),
    ("The new beacon was installed in the 1990s.", "contradicted"),
    # a year of something the passage never dates is no contradiction of the years it gives
    ("The trust was founded in 1975.", "contradicted"),
    ("Morrow's essay appeared in Coastal Heritage Notes on May 9, 2023.", "contradicted"),
    ("Coastal Heritage Notes, which ran Morrow's essay, was founded in 2001.", "not_in_sources"),
    ("Coastal Heritage Notes was founded in 2001.", "not_in_sources"),
    ("The new beacon was installed in mid-2019.", "contradicted"),
    # a count of something else: "the two lights" against "three duties"
    ("Keepers at the two lights guide visitors and log the weather.", "not_in_sources"),
    ("Morrow says the keepers have five duties.", "contradicted"),
]


WINDING = (
    "What ends is the nightly hand-winding; winding the lamp by hand stopped back in 1998, when an "
    "electric motor was fitted."
)
MYTH = f"""
## A common misreading: the old lamp is not being scrapped {{#myth}}
A common misreading, Morrow writes, is that the trust is scrapping the old lamp.
It is not: the old lamp goes to the maritime museum in Hollin.
{WINDING}
Leaflets warning that "the lamp goes to the scrapyard" described a plan that does not exist.

## The keepers' voice in the trust {{#voice}}
Keepers cannot publicly criticise the trust without being seen as disloyal.
"""

MYTH_CLAIMS = [
    ("The trust is scrapping the old lamp.", "contradicted"),
    # ...and a sentence quoting the misreading to dismiss it is no account of the source's own
    ("The old lamp goes to the scrapyard.", "contradicted"),
    # after "It is not:", the passage gives its own account, not the misreading
    ("Winding the lamp by hand stopped in 1998, when an electric motor was fitted.", "supported"),
    # a claim's if-clause asserts nothing: no antonym against "cannot publicly criticise"
    ("If keepers publicly criticise the trust, they are seen as disloyal.", "supported"),
    ("Keepers publicly criticise the trust.", "contradicted"),
]


DISPUTE = """
## The keepers' pay dispute {#dispute}
Councillor Ada Pennick opposes paying the volunteer keepers of the Skerry lighthouse.
Morrow replies that paid keepers would cost the trust its independence.
"""

SAID_OF_CLAIMS = [
    ("Ada Pennick opposes paying the volunteer keepers.", "supported"),
    # what the passage says of Pennick, credited to Morrow, whom it names in another sentence
    ("Morrow opposes paying the volunteer keepers.", "contradicted"),
    ("Morrow says paid keepers would cost the trust its independence.", "supported"),
]


MOVES = """
## Where the lamps go {#moves}
The old lamp moves from the Skerry lighthouse to the maritime museum in Hollin.
The spare lens goes the other way: the spare lens moves from Hollin to the Skerry lighthouse.
"""

MOVE_CLAIMS = [
    ("The old lamp moves from the Skerry lighthouse to the museum in Hollin.", "supported"),
    # the other thing's move, the other way round, says nothing against this one
    ("The spare lens moves from Hollin to the Skerry lighthouse.", "supported"),
]


# Each rule's claims, against the lighthouse source with the section the rule reads.
RULE_CLAIMS = [
    *((FIGURES, claim, verdict) for claim, verdict in FIGURE_CLAIMS),
    *((MYTH, claim, verdict) for claim, verdict in MYTH_CLAIMS),
    *((DISPUTE, claim, verdict) for claim, verdict in SAID_OF_CLAIMS),
    *((MOVES, claim, verdict) for claim, verdict in MOVE_CLAIMS),
]


@pytest.mark.parametrize(("section", "claim", "verdict"), RULE_CLAIMS)
async def test_figures_misreadings_people_and_moves_are_read_as_the_source_gives_them(
    tmp_path: Path, section: str, claim: str, verdict: str
) -> None:
    """- FIGURE_CLAIMS: a figure contradicts only a figure of the same thing (`figure_anchors`): the
      count of what it counts, the year of what it dates; durations compare across units, a decade
      holds its years, and "A more than B" is read against the figures a sentence gives A and B.
    - MYTH_CLAIMS: under a heading naming a misreading, the sentences from the one rejecting it ("It
      is not:") on are the source's own account, unless they quote the misreading to dismiss it.
    - SAID_OF_CLAIMS: what a sentence opening with one person says is not said by another person
      the passage names only elsewhere.
    - MOVE_CLAIMS: "X moves from A to B" against "X moves from B to A", for the same X."""
    decided, reasons = await _verdict_on(tmp_path, LIGHTHOUSE + section, claim)
    assert decided == verdict, reasons


HARBOUR = """+++
title = "Silt, Votes and Mooring Fees in Pellow"
author = "Tomas Ridley"
outlet = "Harbour Lines"
date = "April 2, 2025"
framing = ["cooperation"]
+++

## A wet Tuesday in March {#vote}
On a wet Tuesday in March, the Pellow harbour board rejected the plan to dredge the inner basin, by
five votes to two. Its chair, Ruth Annan, said the silt tests had come back clean but the bill was
too high for a port of its size.

## The auditor's letter {#fees}
An auditor later judged the new mooring charges illegal, because the board had not published them
for the 28 days the harbour rules require.
"""

OPPOSITE_CLAIMS = [
    ("The Pellow harbour board accepted the plan to dredge the inner basin.", "contradicted"),
    ("An auditor later judged the new mooring charges legal.", "contradicted"),
    ("The Pellow harbour board rejected the plan to dredge the inner basin.", "supported"),
]


@pytest.mark.parametrize(("claim", "verdict"), OPPOSITE_CLAIMS)
async def test_a_word_english_gives_as_the_opposite_contradicts(
    tmp_path: Path, claim: str, verdict: str
) -> None:
    """Opposites come from WordNet's antonyms, met at their lemmas ("accepted" against "rejected"),
    not from a list of the pairs the project's sources happened to use."""
    decided, reasons = await _verdict_on(tmp_path, HARBOUR, claim)
    assert decided == verdict, reasons
    if verdict == "contradicted":
        assert any(reason.startswith("antonym") for reason in reasons), reasons
