"""Debate mode: the race side and the cooperation side argue a motion from their own sources, then a
neutral judge sums up.

Every speech is built like an answer (answer.py): an extractive core of its own framing's source
sentences that bear on the motion (core.py), and the model's sentences, each shown only once it is
complete and checked (speech.py), so nothing streamed is ever withdrawn. A motion the sources barely
touch is said to be so, with what they do cover (session.py). The judge's model-written summary goes
through the same checks, or is left out (judge.py). `quality.py` measures speeches against the
target of issue 15.
"""

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
    TurnStarted,
)
from bot.briefing.debate.session import DEFAULT_ROUNDS, MAX_ROUNDS, DebateSession, debate

__all__ = [
    "DEFAULT_ROUNDS",
    "MAX_ROUNDS",
    "SIDES",
    "DebateEvent",
    "DebateFinished",
    "DebateResult",
    "DebateSession",
    "DebateTurn",
    "JudgeStarted",
    "Judged",
    "Judgement",
    "MotionNote",
    "TurnFinished",
    "TurnStarted",
    "debate",
]
