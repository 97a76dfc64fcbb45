"""`eval`: measure answer quality on a file of questions, so any GGUF model can be compared.

Each line of the file is `{"question": ..., "expect": [[alternatives], ...]}`: every group must be
matched by one of its alternatives (case-insensitive substring) for the question to count as fully
covered. A plain string in `expect` is a group with one alternative. Blank lines and lines starting
with `#` are skipped.

Reported, per question and overall:
- retrieval hit: every group is matched in the passages the model was given (retrieval found it);
- keyword coverage: share of groups matched in the answer or the passages it cites;
- citation validity: a citation is valid when its passage was given to the model and its quote is
  verbatim in that passage;
- grounded: the answer's supported sentences / checked sentences;
- latency: mean and 95th percentile of the whole answer (retrieval, prompt, generation, checks);
- the model, so runs on different GGUF files can be put side by side.

Every question runs in a fresh conversation that is deleted afterwards, so the database is left as
it was and no answer sees another's history.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.briefing.answer import answer
from bot.briefing.citations import normalise_for_quote
from bot.briefing.context import BriefingContext
from bot.briefing.models import Answer, Answered
from bot.errors import InputError

MAX_QUESTIONS = 1000
MAX_FILE_BYTES = 2 * 1024 * 1024
EVAL_USER = "eval"


@dataclass(frozen=True, slots=True)
class EvalQuestion:
    question: str
    expect: tuple[tuple[str, ...], ...]
    line: int


@dataclass(slots=True)
class EvalItem:
    """The outcome for one question."""

    question: str
    answer: str
    kind: str
    hit: bool
    coverage: float
    missing: list[list[str]]  # groups not found in the answer or its cited passages
    citations: int
    valid_citations: int
    grounded: float
    latency_ms: float
    passages: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer,
            "kind": self.kind,
            "retrieval_hit": self.hit,
            "keyword_coverage": round(self.coverage, 3),
            "missing": self.missing,
            "citations": self.citations,
            "valid_citations": self.valid_citations,
            "grounded": round(self.grounded, 3),
            "latency_ms": self.latency_ms,
            "passages": self.passages,
        }


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (p95 of 25 values is the 24th smallest)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


@dataclass(slots=True)
class EvalReport:
    model: str
    prompt_version: str
    items: list[EvalItem]

    @property
    def retrieval_hit_rate(self) -> float:
        return sum(i.hit for i in self.items) / len(self.items) if self.items else 0.0

    @property
    def keyword_coverage(self) -> float:
        return sum(i.coverage for i in self.items) / len(self.items) if self.items else 0.0

    @property
    def citation_validity(self) -> float:
        total = sum(i.citations for i in self.items)
        return sum(i.valid_citations for i in self.items) / total if total else 1.0

    @property
    def grounded(self) -> float:
        return sum(i.grounded for i in self.items) / len(self.items) if self.items else 0.0

    @property
    def latencies(self) -> list[float]:
        return [i.latency_ms for i in self.items]

    def summary(self) -> dict[str, Any]:
        latencies = self.latencies
        return {
            "model": self.model,
            "prompt_version": self.prompt_version,
            "questions": len(self.items),
            "retrieval_hit_rate": round(self.retrieval_hit_rate, 3),
            "keyword_coverage": round(self.keyword_coverage, 3),
            "citation_validity": round(self.citation_validity, 3),
            "citations": sum(i.citations for i in self.items),
            "answers_with_citations": sum(1 for i in self.items if i.citations),
            "grounded": round(self.grounded, 3),
            "latency_mean_ms": round(sum(latencies) / len(latencies), 1) if latencies else 0.0,
            "latency_p95_ms": round(percentile(latencies, 95), 1),
        }

    def to_json(self) -> dict[str, Any]:
        return {**self.summary(), "items": [i.to_json() for i in self.items]}


# --- the question file ------------------------------------------------------------------------


def _groups(value: object, where: str) -> tuple[tuple[str, ...], ...]:
    if not isinstance(value, list) or not value:
        raise InputError(f'{where}: "expect" must be a non-empty list of keyword groups')
    groups = []
    for group in value:
        alternatives = [group] if isinstance(group, str) else group
        if (
            not isinstance(alternatives, list)
            or not alternatives
            or not all(isinstance(a, str) and a.strip() for a in alternatives)
        ):
            raise InputError(f'{where}: each "expect" group must be a keyword or a list of keywords')
        groups.append(tuple(a.strip().lower() for a in alternatives))
    return tuple(groups)


def parse_questions(text: str, name: str) -> list[EvalQuestion]:
    """Parse JSON lines; every problem is reported as `name:line: message`."""
    questions = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{name}:{number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: not valid JSON ({exc.msg})") from None
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("question"), str)
            or not data["question"].strip()
        ):
            raise InputError(f'{where}: each line needs a "question" string')
        questions.append(EvalQuestion(data["question"].strip(), _groups(data.get("expect"), where), number))
        if len(questions) > MAX_QUESTIONS:
            raise InputError(f"{name}: more than {MAX_QUESTIONS} questions; split the file")
    if not questions:
        raise InputError(f"{name}: no questions found (one JSON object per line)")
    return questions


def load_questions(path: Path) -> list[EvalQuestion]:
    """Read an evaluation file, with clear messages for a missing, binary or malformed file."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(f"{path}: the file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}")
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a .jsonl file") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the file ({exc.strerror})") from None
    return parse_questions(text, str(path))


# --- scoring --------------------------------------------------------------------------------


def _matched(group: Sequence[str], haystack: str) -> bool:
    return any(normalise_for_quote(alternative) in haystack for alternative in group)


def score(question: EvalQuestion, result: Answer) -> EvalItem:
    """Score one answer against its question's expected keywords."""
    given = {p.passage.id: p.passage.text for p in result.passages}
    passages_text = normalise_for_quote(" ".join(given.values()))
    cited_text = " ".join(given.get(c.id, "") for c in result.citations)
    answer_text = normalise_for_quote(f"{result.text} {cited_text}")
    missing = [list(g) for g in question.expect if not _matched(g, answer_text)]
    valid = sum(1 for c in result.citations if c.id in given and c.quote and c.quote in given[c.id])
    return EvalItem(
        question=question.question,
        answer=result.text,
        kind=result.kind,
        hit=all(_matched(g, passages_text) for g in question.expect),
        coverage=1 - len(missing) / len(question.expect),
        missing=missing,
        citations=len(result.citations),
        valid_citations=valid,
        grounded=result.grounded,
        latency_ms=float(result.timings.get("total_ms", 0.0)),
        passages=list(given),
    )


async def evaluate(
    ctx: BriefingContext,
    questions: Sequence[EvalQuestion],
    *,
    on_item: Callable[[int, EvalItem], None] | None = None,
) -> EvalReport:
    """Answer every question in its own fresh conversation and score it."""
    run = uuid.uuid4().hex[:8]
    items: list[EvalItem] = []
    for number, question in enumerate(questions, start=1):
        conversation = f"eval:{run}:{number}"
        result: Answer | None = None
        try:
            async for event in answer(
                ctx, question.question, conversation_id=conversation, user_id=EVAL_USER
            ):
                if isinstance(event, Answered):
                    result = event.answer
        finally:
            await ctx.store.reset(conversation)
        assert result is not None, "answer stream ended without a result"
        item = score(question, result)
        items.append(item)
        if on_item is not None:
            on_item(number, item)
    return EvalReport(model=ctx.engine.model_name, prompt_version=ctx.prompts.version, items=items)
