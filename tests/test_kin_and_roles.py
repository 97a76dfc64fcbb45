"""Nouns of one kind (WordNet, language/kin.py) and people in roles (spaCy's parse), read through the
real models on a source of the tests' own, written as a reporter writes, unrelated to the seeds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from written_sources import index_of  # tests/ is on the path

from bot.briefing.evidence import weigh
from bot.briefing.focus import focus_of
from bot.briefing.retrieval import retrieve
from bot.index import SourceIndex
from bot.language import LanguageModels
from bot.language.antonyms import wordnet_folder
from bot.language.kin import denying_verbs, kin_of, read_nouns

LIGHTHOUSE = """+++
title = "The Light at Hallvik"
author = "Sigrid Vold"
outlet = "Northern Coast Review"
date = "May 3, 2026"
+++

## A tower nobody wanted
The Skerry Light Trust, a charity that restores lighthouses along the northern coast, bought the
tower at Hallvik in 2019 for one krone from a shipping authority that no longer needed it. The
Skerry Light Trust has since raised 14 million kroner for the work, most of it from small donors.
"We could fill the tower twice over with volunteers," said Ingrid Dahl, 58, the Skerry Light Trust's director.
Ivar Lund, Nordkyst Shipping's director, said the company had no use for the tower. The Skerry
Light Trust began in a fisherman's kitchen in 1987. Its founder, Knut Holm, 71, still climbs the
tower every spring.

## The letter from the clinic
When the council proposed selling the land beside the tower to a hotel chain, the protest came from
an unexpected place. A letter opposing the sale was signed by 41 doctors from the county hospital,
who said the keeper's cottage had served as a rest house for night-shift staff since the 1970s.
"""


@pytest.fixture
async def lighthouse(tmp_path: Path, language: LanguageModels) -> AsyncIterator[SourceIndex]:
    async with index_of(tmp_path, "lighthouse", LIGHTHOUSE, language) as index:
        yield index


def test_nouns_of_one_kind_come_from_wordnet() -> None:
    assert "farmer" in kin_of("growers")  # a grower is a kind of farmer, plural or not
    assert "doctor" in kin_of("physician")  # one synset
    assert "container" in kin_of("box")  # the kind directly above
    assert "hospital" not in kin_of("patient")  # related, but not the same kind of thing
    assert "doctor" not in kin_of("nurse")  # two steps apart through "health professional"
    assert kin_of("qwzzyx") == frozenset()


def test_a_nouns_rarer_senses_are_not_its_kin(tmp_path: Path) -> None:
    """Only a noun's two commonest senses count (index.noun lists them commonest first)."""
    folder = wordnet_folder()
    assert folder is not None
    senses, synsets = read_nouns(folder)
    assert len(senses["case"]) > 2
    rare = {word for offset in senses["case"][2:] for word in synsets[offset][0].split()}
    assert "lawsuit" in rare and "lawsuit" not in kin_of("case")


def test_the_parse_says_which_role_a_question_asks_about_and_who_holds_one(language: LanguageModels) -> None:
    assert language.asked_roles("Who is the director of the Skerry Light Trust?") == {"director"}
    assert "founder" in language.asked_roles("Who founded the Skerry Light Trust?")  # WordNet's derivation
    assert language.asked_roles("What did the trust buy?") == frozenset()
    quoted = '"We need more hands," said Ingrid Dahl, 58, the trust\'s director.'
    assert language.roles(quoted) == {"director": [("Ingrid Dahl", "")]}  # a common noun's
    assert language.roles("Its director, Dr. Ingrid Dahl, grew up in the keeper's cottage.") == {
        "director": [("Ingrid Dahl", "")]
    }
    # whose role it is, where a name says so: another organisation's director answers nothing
    assert language.roles("Ivar Lund, Nordkyst Shipping's director, declined to comment.") == {
        "director": [("Ivar Lund", "Nordkyst Shipping")]
    }


async def test_who_holds_a_role_is_answered_by_the_sentence_naming_them_in_it(
    lighthouse: SourceIndex, language: LanguageModels
) -> None:
    """The sentences that repeat the organisation's full name name no one who runs it; the quote's
    attribution does, in a few words of the question. An organisation's capitalised name does not
    make the question name a person."""
    question = "Who is the director of the Skerry Light Trust?"
    assert focus_of(question).answer_type is None  # the capitalisation guess takes the trust for a person
    evidence = weigh(lighthouse, question, await retrieve(lighthouse, question, k=3))
    assert evidence.focus.answer_type == "person"
    assert evidence.answerable, evidence.reason
    assert "Ingrid Dahl" in evidence.picks[0].sentence
    # "its director" in a follow-up: whose director is in the conversation before it
    earlier = "What did the Skerry Light Trust buy in 2019?"
    its = "Who is its director?"
    evidence = weigh(lighthouse, its, await retrieve(lighthouse, f"{its} {earlier}", k=3), earlier)
    assert "Ingrid Dahl" in evidence.picks[0].sentence
    founded = "Who founded the Skerry Light Trust?"
    evidence = weigh(lighthouse, founded, await retrieve(lighthouse, founded, k=3))
    assert evidence.answerable, evidence.reason
    assert "Knut Holm" in evidence.picks[0].sentence


async def test_a_count_of_the_same_kind_of_thing_in_other_words_answers_how_many(
    lighthouse: SourceIndex,
) -> None:
    """Asked how many physicians, the sentence counting doctors answers, though it shares almost none
    of the question's words; a count of another kind of staff still does not."""
    question = "How many physicians put their names to the protest against selling the land?"
    evidence = weigh(lighthouse, question, await retrieve(lighthouse, question, k=3))
    assert evidence.answerable, evidence.reason
    assert "41 doctors" in " ".join(pick.sentence for pick in evidence.picks)
    nurses = "How many nurses put their names to the protest against selling the land?"
    declined = weigh(lighthouse, nurses, await retrieve(lighthouse, nurses, k=3))
    assert not declined.answerable, declined.reason


def test_the_verbs_of_denying_are_read_from_wordnet() -> None:
    """The kin of "deny" in its commonest sense ("declare untrue"): the synset above it and those
    below; not its antonym, nor deny's other senses' kin ("refuse")."""
    verbs = denying_verbs()
    assert {"deny", "contradict", "repudiate", "disavow", "disclaim"} <= verbs
    assert not verbs & {"admit", "acknowledge", "refuse", "say"}


OBSERVATORY = """+++
title = "A Dome on the Ridge"
author = "Sigrid Vold"
outlet = "Northern Coast Review"
date = "June 9, 2026"
+++

## Darker skies
The Northern Ridge Astronomical Observatory (NRAO) opened its new dome in 2024 after a decade of
fundraising. The Northern Ridge Astronomical Observatory now hosts sixty students a year, and the
Northern Ridge Astronomical Observatory's telescope is the largest in the region.
"The sky here is darker than anywhere in the county," said Maren Eik, 49, the NRAO's director.
Per Aune, the county museum's director, said visitor numbers had doubled.
"""


async def test_a_role_given_of_an_organisations_acronym_answers_who_holds_it(
    tmp_path: Path, language: LanguageModels
) -> None:
    """The reporter spells the name out once and then gives its director as the acronym's: that is
    the director of the organisation the question names in full, not the museum's."""
    async with index_of(tmp_path, "observatory", OBSERVATORY, language) as index:
        question = "Who is the director of the Northern Ridge Astronomical Observatory?"
        evidence = weigh(index, question, await retrieve(index, question, k=3))
        assert evidence.answerable, evidence.reason
        assert "Maren Eik" in evidence.picks[0].sentence
