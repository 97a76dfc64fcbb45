"""`eval`: measure answer quality on a file of tagged questions, so changes and models can be compared.

The file format is described in `bot/briefing/eval_files.py`. Reported per question, per class and
overall:
- coverage: share of `expect` groups found in the answer text itself (what the user reads; a
  declined answer covers nothing); the older `keyword_coverage` also counts the passages the answer
  cites;
- recall@3: whether one of the question's gold `passages` is among the first three passages the
  answer was built from (a declined question was built from none, so it misses);
- declines: an answer is declined when its kind is one of `DECLINED_KINDS`; precision and recall
  are measured against the out-of-scope classes (`off_topic`, `not_in_sources`), and the share of
  in-scope questions wrongly declined is reported beside them;
- premise corrections: a false-premise question counts when the answer says it corrected the
  premise (`Answer.corrected_premise`) and its text holds every `expect` group (the correction);
- citation validity, grounded share, and latency (mean and 95th percentile of the whole answer);
- unscored: questions whose `expect` is "unknown" (a 👎 exported before a moderator said what a right
  answer holds). They are asked and listed, but count as neither hit nor coverage.

A follow-up is asked after its `previous` question in the same conversation; only the follow-up is
scored. Every question runs in a fresh conversation that is deleted afterwards, so the database is
left as it was and no answer sees another question's history. With `--claims`, every claim also runs
through the fact-check and the verdicts are scored per class.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.briefing.answer import answer
from bot.briefing.citations import normalise_for_quote
from bot.briefing.context import BriefingContext
from bot.briefing.eval_files import (
    EvalClaim,
    EvalQuestion,
    load_claims,
    load_questions,
    parse_claims,
    parse_questions,
)
from bot.briefing.factcheck import check_claim, verdict_for
from bot.briefing.meaning_checks import CHECKS
from bot.briefing.models import Answer, Answered
from bot.briefing.verdicts import WORD_CHECKS
from bot.index import SourceIndex
from bot.measures import percentile

__all__ = [
    "EvalClaim",
    "EvalQuestion",
    "load_claims",
    "load_questions",
    "parse_claims",
    "parse_questions",
]

EVAL_USER = "eval"
RECALL_K = 3
DECLINED_KINDS = frozenset({"off_topic", "not_covered", "no_sources"})


@dataclass(slots=True)
class EvalItem:
    """The outcome for one question."""

    question: str
    answer: str
    kind: str
    hit: bool  # every expect group is in the passages the model was given
    coverage: float | None  # share of expect groups in the answer text; None when nothing is expected
    cited_coverage: float | None  # the same, counting the cited passages too (the older measure)
    missing: list[list[str]]  # groups not found in the answer text
    citations: int
    valid_citations: int
    grounded: float
    latency_ms: float
    passages: list[str] = field(default_factory=list)
    cls: str = "untagged"
    in_scope: bool = True
    recall_at_3: bool | None = None  # None when the question names no gold passages
    corrected_premise: bool = False
    previous: str = ""
    expected: int = 0  # how many expect groups the question has
    scored: bool = True  # False when nobody has said what a right answer holds ("expect": "unknown")

    @property
    def declined(self) -> bool:
        return self.kind in DECLINED_KINDS

    @property
    def premise_corrected(self) -> bool:
        """The answer flags the false premise and states the correction."""
        return self.scored and self.corrected_premise and not self.missing

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "class": self.cls,
            **({"previous": self.previous} if self.previous else {}),
            **({} if self.scored else {"scored": False}),
            "answer": self.answer,
            "kind": self.kind,
            "declined": self.declined,
            "corrected_premise": self.corrected_premise,
            "retrieval_hit": self.hit,
            "recall_at_3": self.recall_at_3,
            "coverage": _round(self.coverage),
            "keyword_coverage": _round(self.cited_coverage),
            "missing": self.missing,
            "citations": self.citations,
            "valid_citations": self.valid_citations,
            "grounded": round(self.grounded, 3),
            "latency_ms": self.latency_ms,
            "passages": self.passages,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def mean(values: Iterable[float | bool | None]) -> float | None:
    """Mean of the values that apply (None is skipped); None when none applies."""
    present = [float(v) for v in values if v is not None]
    return sum(present) / len(present) if present else None


def share(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 3) if denominator else None


def group_figures(items: Sequence[EvalItem]) -> dict[str, Any]:
    """The figures of one class (or of all questions): each is None where it does not apply."""
    latencies = [i.latency_ms for i in items]
    premises = [i for i in items if i.cls == "false_premise"]
    return {
        "questions": len(items),
        "unscored": sum(not i.scored for i in items),
        "coverage": _round(mean(i.coverage for i in items)),
        "fully_covered": _round(mean(None if i.coverage is None else i.coverage == 1.0 for i in items)),
        "recall_at_3": _round(mean(i.recall_at_3 for i in items)),
        "declined": share(sum(i.declined for i in items), len(items)),
        "premise_corrected": share(sum(i.premise_corrected for i in premises), len(premises)),
        "latency_mean_ms": round(sum(latencies) / len(latencies), 1) if latencies else 0.0,
        "latency_p95_ms": round(percentile(latencies, 0.95), 1),
    }


@dataclass(slots=True)
class EvalReport:
    model: str
    prompt_version: str
    items: list[EvalItem]
    claims: ClaimReport | None = None

    def declines(self) -> dict[str, float | None]:
        """Decline precision and recall against the out-of-scope classes, and wrong declines."""
        declined = [i for i in self.items if i.declined]
        out = [i for i in self.items if not i.in_scope]
        in_scope = [i for i in self.items if i.in_scope]
        right = sum(1 for i in declined if not i.in_scope)
        return {
            "decline_precision": share(right, len(declined)),
            "decline_recall": share(right, len(out)),
            "in_scope_declined": share(sum(i.declined for i in in_scope), len(in_scope)),
        }

    def by_class(self) -> dict[str, dict[str, Any]]:
        groups: dict[str, list[EvalItem]] = defaultdict(list)
        for item in self.items:
            groups[item.cls].append(item)
        return {cls: group_figures(items) for cls, items in groups.items()}

    def summary(self) -> dict[str, Any]:
        """The figures over all questions (coverage and recall only count in-scope questions, the
        only ones that expect facts and name gold passages), then the older measures."""
        citations = sum(i.citations for i in self.items)
        return {
            "model": self.model,
            "prompt_version": self.prompt_version,
            **group_figures(self.items),
            **self.declines(),
            "retrieval_hit_rate": _round(mean(i.hit for i in self.items if i.expected)),
            "keyword_coverage": _round(mean(i.cited_coverage for i in self.items)),
            "citation_validity": round(sum(i.valid_citations for i in self.items) / citations, 3)
            if citations
            else 1.0,
            "citations": citations,
            "answers_with_citations": sum(1 for i in self.items if i.citations),
            "grounded": round(mean(i.grounded for i in self.items) or 0.0, 3),
        }

    def to_json(self) -> dict[str, Any]:
        data = {**self.summary(), "classes": self.by_class(), "items": [i.to_json() for i in self.items]}
        if self.claims is not None:
            data["claims"] = self.claims.to_json()
        return data


# --- scoring --------------------------------------------------------------------------------


def _matched(group: Sequence[str], haystack: str) -> bool:
    return any(normalise_for_quote(alternative) in haystack for alternative in group)


def _coverage(groups: Sequence[Sequence[str]], haystack: str) -> float | None:
    if not groups:
        return None
    return sum(_matched(g, haystack) for g in groups) / len(groups)


def recall_at(gold: Sequence[str], ranked: Sequence[str], k: int = RECALL_K) -> bool | None:
    """Whether one of the gold passage ids is among the first `k` ranked ids; None without gold."""
    if not gold:
        return None
    return any(pid in gold for pid in ranked[:k])


def score(question: EvalQuestion, result: Answer) -> EvalItem:
    """Score one answer against its question's expected keywords and gold passages."""
    given = {p.passage.id: p.passage.text for p in result.passages}
    # a decline tells the user the sources do not cover it: words of its "closest topics" list
    # (a heading may hold the very name asked for) are no answer
    text = "" if result.kind in DECLINED_KINDS else normalise_for_quote(result.text)
    cited = normalise_for_quote(" ".join(given.get(c.id, "") for c in result.citations))
    valid = sum(1 for c in result.citations if c.id in given and c.quote and c.quote in given[c.id])
    return EvalItem(
        question=question.question,
        answer=result.text,
        kind=result.kind,
        hit=question.scored
        and all(_matched(g, normalise_for_quote(" ".join(given.values()))) for g in question.expect),
        coverage=_coverage(question.expect, text),
        cited_coverage=_coverage(question.expect, f"{text} {cited}"),
        missing=[list(g) for g in question.expect if not _matched(g, text)],
        citations=len(result.citations),
        valid_citations=valid,
        grounded=result.grounded,
        latency_ms=float(result.timings.get("total_ms", 0.0)),
        passages=list(given),
        cls=question.cls,
        in_scope=question.in_scope,
        recall_at_3=recall_at(question.passages, list(given)),
        corrected_premise=result.corrected_premise,
        previous=question.previous,
        expected=len(question.expect),
        scored=question.scored,
    )


# --- running --------------------------------------------------------------------------------


async def _ask(ctx: BriefingContext, question: str, conversation: str) -> Answer:
    result: Answer | None = None
    async for event in answer(ctx, question, conversation_id=conversation, user_id=EVAL_USER):
        if isinstance(event, Answered):
            result = event.answer
    assert result is not None, "answer stream ended without a result"
    return result


async def evaluate(
    ctx: BriefingContext,
    questions: Sequence[EvalQuestion],
    *,
    on_item: Callable[[int, EvalItem], None] | None = None,
) -> EvalReport:
    """Answer every question in its own fresh conversation (after its `previous` question, for a
    follow-up) and score it."""
    run = uuid.uuid4().hex[:8]
    items: list[EvalItem] = []
    for number, question in enumerate(questions, start=1):
        conversation = f"eval:{run}:{number}"
        try:
            if question.previous:
                await _ask(ctx, question.previous, conversation)
            item = score(question, await _ask(ctx, question.question, conversation))
        finally:
            await ctx.store.reset(conversation)
        items.append(item)
        if on_item is not None:
            on_item(number, item)
    return EvalReport(model=ctx.engine.model_name, prompt_version=ctx.prompts.version, items=items)


# --- fact-check claims ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClaimItem:
    claim: str
    cls: str
    expected: str
    verdict: str
    latency_ms: float

    @property
    def correct(self) -> bool:
        return self.verdict == self.expected

    def to_json(self) -> dict[str, Any]:
        return {
            "claim": self.claim,
            "class": self.cls,
            "expected": self.expected,
            "verdict": self.verdict,
            "correct": self.correct,
            "latency_ms": self.latency_ms,
        }


@dataclass(slots=True)
class ClaimReport:
    items: list[ClaimItem]

    def by_class(self) -> dict[str, dict[str, Any]]:
        groups: dict[str, list[ClaimItem]] = defaultdict(list)
        for item in self.items:
            groups[item.cls].append(item)
        return {
            cls: {"claims": len(group), "accuracy": share(sum(i.correct for i in group), len(group))}
            for cls, group in groups.items()
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "claims": len(self.items),
            "accuracy": share(sum(i.correct for i in self.items), len(self.items)),
            "classes": self.by_class(),
            "items": [i.to_json() for i in self.items],
        }


async def evaluate_claims(
    ctx: BriefingContext,
    claims: Sequence[EvalClaim],
    *,
    on_item: Callable[[int, ClaimItem], None] | None = None,
) -> ClaimReport:
    """Fact-check every claim and compare the verdict with the expected one."""
    items: list[ClaimItem] = []
    for number, claim in enumerate(claims, start=1):
        result = await check_claim(ctx, claim.claim, user_id=EVAL_USER)
        item = ClaimItem(claim.claim, claim.cls, claim.verdict, result.verdict, result.total_ms)
        items.append(item)
        if on_item is not None:
            on_item(number, item)
    return ClaimReport(items)


async def ablate_claims(index: SourceIndex, claims: Sequence[EvalClaim]) -> dict[str, dict[str, object]]:
    """What each check adds (the word-level ones and the meaning ones): verdict accuracy with every
    check, then with each left out, per claim class. The verdict rests on the evidence alone (the
    model only explains it), so this runs without the model."""

    async def accuracy(off: tuple[str, ...]) -> dict[str, object]:
        right: dict[str, list[bool]] = defaultdict(list)
        for claim in claims:
            _found, _comparisons, verdict, _deciding = await verdict_for(index, claim.claim, off)
            right[claim.cls].append(verdict == claim.verdict)
        every = [r for found in right.values() for r in found]
        return {
            "accuracy": round(sum(every) / len(every), 3) if every else None,
            "classes": {cls: f"{sum(found)}/{len(found)}" for cls, found in sorted(right.items())},
        }

    report = {"all checks": await accuracy(())}
    for name in [*WORD_CHECKS, *CHECKS]:
        report[f"without {name}"] = await accuracy((name,))
    return report
