"""False premises: a question that takes for granted what the sources contradict.

"Why did Singh conclude that the US should drop safety testing?" assumes Singh concluded it. The
proposition inside the question ("Singh concluded that the US should drop safety testing") is put
through the fact-check comparison (factcheck.py), the same machinery `/factcheck` uses; when the
sources contradict it, the answer says so first, with the deciding sentence as evidence.

Only questions that carry a proposition are checked: why/how/when/where questions with an auxiliary
("why did X ...") and yes/no questions ("is there ...", "did X ..."). "What did Liu say about X?"
asserts nothing, so it is never "corrected".
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.briefing.factcheck import Comparison, compare, decide
from bot.index import ScoredPassage

EVIDENCE_K = 4
_AUX = r"(?:did|does|do|is|are|was|were|has|have|had|would|will|can|could|should|must)"
_WH_RE = re.compile(rf"^\s*(?:why|how come|how|when|where)\s+{_AUX}\s+(?P<rest>.+?)\s*\??\s*$", re.I | re.S)
_YES_NO_RE = re.compile(rf"^\s*{_AUX}\s+(?P<rest>.+?)\s*\??\s*$", re.I | re.S)
_HOW_COME_RE = re.compile(r"^\s*how come\s+(?P<rest>.+?)\s*\??\s*$", re.I | re.S)


def proposition(question: str) -> str | None:
    """What the question takes for granted, as a statement; None if it asserts nothing."""
    for pattern in (_HOW_COME_RE, _WH_RE, _YES_NO_RE):
        if match := pattern.match(question):
            return match.group("rest")
    return None


def contradicted_premise(
    question: str, ranked: Sequence[ScoredPassage], corpus_text: str
) -> Comparison | None:
    """The comparison that contradicts the question's premise, or None if nothing does.

    A premise is corrected only when no passage supports it: the fact-check's own rule, so a
    question and a claim with the same content get the same verdict."""
    statement = proposition(question)
    if not statement or not ranked:
        return None
    verdict, deciding = decide([compare(statement, scored, corpus_text) for scored in ranked[:EVIDENCE_K]])
    return deciding if verdict == "contradicted" else None
