"""One debate speech, streamed as it is checked: the side's position on the motion (and, from round
two, the other side's strongest point it answers), the model's sentences that pass, then reasons
built on the side's own source sentences (the extractive core, core.py) where the model left a gap,
and a closing ask. The composed sentences' wording is a prompt file (compose.py).

The model's text goes through `SentenceGate` (checked.py): a sentence is shown only once it is
complete, supported by a passage the side was given, consistent with it (the fact-check comparison),
not a question and not a repeat of anything said in the debate so far. Debate rules add four more
(`worth_hearing`): no restating the motion, no putting the motion's words in a source's mouth, no
figure the cited passages do not give, no sentence cut off mid-quote; and a sentence must argue for
the speaker's side by its meaning (stance.py). What was shown is never
withdrawn: the turn's text is exactly the pieces streamed, and the core sentences come after them.

A model that gave nothing checkable is asked once more with a harder nudge ("Cite [1].", another
seed); what it showed (nothing of its own) stays, so nothing is taken back.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace

from bot.briefing.checked import REPEAT_OVERLAP, SentenceGate
from bot.briefing.citations import passage_text
from bot.briefing.context import BriefingContext, stream_generation
from bot.briefing.debate.compose import reason_line, reason_point
from bot.briefing.debate.core import own_alone
from bot.briefing.debate.results import DebateTurn, TurnFinished, TurnStarted
from bot.briefing.debate.stance import StanceReader
from bot.briefing.grounding import model_messages, passage_labels
from bot.briefing.models import Citation
from bot.briefing.pick import Pick
from bot.briefing.prompting import fit_to_context
from bot.briefing.sentences import Part, Sentence, Shown, from_source, own_words
from bot.engine.base import ChatMessage, GenerationRequest, Queued, Usage
from bot.index import ScoredPassage
from bot.language import LanguageModels
from bot.promptset import PromptSet
from bot.store import Turn
from bot.terms import content_terms, match_terms, overlap, sentences_of
from bot.words.vocabulary import vocabulary

_FIGURE_RE = re.compile(r"\d+(?:[.,]\d+)?")
MIN_CHECKED_SENTENCES = 2  # fewer than this shown, and the core fills the speech
FIRST_SPEAKER_NOTE = "(nobody yet - you open the debate)"
REGENERATE_NUDGE = (
    "\nUse only the sources above. Start with the strongest fact from source [1] and cite it. Cite [1]."
)
RETRY_TEMPERATURE = 0.3
# Labels a small model copies into its speech that no template writes (the debate_turn template's
# own labels are declared in its front matter).
HABIT_LABELS = ("Speech:", "Race side:", "Cooperation side:")


def speech_labels(prompts: PromptSet) -> tuple[str, ...]:
    """Labels a small model copies from its prompt into a speech: stripped wherever they appear."""
    return (*prompts.template("debate_turn").labels, *HABIT_LABELS)


def worth_hearing(check: Sentence, motion: str, given: Sequence[ScoredPassage]) -> bool:
    """The debate's own rules for a checked sentence (see the module docstring).

    A small model restates the motion, and grafts it onto a source ("the key-facts box warns that
    ... America must accelerate"): a sentence whose words missing from the passages it cites include
    the motion's own words puts the motion in a source's mouth. It also dates what its source does
    not ("In 2018, a series of meetings..."): a figure the cited passages do not give is invented."""
    if check.text.count('"') % 2:
        return False  # an odd quote mark: a sentence cut off mid-quote
    generic = vocabulary().debate_generic  # words every speech on this subject uses (lexicon/words.toml)
    motion_words = content_terms(motion) - generic
    terms = content_terms(check.text)
    if not terms - motion_words - generic:
        return False
    cited_text = " ".join(passage_text(given[n - 1]) for n in check.numbers)
    if set(_FIGURE_RE.findall(check.text)) - set(_FIGURE_RE.findall(cited_text)):
        return False
    return not (terms - content_terms(cited_text)) & motion_words


def repeats(text: str, heard: Sequence[frozenset[str]]) -> bool:
    """Whether any part of `text` says what a sentence already heard said (REPEAT_OVERLAP of its
    words inside that sentence)."""
    for part in sentences_of(text):
        terms = match_terms(part)
        if terms and any(len(terms & seen) >= REPEAT_OVERLAP * len(terms) for seen in heard):
            return True
    return False


@dataclass(frozen=True, slots=True)
class SpeechPlan:
    """Everything one speech is built from, decided before the model speaks."""

    side: str
    round: int
    motion: str
    opponent: str  # the other side's last speech, rendered without markers ("" for the opening speech)
    given: list[ScoredPassage]  # [n] = given[n-1]
    core: list[Pick]
    heard: list[str]  # every speech so far, without markers: the model must not repeat them
    about: frozenset[str]  # the motion's own terms (core.motion_terms)
    opening: list[str] = field(default_factory=list)  # the position, any answer: composed, said first
    ask: str = ""  # the closing line
    reader: StanceReader | None = None  # which side a sentence argues for (None: tags alone)
    models: LanguageModels | None = None


class Speaker:
    """Streams one speech for a `SpeechPlan` (`speak()`); its last event carries the turn."""

    def __init__(
        self, ctx: BriefingContext, plan: SpeechPlan, *, max_tokens: int, conversation_id: str, user_id: str
    ) -> None:
        self.ctx = ctx
        self.plan = plan
        self.max_tokens = max_tokens
        self.conversation_id = conversation_id
        self.user_id = user_id
        self.shown = Shown()
        # The terms of every sentence said so far, split after closing quotes too: the gate checks a
        # '..."quote." Next sentence' as one, and a copied next sentence would hide in it.
        self._heard = [match_terms(s) for text in plan.heard for s in sentences_of(text)]
        self.given = list(plan.given)  # narrowed to what fits the context when the model is asked
        self.gate = self._gate(self.given)

    def _messages(self, nudge: str) -> tuple[tuple[ChatMessage, ...], list[ScoredPassage]]:
        plan = self.plan

        def build(ps: list[ScoredPassage], _history: list[Turn]) -> tuple[ChatMessage, ...]:
            messages = model_messages(
                self.ctx.prompts,
                self.ctx.prompts.speaker(plan.side),
                "debate_turn",
                ps,
                motion=plan.motion,
                side=plan.side,
                opponent=plan.opponent or FIRST_SPEAKER_NOTE,
            )
            if not nudge:
                return messages
            return (*messages[:-1], replace(messages[-1], content=messages[-1].content + nudge))

        messages, kept, _ = fit_to_context(self.ctx.engine, build, plan.given, [], self.max_tokens)
        return messages, kept

    def _gate(self, given: list[ScoredPassage]) -> SentenceGate:
        gate = SentenceGate.reading(
            given, self.ctx.index, labels=[*passage_labels(given), *speech_labels(self.ctx.prompts)]
        )
        for text in self.plan.heard:
            for sentence in sentences_of(text):
                gate.note_shown(sentence)
        return gate

    async def _attempt(self, attempt: int, kept: list[Sentence]) -> AsyncIterator[Queued | Part]:
        """One generation; checked sentences worth hearing are streamed and added to `kept`."""
        messages, given = self._messages(REGENERATE_NUDGE if attempt > 1 else "")
        self.given = given
        self.gate = self._gate(given)
        sampling = self.ctx.sampling(max_tokens=self.max_tokens)
        if attempt > 1:
            sampling = replace(sampling, temperature=RETRY_TEMPERATURE, seed=sampling.seed + self.plan.round)
        request = GenerationRequest(
            messages=messages,
            sampling=sampling,
            user_id=self.user_id,
            conversation_id=f"{self.conversation_id}:{self.plan.side}",
        )
        pieces: list[str] = []
        async for event in stream_generation(self.ctx.engine, request, pieces):
            if isinstance(event, str):
                for check in await self.gate.afeed(event):
                    if part := self._hear(check, kept):
                        yield part
            elif not isinstance(event, Usage):
                yield event
        for check in await self.gate.afinish():
            if part := self._hear(check, kept):
                yield part

    def _hear(self, check: Sentence, kept: list[Sentence]) -> Part | None:
        if not worth_hearing(check, self.plan.motion, self.given) or repeats(check.text, self._heard):
            return None
        reader = self.plan.reader
        if reader is not None and reader.stance(check.text).side != self.plan.side:
            return None  # checked, but it argues the other side's case, or neither
        kept.append(check)
        self._heard += [match_terms(part) for part in sentences_of(check.text)]
        return self.shown.add(Part((check,)))

    async def speak(self) -> AsyncIterator[TurnStarted | Queued | Part | TurnFinished]:
        """TurnStarted, the streamed parts (Queued while waiting), then TurnFinished. The opening is
        streamed before the model is asked; a second attempt adds to it, taking nothing back."""
        kept: list[Sentence] = []
        yield TurnStarted(self.plan.side, self.plan.round)
        if part := self.shown.add(Part(tuple(own_words(t) for t in self.plan.opening))):
            yield part
        attempt = 1
        while True:
            async for event in self._attempt(attempt, kept):
                yield event
            if kept or attempt > 1:
                break
            attempt += 1
        fills = self._fills(kept)
        for number, (pick, n) in enumerate(fills, 1):
            for part in self._reason(number, pick, n):
                if shown := self.shown.add(part, part.separator):
                    yield shown
        if self.plan.ask and (part := self.shown.add(Part((own_words(self.plan.ask),)), "\n")):
            yield part
        yield TurnFinished(self._turn(kept, fills, attempt))

    def _reason(self, number: int, pick: Pick, n: int) -> list[Part]:
        """A reason: a sentence of the speech's own naming what the cited passage is about, then the
        source sentence that backs it, in quotation marks; the quote alone where the passage's
        heading names nothing the side can claim."""
        citation = self._citation(n, pick.sentence)
        quote = Part((from_source(pick.sentence, citation),), layout="quotes", separator="\n")
        point = reason_point(pick, self.plan.side, self.plan.reader, self.plan.models)
        if not point:
            return [quote]
        lead = Sentence(reason_line(self.ctx.prompts, number, point), (citation,), "supported")
        return [Part((lead,), separator="\n"), replace(quote, separator=" ")]

    def _own_cited(self, kept: Sequence[Sentence]) -> bool:
        return any(self.plan.side in self.given[n - 1].passage.framing for c in kept for n in c.numbers)

    def _fills(self, kept: Sequence[Sentence]) -> list[tuple[Pick, int]]:
        """The core sentences the speech still needs: while fewer than MIN_CHECKED_SENTENCES on the
        motion stand, while nothing on the motion rests on a passage of this framing alone (a model
        sentence of its own framing about something else does not state the side's case), and any
        that adds a motion word the speech lacks."""
        side = self.plan.side
        covered = set(match_terms(self.shown.text)) & self.plan.about
        on_motion = [c for c in kept if match_terms(c.text) & self.plan.about]
        alone = any(self.given[n - 1].passage.framing == (side,) for c in on_motion for n in c.numbers)
        bearing = len(on_motion)
        needed: list[tuple[Pick, int]] = []
        for pick in self.plan.core:
            number = self._number(pick.scored.passage.id)
            if not number or self._said(pick, kept):
                continue
            thin = bearing + len(needed) < MIN_CHECKED_SENTENCES
            if thin or (own_alone(pick, side) and not alone) or (pick.terms & self.plan.about) - covered:
                needed.append((pick, number))
                covered |= pick.terms & self.plan.about
                alone = alone or own_alone(pick, side)
        return needed

    def _said(self, pick: Pick, kept: Sequence[Sentence]) -> bool:
        """The model already said this source sentence (in its words or the source's)."""
        return any(overlap(pick.terms, match_terms(c.text)) >= REPEAT_OVERLAP for c in kept)

    def _number(self, passage_id: str) -> int:
        return next((n for n, s in enumerate(self.given, 1) if s.passage.id == passage_id), 0)

    def _turn(self, kept: Sequence[Sentence], fills: Sequence[tuple[Pick, int]], attempt: int) -> DebateTurn:
        citations: dict[int, Citation] = {}
        for check in kept:
            for n in check.numbers:
                citations.setdefault(n, self._citation(n, check.text))
        for pick, n in fills:
            citations[n] = self._citation(n, pick.sentence)
        checked = self.gate.checked
        return DebateTurn(
            side=self.plan.side,
            round=self.plan.round,
            parts=self.shown.parts,
            citations=[citations[n] for n in sorted(citations)],
            unsupported=[c.text for c in checked if not c.supported],
            own_framing_cited=self._own_cited(kept),
            regenerated=attempt > 1,
            quoted=bool(fills),
            passage_ids=[p.passage.id for p in self.given],
            checked=len(checked),
            supported=sum(1 for c in checked if c in kept),
            points=[(c.text, self.given[n - 1].passage.id) for c in kept for n in c.numbers]
            + [(p.sentence, p.scored.passage.id) for p, _ in fills],
        )

    def _citation(self, number: int, sentence: str) -> Citation:
        """A fill quotes its own sentence; a model sentence, the passage sentence that supports it."""
        if number in self.gate.citations and sentence not in self.given[number - 1].passage.text:
            return self.gate.citations[number]
        p = self.given[number - 1].passage
        return Citation.of(number, p, sentence)
