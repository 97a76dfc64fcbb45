"""False premises: a question that takes for granted what the sources contradict.

"Why did Singh conclude that the US should drop safety testing?" assumes Singh concluded it. The
proposition inside the question ("Singh concluded that the US should drop safety testing") is put
through the fact-check comparison (factcheck.py), the same machinery `/factcheck` uses; when the
sources contradict it, the answer says so first, with the deciding sentence as evidence.

Only questions that carry a proposition are checked: why/how/when/where questions with a factual
auxiliary ("why did X ...", not "how could X ...") and yes/no questions ("is there ...", "would X
..."), whose contradicted answer is simply "no". "What did Liu say about X?" asserts nothing, so it is
never "corrected".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, cast

from bot.briefing.meaning_checks import CHECKS, closest_sentence, judge
from bot.briefing.verdicts import Comparison, compare, decide
from bot.index import Corpus, ScoredPassage, SourceIndex

EVIDENCE_K = 4
# The meaning checks a premise is read with. entity_conflict and attribute_conflict are left out:
# added to denied_after, they corrected no further question of any question file (263 carry a
# proposition), and a check that adds nothing is not run.
PREMISE_CHECKS = frozenset({"denied_after"})
_FACTUAL = (
    r"(?:did|does|do|is|are|was|were|has|have|had)"  # "why did X" presupposes X; "how could X" does not
)
_AUX = r"(?:did|does|do|is|are|was|were|has|have|had|would|will|can|could|should|must)"
_WH_RE = re.compile(
    rf"^\s*(?:why|how come|how|when|where)\s+{_FACTUAL}\s+(?P<rest>.+?)\s*\??\s*$", re.I | re.S
)
_HOW_COME_RE = re.compile(r"^\s*how come\s+(?P<rest>.+?)\s*\??\s*$", re.I | re.S)
# "Which international body did Singh say enforces the standards?" takes for granted that one does.
_WHICH_RE = re.compile(
    rf"^\s*(?:which|what)\s+(?P<thing>(?:[\w'-]+\s+){{1,3}}?){_FACTUAL}\s+(?P<rest>.+?)\s*\??\s*$",
    re.I | re.S,
)
_YES_NO_RE = re.compile(rf"^\s*{_AUX}\s+(?P<rest>.+?)\s*\??\s*$", re.I | re.S)
Kind = Literal["premise", "yes_no"]


@dataclass(frozen=True, slots=True)
class Contradiction:
    """The sources contradict what a question takes for granted (`premise`) or asks (`yes_no`)."""

    kind: Kind
    comparison: Comparison


def proposition(question: str) -> tuple[str, Kind] | None:
    """What the question takes for granted (a why/how question) or asks (a yes/no question), as a
    statement; None if it asserts nothing."""
    for pattern, kind in ((_HOW_COME_RE, "premise"), (_WH_RE, "premise"), (_YES_NO_RE, "yes_no")):
        if match := pattern.match(question):
            return match.group("rest"), cast(Kind, kind)
    if match := _WHICH_RE.match(question):
        return f"{match.group('rest')} {match.group('thing').strip()}", "premise"
    return None


def contradicted_premise(
    question: str, ranked: Sequence[ScoredPassage], corpus: Corpus, index: SourceIndex | None = None
) -> Contradiction | None:
    """What contradicts the question's premise (or answers its yes/no question with no), or None.

    Decided by the fact-check's own rule, so a question and a claim with the same content get the
    same verdict: the word-level comparison, then, given the `index` (its sentence vectors and
    parser), the meaning checks that find a contradiction (PREMISE_CHECKS)."""
    found = proposition(question)
    if not found or not ranked:
        return None
    statement, kind = found
    passages = ranked[:EVIDENCE_K]
    comparisons = [compare(statement, scored, corpus) for scored in passages]
    verdict, deciding = decide(comparisons)
    if index is not None and verdict != "contradicted":
        evidence = closest_sentence(index, statement, passages)
        off = [name for name in CHECKS if name not in PREMISE_CHECKS]
        verdict, deciding = judge(evidence, verdict, deciding, comparisons, off)
        if deciding is not None and deciding.scored.passage.id not in {s.passage.id for s in ranked}:
            return None  # the denial is in a passage the answer does not quote: it answers as usual
    return Contradiction(kind, deciding) if verdict == "contradicted" and deciding is not None else None
