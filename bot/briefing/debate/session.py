"""A debate in progress, step by step: rounds of speeches, then the judge.

Order: the race side opens every round and the cooperation side answers it; from round 2 on the race
side in turn answers the cooperation side's last speech, so every speech after the first replies to
the one before it. Both sides get the same token budget per turn and the same number of passages,
searched with the framing filter, so each argues from its own framing's sources.

`DebateSession` gives front ends step-wise control (Discord's "next round" / "judge" / "stop"
buttons); the one-shot `debate()` used by the console is built on the same session.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from bot.briefing.context import BriefingContext
from bot.briefing.debate.compose import answer_line, ask, nothing_line, position, strongest_of
from bot.briefing.debate.core import (
    choose_core,
    kept_back,
    motion_terms,
    own_sentences_on,
    side_sentences,
    speech_passages,
)
from bot.briefing.debate.judge import Judge
from bot.briefing.debate.results import (
    SIDES,
    DebateEvent,
    DebateFinished,
    DebateResult,
    DebateTurn,
    Judged,
    Judgement,
    JudgeStarted,
    MotionNote,
    TurnFinished,
    other_side,
)
from bot.briefing.debate.speech import Speaker, SpeechPlan
from bot.briefing.debate.stance import StanceReader
from bot.briefing.evidence import weigh
from bot.briefing.focus import Focus, focus_of
from bot.briefing.pick import Pick
from bot.briefing.prompting import clean_user_text
from bot.briefing.retrieval import is_on_topic
from bot.briefing.topics import normalise_topic
from bot.errors import InputError
from bot.index import ScoredPassage
from bot.measures import elapsed_ms
from bot.terms import WORD_RE, stem
from bot.words.vocabulary import vocabulary

DEFAULT_ROUNDS = 2
MAX_ROUNDS = 5
TURN_MAX_TOKENS = 100  # the same for both sides: balance starts with equal budgets
SIDE_K = 3  # own-framing passages per speech
POOL_K = 40  # own-framing passages searched per speech: sentences are scored in all of them
MAX_MOTION_CHARS = 300
OPPONENT_MAX_CHARS = 500  # the opponent's last speech as quoted in the prompt
WEIGH_K = 8  # passages weighed to tell whether the sources cover the motion
BARELY = (
    "The briefing sources barely touch this motion{never}: the closest passage covers {coverage:.0%} of it. "
    "The speeches argue from what the sources do cover: {topics}."
)
ONE_SIDED = (
    "No source passage of the {side} framing alone speaks to this motion: the {side} side argues from "
    "passages both framings share."
)


async def motion_note(ctx: BriefingContext, motion: str) -> str:
    """Empty when the sources cover the motion; else a plain sentence saying they barely touch it,
    with the closest topics they do cover (the same weighing answers use: evidence.weigh). A side
    whose own framing says nothing on a motion the sources do cover is named (`ONE_SIDED`): its
    speeches can only argue from passages both framings share, and the user should know that."""
    evidence = weigh(ctx.index, motion, await ctx.index.search(motion, k=WEIGH_K))
    if evidence.answerable:
        about = motion_terms(evidence.focus, ctx.index)
        silent = [side for side in SIDES if not own_sentences_on(ctx.index.passages, about, side)[0]]
        return ONE_SIDED.format(side=silent[0]) if len(silent) == 1 else ""
    absent = [w for w in WORD_RE.findall(motion) if stem(w.lower()) in evidence.missing]
    return BARELY.format(
        never=f" (they never mention {', '.join(dict.fromkeys(absent))})" if absent else "",
        coverage=evidence.coverage,
        topics="; ".join(evidence.closest) or "little",
    )


class DebateSession:
    """A debate in progress. Create with `await DebateSession.open(...)`; then `next_round()` as
    often as wanted (up to MAX_ROUNDS), `judge()` once, `result()` at any time.

    One step runs at a time: a second call while a step is running raises InputError (a double click
    on a Discord button must not interleave two speeches).
    """

    def __init__(
        self,
        ctx: BriefingContext,
        motion: str,
        *,
        rounds: int,
        conversation_id: str,
        user_id: str,
        note: str = "",
        favours: str | None = None,
    ) -> None:
        self.ctx = ctx
        self.motion = motion
        self.note = note
        self.planned_rounds = rounds
        self.conversation_id = conversation_id
        self.user_id = user_id
        self.turns: list[DebateTurn] = []
        self.judgement: Judgement | None = None
        self.max_tokens = min(TURN_MAX_TOKENS, ctx.max_answer_tokens)
        self.focus: Focus = focus_of(motion)
        self.about = motion_terms(self.focus, ctx.index)
        self.models = models = ctx.index.models
        self.reader = StanceReader.of(models, {side: ctx.prompts.framing(side) for side in SIDES})
        # The framing the motion favours: its side argues for the motion, the other against it. Read
        # from the motion's meaning unless the user says (the reading sees the topic, not always the
        # direction: docs/debates.md).
        if favours is None:
            favours = self.reader.motion_side(motion) if self.reader is not None else SIDES[0]
        self.favoured = favours
        self._passages: dict[str, ScoredPassage] = {}  # every passage any speech was given, by id
        self._step = asyncio.Lock()
        self._started = time.perf_counter()

    @classmethod
    async def open(
        cls,
        ctx: BriefingContext,
        motion: str,
        *,
        rounds: int = DEFAULT_ROUNDS,
        conversation_id: str,
        user_id: str,
        favours: str | None = None,
    ) -> DebateSession:
        """Validate the motion, the number of rounds and `favours` (the side the user says the
        motion favours, or None to read it from the motion); decline a motion off the subject, and
        note one the sources barely touch."""
        motion = clean_user_text(motion, max_chars=min(ctx.max_input_chars, MAX_MOTION_CHARS), what="motion")
        if not isinstance(rounds, int) or not 1 <= rounds <= MAX_ROUNDS:
            raise InputError(f"A debate has 1 to {MAX_ROUNDS} rounds (got {rounds}).")
        if favours is not None and favours not in SIDES:
            raise InputError(f"A motion favours one of {', '.join(SIDES)} (got {favours!r}).")
        if not is_on_topic(motion, await ctx.index.search(motion, k=SIDE_K)):
            raise InputError(ctx.prompts.message("off_topic"))
        note = await motion_note(ctx, motion)
        return cls(
            ctx,
            motion,
            rounds=rounds,
            conversation_id=conversation_id,
            user_id=user_id,
            note=note,
            favours=favours,
        )

    @property
    def rounds_played(self) -> int:
        return max((t.round for t in self.turns), default=0)

    @property
    def judged(self) -> bool:
        return self.judgement is not None

    def result(self) -> DebateResult:
        return DebateResult(
            motion=self.motion,
            turns=list(self.turns),
            judge=self.judgement,
            model=self.ctx.engine.model_name,
            max_tokens_per_turn=self.max_tokens,
            total_ms=elapsed_ms(self._started),
            note=self.note,
        )

    def _begin_step(self) -> None:
        """Refuse a step while one runs; pin the debate's word lists for this step's task (a later
        round runs in another task, perhaps after a reload: it reads the lists the debate began with)."""
        if self._step.locked():
            raise InputError("The debate is still speaking - wait for the current turn to finish.")
        self.ctx.pin_words()

    async def next_round(self) -> AsyncIterator[DebateEvent]:
        """One round: the race side speaks, then the cooperation side answers it."""
        self._begin_step()
        if self.judged:
            raise InputError("This debate has been judged; start a new one to continue.")
        if self.rounds_played >= MAX_ROUNDS:
            raise InputError(f"A debate has at most {MAX_ROUNDS} rounds - ask the judge now.")
        async with self._step:
            number = self.rounds_played + 1
            for side in SIDES:
                async for event in self._speech(side, number):
                    yield event

    async def judge(self) -> AsyncIterator[DebateEvent]:
        """The neutral judge's summary; may be called once, after at least one speech."""
        self._begin_step()
        if self.judged:
            raise InputError("This debate has already been judged.")
        if not self.turns:
            raise InputError("Nobody has spoken yet - play a round before asking the judge.")
        async with self._step:
            yield JudgeStarted()
            judge = Judge(
                self.ctx,
                self.motion,
                self.turns,
                self._passages,
                about=self.about,
                user_id=self.user_id,
                conversation_id=self.conversation_id,
                reader=self.reader,
            )
            async for event in judge.stream():
                if isinstance(event, Judged):
                    self.judgement = event.judge
                yield event

    # --- speeches -------------------------------------------------------------------------------

    async def _side_pool(self, side: str, opponent: str) -> list[ScoredPassage]:
        """Own-framing passages to choose this speech's sentences from: those the motion finds, those
        the motion with the side's own vocabulary and the opponent's speech finds (many passages are
        tagged with both framings, so the motion alone finds the same ones for both sides), and
        those the motion's own words alone find. Passages this side already used come last but
        stay: a later round may still quote their sentences not yet said (a side has few passages
        of its own framing alone, and round two otherwise ran out of them)."""
        used = {pid for t in self.turns if t.side == side for pid in t.passage_ids}
        query = f"{self.motion} {vocabulary().queries[side]} {opponent}".strip()  # the side's own words
        # The motion's own words alone: words every passage uses ("AI", "China") fill the pool
        # otherwise, and a passage that shares only one rarer motion word is left out.
        own = " ".join(self.focus.surface.get(t, t) for t in sorted(self.about))
        found: dict[str, ScoredPassage] = {}
        for exclude in (used, set()):
            for text in (self.motion, query, own):
                for scored in await self.ctx.index.search(text, k=POOL_K, framing=side, exclude=exclude):
                    found.setdefault(scored.passage.id, scored)
        return list(found.values())

    async def _plan(self, side: str, number: int) -> SpeechPlan:
        last = next((t for t in reversed(self.turns) if t.side == other_side(side)), None)
        opponent = last.argued[:OPPONENT_MAX_CHARS] if last else ""
        spoken = {normalise_topic(sentence) for t in self.turns for sentence, _ in t.points}
        pool = await self._side_pool(side, opponent)
        picks = await asyncio.to_thread(
            side_sentences, self.ctx.index, self.focus, pool, side, spoken, self.reader
        )
        later = max(0, self.planned_rounds - number)
        core = choose_core(picks, side, self.about, later)
        held = kept_back(picks, core, side, self.about, later)
        return SpeechPlan(
            side=side,
            round=number,
            motion=self.motion,
            opponent=opponent,
            given=speech_passages(core, [p for p in picks if p.scored.passage.id not in held], SIDE_K),
            core=core,
            heard=[t.plain for t in self.turns],
            about=self.about,
            opening=self._opening(side, number, picks, last),
            ask=ask(self.ctx.prompts, side, self.favoured),
            reader=self.reader,
            models=self.models,
        )

    def _opening(self, side: str, number: int, picks: list[Pick], last: DebateTurn | None) -> list[str]:
        """The speech's first sentences: its position on the motion; from round two, the other
        side's strongest point it answers, named; and, when none of its sentences bears on the
        motion, that it argues from the nearest ground it has."""
        lines = [position(self.ctx.prompts, side, self.motion, self.favoured, self.models)]
        point = strongest_of(last.points, self.reader, last.side) if last and number > 1 else ""
        if last is not None and point:
            lines.append(answer_line(self.ctx.prompts, side, last.side, point, self.models))
        if not any(p.terms & self.about for p in picks):
            lines.append(nothing_line(self.ctx.prompts, side))
        return lines

    async def _speech(self, side: str, number: int) -> AsyncIterator[DebateEvent]:
        plan = await self._plan(side, number)
        for scored in plan.given:
            self._passages.setdefault(scored.passage.id, scored)
        speaker = Speaker(
            self.ctx,
            plan,
            max_tokens=self.max_tokens,
            conversation_id=self.conversation_id,
            user_id=self.user_id,
        )
        async for event in speaker.speak():
            if isinstance(event, TurnFinished):
                self.turns.append(event.turn)
            yield event


async def debate(
    ctx: BriefingContext,
    motion: str,
    *,
    rounds: int = DEFAULT_ROUNDS,
    conversation_id: str,
    user_id: str,
    favours: str | None = None,
) -> AsyncIterator[DebateEvent]:
    """The whole debate in one stream: a `MotionNote` if the sources barely touch the motion, then
    `rounds` rounds, the judge, then `DebateFinished`."""
    session = await DebateSession.open(
        ctx, motion, rounds=rounds, conversation_id=conversation_id, user_id=user_id, favours=favours
    )
    if session.note:
        yield MotionNote(session.note)
    for _ in range(rounds):
        async for event in session.next_round():
            yield event
    async for event in session.judge():
        yield event
    yield DebateFinished(session.result())
