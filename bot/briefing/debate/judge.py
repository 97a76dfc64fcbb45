"""The neutral judge: a short model-written summary, held to the same checks as every speech, then a
deterministic structure that is present however weak the model is.

- the summary: the model's sentences through `SentenceGate` (checked.py), at most SUMMARY_SENTENCES,
  each streamed once it passes; none pass, and the summary is left out;
- each side's strongest point: its best-supported shown sentence, with its citation;
- where they agree: the sources' own statement of common ground, and any source both sides cited;
- what the sources leave open: a sentence with uncertainty cues, cited.

The summary's citation numbers are given in order of first appearance as it streams
(`sentences.renumbered`), the numbering the finished judgement uses, so the judgement's text
starts with exactly what was streamed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence

from bot.briefing.checked import SentenceGate
from bot.briefing.citations import best_quote
from bot.briefing.context import BriefingContext, stream_generation
from bot.briefing.debate.results import SIDES, DebateTurn, Judged, Judgement
from bot.briefing.debate.speech import speech_labels, worth_hearing
from bot.briefing.grounding import (
    MIN_UNCERTAINTY,
    NO_UNCERTAINTY,
    Numbering,
    Picks,
    passage_labels,
)
from bot.briefing.sentences import Part, Sentence, Shown, own_words, renumbered
from bot.briefing.vocabulary import vocabulary
from bot.engine.base import ChatMessage, GenerationRequest, Queued
from bot.index import ScoredPassage
from bot.terms import content_terms, match_terms, overlap

JUDGE_MAX_TOKENS = 80
SUMMARY_SENTENCES = 2
OPEN_K = 3  # passages searched for what the sources leave open
AGREEMENT_K = 9
TRANSCRIPT_TURN_CHARS = 400
# Common ground: a sentence from a passage tagged with both framings, with an agreement cue.


class Judge:
    """Judges one debate; `stream()` yields the summary's checked pieces, then `Judged`."""

    def __init__(
        self,
        ctx: BriefingContext,
        motion: str,
        turns: Sequence[DebateTurn],
        passages: Mapping[str, ScoredPassage],
        *,
        about: frozenset[str],
        user_id: str,
        conversation_id: str,
    ) -> None:
        self.ctx = ctx
        self.motion = motion
        self.turns = list(turns)
        self.passages = dict(passages)  # every passage a speech was given, by id
        self.about = about  # the motion's own terms (core.motion_terms)
        self.user_id = user_id
        self.conversation_id = conversation_id

    def _transcript(self, turns: Sequence[DebateTurn]) -> str:
        return "\n".join(
            f"{t.side.capitalize()} side (round {t.round}): {t.plain[:TRANSCRIPT_TURN_CHARS]}" for t in turns
        )

    def _messages(self) -> tuple[ChatMessage, ...]:
        """Persona + transcript; the oldest speeches are dropped if the transcript does not fit."""
        turns = list(self.turns)
        budget = self.ctx.engine.context_size - JUDGE_MAX_TOKENS - 8
        while True:
            messages = (
                ChatMessage(role="system", content=self.ctx.prompts.persona("judge")),
                ChatMessage(
                    role="user",
                    content=self.ctx.prompts.template("judge").render(
                        motion=self.motion, transcript=self._transcript(turns)
                    ),
                ),
            )
            if len(turns) <= 1 or self.ctx.engine.count_tokens(messages) <= budget:
                return messages
            turns = turns[1:]

    async def stream(self) -> AsyncIterator[Queued | Part | Judged]:
        numbering = Numbering(list(self.passages.values()))
        open_query = f"{self.motion} {vocabulary().queries['uncertainty']}"
        open_pool = await self.ctx.index.search(open_query, k=OPEN_K)
        for scored in open_pool:
            numbering.number(scored)
        passages = list(numbering.passages)
        labels = [
            *passage_labels(passages),
            *speech_labels(self.ctx.prompts),
            *(f"{t.side} side (round {t.round})" for t in self.turns),
        ]
        gate = SentenceGate(passages, self.ctx.index.corpus, labels=labels)
        shown = Shown()
        kept: list[Sentence] = []
        order: dict[int, int] = {}
        request = GenerationRequest(
            messages=self._messages(),
            sampling=self.ctx.sampling(max_tokens=JUDGE_MAX_TOKENS),
            user_id=self.user_id,
            conversation_id=f"{self.conversation_id}:judge",
        )
        pieces: list[str] = []
        async for event in stream_generation(self.ctx.engine, request, pieces):
            if isinstance(event, Queued):
                yield event
            elif isinstance(event, str):
                for check in gate.feed(event):
                    if part := self._summarise(check, kept, passages, gate, shown, order):
                        yield part
        for check in gate.finish():
            if part := self._summarise(check, kept, passages, gate, shown, order):
                yield part
        yield Judged(await self._judgement(numbering, open_pool, gate, kept))

    def _summarise(
        self,
        check: Sentence,
        kept: list[Sentence],
        passages: Sequence[ScoredPassage],
        gate: SentenceGate,
        shown: Shown,
        order: dict[int, int],
    ) -> Part | None:
        """The part to stream for one checked sentence (None if it is left out), numbered as the
        finished judgement will number it."""
        if len(kept) >= SUMMARY_SENTENCES or not worth_hearing(check, self.motion, passages):
            return None
        kept.append(check)
        return shown.add(Part((renumbered(check, order, gate.citations),)))

    async def _judgement(
        self,
        numbering: Numbering,
        open_pool: list[ScoredPassage],
        gate: SentenceGate,
        kept: list[Sentence],
    ) -> Judgement:
        picks = Picks(numbering)
        for number in sorted({n for c in kept for n in c.numbers}):
            picks.citations.setdefault(number, gate.citations[number])
        strongest = {side: self._strongest(side, picks) for side in SIDES}
        agreement = await self._agreement(picks)
        open_question = picks.best(
            [*open_pool, *numbering.passages],
            content_terms(self.motion),
            cues=vocabulary().cues["uncertainty"],
            min_cue=MIN_UNCERTAINTY,
            cue_cap=MIN_UNCERTAINTY,
        ) or own_words(NO_UNCERTAINTY)
        (summary, race, cooperation, agreement, open_lines), citations, _ = picks.renumbered(
            [kept, strongest["race"], strongest["cooperation"], agreement, [open_question]]
        )
        checked = gate.checked
        return Judgement(
            citations=citations,
            summary=summary,
            strongest={"race": race, "cooperation": cooperation},
            agreement=agreement,
            open_question=open_lines,
            unsupported=[c.text for c in checked if not c.supported],
            checked=len(checked),
            supported=sum(1 for c in checked if c in kept),
        )

    def _strongest(self, side: str, picks: Picks) -> list[Sentence]:
        """The side's best-supported sentence on the motion, with its citation; failing that, its
        best-supported sentence; failing that, its sources' best fact."""
        best: tuple[tuple[bool, float], str, ScoredPassage] | None = None
        for turn in (t for t in self.turns if t.side == side):
            for sentence, pid in turn.points:
                scored = self.passages.get(pid)
                if scored is None or side not in scored.passage.framing:
                    continue
                support = overlap(content_terms(sentence), content_terms(scored.passage.text))
                score = (bool(match_terms(sentence) & self.about), support)  # on the motion first
                if best is None or score > best[0]:
                    best = (score, sentence, scored)
        if best is not None:
            _, sentence, scored = best
            citation = picks.numbering.citation(scored, best_quote(scored.passage.text, sentence))
            picks.citations.setdefault(citation.number, citation)
            verbatim = sentence.strip() in scored.passage.text  # a quoted source sentence, or the model's
            return [Sentence(sentence.strip(), (citation,), "supported", verbatim)]
        own = [p for p in picks.numbering.passages if side in p.passage.framing]
        fact = picks.best(own, content_terms(self.motion), cues=vocabulary().cues[side], prefer_framing=side)
        if fact:
            return [own_words("(not made in the speeches; from its sources)"), fact]
        return [own_words("No supported point was made.")]

    async def _agreement(self, picks: Picks) -> list[Sentence]:
        """Where the two sides meet: the sources' own statement of common ground (a sentence from a
        passage tagged with both framings, with a cue such as "both" or "shared", cited), and any
        source both sides cited.

        Why not the words both speeches used: with a small model those are mostly the subject's own
        nouns ("Both sides speak of china and essay"), which says nothing.
        """
        query = f"{self.motion} {vocabulary().queries['agreement']}"
        pool = await self.ctx.index.search(query, k=AGREEMENT_K)
        shared = [p for p in pool if set(SIDES) <= set(p.passage.framing)]
        parts: list[Sentence] = []
        common = picks.best(
            shared,
            content_terms(self.motion),
            cues=vocabulary().cues["agreement"],
            min_cue=MIN_UNCERTAINTY,
            cue_cap=MIN_UNCERTAINTY,
        )
        if common:
            parts.append(common)
        cited = {s: {c.source for t in self.turns if t.side == s for c in t.citations} for s in SIDES}
        titles = sorted(
            {
                p.passage.title
                for p in self.passages.values()
                if p.passage.source in cited["race"] & cited["cooperation"]
            }
        )
        if titles:
            parts.append(own_words("Both sides cite " + "; ".join(f'"{t}"' for t in titles) + "."))
        return parts or [own_words("The two sides found no common ground in their speeches.")]
