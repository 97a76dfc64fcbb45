"""A rumour the source reports and then denies, read through the real parser and sentence encoder
(meaning_checks.denied_after), in the fact-check and in the premise check, on a source of the
tests' own written as a reporter writes, unrelated to the seeds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from written_sources import index_of  # tests/ is on the path

from bot.briefing.evidence import weigh
from bot.briefing.factcheck import verdict_for
from bot.briefing.premise import contradicted_premise
from bot.briefing.retrieval import retrieve
from bot.index import SourceIndex
from bot.language import LanguageModels

QUAY = """+++
title = "Six Cranes and a Rumour"
author = "Tor Eriksen"
outlet = "Harbour Post"
date = "June 8, 2026"
+++

## The Tuesday the quay went quiet
On a Tuesday in March, all six cranes at the Skarvik terminal froze in mid-lift, and word spread
along the quay that their Korean manufacturer had switched them off from Seoul. This never came to
pass, the port's engineers found. A fuse in the control room had blown, and the cranes were
working again by Thursday.

## Talk in the canteen
Over lunch, some dockers said the cranes' cameras sent pictures to Seoul every night.

## What the audit found
That rumoured upload never happened, the auditors wrote after reading a year of network logs.

## Two cars outside the office
By May the dockers were sure that police had searched the harbour office for the crane contract.
No search took place. Two officers had called at the office about a stolen bicycle.

## A story in the Gazette
In April the Skarvik Gazette reported that the terminal's owner had sold the crane software to a
Danish rival. Lena Moe, 52, the owner's spokeswoman, denied it.

## The union's account
The dockers' union denied that its members had slowed the unloading in protest.

## The vote that was never held
Dock workers expected the harbour board to cancel the crane contract at its April meeting. In the
end, the board never voted on it, and the contract runs until 2031.
"""


@pytest.fixture
async def quay(tmp_path: Path, language: LanguageModels) -> AsyncIterator[SourceIndex]:
    async with index_of(tmp_path, "quay", QUAY, language) as index:
        yield index


def test_the_parse_says_when_a_sentence_only_denies_what_came_before(language: LanguageModels) -> None:
    assert language.denial("This never came to pass.") == ("come", "pronoun")
    assert language.denial("That rumoured merger never came to pass.") == ("come", "phrase")
    assert language.denial("The board never voted on it.") == ("vote", "")
    assert language.denial("This did not stop the dockers from striking.") is None  # says more of it
    assert language.denial("The cranes were working again by Thursday.") is None
    assert language.denial('"This is not about the cranes," she said.') is None  # what it is, not an event
    # a subject the negative determiner governs: there was no such thing, whatever the verb
    assert language.denial("No search took place.") == ("search", "none")
    assert language.denial("No charges were filed against the crew.") == ("charge", "none")
    assert language.denial("The search found no contract.") is None  # its subject is no denial


async def test_a_rumour_the_source_denies_is_contradicted_and_what_it_asserts_is_not(
    quay: SourceIndex,
) -> None:
    _, _, verdict, _ = await verdict_for(quay, "The manufacturer switched the Skarvik cranes off from Seoul.")
    assert verdict == "contradicted"
    _, _, verdict, _ = await verdict_for(
        quay, "In March all six cranes at the Skarvik terminal froze in mid-lift."
    )
    assert verdict == "supported"
    _, _, verdict, _ = await verdict_for(quay, "In May the police searched the harbour office.")
    assert verdict == "contradicted"


async def test_a_question_taking_a_denied_rumour_or_vote_for_granted_is_corrected(quay: SourceIndex) -> None:
    for question in (
        "Why did the Korean manufacturer switch off the Skarvik cranes from Seoul?",
        "Why did the harbour board vote to cancel the crane contract in April?",
        "Why did the police search the harbour office in May?",  # "No search took place."
    ):
        ranked = weigh(quay, question, await retrieve(quay, question, k=3)).ranked
        found = contradicted_premise(question, ranked, quay.corpus, quay)
        assert found is not None, question
        shown = found.comparison.sentence
        assert any(word in shown for word in ("never", "No search"))  # the denial is shown
        assert contradicted_premise(question, ranked, quay.corpus) is None  # the words alone cannot tell
    for asserted in (
        "Why did the cranes at the Skarvik terminal freeze in March?",
        "Why did two officers call at the harbour office in May?",  # not the search that was denied
    ):
        ranked = weigh(quay, asserted, await retrieve(quay, asserted, k=3)).ranked
        assert contradicted_premise(asserted, ranked, quay.corpus, quay) is None, asserted


async def test_a_denial_opening_the_next_section_is_cited_from_its_own_passage(quay: SourceIndex) -> None:
    """The suspicion ends one section and the next opens by denying it: the evidence shown is the
    denial, cited from the passage that holds it."""
    _, _, verdict, deciding = await verdict_for(
        quay, "The cranes' cameras sent pictures to Seoul every night."
    )
    assert verdict == "contradicted"
    assert deciding is not None and deciding.scored.passage.heading == "What the audit found"
    assert deciding.sentence.startswith("That rumoured upload never happened")


def test_the_parse_says_what_a_verb_of_denying_calls_untrue(language: LanguageModels) -> None:
    """WordNet's verbs of denying (the kin of "deny": contradict, repudiate, disavow ...), not a
    list: what they take is given as untrue, not asserted."""
    assert language.disputed("Lena Moe denied it.") == ("pronoun", "")
    assert language.disputed("The union repudiated that.") == ("pronoun", "")
    assert language.disputed("The union denied that its members had slowed the unloading.") == (
        "clause",
        "that its members had slowed the unloading",
    )
    assert language.disputed("The union did not deny it.") is None
    assert language.disputed("The union confirmed that its members had slowed the unloading.") is None


async def test_what_the_source_gives_only_as_denied_is_not_supported(quay: SourceIndex) -> None:
    for claim in (
        "The terminal's owner sold the crane software to a Danish rival.",  # "... denied it."
        "The owner's spokeswoman acknowledged that the crane software was sold to a Danish rival.",
        "Members of the dockers' union slowed the unloading in protest.",  # "denied that ..."
    ):
        _, _, verdict, deciding = await verdict_for(quay, claim)
        assert verdict == "contradicted", claim
        assert deciding is not None and "denied" in deciding.sentence
    for claim in (
        "In April the Skarvik Gazette reported that the owner had sold the crane software to a Danish rival.",
        "The dockers' union denied that its members had slowed the unloading.",
    ):
        _, _, verdict, _ = await verdict_for(quay, claim)
        assert verdict == "supported", claim


DEPOT = """+++
title = "The Depot Inquiry"
author = "Tor Eriksen"
outlet = "Harbour Post"
date = "July 2, 2026"
+++

## Talk of a leak
All winter, drivers at the Brekke bus depot said that the timetable software had been copying
passengers' card numbers to a server in Minsk.

## What the inspector found
The county hired a data inspector, Sigrid Aas, 47, who spent three weeks reading the depot's logs.
Her report found no evidence that any card numbers had left the county's own network.
"""


@pytest.fixture
async def depot(tmp_path: Path, language: LanguageModels) -> AsyncIterator[SourceIndex]:
    async with index_of(tmp_path, "depot", DEPOT, language) as index:
        yield index


def test_the_parse_says_what_a_finding_of_no_evidence_leaves_unshown(language: LanguageModels) -> None:
    """ "No evidence that P", "no sign of X": a noun of WordNet's kin of "evidence" under the
    negative determiner gives what follows only to say nothing shows it; other nouns do not."""
    assert language.disputed("The audit found no evidence that the files had been copied.") == (
        "evidence",
        "that the files had been copied",
    )
    assert language.disputed("There was no sign of a break-in.") == ("evidence", "a break-in")
    assert language.disputed("The mayor made no secret of her support for the plan.") is None
    assert language.disputed("There is no factory that makes such chips.") is None  # a relative clause
    assert language.disputed("The audit found evidence that the files had been copied.") is None
    assert language.denies("Her report found no evidence that the files had been copied.")
    assert language.reported_clause("The audit concluded that the files were copied.") == (
        "that the files were copied"
    )


async def test_what_a_finding_says_nothing_shows_is_not_taken_as_found(depot: SourceIndex) -> None:
    """The rumour and the finding that nothing shows it lie a section apart: the finding, about as
    close to the claim as the rumour, contradicts the rumour and a premise that takes it as found."""
    _, _, verdict, deciding = await verdict_for(
        depot, "The inspector concluded that passengers' card numbers were sent to a server in Minsk."
    )
    assert verdict == "contradicted"
    assert deciding is not None and "no evidence" in deciding.sentence
    question = "Why did the inspector's report find that card numbers had been sent to Minsk?"
    ranked = weigh(depot, question, await retrieve(depot, question, k=3)).ranked
    found = contradicted_premise(question, ranked, depot.corpus, depot)
    assert found is not None and "no evidence" in found.comparison.sentence
    claim = "The inspector's report found no evidence that any card numbers had left the county's network."
    _, _, verdict, _ = await verdict_for(depot, claim)
    assert verdict == "supported"
