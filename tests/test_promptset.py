"""Prompt files: validation with file:line messages, and atomic reload that keeps the old set live."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.library import Library
from bot.promptset import load_prompt_set

REPO_PROMPTS = Path(__file__).resolve().parent.parent / "prompts"


@pytest.fixture
def prompts_copy(tmp_path: Path) -> Path:
    target = tmp_path / "prompts"
    shutil.copytree(REPO_PROMPTS, target)
    return target


def problems_for(root: Path) -> list[str]:
    prompts, problems = load_prompt_set(root)
    assert prompts is None, "expected the prompt set to be rejected"
    return problems


def test_shipped_prompts_are_valid() -> None:
    prompts, problems = load_prompt_set(REPO_PROMPTS)
    assert problems == []
    assert prompts is not None
    assert set(prompts.personas) == {"briefer", "race_advocate", "cooperation_advocate", "judge"}
    assert prompts.sources, "briefing sources must load"
    assert len(prompts.version) == 12


def test_unknown_placeholder_names_file_and_line(prompts_copy: Path) -> None:
    path = prompts_copy / "templates" / "answer.md"
    lines = path.read_text().splitlines()
    lines.append("Also consider {qestion}.")
    path.write_text("\n".join(lines) + "\n")
    problems = problems_for(prompts_copy)
    assert any(
        p.startswith(f"templates/answer.md:{len(lines)}: unknown placeholder {{qestion}}") for p in problems
    ), problems


def test_unbalanced_brace_is_reported(prompts_copy: Path) -> None:
    (prompts_copy / "templates" / "brief.md").write_text("+++\n+++\nTopic: {topic\n{sources}\n")
    problems = problems_for(prompts_copy)
    assert any(p.startswith("templates/brief.md:3:") for p in problems), problems


def test_empty_persona_missing_file_and_bad_toml(prompts_copy: Path) -> None:
    (prompts_copy / "personas" / "judge.md").write_text("+++\ndescription = 'x'\n+++\n\n   \n")
    (prompts_copy / "messages" / "off_topic.md").unlink()
    (prompts_copy / "personas" / "briefer.md").write_text("+++\ndescription = \n+++\nHello\n")
    problems = problems_for(prompts_copy)
    joined = "\n".join(problems)
    assert "personas/judge.md:4: the text is empty" in joined
    assert "messages/off_topic.md:1: required message file is missing" in joined
    assert "personas/briefer.md:2: front matter is not valid TOML" in joined


def test_binary_huge_and_unknown_files(prompts_copy: Path) -> None:
    (prompts_copy / "personas" / "race_advocate.md").write_bytes(b"\x00\x01\x02binary")
    (prompts_copy / "templates" / "factcheck.md").write_text("x" * (70 * 1024))
    (prompts_copy / "templates" / "surprise.md").write_text("hello")
    joined = "\n".join(problems_for(prompts_copy))
    assert "personas/race_advocate.md:1: binary file" in joined
    assert "templates/factcheck.md:1: file is" in joined
    assert "templates/surprise.md:1: unknown template 'surprise'" in joined


def test_unknown_front_matter_field(prompts_copy: Path) -> None:
    (prompts_copy / "personas" / "judge.md").write_text("+++\ndescripton = 'typo'\n+++\nBe fair.\n")
    joined = "\n".join(problems_for(prompts_copy))
    assert "personas/judge.md:2: front matter field descripton" in joined


ARTICLE = """+++
title = "Night Shift at the Border Depot"
+++

Before dawn on a wet Thursday, an inspector named Odile Brannock opened a crate of graphics cards.

She counted forty of them.

## What the crate held

The manifest had said printer parts.
"""


def test_an_article_that_opens_before_its_first_heading_keeps_its_lede(prompts_copy: Path) -> None:
    """A journalist's lede comes before any heading: it becomes a passage headed by the title."""
    (prompts_copy / "sources" / "depot.md").write_text(ARTICLE)
    prompts, problems = load_prompt_set(prompts_copy)
    assert problems == [] and prompts is not None
    (depot,) = [source for source in prompts.sources if source.slug == "depot"]
    assert [(p.id, p.heading) for p in depot.passages] == [
        ("depot#opening", "Night Shift at the Border Depot"),
        ("depot#what-the-crate-held", "What the crate held"),
    ]
    assert depot.passages[0].text.endswith("She counted forty of them.")


def test_a_heading_may_not_take_the_lede_s_passage_id(prompts_copy: Path) -> None:
    (prompts_copy / "sources" / "depot.md").write_text(
        ARTICLE.replace("## What the crate held", "## Later {#opening}")
    )
    assert "sources/depot.md:9: passage id 'opening' is the text before the first heading" in "\n".join(
        problems_for(prompts_copy)
    )


def test_text_the_bot_reads_back_is_declared_and_checked(prompts_copy: Path) -> None:
    """Stop strings and labels are declared in the template's front matter and must be in its text:
    a moderator who renames "Question:" in the text alone is told, instead of answers running on."""
    prompts, _ = load_prompt_set(REPO_PROMPTS)
    assert prompts is not None
    assert "Question:" in prompts.stop_strings
    assert (
        prompts.speaker("race") == "race_advocate"
        and prompts.speaker("cooperation") == "cooperation_advocate"
    )
    assert "Your opponent said:" in prompts.template("debate_turn").labels
    answer = prompts_copy / "templates" / "answer.md"
    answer.write_text(answer.read_text().replace("Question: {question}", "Q: {question}"))
    debate = prompts_copy / "templates" / "debate_turn.md"
    debate.write_text(debate.read_text().replace("Your opponent said: {opponent}", "They said: {opponent}"))
    joined = "\n".join(problems_for(prompts_copy))
    assert "templates/answer.md:2: stop 'Question:' is not in the template's text" in joined
    assert "templates/debate_turn.md:2: labels 'Your opponent said:' is not in the template's text" in joined


def test_debate_speakers_are_named_by_the_template(prompts_copy: Path) -> None:
    """The persona of each side comes from debate_turn's front matter: renaming a speaker's file
    works when the front matter follows, and a side without a speaker, or a missing file, is named."""
    personas, debate = prompts_copy / "personas", prompts_copy / "templates" / "debate_turn.md"
    (personas / "race_advocate.md").rename(personas / "hawk.md")
    debate.write_text(debate.read_text().replace('race = "race_advocate"', 'race = "hawk"'))
    prompts, problems = load_prompt_set(prompts_copy)
    assert problems == [] and prompts is not None and prompts.speaker("race") == "hawk"
    debate.write_text(debate.read_text().replace('race = "hawk", ', ""))
    assert "templates/debate_turn.md:2: personas must name exactly the sides" in "\n".join(
        problems_for(prompts_copy)
    )
    debate.write_text(debate.read_text().replace("personas = {", 'personas = { race = "dove", '))
    assert "personas/dove.md:1: required persona file is missing" in problems_for(prompts_copy)
    answer = prompts_copy / "templates" / "answer.md"
    answer.write_text(
        "\n".join(line for line in answer.read_text().splitlines() if not line.startswith("stop"))
    )
    assert "templates/answer.md:2: front matter must declare stop (the bot reads it)" in problems_for(
        prompts_copy
    )


async def test_reload_swaps_only_valid_sets(prompts_copy: Path) -> None:
    library = await Library.open(prompts_copy)
    try:
        before = library.current
        # A broken edit: the live set must not change at all.
        (prompts_copy / "templates" / "answer.md").write_text("+++\n+++\n{sources} {nope}\n")
        report = await library.reload()
        assert not report.ok
        assert any("templates/answer.md:3: unknown placeholder {nope}" in p for p in report.problems)
        assert library.current is before
        assert "{question}" in library.current.prompts.template("answer").text
        # A good edit swaps in a new version and reports what changed.
        (prompts_copy / "templates" / "answer.md").write_text(
            '+++\nstop = ["Question:"]\n+++\nSources:\n{sources}\n\nQuestion: {question}\nAnswer briefly.\n'
        )
        (prompts_copy / "sources" / "extra-note.txt").write_text(
            "Moderator note on export controls\n\n"
            "The United States restricts exports of advanced AI chips to China, "
            "a moderator added this note to test reloading of sources."
        )
        report = await library.reload()
        assert report.ok, report.problems
        assert report.changed == ["templates/answer.md"]
        assert report.added == ["sources/extra-note.txt"]
        assert report.version != before.prompts.version
        assert library.current.prompts.version == report.version
        hits = await library.current.index.search("export controls chips", k=3)
        assert hits and hits[0].passage.source == "extra-note"
    finally:
        await library.aclose()
