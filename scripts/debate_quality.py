"""Measure debate speeches against issue 15's and issue 28's targets over a file of motions.

    .venv/bin/python scripts/debate_quality.py tests/data/debate_motions.txt --rounds 2

Issue 28's figures, per motion and overall (`quality.py`): the share of speeches whose every cited
sentence argues its own side by the stance classifier (stance.py, framings read from
prompts/framings); the share with two or more checked sentences of their own besides quotes; the
round-two speeches that name the other side's point; and whether the judge's strongest points are
distinct and each its own side's.

Prints JSON: per motion, each speech's figures; overall, the share of speeches meeting the target,
and the share that the sources let meet it at best (`quality.ceiling`: a sentence is said once per
debate, so a framing with one sentence of its own on the motion carries one speech, not two).
Runs on the bundled model (settings from the environment, as `python -m bot` reads them).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from bot.briefing.debate import DebateFinished
from bot.briefing.debate.core import motion_terms
from bot.briefing.debate.quality import (
    answers,
    argues_own_side,
    ceiling,
    judge_points_sound,
    own_checked,
    share_meeting_target,
    speech_quality,
)
from bot.briefing.debate.results import SIDES, DebateResult
from bot.briefing.debate.stance import StanceReader
from bot.briefing.focus import focus_of
from bot.config import load_settings
from bot.errors import InputError
from bot.language import LanguageModels
from bot.promptset import split_front_matter
from bot.service import BriefingService


def framing_reader() -> StanceReader:
    """Read from the files themselves, so the same figures come from code that predates them."""
    folder = Path(load_settings().prompts_dir) / "framings"
    texts = {side: split_front_matter((folder / f"{side}.md").read_text())[1] for side in SIDES}
    reader = StanceReader.of(LanguageModels.shared(), texts)
    assert reader is not None, "the stance figures need the sentence encoder"
    return reader


def argued(result: DebateResult, reader: StanceReader) -> dict[str, object]:
    """Issue 28's figures for one debate."""
    turns = result.turns
    second = [t for t in turns if t.round > 1]
    answered = 0
    for turn in second:
        before = [t for t in turns[: turns.index(turn)] if t.side != turn.side][-1:]
        answered += any(answers(turn, [s for s, _ in b.points]) for b in before)
    spoken = {side: {s.strip() for t in turns if t.side == side for s, _ in t.points} for side in SIDES}
    judge = result.judge
    return {
        "speeches": len(turns),
        "argue_own_side": sum(argues_own_side(t, reader) for t in turns),
        "two_own_checked": sum(own_checked(t) >= 2 for t in turns),
        "round_two": len(second),
        "round_two_answers": answered,
        "judge_sound": bool(judge and judge_points_sound(judge.strongest, spoken, reader)),
    }


async def measure(motions: list[str], rounds: int) -> dict[str, object]:
    service = await BriefingService.open(load_settings())
    report: list[dict[str, object]] = []
    qualities = []
    best = 0
    reader = framing_reader()
    totals: dict[str, int] = {}
    try:
        for motion in motions:
            index = service.library.current.index
            about = motion_terms(focus_of(motion), index)
            most = ceiling(index.passages, about, SIDES, rounds)
            best += most
            stream = service.debate(motion, rounds=rounds, conversation_id="q", user_id="q")
            try:
                events = [event async for event in stream]
            except InputError as declined:
                report.append({"motion": motion, "declined": declined.user_message})
                continue
            result = next(e.result for e in events if isinstance(e, DebateFinished))
            speeches = [speech_quality(turn, about) for turn in result.turns]
            qualities += speeches
            figures28 = argued(result, reader)
            for key, value in figures28.items():
                totals[key] = totals.get(key, 0) + int(value)  # type: ignore[call-overload]
            report.append(
                {
                    "motion": motion,
                    "note": result.note,
                    "speeches": [q.to_json() for q in speeches],
                    "ceiling": most,
                    "issue28": figures28,
                    "result": result.to_json(),
                }
            )
            figures = [(q.checked_on_motion, q.own_alone_on_motion) for q in speeches]
            line = f"{share_meeting_target(speeches):.2f} (at best {most}/{len(speeches)}) {figures} {motion}"
            print(line, figures28, file=sys.stderr, flush=True)
    finally:
        await service.aclose()
    share = round(share_meeting_target(qualities), 3)
    bound = round(best / len(qualities), 3) if qualities else 0.0
    return {
        "speeches": len(qualities),
        "meeting_target": share,
        "ceiling": bound,
        "issue28": totals,
        "motions": report,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("motions", type=Path)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    motions = [line.strip() for line in args.motions.read_text().splitlines() if line.strip()]
    print(json.dumps(asyncio.run(measure(motions, args.rounds)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
