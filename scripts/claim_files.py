"""Fact-check every claim file against its own sources, without the model, and compare two runs.

    .venv/bin/python scripts/claim_files.py --out run.json [--off CHECK ...] [--also NAME_claims.jsonl ...]
    .venv/bin/python scripts/claim_files.py --premises --out run.json [--also NAME_questions.jsonl ...]
    .venv/bin/python scripts/claim_files.py --answers --out run.json [--also NAME_questions.jsonl ...]
    .venv/bin/python scripts/claim_files.py --compare before.json after.json

`--premises` reads the question files instead (`eval_*` against the seeds, `NAME_questions.jsonl`
as claims go): every question that carries a proposition is put to the premise check, on the
passages the answer would weigh, and counts as right when it is corrected exactly when its class
is `false_premise`. `--answers` puts every question but the follow-ups (they need a conversation)
to the answerability decision and the extractive core (`weigh`): an in-scope question is right when
it is answered and the sentences picked hold every expected fact, an out-of-scope one when it is
declined. It is what the model's answer starts from, without the model.

Which sources a file is read against follows its name: `factcheck_*` the seeds (`prompts/sources`);
`other_*`, `tram_*`, `hospital_*`, `summit_*` their own folder in `tests/data/`; any other
`NAME_claims.jsonl` the seeds with the article `tests/data/articles_sources/NAME.md` beside them, as
a moderator would add it. `--also` adds a claim file whose article lies beside it (`NAME.md`), for a
new article before it joins `tests/data/`. `--compare` prints the right verdicts per kind and class
and every claim whose verdict changed (`+` now right, `-` now wrong, `~` wrong either way).
Run from the repository root; about four minutes on 2 cores for every file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import tempfile
from collections import Counter
from pathlib import Path

from factcheck_verdicts import verdict_of  # this folder is on the path of a script run from it

from bot.briefing.answer import POOL_K
from bot.briefing.citations import normalise_for_quote
from bot.briefing.eval_files import OUT_OF_SCOPE, load_claims, load_questions
from bot.briefing.evidence import weigh
from bot.briefing.premise import contradicted_premise, proposition
from bot.index import SourceIndex
from bot.language import LanguageModels
from bot.sources import load_sources

DATA = Path("tests/data")
SEEDS = Path("prompts/sources")
OWN_FOLDERS = ("other", "tram", "hospital", "summit")

Group = tuple[str, Path, bool]  # kind ("seed" or "article"), sources, whether beside the seeds


def groups(also: list[Path], questions: bool = False) -> dict[Group, list[Path]]:
    found: dict[Group, list[Path]] = {}
    if questions:
        files = sorted(set(DATA.glob("*_questions.jsonl")) | set(DATA.glob("eval_*.jsonl")))
    else:
        files = sorted(set(DATA.glob("*claims*.jsonl")) | set(DATA.glob("factcheck_*.jsonl")))
    for file in files:
        head = file.name.split("_")[0]
        if head in ("factcheck", "eval"):
            group: Group = ("seed", SEEDS, False)
        elif head in OWN_FOLDERS:
            group = ("seed", DATA / f"{head}_sources", False)
        else:
            group = ("article", DATA / "articles_sources" / f"{head}.md", True)
        found.setdefault(group, []).append(file)
    for file in also:
        article = file.with_name(file.name.replace("_claims.jsonl", ".md").replace("_questions.jsonl", ".md"))
        found[("article", article, True)] = [file]
    return found


async def verdicts(
    group: Group, files: list[Path], off: tuple[str, ...], mode: str
) -> list[dict[str, object]]:
    kind, sources, beside_seeds = group
    with tempfile.TemporaryDirectory() as folder:
        if beside_seeds:
            shutil.copytree(SEEDS, folder, dirs_exist_ok=True)
            shutil.copy(sources, folder)
        loaded, problems = load_sources(Path(folder) if beside_seeds else sources)
        if problems:
            raise SystemExit("\n".join(problems))
        index = await SourceIndex.build(loaded, LanguageModels.shared())
        rows: list[dict[str, object]] = []
        try:
            for file in files:
                if mode == "premises":
                    rows += await corrections(index, kind, file)
                elif mode == "answers":
                    rows += await decisions(index, kind, file)
                else:
                    rows += await checked(index, kind, file, off)
        finally:
            await index.aclose()
    return rows


async def checked(index: SourceIndex, kind: str, file: Path, off: tuple[str, ...]) -> list[dict[str, object]]:
    """The fact-check's verdict on every claim of `file`, as `factcheck_verdicts.verdict_of` gives it."""
    rows: list[dict[str, object]] = []
    for claim in load_claims(file):
        verdict, reasons = await verdict_of(index, claim.claim, off)
        rows.append(
            {
                "file": file.name,
                "kind": kind,
                "class": claim.cls,
                "claim": claim.claim,
                "expected": claim.verdict,
                "verdict": verdict,
                "why": reasons,
            }
        )
    return rows


async def corrections(index: SourceIndex, kind: str, file: Path) -> list[dict[str, object]]:
    """The premise check on every question of `file` that carries a proposition."""
    rows: list[dict[str, object]] = []
    for question in load_questions(file):
        if proposition(question.question) is None:
            continue
        evidence = weigh(index, question.question, await index.search(question.question, k=POOL_K))
        found = contradicted_premise(question.question, evidence.ranked, index.corpus, index)
        rows.append(
            {
                "file": file.name,
                "kind": kind,
                "class": question.cls,
                "claim": question.question,
                "expected": "corrected" if question.cls == "false_premise" else "answered",
                "verdict": "answered" if found is None else "corrected",
                "why": [] if found is None else found.comparison.mismatches,
            }
        )
    return rows


async def decisions(index: SourceIndex, kind: str, file: Path) -> list[dict[str, object]]:
    """The answerability decision and the picked sentences for every question of `file` that
    stands alone: "covered" when answered with every expected fact in the picks."""
    rows: list[dict[str, object]] = []
    for question in load_questions(file):
        if question.previous or not question.scored:
            continue
        evidence = weigh(index, question.question, await index.search(question.question, k=POOL_K))
        picked = normalise_for_quote(" ".join(pick.sentence for pick in evidence.picks))
        covered = all(any(normalise_for_quote(a) in picked for a in group) for group in question.expect)
        verdict = "declined" if evidence.kind != "answer" else "covered" if covered else "answered"
        rows.append(
            {
                "file": file.name,
                "kind": kind,
                "class": question.cls,
                "claim": question.question,
                "expected": "declined" if question.cls in OUT_OF_SCOPE else "covered",
                "verdict": verdict,
                "why": [evidence.reason],
            }
        )
    return rows


def totals(rows: list[dict[str, object]], name: str) -> None:
    """Right verdicts per kind, and per class."""
    for kind in ("seed", "article"):
        mine = [r for r in rows if r["kind"] == kind]
        right = Counter(str(r["class"]) for r in mine if r["verdict"] == r["expected"])
        print(f"{kind:<8} {name:<7} {sum(right.values())} of {len(mine)}  {dict(sorted(right.items()))}")


def compare(before: list[dict[str, object]], after: list[dict[str, object]]) -> None:
    totals(before, "before")
    totals(after, "after")
    earlier = {(r["file"], r["claim"]): r for r in before}
    for row in after:
        old = earlier.get((row["file"], row["claim"]))
        if old is None or old["verdict"] == row["verdict"]:
            continue
        mark = "+" if row["verdict"] == row["expected"] else "-" if old["verdict"] == old["expected"] else "~"
        print(f"{mark} {row['file']} {row['class']}: {old['verdict']} -> {row['verdict']} | {row['claim']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write every claim's verdict here (JSON)")
    parser.add_argument("--off", nargs="*", default=[], help="checks left out (see eval --ablate)")
    parser.add_argument("--also", nargs="*", type=Path, default=[], help="claim files of new articles")
    parser.add_argument("--premises", action="store_true", help="the question files' premises instead")
    parser.add_argument("--answers", action="store_true", help="the questions' answerability and picks")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    args = parser.parse_args()
    if args.compare:
        before, after = (json.loads(path.read_text(encoding="utf-8")) for path in args.compare)
        compare(before, after)
        return
    if args.out is None:
        parser.error("--out FILE or --compare BEFORE AFTER")

    async def every() -> list[dict[str, object]]:
        rows: list[dict[str, object]] = []
        mode = "premises" if args.premises else "answers" if args.answers else "claims"
        for group, files in groups(args.also, mode != "claims").items():
            rows += await verdicts(group, files, tuple(args.off), mode)
        return rows

    rows = asyncio.run(every())
    args.out.write_text(json.dumps(rows, indent=0), encoding="utf-8")
    totals(rows, "right")


if __name__ == "__main__":
    main()
