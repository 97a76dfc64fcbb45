"""Stems: Snowball, plus word forms with one lemma joined to it (lemminflect): irregular verbs and
plurals Snowball splits from their singular."""

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


def test_plurals_snowball_splits_from_their_singular_meet_it() -> None:
    assert stem("buses") == stem("bus") and stem("crises") == stem("crisis")
    assert stem("children") == stem("child")


def test_comparatives_keep_their_degree() -> None:
    """ "faster" is no "fast", "safer" no "safe": a comparison must keep what it compares."""
    assert stem("faster") != stem("fast") and stem("safer") != stem("safe")
    assert stem("lives") != stem("life"), "'lives' is also a verb of 'live'"
