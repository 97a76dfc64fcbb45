"""A reply names each person in full the first time: surnames and pronouns from another context
become the full name its sources give, with the real English parser."""

from __future__ import annotations

from bot.briefing.first_mention import Introductions, full_names
from bot.briefing.sentences import Citation, Sentence, from_source
from bot.language import LanguageModels
from bot.sources import Passage

HARBOUR = Passage(
    "harbour#dredging",
    "harbour",
    "The harbour that ran out of water",
    "Dredging",
    "Port engineer Ines Albuquerque has spent a decade measuring the silt. Albuquerque says the "
    "channel loses half a metre a year. She wants the dredgers back by spring.",
    (),
    by="Tomas Brandt",
)
COLUMN = Passage(
    "harbour#column",
    "harbour",
    "The harbour that ran out of water",
    "A reporter's view",
    "The mayor's office would not comment on the dredging budget.",
    (),
    by="Tomas Brandt",
)
TWINS = Passage("other#p", "other", "Other", "", "Carla Albuquerque chairs the council.", (), by="")


def introductions(*passages: Passage) -> Introductions:
    return Introductions(full_names(passages), {p.id: p for p in passages}, LanguageModels.shared())


def cited(text: str, passage: Passage) -> Sentence:
    return from_source(text, Citation.of(1, passage, passage.text))


def test_full_names_come_from_the_text_and_the_byline_and_skip_shared_surnames() -> None:
    assert full_names([HARBOUR]) == {"albuquerque": "Ines Albuquerque", "brandt": "Tomas Brandt"}
    assert "albuquerque" not in full_names([HARBOUR, TWINS]), "two people share it: no guess"


def test_a_surname_is_given_in_full_once() -> None:
    reply = introductions(HARBOUR)
    first = reply.introduce(cited("Albuquerque says the channel loses half a metre a year.", HARBOUR))
    again = reply.introduce(cited("Albuquerque has spent a decade measuring the silt.", HARBOUR))
    assert first.text == "[Ines] Albuquerque says the channel loses half a metre a year.", "words stay"
    assert again.text.startswith("Albuquerque has"), "only the first mention changes"


def test_a_sentence_in_full_already_introduces_the_person() -> None:
    reply = introductions(HARBOUR)
    reply.introduce(cited("Port engineer Ines Albuquerque has spent a decade measuring the silt.", HARBOUR))
    later = reply.introduce(cited("Albuquerque says the channel loses half a metre a year.", HARBOUR))
    assert later.text.startswith("Albuquerque says")


def test_a_pronoun_becomes_the_one_person_its_passage_names() -> None:
    reply = introductions(HARBOUR, COLUMN)
    subject = reply.introduce(cited("She wants the dredgers back by spring.", HARBOUR))
    assert subject.text == "[Ines Albuquerque] wants the dredgers back by spring."
    possessive = reply.introduce(cited("The spring deadline is her condition.", HARBOUR))
    assert possessive.text == "The spring deadline is [Albuquerque's] condition."
    written = Sentence("She wants the dredgers back soon.", (Citation.of(1, HARBOUR, "x"),), "supported")
    expected = "Ines Albuquerque wants the dredgers back soon."
    assert introductions(HARBOUR).introduce(written).text == expected, "the model's words change in place"


def test_a_pronoun_stays_when_the_passage_does_not_say_who() -> None:
    reply = introductions(HARBOUR, COLUMN, TWINS)
    both = Passage("two#p", "two", "Two", "", "Ines Albuquerque met Tomas Brandt at the quay.", ())
    reply.passages[both.id] = both
    sentence = cited("She asked him about the silt.", both)
    assert reply.introduce(sentence) is sentence
    byline_only = reply.introduce(cited("He would not say more.", COLUMN))
    assert byline_only.text == "[Tomas Brandt] would not say more.", "nobody named: the byline's author"
    unparsed = Introductions(full_names([HARBOUR]), {HARBOUR.id: HARBOUR}, None)
    kept = cited("She wants the dredgers back by spring.", HARBOUR)
    assert unparsed.introduce(kept) is kept, "without the parser no pronoun is read"
