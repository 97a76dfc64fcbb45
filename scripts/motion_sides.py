"""Measure which framing the debate reads a motion as favouring, against labelled motions.

    .venv/bin/python scripts/motion_sides.py tests/data/motion_sides.jsonl

Each line is `{"motion": ..., "favours": "race" | "cooperation"}`: the framing whose people would
vote for the motion. The side a debate assigns to argue *for* a motion comes from
`StanceReader.motion_side`, so a wrong reading has a side argue against its own material. Prints
JSON: the share right and the motions read wrongly, with their contrasts.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bot.briefing.debate import SIDES
from bot.briefing.debate.stance import StanceReader
from bot.language import LanguageModels
from bot.promptset import split_front_matter


def stance_reader(prompts: Path) -> StanceReader:
    """The debate's stance reader on the framing descriptions of the prompt folder `prompts`."""
    descriptions = {
        side: split_front_matter((prompts / "framings" / f"{side}.md").read_text(encoding="utf-8"))[1]
        for side in SIDES
    }
    reader = StanceReader.of(LanguageModels.shared(), descriptions)
    if reader is None:
        raise SystemExit("the sentence encoder is missing: stances cannot be read")
    return reader


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("motions", type=Path)
    parser.add_argument("--prompts", type=Path, default=Path("prompts"))
    args = parser.parse_args()
    reader = stance_reader(args.prompts)
    rows = [
        json.loads(line) for line in args.motions.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    wrong = []
    for row in rows:
        read = reader.motion_side(row["motion"])
        if read != row["favours"]:
            wrong.append(
                {"motion": row["motion"], "read": read, "contrast": reader.contrasts([row["motion"]])[0]}
            )
    print(
        json.dumps(
            {"motions": len(rows), "right": round(1 - len(wrong) / len(rows), 3), "wrong": wrong}, indent=1
        )
    )


if __name__ == "__main__":
    main()
