"""Answering a question: retrieve, prompt, stream, verify citations, remember the exchange.

This is the conversational mode behind `ask`, `chat`, mentions and `/ask`. It yields the engine's
events as they come (`Queued`, text pieces) and finally `Answered` with the verified answer, so
every front end streams the same way.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from bot.briefing.citations import Verification, best_quote, verify
from bot.briefing.grounding import trim_unfinished
from bot.briefing.models import Answer, Answered, AnswerEvent, Citation
from bot.briefing.prompting import SOURCES_META, QuestionPrompt, clean_user_text, fit_question
from bot.briefing.retrieval import is_on_topic, retrieve
from bot.engine.base import Engine, GenerationRequest, Sampling, Usage
from bot.errors import BackendError
from bot.index import ScoredPassage, SourceIndex
from bot.promptset import PromptSet
from bot.store import Store, Turn
from bot.terms import is_question

STOP_STRINGS = ("\nQuestion:", "Question:", "\nSources:")
INTERRUPTED = "The answer was interrupted because I was shutting down - please ask again."
MIN_CHECKED_SENTENCES = 2  # fewer checked sentences than this, and a source sentence is quoted


@dataclass(frozen=True, slots=True)
class BriefingContext:
    """Everything a briefing request needs, as one consistent snapshot.

    A request keeps the prompt set and index it started with even if a moderator reloads halfway.
    """

    engine: Engine
    store: Store
    prompts: PromptSet
    index: SourceIndex
    max_answer_tokens: int = 120
    max_input_chars: int = 2000

    def sampling(self, **overrides: object) -> Sampling:
        """Greedy decoding with a mild repeat penalty: the most faithful setting for a small model
        reading sources; stop strings end the answer when the model starts a new "Question:"."""
        settings: dict[str, object] = {
            "max_tokens": self.max_answer_tokens,
            "temperature": 0.0,
            "repeat_penalty": 1.1,
            "stop": STOP_STRINGS,
        }
        settings.update(overrides)
        return Sampling(**settings)  # type: ignore[arg-type]


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)


TIMING_KEYS = (
    "retrieve_ms",
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "first_token_ms",
    "total_ms",
)


def canned_answer(ctx: BriefingContext, question: str, kind: str, passages: list[ScoredPassage]) -> Answer:
    """An answer the bot gives without the model (off-topic redirect, nothing found)."""
    message = "off_topic" if kind == "off_topic" else "no_sources"
    return Answer(
        question=question,
        text=ctx.prompts.message(message),
        citations=[],
        passages=passages,
        model=ctx.engine.model_name,
        timings=dict.fromkeys(TIMING_KEYS, 0),
        kind=kind,
    )


def _timed(answer: Answer, retrieve_ms: float, started: float) -> Answer:
    answer.timings.update(retrieve_ms=retrieve_ms, total_ms=_ms(started))
    return answer


def ensure_citation(verification: Verification, prompt: QuestionPrompt, question: str) -> Verification:
    """Keep only checked sentences; if fewer than MIN_CHECKED_SENTENCES remain, add the best sentence
    of the best passage verbatim.

    Small models often invent details: a briefing shows only what the sources support, and the
    reader still gets a checked fact or two with their source, however little of the model's own
    answer survived checking.
    """
    kept = [s for s in verification.kept_sentences if not is_question(s.text)]
    verification.keep_only(kept)
    supported = sum(1 for s in kept if s.supported)
    if supported >= MIN_CHECKED_SENTENCES or not prompt.given:
        return verification
    top = prompt.given[0].passage
    number = next(n for n, s in enumerate(prompt.numbered, start=1) if s.passage.id == top.id)
    quote = best_quote(top.text, question)
    if quote in verification.text or any(c.quote == quote for c in verification.citations):
        return verification
    citation = Citation(
        number=number, id=top.id, source=top.source, title=top.title, quote=quote, framing=top.framing
    )
    verification.add_quote(citation, separator="\n\n")
    return verification


async def stream_generation(
    engine: Engine, request: GenerationRequest, pieces: list[str]
) -> AsyncIterator[AnswerEvent | Usage]:
    """Relay engine events, collecting the text in `pieces`. An answer the engine stopped (it was
    shut down) is an error, never a short "finished" answer."""
    async for event in engine.stream(request):
        if isinstance(event, str):
            pieces.append(event)
        elif isinstance(event, Usage) and event.finish_reason == "cancelled":
            raise BackendError(INTERRUPTED)
        yield event


async def answer(
    ctx: BriefingContext, question: str, *, conversation_id: str, user_id: str
) -> AsyncIterator[AnswerEvent]:
    """Stream a grounded answer to `question` in `conversation_id`."""
    started = time.perf_counter()
    question = clean_user_text(question, max_chars=ctx.max_input_chars)
    history = await ctx.store.history(conversation_id)
    passages = await retrieve(ctx.index, question, history)
    retrieve_ms = _ms(started)
    if not is_on_topic(question, passages, history):
        yield Answered(_timed(canned_answer(ctx, question, "off_topic", []), retrieve_ms, started))
        return
    if not passages:
        yield Answered(_timed(canned_answer(ctx, question, "no_sources", []), retrieve_ms, started))
        return

    sampling = ctx.sampling()
    # Rendering and tokenizing every candidate prompt is CPU work: off the event loop.
    prompt = await asyncio.to_thread(
        fit_question, ctx.engine, ctx.prompts, ctx.index, passages, history, question, sampling.max_tokens
    )
    messages, passages = prompt.messages, prompt.given
    request = GenerationRequest(
        messages=messages, sampling=sampling, user_id=user_id, conversation_id=conversation_id
    )
    pieces: list[str] = []
    usage = Usage(prompt_tokens=0, completion_tokens=0)
    first_token_ms = 0.0
    asked = Turn(
        role="user", content=messages[-1].content, display=question, meta={SOURCES_META: prompt.listed}
    )
    async with ctx.store.exchange(conversation_id, asked, pieces) as exchange:  # the question is saved now
        async for event in stream_generation(ctx.engine, request, pieces):
            if isinstance(event, Usage):
                usage = event
                continue
            if isinstance(event, str) and not first_token_ms:
                first_token_ms = _ms(started)
            yield event
        raw = "".join(pieces).strip()
        verification = ensure_citation(verify(trim_unfinished(raw), prompt.numbered), prompt, question)
        result = Answer(
            question=question,
            text=verification.text,
            citations=verification.citations,
            passages=passages,
            model=ctx.engine.model_name,
            timings={
                "retrieve_ms": retrieve_ms,
                "prompt_tokens": usage.prompt_tokens,
                "completion_tokens": usage.completion_tokens,
                "cached_tokens": usage.cached_tokens,
                "first_token_ms": first_token_ms,
                "total_ms": _ms(started),
            },
            grounded=verification.grounded,
            unsupported=verification.unsupported,
        )
        exchange.answered(
            Turn(
                role="assistant",
                content=raw,
                display=result.text,
                meta={"citations": [c.id for c in result.citations]},
            )
        )
    yield Answered(result)
