"""Answering a question: weigh the evidence, then answer from it or say plainly that it is not there.

This is the conversational mode behind `ask`, `chat`, mentions and `/ask`. In order:

1. retrieve a pool of passages and weigh them for the question (evidence.py): if they do not answer
   it, the reply says the briefing sources don't cover it and names the closest topics they do;
2. if the sources contradict what the question takes for granted (premise.py), that comes first;
3. the model writes; each sentence is shown only once it is complete and checked (checked.py);
4. the source sentences that best answer the question fill what the model's checked sentences
   left out (the extractive core), word for word and cited.

Every front end streams the same way: `Queued`, then text pieces that only ever extend what was
shown, then `Answered` with the whole answer (its text is exactly the streamed pieces joined).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence

from bot.briefing.checked import SentenceGate, ShownText, quote_block, quoted
from bot.briefing.context import BriefingContext, elapsed_ms, stream_generation
from bot.briefing.evidence import Evidence, Pick, weigh
from bot.briefing.models import Answer, Answered, AnswerEvent, Citation
from bot.briefing.premise import contradicted_premise
from bot.briefing.prompting import SOURCES_META, QuestionPrompt, clean_user_text, fit_question
from bot.briefing.retrieval import is_follow_up, previous_question, retrieve
from bot.engine.base import GenerationRequest, Usage
from bot.index import ScoredPassage
from bot.store import Turn
from bot.terms import match_terms

POOL_K = 8  # passages weighed per question: enough to reach the items of a list
PROMPT_K = 3  # passages the model reads (more costs prompt time on a CPU)
MAX_PROMPT_PASSAGES = 5  # ...unless the extractive core needs more of them cited
MIN_CHECKED_SENTENCES = 2  # fewer checked sentences than this, and source sentences are quoted
LEADS = {
    "premise": "The sources contradict the question's premise:",
    "yes_no": "No - the sources say otherwise:",
}
TIMING_KEYS = (
    "retrieve_ms",
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "first_token_ms",
    "total_ms",
)


def declined(ctx: BriefingContext, question: str, evidence: Evidence | None, kind: str) -> Answer:
    """The honest reply when the sources do not answer: no quote, the closest topics they do cover."""
    message = ctx.prompts.message("off_topic" if kind == "off_topic" else "no_sources")
    if evidence is not None and evidence.closest:
        message += "\n\nClosest topics the sources do cover: " + "; ".join(evidence.closest) + "."
    return Answer(
        question=question,
        text=message,
        citations=[],
        passages=list(evidence.ranked) if evidence else [],
        model=ctx.engine.model_name,
        timings=dict.fromkeys(TIMING_KEYS, 0),
        kind=kind,
        reason=evidence.reason if evidence else "",
    )


def canned_answer(ctx: BriefingContext, question: str, kind: str, passages: list[ScoredPassage]) -> Answer:
    """A reply given without the model (briefs that decline use it too)."""
    return declined(ctx, question, None, kind)


def prompt_passages(evidence: Evidence) -> list[ScoredPassage]:
    """The best-ranked passages, plus any passage an extractive pick comes from, so it can be cited."""
    given = list(evidence.ranked[:PROMPT_K])
    for pick in evidence.picks:
        if len(given) >= MAX_PROMPT_PASSAGES:
            break
        if all(s.passage.id != pick.scored.passage.id for s in given):
            given.append(pick.scored)
    return given


def _number_of(prompt: QuestionPrompt, passage_id: str) -> int | None:
    return next((n for n, s in enumerate(prompt.numbered, start=1) if s.passage.id == passage_id), None)


def _citation(number: int, scored: ScoredPassage, sentence: str) -> Citation:
    p = scored.passage
    return Citation(number=number, id=p.id, source=p.source, title=p.title, quote=sentence, framing=p.framing)


def fill_quotes(
    evidence: Evidence, prompt: QuestionPrompt, gate: SentenceGate, shown: str
) -> list[tuple[Pick, int]]:
    """The extractive picks the answer still needs: all of them while fewer than
    MIN_CHECKED_SENTENCES checked sentences stand (every item for a list), else only those that add
    something the question asks about that the shown text lacks."""
    covered = set(match_terms(shown))
    asked = set(evidence.focus.weights)
    needed: list[tuple[Pick, int]] = []
    for pick in evidence.picks:
        number = _number_of(prompt, pick.scored.passage.id)
        if number is None or pick.sentence in shown:
            continue
        thin = len(gate.kept) + len(needed) < MIN_CHECKED_SENTENCES
        if thin or evidence.focus.wants_list or (asked & pick.terms) - covered:
            needed.append((pick, number))
            covered |= pick.terms
    return needed


async def answer(
    ctx: BriefingContext, question: str, *, conversation_id: str, user_id: str
) -> AsyncIterator[AnswerEvent]:
    """Stream a grounded answer to `question` in `conversation_id` (see the module docstring)."""
    started = time.perf_counter()
    question = clean_user_text(question, max_chars=ctx.max_input_chars)
    history = await ctx.store.history(conversation_id)
    pool = await retrieve(ctx.index, question, history, k=POOL_K)
    earlier = previous_question(history) if is_follow_up(question, history) else ""
    evidence = weigh(ctx.index, question, pool, earlier)
    retrieve_ms = elapsed_ms(started)
    if not evidence.answerable:
        result = declined(ctx, question, evidence, evidence.kind)
        result.timings.update(retrieve_ms=retrieve_ms, total_ms=elapsed_ms(started))
        yield Answered(result)
        return

    sampling = ctx.sampling()
    prompt = fit_question(
        ctx.engine, ctx.prompts, ctx.index, prompt_passages(evidence), history, question, sampling.max_tokens
    )
    gate = SentenceGate(prompt.numbered, ctx.index.corpus_text)
    shown = ShownText()
    citations: dict[int, Citation] = {}
    premise = contradicted_premise(question, evidence.ranked, ctx.index.corpus_text)
    usage = Usage(prompt_tokens=0, completion_tokens=0)
    first_token_ms = 0.0
    pieces: list[str] = []
    if premise is not None:
        deciding = premise.comparison
        number = _number_of(prompt, deciding.scored.passage.id)
        if number is not None:
            yield shown.add(f"{LEADS[premise.kind]} {quoted(deciding.sentence)} [{number}]")
            citations[number] = _citation(number, deciding.scored, deciding.sentence.strip())
            gate.note_shown(deciding.sentence)
    if premise is None:  # a false premise gets no model text: a small model would argue from it
        request = GenerationRequest(
            messages=prompt.messages, sampling=sampling, user_id=user_id, conversation_id=conversation_id
        )
        async for event in stream_generation(ctx.engine, request, pieces):
            if isinstance(event, Usage):
                usage = event
            elif isinstance(event, str):
                first_token_ms = first_token_ms or elapsed_ms(started)
                for check in gate.feed(event):
                    yield shown.add(check.rendered)
            else:
                yield event
        for check in gate.finish():
            yield shown.add(check.rendered)
    citations = {**gate.citations, **citations}
    if fills := fill_quotes(evidence, prompt, gate, shown.text):
        yield shown.add(quote_block([(p.sentence, n) for p, n in fills]), separator="\n\n")
        for pick, number in fills:
            citations.setdefault(number, _citation(number, pick.scored, pick.sentence))
    result = Answer(
        question=question,
        text=shown.text,
        citations=[citations[n] for n in sorted(citations)],
        passages=_shown_order(evidence.ranked, prompt.given),
        model=ctx.engine.model_name,
        timings={
            "retrieve_ms": retrieve_ms,
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "cached_tokens": usage.cached_tokens,
            "first_token_ms": first_token_ms,
            "total_ms": elapsed_ms(started),
        },
        grounded=gate.grounded,
        unsupported=gate.unsupported,
        corrected_premise=premise is not None and premise.kind == "premise",
        reason=evidence.reason,
    )
    raw = "".join(pieces).strip() or shown.text
    await ctx.store.add_turns(
        conversation_id,
        [
            Turn(
                role="user",
                content=prompt.messages[-1].content,
                display=question,
                meta={SOURCES_META: prompt.listed},
            ),
            Turn(
                role="assistant",
                content=raw,
                display=result.text,
                meta={"citations": [c.id for c in result.citations]},
            ),
        ],
    )
    yield Answered(result)


def _shown_order(ranked: Sequence[ScoredPassage], given: Sequence[ScoredPassage]) -> list[ScoredPassage]:
    """The passages the answer was built from, best first (the ranking recall@3 is measured on)."""
    ids = {s.passage.id for s in given}
    return [s for s in ranked if s.passage.id in ids] + [
        s for s in given if s.passage.id not in {r.passage.id for r in ranked}
    ]
