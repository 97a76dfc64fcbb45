"""Answering a question: weigh the evidence, then answer from it or say plainly that it is not there.

This is the conversational mode behind `ask`, `chat`, mentions and `/ask`. In order:

1. retrieve a pool of passages and weigh them for the question (evidence.py): if they do not answer
   it, the reply says the briefing sources don't cover it and names the closest topics they do;
2. if the sources contradict what the question takes for granted (premise.py), that comes first;
3. the model writes; each sentence is shown only once it is complete and checked (checked.py);
4. the source sentences that best answer the question fill what the model's checked sentences
   left out (the extractive core), word for word and cited.

Every front end streams the same way: `Stage`s and `Queued` while it waits (progress.py), then
`Part`s of checked sentences that only ever extend what was shown (the front end renders each with
`render_part`), then `Answered` with the whole answer (its text is exactly the streamed parts
rendered).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Sequence

from bot.briefing.checked import SentenceGate
from bot.briefing.context import BriefingContext, stream_generation
from bot.briefing.evidence import Evidence, weigh
from bot.briefing.focus import typed_parts
from bot.briefing.models import Answer, Answered, AnswerEvent, Citation
from bot.briefing.pick import Pick
from bot.briefing.premise import Contradiction, contradicted_premise
from bot.briefing.progress import checking_at_first_text, found_in
from bot.briefing.prompting import SOURCES_META, QuestionPrompt, clean_user_text, fit_question
from bot.briefing.referents import person_meant
from bot.briefing.retrieval import is_follow_up, previous_answer, previous_question, retrieve
from bot.briefing.sentences import (
    QUOTE_LEAD,
    Part,
    Sentence,
    Shown,
    attribution,
    from_source,
    renumbered,
)
from bot.engine.base import Engine, GenerationRequest, Usage
from bot.index import ScoredPassage, SourceIndex
from bot.measures import elapsed_ms
from bot.store import Turn
from bot.terms import match_terms, words

POOL_K = 8  # passages weighed per question: enough to reach the items of a list
PROMPT_K = 3  # passages the model reads (more costs prompt time on a CPU)
MAX_PROMPT_PASSAGES = 5  # ...unless the extractive core needs more of them cited
MIN_CHECKED_SENTENCES = 2  # fewer checked sentences than this, and source sentences are quoted
ON_PICK_SHARE = 0.5  # a model sentence sharing no word with the question must be this much inside a pick
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
    return Answer.canned(
        question,
        message,
        passages=list(evidence.ranked) if evidence else [],
        model=ctx.engine.model_name,
        timings=dict.fromkeys(TIMING_KEYS, 0),
        kind=kind,
        reason=evidence.reason if evidence else "",
    )


def canned_answer(ctx: BriefingContext, question: str, kind: str) -> Answer:
    """A reply given without the model (briefs that decline use it too)."""
    return declined(ctx, question, None, kind)


async def question_prompt_for(
    ctx: BriefingContext, question: str, evidence: Evidence, history: Sequence[Turn], max_tokens: int
) -> QuestionPrompt:
    """The prompt an answer (or /why's draft) sends: the weighed passages fitted to the context.
    Rendering and tokenizing the candidate prompts is CPU work, so it runs off the event loop."""
    return await asyncio.to_thread(
        fit_question,
        ctx.engine,
        ctx.prompts,
        ctx.index,
        prompt_passages(evidence),
        history,
        question,
        max_tokens,
    )


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


class Reply:
    """One answer being composed: what is shown (only ever extended), its citations, and the model's
    part of it. Each method returns the part to stream (None: nothing to show), or yields the events
    to relay."""

    def __init__(self, evidence: Evidence, prompt: QuestionPrompt, index: SourceIndex) -> None:
        self.evidence = evidence
        self.prompt = prompt
        self.gate = SentenceGate.reading(prompt.numbered, index, bears_on=self._bears_on)
        self.models = index.models
        self.shown = Shown()
        self._order: dict[int, int] = {}  # prompt number -> number shown, in order of first appearance
        self.pieces: list[str] = []  # the model's raw text, for the conversation history
        self.usage = Usage(prompt_tokens=0, completion_tokens=0)
        self.first_token_ms = 0.0

    def _bears_on(self, terms: frozenset[str]) -> bool:
        """Whether a model sentence is about the question: it shares a word with it, or most of its
        words are in a sentence chosen as answering it ("model collapse from its own outputs" for
        "What happens when a system is fed the text it generated?"). "By 2024 the validator boxes were
        worn out" is true of the sources and no answer to "Which company won the contract?"."""
        if not terms or self.evidence.focus.coverage(terms) > 0:
            return True
        return any(len(terms & pick.terms) >= ON_PICK_SHARE * len(terms) for pick in self.evidence.picks)

    def correct(self, premise: Contradiction) -> Part | None:
        """Open with what contradicts the question, quoted and cited."""
        deciding = premise.comparison
        number = _number_of(self.prompt, deciding.scored.passage.id)
        if number is None:
            return None
        quote = self._cite(number, deciding.scored, deciding.sentence.strip())
        self.gate.note_shown(deciding.sentence)
        return self._add(Part((quote,), lead=LEADS[premise.kind], layout="quotes"))

    async def from_model(
        self, engine: Engine, request: GenerationRequest, started: float
    ) -> AsyncIterator[AnswerEvent]:
        """Relay the queue position, and each of the model's sentences once it is checked."""
        async for event in checking_at_first_text(stream_generation(engine, request, self.pieces)):
            if isinstance(event, Usage):
                self.usage = event
            elif isinstance(event, str):
                self.first_token_ms = self.first_token_ms or elapsed_ms(started)
                for part in self._show(await self.gate.afeed(event)):
                    yield part
            else:
                yield event
        for part in self._show(await self.gate.afinish()):
            yield part

    def _show(self, checked: list[Sentence]) -> list[Part]:
        return [part for s in checked if (part := self._add(Part((s,))))]

    def fill(self) -> list[Part]:
        """The extractive core the answer still needs: every pick while fewer than
        MIN_CHECKED_SENTENCES checked sentences stand (every item for a list), else only those that
        add something the question asks about that the shown text lacks. An answer with nothing
        shown yet leads with the first of them, attributed to its author, so its first line answers
        the question; the rest follow as supporting quotes."""
        covered = set(match_terms(self.shown.text))
        asked = set(self.evidence.focus.weights)
        quotes: list[Sentence] = []
        for pick in self.evidence.picks:
            number = _number_of(self.prompt, pick.scored.passage.id)
            if number is None or pick.sentence in self.shown.text:
                continue
            thin = len(self.gate.kept) + len(quotes) < MIN_CHECKED_SENTENCES
            adds = (asked & pick.terms) - covered or self._lacks(pick, quotes)
            if thin or self.evidence.focus.wants_list or adds:
                quotes.append(self._cite(number, pick.scored, pick.sentence))
                covered |= pick.terms
        parts: list[Part] = []
        if quotes and not self.shown.parts and not self.evidence.focus.wants_list:
            lead = self._add(Part((quotes[0],), attribution(quotes[0]), "attributed"))
            parts, quotes = [lead] if lead else [], quotes[1:]
        if quotes and (part := self._add(Part(tuple(quotes), QUOTE_LEAD, "quotes"), separator="\n\n")):
            parts.append(part)
        return parts

    def _lacks(self, pick: Pick, quotes: list[Sentence]) -> bool:
        """Whether the answer so far (with the `quotes` about to follow) lacks what a who/when/how-many
        question asks for and `pick` gives: "Who recommends it?" answered without the source's name.
        For "who says ...?", the pick's byline counts as a name it gives (a quote is shown with it):
        a model sentence that restates Liu's point without naming her does not answer it."""
        answer_type = self.evidence.focus.answer_type
        parts = typed_parts(pick.sentence, answer_type, self.models)
        bylines = [c.by for q in quotes for c in q.citations[:1]]  # shown after each quote
        shown = " ".join([self.shown.text, *(q.text for q in quotes), *bylines]).lower()
        lacking = bool(parts) and not any(part.lower() in shown for part in parts)
        if answer_type != "source" or not pick.scored.passage.by:
            return lacking
        named = set(words(shown))
        return lacking or not any(w in named for w in words(pick.scored.passage.by) if len(w) > 2)

    def _add(self, part: Part, separator: str = " ") -> Part | None:
        """Show `part`, its citations numbered in the order the reader meets them ([1], [2], ...):
        the prompt's numbers follow the passages' ranking, and an answer citing the third passage
        first would read [3] with no [1] or [2], which a reader takes for missing sources."""
        sentences = tuple(
            renumbered(s, self._order, {c.number: c for c in s.citations}) for s in part.sentences
        )
        return self.shown.add(dataclasses.replace(part, sentences=sentences), separator)

    def _shown_citations(self) -> list[Citation]:
        """The citations of what was shown, by the numbers shown; each quotes the first sentence
        the answer cited from its passage."""
        cited: dict[int, Citation] = {}
        for part in self.shown.parts:
            for sentence in part.sentences:
                for citation in sentence.citations:
                    cited.setdefault(citation.number, citation)
        return [cited[n] for n in sorted(cited)]

    def _cite(self, number: int, scored: ScoredPassage, sentence: str) -> Sentence:
        """`sentence` of passage `number`, cited (the answer's sources list quotes the first
        sentence shown from each passage: `_shown_citations`)."""
        citation = Citation.of(number, scored.passage, sentence)
        return from_source(sentence, citation)

    def result(
        self, ctx: BriefingContext, question: str, premise: Contradiction | None, timings: dict[str, float]
    ) -> Answer:
        return Answer(
            question=question,
            parts=self.shown.parts,
            citations=self._shown_citations(),
            passages=_shown_order(self.evidence.ranked, self.prompt.given),
            model=ctx.engine.model_name,
            timings={
                **timings,
                "prompt_tokens": self.usage.prompt_tokens,
                "completion_tokens": self.usage.completion_tokens,
                "cached_tokens": self.usage.cached_tokens,
                "first_token_ms": self.first_token_ms,
            },
            grounded=self.gate.grounded,
            unsupported=self.gate.unsupported,
            corrected_premise=premise is not None and premise.kind == "premise",
            reason=self.evidence.reason,
        )


async def answer(
    ctx: BriefingContext, question: str, *, conversation_id: str, user_id: str
) -> AsyncIterator[AnswerEvent]:
    """Stream a grounded answer to `question` in `conversation_id` (see the module docstring)."""
    started = time.perf_counter()
    question = clean_user_text(question, max_chars=ctx.max_input_chars)
    history = await ctx.store.history(conversation_id)
    asked_before, said_before = previous_question(history), previous_answer(history)
    earlier, said = (asked_before, said_before) if is_follow_up(question, history) else ("", "")
    # Parsing and weighing are CPU work, kept off the event loop. The question as read names the
    # person a follow-up's "she" means; the user's own words are what is stored and shown.
    read, person = await asyncio.to_thread(
        person_meant, question, asked_before, said_before, ctx.index.models
    )
    pool = await retrieve(ctx.index, read, history, k=POOL_K)
    evidence = await asyncio.to_thread(weigh, ctx.index, read, pool, earlier, said, person)
    retrieve_ms = elapsed_ms(started)
    if not evidence.answerable:
        result = declined(ctx, question, evidence, evidence.kind)
        result.timings.update(retrieve_ms=retrieve_ms, total_ms=elapsed_ms(started))
        yield Answered(result)
        return
    yield found_in(prompt_passages(evidence))
    sampling = ctx.sampling()
    prompt = await question_prompt_for(ctx, read, evidence, history, sampling.max_tokens)
    reply = Reply(evidence, prompt, ctx.index)
    premise = await asyncio.to_thread(
        contradicted_premise, read, evidence.ranked, ctx.index.corpus, ctx.index
    )
    asked = Turn(
        role="user", content=prompt.messages[-1].content, display=question, meta={SOURCES_META: prompt.listed}
    )
    async with ctx.store.exchange(
        conversation_id, asked, reply.pieces
    ) as exchange:  # the question is saved now
        # no model text after a correction: a small model would argue from the false premise. A
        # correction whose passage the prompt does not hold cannot be cited: the model answers.
        correction = reply.correct(premise) if premise is not None else None
        if correction is not None:
            yield correction
        else:
            premise = None
            request = GenerationRequest(
                messages=prompt.messages, sampling=sampling, user_id=user_id, conversation_id=conversation_id
            )
            async for event in reply.from_model(ctx.engine, request, started):
                yield event
        for part in reply.fill():
            yield part
        timings = {"retrieve_ms": retrieve_ms, "total_ms": elapsed_ms(started)}
        result = reply.result(ctx, question, premise, timings)
        raw = "".join(reply.pieces).strip() or result.text
        cited = {"citations": [c.id for c in result.citations]}
        exchange.answered(Turn(role="assistant", content=raw, display=result.text, meta=cited))
    yield Answered(result)


def _shown_order(ranked: Sequence[ScoredPassage], given: Sequence[ScoredPassage]) -> list[ScoredPassage]:
    """The passages the answer was built from, best first (the ranking recall@3 is measured on)."""
    ids = {s.passage.id for s in given}
    ranked_ids = {r.passage.id for r in ranked}
    return [s for s in ranked if s.passage.id in ids] + [s for s in given if s.passage.id not in ranked_ids]
