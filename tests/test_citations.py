"""Citation verification without a model: markers, quotes, attribution and the grounded ratio."""

from __future__ import annotations

from dataclasses import replace

from bot.briefing.citations import verify
from bot.index import Corpus, ScoredPassage
from bot.sources import Passage


def scored(pid: str, text: str, framing: tuple[str, ...] = ()) -> ScoredPassage:
    source = pid.split("#")[0]
    return ScoredPassage(
        passage=Passage(id=pid, source=source, title=source.title(), heading="", text=text, framing=framing),
        score=1.0,
    )


PASSAGES = [
    scored(
        "liu#track-two",
        "Yi-Ling Liu recommends expanding track-two dialogues between scientists and civil-society groups. "
        "Such channels could identify mutual red lines and coordinate safety standards.",
        ("cooperation",),
    ),
    scored(
        "liu#sputnik",
        'Liu calls DeepSeek-R1 a "Sputnik moment" that unnerved U.S. regulators and corporate leaders.',
        ("race",),
    ),
]


def test_valid_marker_kept_and_quote_is_verbatim() -> None:
    result = verify("Liu recommends expanding track-two dialogues between scientists [1].", PASSAGES)
    assert [c.id for c in result.citations] == ["liu#track-two"]
    assert result.citations[0].quote in PASSAGES[0].passage.text
    assert result.grounded == 1.0
    assert "[1]" in result.text


def test_wrong_marker_is_moved_to_the_supporting_passage() -> None:
    result = verify("DeepSeek-R1 was a Sputnik moment that unnerved U.S. regulators [1].", PASSAGES)
    assert [c.number for c in result.citations] == [2]
    assert "[2]" in result.text and "[1]" not in result.text


def test_out_of_range_marker_dropped_and_invented_sentence_flagged() -> None:
    text = (
        "Track-two dialogues coordinate safety standards [7]. Martians invented quantum bananas in Paris [2]."
    )
    result = verify(text, PASSAGES)
    assert "[7]" not in result.text
    assert result.unsupported == ["Martians invented quantum bananas in Paris."]
    assert result.grounded == 0.5
    assert all(c.id != "liu#sputnik" for c in result.citations)


def test_invented_quote_loses_its_quotation_marks() -> None:
    text = 'Liu said "the race is already lost forever and ever" about DeepSeek-R1 [2].'
    result = verify(text, PASSAGES)
    assert '"the race is already lost' not in result.text
    assert result.unverified_quotes == 1
    assert result.unsupported  # an invented quote never counts as supported


def test_real_quote_survives() -> None:
    result = verify('Liu calls DeepSeek-R1 a "Sputnik moment" for U.S. regulators [2].', PASSAGES)
    assert '"Sputnik moment"' in result.text
    assert result.grounded == 1.0


def test_short_sentences_are_not_counted() -> None:
    result = verify("Yes. In short:", PASSAGES)
    assert result.checked == [] and result.grounded == 1.0 and result.citations == []


def test_a_person_the_passage_does_not_name_is_unsupported() -> None:
    """Word overlap alone would pass this: every other word is the passage's."""
    invented = "Priya Liu recommends expanding track-two dialogues between scientists [1]."
    result = verify(invented, PASSAGES)
    assert result.unsupported and not result.citations
    named = verify("Yi-Ling Liu recommends expanding track-two dialogues between scientists [1].", PASSAGES)
    assert named.grounded == 1.0 and [c.id for c in named.citations] == ["liu#track-two"]


def test_a_clause_copied_from_the_passage_does_not_carry_an_invented_one() -> None:
    """ "Liu recommends expanding track-two dialogues between scientists: Martians run quantum
    banana farms" holds most of the passage's words as a whole; its second clause holds none."""
    copied = (
        "Yi-Ling Liu recommends expanding track-two dialogues between scientists and civil-society groups"
    )
    result = verify(f"{copied}: Martians run quantum banana farms [1].", PASSAGES)
    assert not result.citations and result.grounded == 0.0
    both = verify(f"{copied}: such channels could coordinate safety standards [1].", PASSAGES)
    assert [c.number for c in both.citations] == [1], "every clause is supported"


def test_a_person_named_by_surname_alone_must_be_named_by_the_passage() -> None:
    """A source unrelated to the seeds names two people in full, once each. A model sentence that
    gives one of them, by surname alone, the other's words is unsupported, though every other word
    is in the passage; the right surname, or no name, passes. A byline names its author."""
    river = [
        scored(
            "ostra#monitoring",
            "Hydrologist Amara Okafor of the University of Haldor designed the monitoring network of "
            "fourteen stations along the river.",
        ),
        scored("ostra#signing", "Kelland's environment minister, Tomas Reyes, signed the compact in Haldor."),
    ]
    people = Corpus.of(p.passage for p in river).people
    assert {"okafor", "reyes"} <= people

    def supported(sentence: str, passages: list[ScoredPassage] = river) -> bool:
        return bool(verify(sentence, passages, people=people).sentences[0].numbers)

    network = "designed the monitoring network of fourteen stations along the river [1]."
    assert supported(f"Okafor {network}")
    assert supported(f"Hydrologist Okafor {network}")
    assert not supported(f"Reyes {network}")
    assert not supported(f"According to Reyes, Okafor {network}")
    assert supported(f"A hydrologist {network}")
    assert verify(f"Reyes {network}", river).sentences[0].numbers, "unchecked without `people`"
    bylined = [replace(river[0], passage=replace(river[0].passage, by="Marta Villanueva"))]
    people = Corpus.of(p.passage for p in bylined).people
    assert "villanueva" in people
    assert supported(f"Villanueva notes that a hydrologist {network}", bylined)
