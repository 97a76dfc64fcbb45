"""How good a debate speech is, measured the same way for any version of the debate code.

The target (issue 15): a speech has at least two checked sentences on the motion, and at least one
of them rests on a passage tagged with the speaker's own framing alone.

- *checked*: a sentence that cites a passage. Only a sentence that passed the checks (or a verbatim
  source sentence) cites one, so the citation is the evidence of the check;
- *own framing alone*: one of its citations is a passage tagged with this side's framing and no other;
- *on the motion*: it shares one of the motion's own terms (`core.motion_terms`: its words that are
  not among the words most passages use; every passage here says "AI" and "China").

Computed from the speech's sentences and their citations only, not from how the speech was made.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.briefing.debate.core import own_sentences_on
from bot.briefing.debate.stance import StanceReader
from bot.briefing.sentences import Sentence
from bot.sources import Passage
from bot.terms import is_question, match_terms

MIN_CHECKED = 2


class Speech(Protocol):
    @property
    def side(self) -> str: ...

    @property
    def sentences(self) -> list[Sentence]: ...


@dataclass(frozen=True, slots=True)
class SpeechQuality:
    side: str
    checked_on_motion: int  # checked sentences that bear on the motion
    own_alone_on_motion: int  # ...of which rest on a passage of this side's framing alone

    @property
    def meets_target(self) -> bool:
        return self.checked_on_motion >= MIN_CHECKED and self.own_alone_on_motion >= 1

    def to_json(self) -> dict[str, object]:
        return {
            "side": self.side,
            "checked_on_motion": self.checked_on_motion,
            "own_alone_on_motion": self.own_alone_on_motion,
            "meets_target": self.meets_target,
        }


def speech_quality(speech: Speech, about: frozenset[str]) -> SpeechQuality:
    """Measure one speech against `about`, the motion's own terms (see the module docstring)."""
    checked = own = 0
    for sentence in speech.sentences:
        if not sentence.citations or is_question(sentence.text):
            continue
        if not match_terms(sentence.text) & about:
            continue
        checked += 1
        own += any(c.framing == (speech.side,) for c in sentence.citations)
    return SpeechQuality(speech.side, checked, own)


def share_meeting_target(qualities: Iterable[SpeechQuality]) -> float:
    measured: Sequence[SpeechQuality] = list(qualities)
    return sum(q.meets_target for q in measured) / len(measured) if measured else 0.0


def ceiling(passages: Iterable[Passage], about: frozenset[str], sides: Sequence[str], rounds: int) -> int:
    """How many of a debate's speeches the sources let meet the target at best.

    A sentence is said once per debate, so a side's speeches can meet the target only as often as
    its framing offers sentences on the motion: one of its own framing alone per speech, and two in
    all. This counts, per side, min(rounds, own-alone sentences, all its sentences // 2), ignoring
    that the sides also compete for the passages tagged with both: a bound, not a forecast. A motion
    whose ceiling is below 2 * rounds fails the target on any debate code."""
    passages = list(passages)
    best = 0
    for side in sides:
        own, every = own_sentences_on(passages, about, side)
        best += min(rounds, own, every // MIN_CHECKED)
    return best


# --- issue 28: sentences that argue, answers, a judge that weighs -------------------------------


def own_checked(speech: Speech) -> int:
    """Checked sentences of the speech's own (cited, not cut verbatim from a source): the model's
    sentences that passed the checks and the reasons the bot composed around its evidence."""
    return sum(1 for s in speech.sentences if s.citations and not s.verbatim and not is_question(s.text))


def argues_own_side(speech: Speech, reader: StanceReader) -> bool:
    """Whether every cited sentence of the speech argues for its side: a quoted source sentence must
    read as the side's (stance.py); a sentence of its own must at least not read as the other's (a
    composed reason names its evidence's topic, which may read as neither). Uncited sentences (the
    position, the named point it answers, the ask) claim no evidence and are not read."""
    cited = [s for s in speech.sentences if s.citations]
    readings = reader.read([s.text for s in cited])
    return all(
        r.side == speech.side if s.verbatim else r.side in ("", speech.side)
        for s, r in zip(cited, readings, strict=True)
    )


def answers(speech: Speech, points: Sequence[str]) -> bool:
    """Whether the speech names one of `points` (the other side's previous speech's sentences) in a
    sentence of its own, as it does when it answers it."""
    own = " ".join(s.text.lower() for s in speech.sentences if not s.citations)
    return any(len(p) > 20 and p.strip().rstrip(".").lower()[1:60] in own for p in points)


def judge_points_sound(
    strongest: Mapping[str, Sequence[Sentence]], spoken: Mapping[str, Collection[str]], reader: StanceReader
) -> bool:
    """Whether the judge's strongest points are different sentences, each said by its own side in
    the debate and reading as that side's by the stance classifier."""
    texts = {side: point[-1].text.strip() if point else "" for side, point in strongest.items()}
    if len(set(texts.values())) < len(texts):
        return False
    return all(text in spoken[side] and reader.stance(text).side == side for side, text in texts.items())
