"""How good a debate speech is, measured the same way for any version of the debate code.

The target (issue 15): a speech has at least two checked sentences on the motion, and at least one
of them rests on a passage tagged with the speaker's own framing alone.

- *checked*: a sentence that carries a verified citation marker. Only text that passed the checks
  (or a verbatim source sentence) carries one, so the marker is the evidence of the check;
- *own framing alone*: one of its citations is a passage tagged with this side's framing and no other;
- *on the motion*: it shares one of the motion's own terms (`core.motion_terms`: its words that are
  not among the words most passages use; every passage here says "AI" and "China").

Computed from the speech's text and citations only, so speeches of the old and the new code are
measured alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.briefing.citations import MARKER_RE, QUOTE_LEAD
from bot.briefing.models import Citation
from bot.terms import is_question, match_terms, split_sentences

MIN_CHECKED = 2
_BULLET_RE = re.compile(r"^\s*-\s+")


class Speech(Protocol):
    side: str
    text: str
    citations: list[Citation]


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


def speech_sentences(text: str) -> list[str]:
    """The speech's sentences, quote lead-ins and list bullets removed; a marker standing after a
    quoted sentence ('"..." [2]', 'fact. [1]') stays with it."""
    lines = [_BULLET_RE.sub("", line) for line in text.replace(QUOTE_LEAD, "\n").splitlines()]
    sentences: list[str] = []
    for line in lines:
        for sentence in split_sentences(line):
            if sentences and not MARKER_RE.sub("", sentence).strip():
                sentences[-1] += " " + sentence
            else:
                sentences.append(sentence)
    return sentences


def speech_quality(speech: Speech, about: frozenset[str]) -> SpeechQuality:
    """Measure one speech against `about`, the motion's own terms (see the module docstring)."""
    by_number = {c.number: c for c in speech.citations}
    checked = own = 0
    for sentence in speech_sentences(speech.text):
        numbers = {int(n) for group in MARKER_RE.findall(sentence) for n in group.split(",")}
        cited = [by_number[n] for n in numbers if n in by_number]
        if not cited or is_question(MARKER_RE.sub("", sentence)):
            continue
        if not match_terms(MARKER_RE.sub("", sentence)) & about:
            continue
        checked += 1
        own += any(c.framing == (speech.side,) for c in cited)
    return SpeechQuality(speech.side, checked, own)


def share_meeting_target(qualities: Iterable[SpeechQuality]) -> float:
    measured: Sequence[SpeechQuality] = list(qualities)
    return sum(q.meets_target for q in measured) / len(measured) if measured else 0.0
