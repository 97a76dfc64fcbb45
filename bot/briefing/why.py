"""`/why`: what an answer to a question would rest on, for moderators, without posting an answer.

It runs the same steps as `answer()` up to the reader (retrieval, the answerability decision, the
prompt) and then writes a *draft* whose every sentence goes through the same check as a real answer
(`SentenceGate`), reporting which would be shown and which would be dropped. Nothing is stored: the
question is asked outside any conversation, so the draft is what a fresh question would get.

The draft is written even when the bot would decline, from the passages that came closest: a
moderator told "should have answered" wants to see whether the sources could have carried it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bot.briefing.answer import POOL_K, question_prompt_for
from bot.briefing.checked import SentenceGate
from bot.briefing.context import BriefingContext, stream_generation
from bot.briefing.evidence import Evidence, weigh
from bot.briefing.prompting import clean_user_text
from bot.briefing.retrieval import retrieve
from bot.briefing.sentences import Sentence
from bot.engine.base import GenerationRequest
from bot.index import ScoredPassage


@dataclass(frozen=True, slots=True)
class DraftSentence:
    """A sentence of the draft as the gate checked it, and whether it would be shown."""

    sentence: Sentence
    passed: bool  # it would be shown: `verify` supported it and the gate's later checks let it through

    @property
    def text(self) -> str:
        return self.sentence.text

    @property
    def checked(self) -> bool:
        """Long enough to check (a short fragment is neither shown nor counted)."""
        return self.sentence.supported is not None


@dataclass(frozen=True, slots=True)
class Explanation:
    question: str
    passages: list[ScoredPassage]  # the retrieval pool, best first after weighing
    kind: str  # the decision: "answer", "off_topic" or "not_covered"
    reason: str  # what the decision rested on
    coverage: float  # the best passage's weighted coverage of the question
    missing: tuple[str, ...]  # question terms no source uses
    closest: tuple[str, ...]
    draft: list[DraftSentence] = field(default_factory=list)

    @property
    def answerable(self) -> bool:
        return self.kind == "answer"


async def explain(ctx: BriefingContext, question: str, *, user_id: str) -> Explanation:
    """Retrieve, weigh and draft for `question` (see the module docstring); the draft waits in the
    model's queue as `user_id`, like any of their requests."""
    question = clean_user_text(question, max_chars=ctx.max_input_chars)
    pool = await retrieve(ctx.index, question, (), k=POOL_K)
    evidence = await asyncio.to_thread(weigh, ctx.index, question, pool, "")
    draft = await _draft(ctx, question, evidence, user_id) if evidence.ranked else []
    return Explanation(
        question=question,
        passages=list(evidence.ranked),
        kind=evidence.kind,
        reason=evidence.reason,
        coverage=evidence.coverage,
        missing=evidence.missing,
        closest=evidence.closest,
        draft=draft,
    )


async def _draft(
    ctx: BriefingContext, question: str, evidence: Evidence, user_id: str
) -> list[DraftSentence]:
    """The model's draft from the answer's prompt, each sentence checked as an answer's would be."""
    sampling = ctx.sampling()
    prompt = await question_prompt_for(ctx, question, evidence, (), sampling.max_tokens)
    gate = SentenceGate.reading(prompt.numbered, ctx.index)
    request = GenerationRequest(messages=prompt.messages, sampling=sampling, user_id=user_id)
    async for event in stream_generation(ctx.engine, request, []):
        if isinstance(event, str):
            await gate.afeed(event)
    await gate.afinish()
    return [DraftSentence(c, passed=c in gate.kept) for c in gate.checks]
