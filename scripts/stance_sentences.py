"""Measure the debate's sentence stance reader against labelled sentences.

    .venv/bin/python scripts/stance_sentences.py tests/data/stance_sentences_fresh.jsonl

Each line is `{"text": ..., "label": "race" | "cooperation" | "neutral"}`, optionally with
`"concessive": true` for a sentence that states the other side's view in order to answer it. A
speech uses only sentences read as its own side, so the figure that hurts a debate is "wrong side":
a sentence of one side read as the other's. Prints JSON per file: right, wrong side, and the same
for the concessive sentences.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from motion_sides import stance_reader  # this folder is on the path of a script run from it

from bot.briefing.debate.stance import StanceReader


def tally(reader: StanceReader, rows: list[dict[str, object]]) -> dict[str, object]:
    """Right and wrong-side counts over `rows`, and over their concessive ones."""
    labels = [str(r["label"]) if r["label"] != "neutral" else "" for r in rows]
    sides = [reading.side for reading in reader.read([str(r["text"]) for r in rows])]
    wrong = [bool(s and label and s != label) for s, label in zip(sides, labels, strict=True)]
    right = [s == label for s, label in zip(sides, labels, strict=True)]
    conceding = [i for i, r in enumerate(rows) if r.get("concessive")]
    return {
        "sentences": len(rows),
        "right": sum(right),
        "wrong_side": sum(wrong),
        "concessive": len(conceding),
        "concessive_right": sum(right[i] for i in conceding),
        "concessive_wrong_side": sum(wrong[i] for i in conceding),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", type=Path, nargs="+")
    parser.add_argument("--prompts", type=Path, default=Path("prompts"))
    args = parser.parse_args()
    reader = stance_reader(args.prompts)
    report = {}
    for path in args.files:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        report[path.name] = tally(reader, rows)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
