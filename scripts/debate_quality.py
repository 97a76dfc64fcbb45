"""Measure debate speeches against issue 15's target over a file of motions (one per line).

    .venv/bin/python scripts/debate_quality.py tests/data/debate_motions.txt --rounds 2

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
from bot.briefing.debate.quality import ceiling, share_meeting_target, speech_quality
from bot.briefing.debate.results import SIDES
from bot.briefing.focus import focus_of
from bot.config import load_settings
from bot.errors import InputError
from bot.service import BriefingService


async def measure(motions: list[str], rounds: int) -> dict[str, object]:
    service = await BriefingService.open(load_settings())
    report: list[dict[str, object]] = []
    qualities = []
    best = 0
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
            report.append(
                {
                    "motion": motion,
                    "note": result.note,
                    "speeches": [q.to_json() for q in speeches],
                    "ceiling": most,
                    "result": result.to_json(),
                }
            )
            figures = [(q.checked_on_motion, q.own_alone_on_motion) for q in speeches]
            line = f"{share_meeting_target(speeches):.2f} (at best {most}/{len(speeches)}) {figures} {motion}"
            print(line, file=sys.stderr, flush=True)
    finally:
        await service.aclose()
    share = round(share_meeting_target(qualities), 3)
    bound = round(best / len(qualities), 3) if qualities else 0.0
    return {"speeches": len(qualities), "meeting_target": share, "ceiling": bound, "motions": report}


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
