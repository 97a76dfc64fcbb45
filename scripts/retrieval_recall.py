"""Measure retrieval without the model: recall@3 and declines per class over an eval question file.

    .venv/bin/python scripts/retrieval_recall.py prompts/sources tests/data/eval_questions.jsonl

Runs each question through what `answer` does before the model speaks (search, weigh, the passages
the prompt lists), so an idea for retrieval or weighing is measured in a second instead of a model
run: recall@3 of the passages the answer would be built from (a declined question misses, as in
`eval`), and the share of each class declined (off-topic and not-in-sources should stay declined).
`lead_coverage` is the share of the expected facts in the core's first sentence alone, the answer's
first line when the model's own sentences fail; `core` per class is the same as `core_coverage`. A
follow-up is asked after its `previous` question and that question's answer.
Prints JSON; `--misses` lists the misses.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections import defaultdict
from pathlib import Path

from bot.briefing.answer import POOL_K, prompt_passages
from bot.briefing.eval_files import EvalQuestion, load_questions
from bot.briefing.evaluate import recall_at
from bot.briefing.evidence import weigh
from bot.briefing.referents import person_meant
from bot.briefing.retrieval import is_follow_up, previous_question, retrieve
from bot.index import SourceIndex
from bot.language import LanguageModels
from bot.sources import load_sources
from bot.store import Turn


async def shown(index: SourceIndex, question: EvalQuestion) -> tuple[bool, list[str], str, str]:
    """Whether the question is answered, the ids of the passages its answer would be built from,
    the extractive core's text (the source sentences the answer quotes when the model says little),
    and its first sentence (the answer's first line when none of the model's sentences holds). A
    follow-up is read as `answer` reads it, after its previous question and that question's answer,
    taken here as the sentences weighed for it (an answer quotes them)."""
    said = await _answered_before(index, question.previous) if question.previous else ""
    history = (
        [Turn("user", question.previous, question.previous, {}), Turn("assistant", said, said, {})]
        if question.previous
        else []
    )
    read, person = person_meant(question.question, question.previous, said, index.models)
    pool = await retrieve(index, read, history, k=POOL_K)
    follow_up = is_follow_up(question.question, history)
    earlier, told = (previous_question(history), said) if follow_up else ("", "")
    evidence = weigh(index, read, pool, earlier, told, person)
    ids = [s.passage.id for s in prompt_passages(evidence)] if evidence.answerable else []
    core = " ".join(pick.sentence for pick in evidence.picks).lower()
    lead = evidence.picks[0].sentence.lower() if evidence.picks else ""
    return evidence.answerable, ids, core, lead


async def _answered_before(index: SourceIndex, previous: str) -> str:
    """The sentences the answer to `previous` would quote, as an answer shows them; "" if declined."""
    evidence = weigh(index, previous, await retrieve(index, previous, k=POOL_K))
    return " ".join(f'"{pick.sentence}"' for pick in evidence.picks) if evidence.answerable else ""


async def measure(sources: Path, questions: list[EvalQuestion], lexical: bool) -> dict[str, object]:
    loaded, problems = load_sources(sources)
    if problems:
        raise SystemExit("\n".join(problems))
    index = await SourceIndex.build(loaded, None if lexical else LanguageModels.load())
    hits: dict[str, list[bool]] = defaultdict(list)
    core: list[float] = []
    core_by: dict[str, list[float]] = defaultdict(list)
    lead: list[float] = []
    declined: dict[str, list[bool]] = defaultdict(list)
    misses = []
    try:
        for question in questions:
            answered, ids, quoted, first = await shown(index, question)
            declined[question.cls].append(not answered)
            if answered and question.expect:
                core.append(sum(any(a in quoted for a in g) for g in question.expect) / len(question.expect))
                core_by[question.cls].append(core[-1])
                lead.append(sum(any(a in first for a in g) for g in question.expect) / len(question.expect))
            if (hit := recall_at(question.passages, ids)) is not None:
                hits[question.cls].append(hit)
                if not hit:
                    misses.append({"class": question.cls, "question": question.question, "shown": ids[:3]})
    finally:
        await index.aclose()
    every = [h for found in hits.values() for h in found]
    classes = {
        cls: {
            "recall_at_3": round(sum(hits[cls]) / len(hits[cls]), 3) if hits[cls] else None,
            "declined": f"{sum(declined[cls])}/{len(declined[cls])}",
            "core": round(sum(core_by[cls]) / len(core_by[cls]), 3) if core_by[cls] else None,
        }
        for cls in sorted(declined)
    }
    return {
        "recall_at_3": round(sum(every) / len(every), 3) if every else None,
        "core_coverage": round(sum(core) / len(core), 3) if core else None,
        "lead_coverage": round(sum(lead) / len(lead), 3) if lead else None,
        "classes": classes,
        "misses": misses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", type=Path, help="a folder of sources (prompts/sources)")
    parser.add_argument("questions", type=Path, help="an eval question file (JSON lines)")
    parser.add_argument("--misses", action="store_true", help="list the questions that miss")
    parser.add_argument("--lexical", action="store_true", help="without the sentence encoder")
    args = parser.parse_args()
    report = asyncio.run(measure(args.sources, load_questions(args.questions), args.lexical))
    if not args.misses:
        report.pop("misses")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
