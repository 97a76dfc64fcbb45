"""Named topics for /brief (prompts/lexicon/topics.toml): validated with the prompt set, each problem
a `file:line: message`; offered before the sources' sections, by spelling and by meaning."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.briefing.topics import NamedTopic, topic_choices, topic_menu
from bot.language import LanguageModels
from bot.promptset import load_prompt_set

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def prompts(tmp_path: Path) -> Path:
    root = tmp_path / "prompts"
    shutil.copytree(REPO / "prompts", root)
    return root


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            '[[topic]]\nname = "A"\n\n[[topic]]\nabout = "no name"\n',
            "4: each topic needs a name",
        ),  # its header
        ('[[topic]]\nname = "Race"\n[[topic]]\nname = "race."\n', "4: the topic 'race.' is named twice"),
        ('[[topic]]\nname = "A"\ncolour = "red"\n', "3: unknown key 'colour'"),
        ('topics = ["A"]\n', "1: unknown key 'topics'"),
        ('[[topic]]\nname = "A"\nabout = 3\n', "3: about must be text"),
        ('[[topic]]\nname = "A\n', "2: not valid TOML"),
    ],
)
def test_a_broken_topics_file_is_a_file_line_problem(prompts: Path, text: str, problem: str) -> None:
    (prompts / "lexicon" / "topics.toml").write_text(text, encoding="utf-8")
    loaded, problems = load_prompt_set(prompts)
    assert loaded is None and len(problems) == 1
    assert problems[0].startswith(f"lexicon/topics.toml:{problem}"), problems


def test_the_file_is_optional_and_part_of_the_set_version(prompts: Path) -> None:
    shipped, problems = load_prompt_set(prompts)
    assert shipped is not None and not problems and shipped.topics
    (prompts / "lexicon" / "topics.toml").unlink()
    without, problems = load_prompt_set(prompts)
    assert without is not None and not problems and without.topics == ()
    assert without.version != shipped.version  # the briefing cache keys on it


def test_named_topics_come_first_then_sections_by_spelling_and_meaning() -> None:
    loaded, _ = load_prompt_set(REPO / "prompts")
    assert loaded is not None
    sections = topic_menu(loaded.sources)
    named = loaded.topics
    assert topic_choices(named, sections, "", None)[: len(named)] == [t.name for t in named]
    spelled = topic_choices(named, sections, "track", None)
    assert spelled[0] == "Track-two dialogue" and all("track" in c.lower() for c in spelled)
    chip = topic_choices(named, sections, "chip", LanguageModels.shared(), 5)
    assert chip[0] == "Hardware dependence and digital sovereignty"  # by what it is about
    assert "Digital sovereignty and dependence on Chinese hardware" in chip  # the section, after it
    only = [NamedTopic("Ferries")]
    assert topic_choices(only, ["Ferries", "Harbours"], "", None) == ["Ferries", "Harbours"]  # once
