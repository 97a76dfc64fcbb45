"""The one renderer of checked sentences: markers, quotation marks, leads and layouts, and the
guarantees front ends rely on (a streamed part is exactly the next piece of the final text)."""

from __future__ import annotations

from bot.briefing.citations import verify
from bot.briefing.sentences import (
    QUOTE_LEAD,
    Citation,
    Part,
    Sentence,
    Shown,
    from_source,
    own_words,
    render,
    render_part,
    render_sentence,
    renumbered,
)


def cite(number: int) -> Citation:
    return Citation(number, f"p{number}", "s", "t", f"quote {number}")


def test_markers_go_before_the_final_stop_and_a_picked_sentence_is_closed() -> None:
    model = Sentence("Labs compared safety evaluations.", (cite(2), cite(1)), "supported")
    assert render_sentence(model) == "Labs compared safety evaluations [2] [1]."
    assert render_sentence(model, numbers=False) == "Labs compared safety evaluations."
    unfinished = Sentence('He called it a "Sputnik moment"', (cite(1),), "supported")
    assert render_sentence(unfinished) == 'He called it a "Sputnik moment" [1]', "the model's, as written"
    picked = from_source('He called it a "Sputnik moment"', cite(1))
    assert render_sentence(picked) == 'He called it a "Sputnik moment" [1].'
    assert render_sentence(picked, numbers=False) == 'He called it a "Sputnik moment".'
    assert render_sentence(own_words("The sources do not say.")) == "The sources do not say."


def test_layouts() -> None:
    a, b = from_source("A fact.", cite(1)), from_source('He said "no".', cite(2))
    assert render_part(Part((a,), QUOTE_LEAD, "quotes")) == f'{QUOTE_LEAD} "A fact." [1]'
    assert render_part(Part((a, b), QUOTE_LEAD, "quotes")).splitlines() == [
        QUOTE_LEAD,
        '- "A fact." [1]',
        '- He said "no". [2]',  # no quotes in quotes
    ]
    assert (
        render_part(Part((a, b), "**Key facts:**", "list"))
        == '**Key facts:**\n- A fact [1].\n- He said "no" [2].'
    )
    assert render_part(Part((a,), "**Bottom line:**", separator="\n")) == "\n**Bottom line:** A fact [1]."
    assert render_part(Part((a,), separator="\n"), first=True) == "A fact [1].", (
        "a first part has no separator"
    )


def test_what_is_streamed_is_exactly_the_start_of_the_final_text() -> None:
    shown = Shown()
    streamed = ""
    for part, separator in [
        (Part((from_source("One.", cite(1)),)), " "),
        (Part((from_source("Two.", cite(2)),)), " "),
        (Part((from_source("Three.", cite(1)),), QUOTE_LEAD, "quotes"), "\n\n"),
    ]:
        added = shown.add(part, separator)
        assert added is not None
        streamed += render_part(added)
    assert shown.add(Part(())) is None, "an empty part shows nothing"
    assert streamed == shown.text == render(shown.parts)
    assert streamed == f'One [1]. Two [2].\n\n{QUOTE_LEAD} "Three." [1]'


def test_renumbering_follows_first_appearance_and_drops_unknown_citations() -> None:
    citations = {4: cite(4), 2: cite(2)}
    order: dict[int, int] = {}
    first = renumbered(Sentence("A.", (cite(4), cite(9)), "supported"), order, citations)
    second = renumbered(Sentence("B.", (cite(2), cite(4)), "supported"), order, citations)
    assert first.numbers == [1] and second.numbers == [2, 1] and order == {4: 1, 2: 2}
    assert second.citations[0].id == "p2", "the citation keeps its passage under its new number"


def test_the_model_text_is_parsed_once_into_sentences(shipped_passages: dict[str, str]) -> None:
    from bot.index import ScoredPassage
    from bot.sources import Passage

    pid = "singh-china-experts#chernobyl-moment"
    given = [ScoredPassage(Passage(pid, "singh-china-experts", "T", "H", shipped_passages[pid], ()), 1.0)]
    result = verify('Researchers on both sides use the term "Chernobyl moment" [1]. Yes.', given)
    supported, short = result.sentences
    assert supported.text == 'Researchers on both sides use the term "Chernobyl moment".', (
        "no marker in the text"
    )
    assert (supported.check, supported.numbers, short.check) == ("supported", [1], "too_short")
    part = Part(tuple(result.sentences), "**Bottom line:**")
    assert Part.from_payload(part.to_payload(), {1: result.citations[0]}) == part, "the cache round-trips"


def test_a_full_stop_inside_a_quoted_title_does_not_end_the_sentence() -> None:
    from bot.terms import split_sentences

    text = 'Singh wrote "I Met With AI Experts. They\'re Worried, Too" last June. It ran online.'
    assert split_sentences(text) == [
        'Singh wrote "I Met With AI Experts. They\'re Worried, Too" last June.',
        "It ran online.",
    ]
    assert split_sentences('He said "no. Then left. Later.') == ['He said "no.', "Then left.", "Later."], (
        "an unbalanced quote splits as usual"
    )


def test_the_full_stop_of_an_abbreviation_does_not_end_the_sentence() -> None:
    """ "St. Brenna", "Dr. Lena Moraes" (lexicon/words.toml's `abbreviations`): cut there, a sentence
    would lose its subject and the next would open with half a name."""
    from bot.terms import split_sentences

    text = "Rafael Quint, chief executive of St. Brenna, will lead the trust. Dr. Lena Moraes opposes it."
    assert split_sentences(text) == [
        "Rafael Quint, chief executive of St. Brenna, will lead the trust.",
        "Dr. Lena Moraes opposes it.",
    ]
    assert split_sentences("It ends at the station. St. Brenna is next.") == [
        "It ends at the station.",
        "St. Brenna is next.",
    ]


def test_an_abbreviation_english_knows_before_a_figure_ends_no_sentence() -> None:
    """A month (or any abbreviation spaCy's English tokenizer keeps whole) before a figure ends no
    sentence, with no word list of ours; before a capital it may ("Calif. Prosecutors")."""
    from bot.terms import split_sentences

    text = "A jury on Nov. 3, 2024, cleared the firm. It is in Eugene, Ore. Prosecutors appealed."
    assert split_sentences(text) == [
        "A jury on Nov. 3, 2024, cleared the firm.",
        "It is in Eugene, Ore.",
        "Prosecutors appealed.",
    ]
