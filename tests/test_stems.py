"""Stems: Snowball, plus irregular verb forms joined to their lemma (lemminflect)."""

from __future__ import annotations

from bot.stems import stem


def test_irregular_verb_forms_meet_their_present_tense() -> None:
    assert stem("wrote") == stem("writes") == stem("writing")
    assert stem("took") == stem("take") and stem("won") == stem("winning")
    assert stem("led") == stem("leads")


def test_words_that_are_also_nouns_or_adjectives_keep_their_own_stem() -> None:
    assert stem("thought") != stem("think"), "'thought' is also a noun"
    assert stem("left") != stem("leave"), "'left' is also an adjective"
    assert stem("data") == "data" and stem("liu's") == "liu"
