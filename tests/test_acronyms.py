"""Acronyms read from the sources: "US" meets "the United States", and no list of them is kept."""

from __future__ import annotations

from bot.acronyms import acronyms_of, is_acronym
from bot.briefing.focus import focus_of
from bot.terms import match_terms

TEXTS = [
    "The European Union funds the ferries. The EU board meets in May.",
    "Planners expect artificial general intelligence (AGI) to matter. AGI is not near, says one.",
    "Ferries in the United States run at a loss.",  # no "US" anywhere: not an acronym of these sources
]


def test_acronyms_come_from_the_sources_own_spelling() -> None:
    found = acronyms_of(TEXTS)
    assert found["eu"] == match_terms("European Union")
    assert found["agi"] == match_terms("artificial general intelligence")
    assert "us" not in found, "an acronym the sources never write is not guessed"


def test_a_question_about_the_us_is_not_about_us() -> None:
    focus = focus_of("Is it the same in the US?")
    assert "us" in focus.weights, "'US' is the country, not the pronoun"
    assert "us" not in focus_of("Can you tell us more?").weights
    assert not is_acronym("WHAT", "WHAT IS THIS?"), "a shouted question has no acronyms"
    spelled = focus.spelled_out({"us": match_terms("United States")})
    assert spelled.coverage(match_terms("The pattern in the United States is similar")) == 1.0
    assert focus.coverage(match_terms("The pattern in the United States is similar")) == 0.0
