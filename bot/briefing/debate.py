"""Debate mode: the race side and the cooperation side argue a motion from their own sources, then a
neutral judge sums up.

Balance is enforced, not hoped for:
- both sides get the same token budget per turn and the same number of passages, retrieved with the
  framing filter (`framing="race"` / `"cooperation"`), so each argues from its own framing's sources;
- every speech is checked by `citations.verify` (invented citations dropped, unsupported sentences
  listed); a speech that cites nothing from its own framing is regenerated once with a harder nudge
  ("Cite [1].", another seed) and, if it still cites nothing of its own, kept and marked
  `own_framing_cited = False`;
- the result reports per side the words spoken, the citations and the unsupported sentences.

Order: the race side opens every round and the cooperation side answers it; from round 2 on the race
side in turn answers the cooperation side's last speech, so every speech after the first replies to
the one before it.

The judge combines a short model-written summary (verified; unsupported sentences dropped) with a
deterministic structure that is present however weak the model is: each side's strongest point (its
best-supported sentence, with its citation), where the two sides' speeches overlap, and what the
sources leave open (a sentence with uncertainty cues, cited).

`DebateSession` gives front ends step-wise control (Discord's "next round" / "judge" / "stop"
buttons); the one-shot `debate()` used by the console is built on the same session.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bot.briefing.citations import SentenceCheck, Verification, best_quote, passage_text, verify
from bot.briefing.context import BriefingContext, stream_generation
from bot.briefing.grounding import (
    FRAMING_CUES,
    MIN_UNCERTAINTY,
    NO_UNCERTAINTY,
    UNCERTAINTY_CUES,
    UNCERTAINTY_QUERY,
    Numbering,
    Picks,
    make_cues,
    model_messages,
    passage_labels,
    strip_labels,
    strip_markers,
    trim_unfinished,
    with_marker,
)
from bot.briefing.models import Citation
from bot.briefing.prompting import clean_user_text, fit_to_context
from bot.briefing.retrieval import is_on_topic
from bot.engine.base import ChatMessage, GenerationRequest, Queued, Usage
from bot.errors import InputError
from bot.index import ScoredPassage
from bot.terms import content_terms, is_question, overlap, split_sentences, stem, words

SIDES = ("race", "cooperation")
DEFAULT_ROUNDS = 2
MAX_ROUNDS = 5
TURN_MAX_TOKENS = 100  # the same for both sides: balance starts with equal budgets
JUDGE_MAX_TOKENS = 80
MIN_KEPT_WORDS = 5
SIDE_K = 3  # own-framing passages per speech
# Each framing's own vocabulary, added to a side's search (see `_side_passages`).
SIDE_QUERY = {
    "race": "race competition speed leadership win deterrence rival surging ahead security dominance",
    "cooperation": "cooperation shared catastrophic risk safety norms dialogue track-two governance",
}
MAX_MOTION_CHARS = 300
OPPONENT_MAX_CHARS = 500  # the opponent's last speech as quoted in the prompt
TRANSCRIPT_TURN_CHARS = 400
FIRST_SPEAKER_NOTE = "(nobody yet - you open the debate)"
REGENERATE_NUDGE = (
    "\nUse only the sources above. Start with the strongest fact from source [1] and cite it. Cite [1]."
)
RETRY_TEMPERATURE = 0.3
COPY_OVERLAP = 0.8  # a sentence sharing this much of its content with one already heard is a repeat
# Common ground: a sentence from a passage tagged with both framings, with one of these cues.
AGREEMENT_QUERY = "both share shared same common agree fear cooperation national interests"
AGREEMENT_CUES = make_cues(
    r"both|share[sd]?|same|common|agree[sd]?|mutual|bipartisan", r"together|each other|too"
)
EMPTY_SPEECH = "(This side gave no usable speech.)"
SUMMARY_SENTENCES = 2  # the judge model's verified summary, before the deterministic structure
# Labels a small model copies from its prompt into its speech.
SPEECH_LABELS = (
    "Your side:",
    "Your opponent said:",
    "Motion:",
    "Sources:",
    "Speech:",
    "Race side:",
    "Cooperation side:",
)
# Words every speech on this subject uses (the two countries, the sources' own nouns, filler such as
# "former"/"forward"); they say nothing about where two sides agree ("Both sides speak of china and essay").
GENERIC_TERMS = frozenset(
    stem(w)
    for w in """side sides race cooperation debate argue motion point china chinese america american
    americans united states essay article author source sources says said former forward also""".split()
)


# --- events and results -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TurnStarted:
    """A speech begins. `attempt` 2 means the previous attempt is being regenerated: discard its text."""

    side: str
    round: int
    attempt: int = 1


@dataclass(slots=True)
class DebateTurn:
    """One verified speech."""

    side: str
    round: int
    text: str  # the speech with verified citation markers
    citations: list[Citation]
    unsupported: list[str]
    own_framing_cited: bool  # by the model itself, before any fallback quote
    regenerated: bool
    passage_ids: list[str]
    quoted: bool = False  # the model cited nothing of its own framing twice; a source sentence was added
    checked: int = 0  # sentences long enough to check
    supported: int = 0
    # (sentence, passage id) for each supported sentence: the judge's candidates for the strongest point
    points: list[tuple[str, str]] = field(default_factory=list)

    @property
    def words(self) -> int:
        return len(words(strip_markers(self.text)))

    @property
    def grounded(self) -> float:
        return self.supported / self.checked if self.checked else 1.0

    def to_json(self) -> dict[str, Any]:
        return {
            "side": self.side,
            "round": self.round,
            "text": self.text,
            "citations": [c.to_json(with_framing=True) for c in self.citations],
            "unsupported": list(self.unsupported),
            "own_framing_cited": self.own_framing_cited,
            "regenerated": self.regenerated,
            "quoted": self.quoted,
            "words": self.words,
            "grounded": round(self.grounded, 3),
        }


@dataclass(frozen=True, slots=True)
class TurnFinished:
    turn: DebateTurn


@dataclass(frozen=True, slots=True)
class JudgeStarted:
    """The judge begins; text pieces of its model-written summary follow."""


@dataclass(slots=True)
class Judgement:
    """The judge's verdict-free summary: model summary (verified) plus the deterministic structure."""

    text: str
    citations: list[Citation]
    summary: str  # the model-written, verified part ("" when nothing in it could be checked)
    strongest: dict[str, str]  # side -> its strongest point, cited
    agreement: str
    open_question: str
    unsupported: list[str] = field(default_factory=list)
    checked: int = 0
    supported: int = 0

    @property
    def grounded(self) -> float:
        return self.supported / self.checked if self.checked else 1.0

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "citations": [c.to_json(with_framing=True) for c in self.citations],
            "summary": self.summary,
            "strongest": dict(self.strongest),
            "agreement": self.agreement,
            "open": self.open_question,
            "unsupported": list(self.unsupported),
            "grounded": round(self.grounded, 3),
        }


@dataclass(frozen=True, slots=True)
class Judged:
    judge: Judgement


@dataclass(slots=True)
class DebateResult:
    motion: str
    turns: list[DebateTurn]
    judge: Judgement | None
    model: str
    max_tokens_per_turn: int
    total_ms: float = 0.0

    def balance(self) -> dict[str, dict[str, int]]:
        """Per side: words spoken, citations, unsupported sentences, turns, turns citing own framing."""
        figures = {}
        for side in SIDES:
            turns = [t for t in self.turns if t.side == side]
            figures[side] = {
                "words": sum(t.words for t in turns),
                "citations": sum(len(t.citations) for t in turns),
                "unsupported": sum(len(t.unsupported) for t in turns),
                "turns": len(turns),
                "own_framing_cited": sum(1 for t in turns if t.own_framing_cited),
                "max_tokens": self.max_tokens_per_turn,
            }
        return figures

    @property
    def grounded(self) -> float:
        """Supported sentences / checked sentences over every speech and the judge's summary."""
        parts: list[DebateTurn | Judgement] = [*self.turns, *([self.judge] if self.judge else [])]
        checked = sum(p.checked for p in parts)
        return sum(p.supported for p in parts) / checked if checked else 1.0

    def to_json(self) -> dict[str, Any]:
        return {
            "motion": self.motion,
            "turns": [t.to_json() for t in self.turns],
            "judge": self.judge.to_json() if self.judge else None,
            "balance": self.balance(),
            "grounded": round(self.grounded, 3),
            "model": self.model,
            "total_ms": self.total_ms,
        }


@dataclass(frozen=True, slots=True)
class DebateFinished:
    result: DebateResult


DebateEvent = TurnStarted | Queued | str | TurnFinished | JudgeStarted | Judged | DebateFinished


# --- the session --------------------------------------------------------------------------------


def _other(side: str) -> str:
    return SIDES[1 - SIDES.index(side)]


def _quote_own_framing(
    verification: Verification, side: str, given: list[ScoredPassage], motion: str
) -> bool:
    """After a retry still cites nothing of its own framing (or what survived checking is too short
    to be a speech): keep the checked sentences and add the best verbatim sentence of the side's best
    own-framing passage, so every speech argues from its own material. The turn is marked (`quoted`),
    and the balance figures count it. False if the side had no own-framing passage to quote."""
    own = [s for s in given if side in s.passage.framing]
    if not own:
        return False
    picks = Picks(Numbering(given))  # the speech's own numbering: [n] = given[n-1]
    if not picks.best(own, content_terms(motion), cues=FRAMING_CUES[side], prefer_framing=side):
        return False
    (citation,) = picks.citations.values()
    if len(words(verification.text)) < MIN_KEPT_WORDS:  # a stub such as "Source:" is not a speech
        verification.text = ""
    verification.add_quote(citation, separator=" ")
    return True


def _spoken(
    verification: Verification, motion: str, heard: Sequence[str], given: Sequence[ScoredPassage]
) -> list[SentenceCheck]:
    """The sentences of a speech worth hearing: supported ones that are not repeats or grafts.

    A small model pads its speech: it says the same sentence twice, copies the opponent's sentences
    (they are in its prompt) and restates the motion. Those add nothing a listener has not heard, and
    copying the other side blurs which side said what. Worse, it grafts the motion onto a source
    ("the key-facts box warns that ... America must accelerate"): a sentence whose words missing from
    the passages it cites include the motion's own words puts the motion in a source's mouth.
    """
    motion_terms = content_terms(motion) - GENERIC_TERMS
    before = [content_terms(strip_markers(s)) for text in heard for s in split_sentences(text)]
    kept: list[SentenceCheck] = []
    for sentence in verification.kept_sentences:
        if is_question(sentence.text) or sentence.text.count('"') % 2:
            continue  # a question is no argument; an odd quote mark is a sentence cut off mid-quote
        terms = content_terms(sentence.text)
        if sentence.supported and not terms - motion_terms - GENERIC_TERMS:
            continue  # the motion in other words
        cited = set().union(*(content_terms(passage_text(given[n - 1])) for n in sentence.numbers))
        if sentence.supported and (terms - cited) & motion_terms:
            continue
        if any(overlap(terms, seen) >= COPY_OVERLAP for seen in before if seen):
            continue
        kept.append(sentence)
        before.append(terms)
    return kept


def _own_framing_cited(verification: Verification, side: str) -> bool:
    return any(side in c.framing for c in verification.citations)


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)


class DebateSession:
    """A debate in progress. Create with `await DebateSession.open(...)`; then `next_round()` as
    often as wanted (up to MAX_ROUNDS), `judge()` once, `result()` at any time.

    One step runs at a time: a second call while a step is running raises InputError (a double click
    on a Discord button must not interleave two speeches).
    """

    def __init__(
        self, ctx: BriefingContext, motion: str, *, rounds: int, conversation_id: str, user_id: str
    ) -> None:
        self.ctx = ctx
        self.motion = motion
        self.planned_rounds = rounds
        self.conversation_id = conversation_id
        self.user_id = user_id
        self.turns: list[DebateTurn] = []
        self.judgement: Judgement | None = None
        self.max_tokens = min(TURN_MAX_TOKENS, ctx.max_answer_tokens)
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
    ) -> DebateSession:
        """Validate the motion and the number of rounds; decline a motion off the subject."""
        motion = clean_user_text(motion, max_chars=min(ctx.max_input_chars, MAX_MOTION_CHARS), what="motion")
        if not isinstance(rounds, int) or not 1 <= rounds <= MAX_ROUNDS:
            raise InputError(f"A debate has 1 to {MAX_ROUNDS} rounds (got {rounds}).")
        if not is_on_topic(motion, await ctx.index.search(motion, k=SIDE_K)):
            raise InputError(ctx.prompts.message("off_topic"))
        return cls(ctx, motion, rounds=rounds, conversation_id=conversation_id, user_id=user_id)

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
            total_ms=_ms(self._started),
        )

    def _begin_step(self) -> None:
        if self._step.locked():
            raise InputError("The debate is still speaking - wait for the current turn to finish.")

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
            async for event in self._judge():
                yield event

    # --- speeches -------------------------------------------------------------------------------

    async def _side_passages(self, side: str, opponent: str) -> list[ScoredPassage]:
        """Own-framing passages for this speech; new ones each round where the sources allow.

        The motion alone tends to find the same passages for both sides (many are tagged with both
        framings), so the query adds the side's own vocabulary and passages tagged with this side
        only come first: each speaker gets material the other side does not have.
        """
        query = f"{self.motion} {SIDE_QUERY[side]} {opponent}".strip()
        used = {pid for t in self.turns if t.side == side for pid in t.passage_ids}
        pool = await self.ctx.index.search(query, k=SIDE_K * 4, framing=side, exclude=used)
        if len(pool) < SIDE_K:
            more = await self.ctx.index.search(query, k=SIDE_K * 4, framing=side)
            pool += [p for p in more if p.passage.id not in {f.passage.id for f in pool}]
        pool.sort(key=lambda scored: scored.passage.framing != (side,))  # stable: BM25 order within
        return pool[:SIDE_K]

    def _messages(
        self, side: str, passages: list[ScoredPassage], opponent: str, nudge: str
    ) -> tuple[tuple[ChatMessage, ...], list[ScoredPassage]]:
        def build(ps: list[ScoredPassage], _history: list[Any]) -> tuple[ChatMessage, ...]:
            messages = model_messages(
                self.ctx.prompts,
                f"{side}_advocate",
                "debate_turn",
                ps,
                motion=self.motion,
                side=side,
                opponent=opponent or FIRST_SPEAKER_NOTE,
            )
            if not nudge:
                return messages
            return (*messages[:-1], replace(messages[-1], content=messages[-1].content + nudge))

        messages, kept, _ = fit_to_context(self.ctx.engine, build, passages, [], self.max_tokens)
        return messages, kept

    async def _speech(self, side: str, number: int) -> AsyncIterator[DebateEvent]:
        last = next((t for t in reversed(self.turns) if t.side == _other(side)), None)
        opponent = strip_markers(last.text)[:OPPONENT_MAX_CHARS] if last else ""
        passages = await self._side_passages(side, opponent)
        for scored in passages:
            self._passages.setdefault(scored.passage.id, scored)
        verification: Verification | None = None
        for attempt in (1, 2):
            yield TurnStarted(side, number, attempt)
            messages, given = self._messages(
                side, passages, opponent, REGENERATE_NUDGE if attempt > 1 else ""
            )
            sampling = self.ctx.sampling(max_tokens=self.max_tokens)
            if attempt > 1:
                sampling = replace(sampling, temperature=RETRY_TEMPERATURE, seed=sampling.seed + number)
            request = GenerationRequest(
                messages=messages,
                sampling=sampling,
                user_id=self.user_id,
                conversation_id=f"{self.conversation_id}:{side}",
            )
            pieces: list[str] = []
            async for event in stream_generation(self.ctx.engine, request, pieces):
                if not isinstance(event, Usage):
                    yield event
            raw = strip_labels(trim_unfinished("".join(pieces)), [*passage_labels(given), *SPEECH_LABELS])
            verification = verify(raw, given)
            kept = _spoken(verification, self.motion, [t.text for t in self.turns], given)
            verification.keep_only(kept)
            if _own_framing_cited(verification, side):
                break
        assert verification is not None
        own_cited = _own_framing_cited(verification, side)
        quoted = False
        if not own_cited or len(words(strip_markers(verification.text))) < MIN_KEPT_WORDS:
            quoted = _quote_own_framing(verification, side, given, self.motion)
        checked = len(verification.checked)
        turn = DebateTurn(
            side=side,
            round=number,
            text=verification.text or EMPTY_SPEECH,
            citations=verification.citations,
            unsupported=verification.unsupported,
            own_framing_cited=own_cited,
            regenerated=attempt > 1,
            quoted=quoted,
            passage_ids=[p.passage.id for p in given],
            checked=checked,
            supported=checked - len(verification.unsupported),
            points=[(c.text, given[n - 1].passage.id) for c in kept if c.supported for n in c.numbers],
        )
        self.turns.append(turn)
        yield TurnFinished(turn)

    # --- the judge ------------------------------------------------------------------------------

    def _transcript(self, turns: Sequence[DebateTurn]) -> str:
        return "\n".join(
            f"{t.side.capitalize()} side (round {t.round}): {strip_markers(t.text)[:TRANSCRIPT_TURN_CHARS]}"
            for t in turns
        )

    def _speaker_labels(self) -> list[str]:
        """The transcript's labels, which the judge model likes to copy."""
        return [f"{t.side} side (round {t.round})" for t in self.turns]

    def _judge_messages(self) -> tuple[ChatMessage, ...]:
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

    def _strongest(self, side: str, picks: Picks) -> str:
        """The side's best-supported sentence with its citation; failing that, its sources' best fact."""
        best: tuple[float, str, ScoredPassage] | None = None
        for turn in (t for t in self.turns if t.side == side):
            for sentence, pid in turn.points:
                scored = self._passages.get(pid)
                if scored is None or side not in scored.passage.framing:
                    continue
                score = overlap(content_terms(sentence), content_terms(scored.passage.text))
                if best is None or score > best[0]:
                    best = (score, sentence, scored)
        if best is not None:
            _, sentence, scored = best
            citation = picks.numbering.citation(scored, best_quote(scored.passage.text, sentence))
            picks.citations.setdefault(citation.number, citation)
            return with_marker(sentence, [citation.number])
        own = [p for p in picks.numbering.passages if side in p.passage.framing]
        fact = picks.best(own, content_terms(self.motion), cues=FRAMING_CUES[side])
        if fact:
            return f"(not made in the speeches; from its sources) {fact}"
        return "No supported point was made."

    async def _agreement(self, picks: Picks) -> str:
        """Where the two sides meet: the sources' own statement of common ground (a sentence from a
        passage tagged with both framings, with a cue such as "both" or "shared", cited), and any
        source both sides cited.

        Why not the words both speeches used: with a small model those are mostly the subject's own
        nouns ("Both sides speak of china and essay"), which says nothing.
        """
        pool = await self.ctx.index.search(f"{self.motion} {AGREEMENT_QUERY}", k=SIDE_K * 3)
        shared = [p for p in pool if set(SIDES) <= set(p.passage.framing)]
        parts = []
        common = picks.best(
            shared,
            content_terms(self.motion),
            cues=AGREEMENT_CUES,
            min_cue=MIN_UNCERTAINTY,
            cue_cap=MIN_UNCERTAINTY,
        )
        if common:
            parts.append(common)
        cited = {s: {c.source for t in self.turns if t.side == s for c in t.citations} for s in SIDES}
        titles = sorted(
            {
                p.passage.title
                for p in self._passages.values()
                if p.passage.source in cited["race"] & cited["cooperation"]
            }
        )
        if titles:
            parts.append("Both sides cite " + "; ".join(f'"{t}"' for t in titles) + ".")
        return " ".join(parts) or "The two sides found no common ground in their speeches."

    async def _judge(self) -> AsyncIterator[DebateEvent]:
        numbering = Numbering(list(self._passages.values()))
        open_pool = await self.ctx.index.search(f"{self.motion} {UNCERTAINTY_QUERY}", k=SIDE_K)
        for scored in open_pool:
            numbering.number(scored)
        passages = list(numbering.passages)
        sampling = self.ctx.sampling(max_tokens=JUDGE_MAX_TOKENS)
        request = GenerationRequest(
            messages=self._judge_messages(),
            sampling=sampling,
            user_id=self.user_id,
            conversation_id=f"{self.conversation_id}:judge",
        )
        pieces: list[str] = []
        async for event in stream_generation(self.ctx.engine, request, pieces):
            if not isinstance(event, Usage):
                yield event
        labels = [*passage_labels(passages), *SPEECH_LABELS, *self._speaker_labels()]
        verification = verify(strip_labels(trim_unfinished("".join(pieces)), labels), passages)
        kept = [c for c in _spoken(verification, self.motion, [], passages) if c.supported][
            :SUMMARY_SENTENCES
        ]
        summary = " ".join(c.rendered for c in kept)
        picks = Picks(numbering)
        for citation in verification.citations:
            picks.citations.setdefault(citation.number, citation)
        strongest = {side: self._strongest(side, picks) for side in SIDES}
        agreement = await self._agreement(picks)
        open_question = (
            picks.best(
                [*open_pool, *passages],
                content_terms(self.motion),
                cues=UNCERTAINTY_CUES,
                min_cue=MIN_UNCERTAINTY,
                cue_cap=MIN_UNCERTAINTY,
            )
            or NO_UNCERTAINTY
        )
        (summary, race, cooperation, agreement, open_question), citations, _ = picks.renumbered(
            [summary, strongest["race"], strongest["cooperation"], agreement, open_question]
        )
        strongest = {"race": race, "cooperation": cooperation}
        lines = [summary] if summary else []
        lines += [
            f"**Strongest race point:** {race}",
            f"**Strongest cooperation point:** {cooperation}",
            f"**Where they agree:** {agreement}",
            f"**What the sources leave open:** {open_question}",
        ]
        checked = len(verification.checked)
        self.judgement = Judgement(
            text="\n".join(lines),
            citations=citations,
            summary=summary,
            strongest=strongest,
            agreement=agreement,
            open_question=open_question,
            unsupported=verification.unsupported,
            checked=checked,
            supported=checked - len(verification.unsupported),
        )
        yield Judged(self.judgement)


async def debate(
    ctx: BriefingContext,
    motion: str,
    *,
    rounds: int = DEFAULT_ROUNDS,
    conversation_id: str,
    user_id: str,
) -> AsyncIterator[DebateEvent]:
    """The whole debate in one stream: `rounds` rounds, the judge, then `DebateFinished`."""
    session = await DebateSession.open(
        ctx, motion, rounds=rounds, conversation_id=conversation_id, user_id=user_id
    )
    for _ in range(rounds):
        async for event in session.next_round():
            yield event
    async for event in session.judge():
        yield event
    yield DebateFinished(session.result())
