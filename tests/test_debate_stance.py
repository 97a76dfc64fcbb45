"""The sentence stance classifier (debate/stance.py) on hand-labelled source sentences, with the real
sentence encoder and parser, and the framing descriptions loaded with the prompt set."""

from __future__ import annotations

import json
from pathlib import Path

from bot.briefing.debate.stance import StanceReader
from bot.language import LanguageModels
from bot.promptset import load_prompt_set

REPO = Path(__file__).resolve().parent.parent
LABELLED = REPO / "tests" / "data" / "stance_sentences.jsonl"


def reader() -> StanceReader:
    prompts, problems = load_prompt_set(REPO / "prompts")
    assert prompts is not None, problems
    made = StanceReader.of(LanguageModels.shared(), {s: prompts.framing(s) for s in ("race", "cooperation")})
    assert made is not None
    return made


def test_the_classifier_reads_labelled_sentences_and_rarely_gives_one_to_the_wrong_side() -> None:
    """Measured: 32 of 44 right (neutral included), 1 given to the wrong side (docs/debates.md;
    27 and 2 before the topic was removed and far sentences made neutral). What matters most for a
    debate is the second figure: a wrong-side sentence argues the other side's case in a speech."""
    rows = [json.loads(line) for line in LABELLED.read_text().splitlines() if line.strip()]
    assert len(rows) >= 30
    readings = reader().read([r["text"] for r in rows])
    labels = [r["label"] if r["label"] != "neutral" else "" for r in rows]
    right = sum(r.side == label for r, label in zip(readings, labels, strict=True))
    wrong_side = sum(
        bool(r.side and label and r.side != label) for r, label in zip(readings, labels, strict=True)
    )
    assert right >= 0.7 * len(rows), right
    assert wrong_side <= 1, wrong_side


def test_motions_are_read_for_their_direction() -> None:
    motions = REPO / "tests" / "data" / "debate_motions_argue.txt"
    favoured = [reader().motion_side(m) for m in motions.read_text().splitlines() if m.strip()]
    assert favoured == ["race", "cooperation", "race", "cooperation"]


def test_a_framing_file_that_breaks_is_refused_and_a_missing_one_is_named(tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "prompts"
    shutil.copytree(REPO / "prompts", copy)
    (copy / "framings" / "race.md").write_text("+++\ndescription = 'x'\n+++\n\n  \n")
    prompts, problems = load_prompt_set(copy)
    assert prompts is None and any(p.startswith("framings/race.md:") for p in problems), problems
    (copy / "framings" / "race.md").unlink()
    prompts, problems = load_prompt_set(copy)
    assert prompts is None and any("framings/race.md:1: required framing" in p for p in problems), problems
