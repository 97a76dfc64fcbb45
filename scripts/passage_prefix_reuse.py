"""How much prompt work a passage prefix cache could save, without the model: an upper bound.

    .venv/bin/python scripts/passage_prefix_reuse.py prompts/sources tests/data/eval_questions.jsonl \
        tests/data/eval_heldout.jsonl --stream 40 --trials 5

For a random stream of questions drawn from the eval files, it lists the passages each answer
prompt would carry (the bot's own search and weighing, as `answer` does), then counts the passage
tokens that some *earlier* prompt of the stream already had at the same position: the tokens a cache
that kept every earlier prompt, unbounded, could skip. Two orders are compared: the ranked order
the bot uses and a canonical one (sorted by passage id), which is what a prefix cache needs for two
questions to share more than the instructions. Only whole passages count: a prompt shares its first
k passages with an earlier one or it does not. Prints JSON.

This decided issue 31: if only a small share of passage tokens can ever be reused, no cache of
prefixes can halve the time to first token, whatever its eviction policy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
from collections.abc import Sequence
from pathlib import Path

from bot.briefing.answer import POOL_K, prompt_passages
from bot.briefing.eval_files import load_questions
from bot.briefing.evidence import weigh
from bot.briefing.prompting import format_sources
from bot.briefing.retrieval import retrieve
from bot.config import Settings
from bot.engine.model_file import resolve_model_path
from bot.index import ScoredPassage, SourceIndex
from bot.language import LanguageModels
from bot.sources import load_sources

Prompt = list[tuple[str, int]]  # (passage id, its tokens in the prompt), in prompt order


def reusable(stream: Sequence[Prompt]) -> int:
    """Passage tokens of each prompt already present, as a whole-passage prefix, in an earlier one."""
    saved = 0
    for i, prompt in enumerate(stream):
        best = 0
        for earlier in stream[:i]:
            shared = 0
            for (mine, tokens), (theirs, _) in zip(prompt, earlier, strict=False):
                if mine != theirs:
                    break
                shared += tokens
            best = max(best, shared)
        saved += best
    return saved


async def prompts_of(sources: Path, files: Sequence[Path]) -> list[list[ScoredPassage]]:
    loaded, problems = load_sources(sources)
    if problems:
        raise SystemExit("\n".join(problems))
    index = await SourceIndex.build(loaded, LanguageModels.load())
    found = []
    try:
        for path in files:
            for question in load_questions(path):
                pool = await retrieve(index, question.question, [], k=POOL_K)
                evidence = weigh(index, question.question, pool, "")
                if evidence.answerable:
                    found.append(prompt_passages(evidence))
    finally:
        await index.aclose()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", type=Path)
    parser.add_argument("questions", type=Path, nargs="+")
    parser.add_argument("--stream", type=int, default=40)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    import llama_cpp

    model = llama_cpp.Llama(str(resolve_model_path(Settings().model_path)), vocab_only=True, verbose=False)

    def tokens(passage: ScoredPassage) -> int:
        return len(model.tokenize(format_sources([passage]).encode(), add_bos=False))

    answered = asyncio.run(prompts_of(args.sources, args.questions))
    prompts = [[(p.passage.id, tokens(p)) for p in passages] for passages in answered]
    rng = random.Random(args.seed)
    ranked, canonical, totals = [], [], []
    for _ in range(args.trials):
        stream = rng.sample(prompts, min(args.stream, len(prompts)))
        total = sum(t for prompt in stream for _, t in prompt)
        totals.append(total)
        ranked.append(reusable(stream) / total)
        canonical.append(reusable([sorted(prompt) for prompt in stream]) / total)
    print(
        json.dumps(
            {
                "answered_questions": len(prompts),
                "stream": args.stream,
                "trials": args.trials,
                "passage_tokens_per_stream": round(statistics.fmean(totals)),
                "reusable_share_ranked": round(statistics.fmean(ranked), 3),
                "reusable_share_canonical": round(statistics.fmean(canonical), 3),
                "reusable_share_canonical_max": round(max(canonical), 3),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
