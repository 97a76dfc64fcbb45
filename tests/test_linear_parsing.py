"""Every parser that sees moderator or user text runs in linear time on hostile input.

A source heading padded with a few thousand spaces once made check-prompts take minutes (a regex
that backtracked cubically) while the reload lock was held. The bound here is generous (2 s for
100,000 characters, where linear code takes well under 0.5 s on a loaded two-core machine): it
guards against minutes, not milliseconds.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.briefing import citations, focus, grounding, negation, topics
from bot.briefing.prompting import clean_user_text
from bot.discord_app.chunks import split_message
from bot.promptset import load_prompt_set
from bot.sources import split_heading
from bot.terms import sentences_of, split_sentences, words

REPO = Path(__file__).resolve().parent.parent
N = 100_000
BOUND_S = 2.0
HOSTILE = {
    "spaces": "a" + " " * N + "b",
    "spaces after a stop": "a." + " " * N + "b",
    "tabs and spaces": "x" + " \t" * (N // 2) + "\n",
    "blank lines": "\n \n" * (N // 3),
    "open brackets": "[" * N,
    "unclosed marker": ". [1" + ", 1" * (N // 3),
    "markers": ". " + "[1] " * (N // 4) + "x",
    "quotes": '"' * N,
    "apostrophes": "a'" * (N // 2),
    "braces": "{" * N,
    "stops": ". " * (N // 2),
    "backticks": "`" * N,
    "template tokens": "<|" * (N // 2),
}
PARSERS: dict[str, Callable[[str], object]] = {
    "clean_user_text": lambda text: clean_user_text(text + "?", max_chars=10 * N),
    "split_sentences": split_sentences,
    "sentences_of": sentences_of,
    "words": words,
    "citation markers": lambda text: citations.MARKER_RE.sub("", text),
    "quotes": lambda text: citations.QUOTE_RE.findall(text),
    "candidate sentences": grounding.candidate_sentences,
    "trim_unfinished": grounding.trim_unfinished,
    "strip_labels": lambda text: grounding.strip_labels(text, ["Race side"]),
    "topic": topics.normalise_topic,
    "negated terms": lambda text: negation.negated_terms(text, {"race"}),
    "denied report": negation.denied_report,
    "quoted phrases": lambda text: focus._QUOTED_RE.findall(text),
    "heading": lambda text: split_heading("## " + text + " {#slug}"),
    "message splitting": split_message,
}


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


@pytest.mark.parametrize("parser", PARSERS)
def test_parsers_are_linear_on_hostile_text(parser: str) -> None:
    slow = {}
    for name, text in HOSTILE.items():
        seconds = timed(lambda text=text: PARSERS[parser](text))
        if seconds > BOUND_S:
            slow[name] = round(seconds, 1)
    assert not slow, f"{parser} took seconds on: {slow}"


def test_check_prompts_on_a_heading_padded_with_spaces(tmp_path: Path) -> None:
    """The reported case, through the whole loader: 50,000 spaces in a heading, and in its body."""
    prompts = tmp_path / "prompts"
    shutil.copytree(REPO / "prompts", prompts)
    padded = " " * (N // 2)  # five of them fit the 256 KiB source limit
    (prompts / "sources" / "padded.md").write_text(
        f'+++\ntitle = "Padded"\n+++\n\n## Export{padded}controls{padded}\nChips{padded}matter.\n'
        f"## Again{padded}{{#again .race}}{padded}\nText.\n"
    )
    seconds = timed(lambda: load_prompt_set(prompts))
    prompt_set, problems = load_prompt_set(prompts)
    assert prompt_set is not None, problems
    padded_source = next(s for s in prompt_set.sources if s.slug == "padded")
    assert [(p.id, p.heading, p.framing) for p in padded_source.passages] == [
        ("padded#export-controls", f"Export{padded}controls", ()),
        ("padded#again", "Again", ("race",)),
    ]
    assert seconds < BOUND_S


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("## Track-two {#track-two .cooperation}", ("Track-two", "#track-two .cooperation")),
        ("## Plain heading", ("Plain heading", "")),
        ("##   Spaced   {#x}   ", ("Spaced", "#x")),
        ("## {#only}", ("", "#only")),
        ("## A {#x} B", ("A {#x} B", "")),
        ("## A {#x}{.race}", ("A {#x}", ".race")),
        ("## A {x}y}", ("A {x}y}", "")),
        ("## Unclosed {#x", ("Unclosed {#x", "")),
    ],
)
def test_heading_split_matches_the_documented_format(line: str, expected: tuple[str, str]) -> None:
    assert split_heading(line) == expected
