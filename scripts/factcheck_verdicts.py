"""Measure fact-check verdicts without the model: the share right per class over a claims file.

    .venv/bin/python scripts/factcheck_verdicts.py prompts/sources tests/data/factcheck_heldout2.jsonl

The verdict rests on the retrieved evidence alone (search, the topic gate, `compare`, `decide`); the
model only writes the explanation afterwards. So a verdict rule is measured here in a second, with
the same figures `eval --claims` reports. Prints JSON; `--misses` lists the wrong verdicts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections import defaultdict
from pathlib import Path

from bot.briefing.eval_files import EvalClaim, load_claims
from bot.briefing.factcheck import EVIDENCE_K
from bot.briefing.retrieval import is_on_topic
from bot.briefing.verdicts import Verdict, compare, decide
from bot.index import SourceIndex
from bot.sources import load_sources


async def verdict_of(index: SourceIndex, claim: str) -> tuple[Verdict, list[str]]:
    """The verdict `check_claim` gives, and the mismatches it rests on."""
    found = await index.search(claim, k=EVIDENCE_K)
    if not is_on_topic(claim, found):
        return "not_in_sources", ["off the subject"]
    verdict, deciding = decide([compare(claim, scored, index.corpus) for scored in found])
    return verdict, deciding.mismatches if deciding else []


async def measure(sources: Path, claims: list[EvalClaim]) -> dict[str, object]:
    loaded, problems = load_sources(sources)
    if problems:
        raise SystemExit("\n".join(problems))
    index = await SourceIndex.build(loaded)
    right: dict[str, list[bool]] = defaultdict(list)
    misses = []
    try:
        for item in claims:
            verdict, reasons = await verdict_of(index, item.claim)
            right[item.cls].append(verdict == item.verdict)
            if verdict != item.verdict:
                misses.append(
                    {"class": item.cls, "claim": item.claim, "verdict": verdict, "reasons": reasons}
                )
    finally:
        await index.aclose()
    every = [r for found in right.values() for r in found]
    return {
        "accuracy": round(sum(every) / len(every), 3) if every else None,
        "claims": len(every),
        "classes": {cls: f"{sum(found)}/{len(found)}" for cls, found in sorted(right.items())},
        "misses": misses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", type=Path, help="a folder of sources (prompts/sources)")
    parser.add_argument("claims", type=Path, help='a claims file (JSON lines {"claim", "verdict", "class"})')
    parser.add_argument("--misses", action="store_true", help="list the wrong verdicts")
    args = parser.parse_args()
    report = asyncio.run(measure(args.sources, load_claims(args.claims)))
    if not args.misses:
        report.pop("misses")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
