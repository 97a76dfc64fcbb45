"""The Discord layer's pure parts: splitting at 2000 characters, the rate limit, formatting."""

from __future__ import annotations

import re

import pytest

from bot.briefing.models import Citation
from bot.discord_app.chunks import MESSAGE_LIMIT, split_message
from bot.discord_app.formatting import finished_line, queue_line, shorten, sources_embed
from bot.discord_app.limits import RateLimiter, check_length, rate_limit_message
from bot.errors import InputError

FENCE = re.compile(r"^\s*```", re.M)


def words_of(chunks: list[str]) -> list[str]:
    """The words of the chunks, without the fence lines a split may add."""
    return [w for c in chunks for w in c.split() if not w.startswith("```")]


def test_short_text_is_one_message() -> None:
    assert split_message("hello world") == ["hello world"]


def test_long_prose_splits_between_words_and_loses_nothing() -> None:
    text = " ".join(f"word{i}" for i in range(1200))  # ~8000 characters on one line
    chunks = split_message(text)
    assert len(chunks) >= 4
    assert all(len(c) <= MESSAGE_LIMIT for c in chunks)
    assert words_of(chunks) == text.split()


def test_lines_are_kept_whole_when_they_fit() -> None:
    lines = [f"Line {i}: " + "policy " * 20 for i in range(40)]
    chunks = split_message("\n".join(lines))
    assert all(len(c) <= MESSAGE_LIMIT for c in chunks)
    assert [line for c in chunks for line in c.split("\n")] == [line for line in lines]


def test_code_block_is_not_cut_when_it_fits_in_a_message() -> None:
    prose = "intro " * 300
    code = "```python\n" + "\n".join(f"x{i} = {i}" for i in range(100)) + "\n```"
    chunks = split_message(f"{prose}\n{code}\nafter")
    holder = next(c for c in chunks if "x0 = 0" in c)
    assert "x99 = 99" in holder and len(FENCE.findall(holder)) == 2


def test_long_code_block_is_closed_and_reopened_in_each_message() -> None:
    code = "```python\n" + "\n".join(f"value_{i} = compute({i})" for i in range(300)) + "\n```"
    chunks = split_message(code)
    assert len(chunks) > 1
    for chunk in chunks:
        assert len(chunk) <= MESSAGE_LIMIT
        assert chunk.startswith("```python") and chunk.rstrip().endswith("```")
        assert len(FENCE.findall(chunk)) == 2
    assert words_of(chunks) == words_of([code])


def test_a_giant_word_is_the_only_thing_ever_cut() -> None:
    text = "start " + "x" * 4500 + " end"
    chunks = split_message(text)
    assert all(len(c) <= MESSAGE_LIMIT for c in chunks)
    assert "".join(chunks).replace(" ", "") == text.replace(" ", "")


def test_rate_limiter_counts_per_user_in_a_sliding_minute() -> None:
    now = [1000.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    assert limiter.hit("a") == 0 and limiter.hit("a") == 0
    wait = limiter.hit("a")
    assert 59 <= wait <= 60
    assert limiter.hit("b") == 0  # other users are not affected
    now[0] += 60.5
    assert limiter.hit("a") == 0
    assert "wait 60 s" in rate_limit_message(59.2)


def test_input_length_limit() -> None:
    check_length("x" * 10, 10)
    with pytest.raises(InputError, match="under 10"):
        check_length("x" * 11, 10)


def test_formatting_helpers() -> None:
    assert "position 3" in queue_line(3) and "2 ahead" in queue_line(3)
    assert "next" in queue_line(1)
    assert "finished" in finished_line(2.0, 2) and "2 sources" in finished_line(2.0, 2)
    assert shorten("a " * 100, 20).endswith("…") and len(shorten("a " * 100, 20)) <= 20
    citation = Citation(1, "src#part", "src", "A Title", "A quote.")
    embed = sources_embed([citation])
    assert (
        embed is not None
        and "`src#part`" in (embed.description or "")
        and "A Title" in (embed.description or "")
    )
    assert sources_embed([]) is None


def test_supporting_quotes_are_a_line_each_and_the_embed_quotes_them_whole() -> None:
    """A long supporting quote is cut at a word to about a line in the message, marked "…"; the
    sources embed quotes it whole; the lead is never cut; what streamed is the start of the final."""
    from bot.briefing.models import Answer
    from bot.briefing.sentences import QUOTE_LEAD, Part, from_source
    from bot.discord_app.formatting import QUOTE_LINE, answer_text, part_text
    from bot.sources import Passage

    long = "The ferry operator said the crossing would close for the winter " + "because of ice " * 12 + "."
    passage = Passage("port#ice", "port", "The port", "Ice", long, ())
    lead_text = "The crossing closes for the winter, " + "for weeks on end, " * 8 + "the operator says."
    lead = Part((from_source(lead_text, Citation.of(1, passage, lead_text)),), "", "attributed")
    quote = from_source(long, Citation.of(2, passage, long))
    support = Part((quote,), QUOTE_LEAD, "quotes", separator="\n\n")
    answer = Answer(
        question="q", parts=[lead, support], citations=[quote.citations[0]], passages=[], model="m"
    )
    text = answer_text(answer)
    quote_line = text.splitlines()[-1]
    assert lead_text in text, "the answer's own first line is whole"
    assert "…" in quote_line and len(quote_line) <= len(QUOTE_LEAD) + QUOTE_LINE + 20, quote_line
    assert text == part_text(lead) + part_text(support)
    embed = sources_embed(answer.citations)
    assert embed is not None and long.strip(" .") in (embed.description or "").replace("\n> ", " ")
