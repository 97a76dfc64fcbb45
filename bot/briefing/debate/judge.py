"""The neutral judge: a short model-written summary, held to the same checks as every speech, then a
deterministic structure that is present however weak the model is.

- the summary: the model's sentences through `SentenceGate` (checked.py), at most SUMMARY_SENTENCES,
  each streamed once it passes; none pass, and the summary is left out;
- each side's strongest point: the sentence of its own speeches that argues most strongly for it
  (stance.py) on the motion, with its citation, never the sentence chosen for the other side;
- where they agree: a claim one side made that a sentence of the other side says in other words
  (cosine >= AGREE_MIN), cited; omitted when there is none;
- what the sources leave open: a sentence with uncertainty cues that neither side said, cited;
- the verdict: which side backed more of its points on the motion with sentences that argue its
  case, in two sentences (`prompts/templates/debate_lines.md`), or a draw.

The summary's citation numbers are given in order of first appearance as it streams
(`sentences.renumbered`), the numbering the finished judgement uses, so the judgement's text
starts with exactly what was streamed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence

from bot.briefing.checked import SentenceGate
from bot.briefing.citations import best_quote
from bot.briefing.context import BriefingContext, stream_generation
from bot.briefing.debate.compose import clause
from bot.briefing.debate.results import SIDES, DebateTurn, Judged, Judgement, other_side
from bot.briefing.debate.speech import speech_labels, worth_hearing
from bot.briefing.debate.stance import StanceReader
from bot.briefing.grounding import (
    MIN_UNCERTAINTY,
    NO_UNCERTAINTY,
    Numbering,
    Picks,
    passage_labels,
)
from bot.briefing.sentences import Part, Sentence, Shown, own_words, renumbered
from bot.engine.base import ChatMessage, GenerationRequest, Queued
from bot.index import ScoredPassage
from bot.terms import content_terms, match_terms, overlap
from bot.words.vocabulary import vocabulary

JUDGE_MAX_TOKENS = 80
SUMMARY_SENTENCES = 2
OPEN_K = 3  # passages searched for what the sources leave open
TRANSCRIPT_TURN_CHARS = 400
AGREE_MIN = 0.6  # cosine at which two sides' sentences say the same thing


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
        reader: StanceReader | None = None,
    ) -> None:
        self.ctx = ctx
        self.motion = motion
        self.turns = list(turns)
        self.passages = dict(passages)  # every passage a speech was given, by id
        self.about = about  # the motion's own terms (core.motion_terms)
        self.user_id = user_id
        self.conversation_id = conversation_id
        self.reader = reader

    def _transcript(self, turns: Sequence[DebateTurn]) -> str:
        return "\n".join(
            f"{t.side.capitalize()} side (round {t.round}): {t.argued[:TRANSCRIPT_TURN_CHARS]}" for t in turns
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
        gate = SentenceGate.reading(passages, self.ctx.index, labels=labels)
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
                for check in await gate.afeed(event):
                    if part := self._summarise(check, kept, passages, gate, shown, order):
                        yield part
        for check in await gate.afinish():
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
        strongest: dict[str, list[Sentence]] = {}
        for side in SIDES:
            taken = {s.text for point in strongest.values() for s in point}
            strongest[side] = self._strongest(side, picks, taken)
        agreement = self._agreement(picks)
        said = {s for t in self.turns for s, _ in t.points}
        open_question = picks.best(
            [p for p in [*open_pool, *numbering.passages] if not any(x in p.passage.text for x in said)],
            content_terms(self.motion),
            cues=vocabulary().cues["uncertainty"],
            min_cue=MIN_UNCERTAINTY,
            cue_cap=MIN_UNCERTAINTY,
        ) or own_words(NO_UNCERTAINTY)
        verdict = self._verdict(strongest)
        (summary, race, cooperation, agreement, open_lines, verdict), citations, _ = picks.renumbered(
            [kept, strongest["race"], strongest["cooperation"], agreement, [open_question], verdict]
        )
        checked = gate.checked
        return Judgement(
            citations=citations,
            summary=summary,
            strongest={"race": race, "cooperation": cooperation},
            agreement=agreement,
            open_question=open_lines,
            verdict=verdict,
            unsupported=[c.text for c in checked if not c.supported],
            checked=len(checked),
            supported=sum(1 for c in checked if c in kept),
        )

    def _argues(self, side: str) -> list[tuple[tuple[bool, float], str, ScoredPassage]]:
        """The side's spoken sentences that argue for it, with (on the motion, strength) to rank them:
        strength is the stance's contrast toward the side, or without the encoder, how much of the
        sentence its passage gives."""
        found = []
        for turn in (t for t in self.turns if t.side == side):
            for sentence, pid in turn.points:
                scored = self.passages.get(pid)
                if scored is None or side not in scored.passage.framing:
                    continue
                if self.reader is None:
                    strength = overlap(content_terms(sentence), content_terms(scored.passage.text))
                else:
                    reading = self.reader.stance(sentence)
                    if reading.side != side:
                        continue
                    strength = reading.contrast * (1 if side == self.reader.sides[0] else -1)
                found.append(((bool(match_terms(sentence) & self.about), strength), sentence, scored))
        return sorted(found, key=lambda f: f[0], reverse=True)

    def _strongest(self, side: str, picks: Picks, taken: set[str]) -> list[Sentence]:
        """The side's strongest point (see `_argues`), not one already named for the other side;
        failing that, its sources' best fact."""
        for _, sentence, scored in self._argues(side):
            if sentence.strip() in taken:
                continue
            citation = picks.numbering.citation(scored, best_quote(scored.passage.text, sentence))
            picks.citations.setdefault(citation.number, citation)
            verbatim = sentence.strip() in scored.passage.text  # a quoted source sentence, or the model's
            return [Sentence(sentence.strip(), (citation,), "supported", verbatim)]
        own = [p for p in picks.numbering.passages if side in p.passage.framing]
        fact = picks.best(own, content_terms(self.motion), cues=vocabulary().cues[side], prefer_framing=side)
        if fact and fact.text not in taken:
            return [own_words("(not made in the speeches; from its sources)"), fact]
        return [own_words("No supported point was made.")]

    def _agreement(self, picks: Picks) -> list[Sentence]:
        """Where the two sides meet: a race sentence and a cooperation sentence, both spoken, that
        say the same thing (cosine >= AGREE_MIN), given as the first side's claim, cited. None: the
        line is left out (a shared source or a shared word is no agreement)."""
        race, cooperation = (
            [(s, pid) for t in self.turns if t.side == side for s, pid in t.points] for side in SIDES
        )
        if self.reader is None or not race or not cooperation:
            return []
        vectors = self.reader.models.embed([s for s, _ in race])
        others = self.reader.models.embed([s for s, _ in cooperation])
        scores = vectors @ others.T
        best = int(scores.max(axis=1).argmax())
        if float(scores.max()) < AGREE_MIN or race[best][1] not in self.passages:
            return []
        sentence, pid = race[best]
        scored = self.passages[pid]
        citation = picks.numbering.citation(scored, best_quote(scored.passage.text, sentence))
        picks.citations.setdefault(citation.number, citation)
        text = self.ctx.prompts.template("debate_lines").line(
            "agree", point=clause(sentence, self.reader.models)
        )
        return [Sentence(text, (citation,), "supported")]

    def _verdict(self, strongest: dict[str, list[Sentence]]) -> list[Sentence]:
        """Which side carried the motion on the sources, and why, in two sentences: the side with
        more spoken points on the motion that argue for it; a draw when both have as many."""
        lines = self.ctx.prompts.template("debate_lines")
        counts = {side: sum(1 for (on, _), _, _ in self._argues(side) if on) for side in SIDES}
        race, cooperation = counts[SIDES[0]], counts[SIDES[1]]
        if race == cooperation:
            return [
                own_words(lines.line("draw", points=str(race), other_points=str(cooperation))),
                own_words(lines.line("draw_why")),
            ]
        winner = SIDES[0] if race > cooperation else SIDES[1]
        loser = other_side(winner)
        first = lines.line(
            "verdict", side=winner, other=loser, points=str(counts[winner]), other_points=str(counts[loser])
        )
        point = strongest[winner][-1]
        models = self.reader.models if self.reader is not None else None
        why = lines.line("verdict_why", point=clause(point.text, models))
        return [own_words(first), Sentence(why, point.citations, "supported" if point.citations else None)]
