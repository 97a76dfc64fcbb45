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
from collections.abc import Collection
from pathlib import Path

from bot.briefing.eval_files import EvalClaim, load_claims
from bot.briefing.factcheck import verdict_for
from bot.briefing.verdicts import Verdict
from bot.index import SourceIndex
from bot.language import LanguageModels
from bot.sources import load_sources


async def verdict_of(index: SourceIndex, claim: str, off: Collection[str] = ()) -> tuple[Verdict, list[str]]:
    """The verdict `check_claim` gives, and the mismatches it rests on."""
    found, _, verdict, deciding = await verdict_for(index, claim, off)
    if not found:
        return "not_in_sources", ["off the subject"]
    return verdict, deciding.mismatches if deciding else []


async def measure(
    sources: Path, claims: list[EvalClaim], lexical: bool = False, off: Collection[str] = ()
) -> dict[str, object]:
    loaded, problems = load_sources(sources)
    if problems:
        raise SystemExit("\n".join(problems))
    index = await SourceIndex.build(loaded, None if lexical else LanguageModels.shared())
    right: dict[str, list[bool]] = defaultdict(list)
    misses = []
    try:
        for item in claims:
            verdict, reasons = await verdict_of(index, item.claim, off)
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
    parser.add_argument("--lexical", action="store_true", help="without the language models")
    args = parser.parse_args()
    report = asyncio.run(measure(args.sources, load_claims(args.claims), args.lexical))
    if not args.misses:
        report.pop("misses")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
