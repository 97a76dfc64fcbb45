"""A speech's extractive core: its own framing's source sentences that bear on the motion.

Why: a 135M model's speech often fails the checks, and what survives may argue the other side's case
or nothing at all. So every speech rests on sentences cut verbatim from its own side's passages,
chosen by the same sentence-level scoring that answers use (`evidence.focus_of` on the motion,
`evidence.scored_sentences`), with two debate rules on top:

- a passage tagged with this framing alone states the side's case; one tagged with both framings
  often weighs it against the other, so the former is preferred;
- a sentence must argue for the side by its meaning (stance.py): a sentence of the side's passages
  that argues the other side's case, or neither, is not the side's to use, whatever the passage's
  tag says (a passage tagged with both framings is thereby split by sentence). The stance's
  strength toward the side nudges the score. Without the sentence encoder, the side's cue phrases
  (prompts/lexicon/words.toml) nudge it instead, as before.

A sentence *bears on the motion* when it shares a word with the motion beyond the words most
passages use (every passage here says "AI" and "China"; that says nothing about a motion).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace

from bot.briefing.answerability import subject_terms
from bot.briefing.debate.stance import StanceReader
from bot.briefing.evidence import scored_sentences
from bot.briefing.focus import Focus
from bot.briefing.grounding import cue_score
from bot.briefing.pick import Pick
from bot.briefing.topics import normalise_topic
from bot.index import ScoredPassage, SourceIndex
from bot.sources import Passage
from bot.terms import match_terms, sentences_of
from bot.words.vocabulary import vocabulary

OWN_ALONE_BONUS = 0.15  # passage tagged with this side's framing alone
CUE_WEIGHT = 0.02  # per unit of the side's cue score...
CUE_CAP = 6  # ...capped both ways, so cues nudge and the motion decides
MAX_CORE = 2
STANCE_WEIGHT = 0.5  # per unit of contrast toward the side (contrasts run about -0.4 to 0.4)


def motion_terms(focus: Focus, index: SourceIndex) -> frozenset[str]:
    """The motion's words that say what it is about: not the words most passages share."""
    return frozenset(focus.weights) - subject_terms(index)


def own_sentences_on(passages: Iterable[Passage], about: frozenset[str], side: str) -> tuple[int, int]:
    """(sentences of passages tagged with `side` alone, sentences of any passage tagged with `side`)
    that bear on the motion: what the side's case on it can rest on, said once each."""
    own = every = 0
    for passage in passages:
        if side not in passage.framing:
            continue
        bearing = sum(1 for s in sentences_of(passage.text) if match_terms(s) & about)
        every += bearing
        own += bearing if passage.framing == (side,) else 0
    return own, every


def own_alone(pick: Pick, side: str) -> bool:
    return pick.scored.passage.framing == (side,)


def side_sentences(
    index: SourceIndex,
    focus: Focus,
    pool: Sequence[ScoredPassage],
    side: str,
    spoken: Collection[str],
    reader: StanceReader | None = None,
) -> list[Pick]:
    """Every usable sentence of the side's passages that argues for the side, best for the motion
    first; sentences already said in this debate (`spoken`, normalised) are left out."""
    picks = [
        pick
        for scored in pool
        for pick in scored_sentences(index, focus, scored)
        if normalise_topic(pick.sentence) not in spoken
    ]
    if reader is None:
        cues = vocabulary().cues[side]
        nudges = [CUE_WEIGHT * max(-CUE_CAP, min(cue_score(p.sentence, cues), CUE_CAP)) for p in picks]
    else:
        readings = reader.read([p.sentence for p in picks])
        sign = 1 if side == reader.sides[0] else -1
        kept = [(p, r) for p, r in zip(picks, readings, strict=True) if r.side == side]
        picks = [p for p, _ in kept]
        nudges = [STANCE_WEIGHT * sign * r.contrast for _, r in kept]
    scored_picks = [
        replace(p, score=round(p.score + OWN_ALONE_BONUS * own_alone(p, side) + nudge, 4))
        for p, nudge in zip(picks, nudges, strict=True)
    ]
    return sorted(scored_picks, key=lambda p: p.score, reverse=True)


def _bearing(picks: Sequence[Pick], about: frozenset[str]) -> list[Pick]:
    return [p for p in picks if p.terms & about] or [p for p in picks if p.score > 0]


def _scarce(own: Sequence[Pick], later: int) -> bool:
    """Too few sentences of the side's own framing alone for this speech to take more than one and
    still leave one for each of the side's `later` speeches."""
    return len(own) - later <= 1


def choose_core(picks: Sequence[Pick], side: str, about: frozenset[str], later: int = 0) -> list[Pick]:
    """Up to MAX_CORE sentences that bear on the motion, from different passages; the best one from
    a passage of this framing alone always among them when there is one.

    `later`: how many more speeches this side will give. A side may have only two or three
    sentences of its own framing alone on the motion, and each of its speeches should state its own
    case: when they are scarce, a speech takes a second one only where nothing else bears."""
    bearing = _bearing(picks, about)
    own = [p for p in bearing if own_alone(p, side)]
    order = [p for p in bearing if not own_alone(p, side)] + own[1:] if _scarce(own, later) else bearing
    core = own[:1]
    for pick in order:
        if len(core) >= MAX_CORE:
            break
        if all(c.scored.passage.id != pick.scored.passage.id for c in core):
            core.append(pick)
    return sorted(core, key=lambda p: p.score, reverse=True)


def kept_back(
    picks: Sequence[Pick], core: Sequence[Pick], side: str, about: frozenset[str], later: int
) -> set[str]:
    """The passages of the scarce own-framing sentences that `choose_core` left for later speeches:
    the model is not given them now either, or it would say them now."""
    own = [p for p in _bearing(picks, about) if own_alone(p, side)]
    if not _scarce(own, later) or not later:
        return set()
    chosen = {c.scored.passage.id for c in core}
    return {p.scored.passage.id for p in own} - chosen


def speech_passages(core: Sequence[Pick], picks: Sequence[Pick], k: int) -> list[ScoredPassage]:
    """The passages the model reads: the core's first ([1] is the best), then the passages whose
    best sentence scores highest."""
    given: list[ScoredPassage] = []
    for pick in [*core, *picks]:
        if len(given) >= k:
            break
        if all(s.passage.id != pick.scored.passage.id for s in given):
            given.append(pick.scored)
    return given
