"""Fact-checking a claim against the briefing sources: the `check` mode.

The verdict rests on the retrieved evidence, never on the model's say-so: a 135M model agrees with
almost any claim put to it. Each evidence passage is read against the claim (`verdicts.py`:
coverage, critical details, mismatches), and `verdicts.decide` weighs them: "supported" if some
passage covers the claim with every critical detail and no mismatch; else "contradicted" if a
passage covers the rest of the claim and shows a mismatch; else "not_in_sources". The model then
writes a one-sentence explanation (template `factcheck`), which is verified like every answer and
used only if it is supported and does not repeat the mismatch; otherwise the explanation quotes the
deciding sentence verbatim.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from typing import Any

from bot.briefing.citations import normalise_for_quote, verify
from bot.briefing.claim_terms import terms_of
from bot.briefing.context import BriefingContext
from bot.briefing.grounding import model_messages, passage_labels, strip_labels, trim_unfinished
from bot.briefing.meaning_checks import closest_sentence, judge, on_the_subject
from bot.briefing.models import Citation
from bot.briefing.prompting import clean_user_text, fit_to_context
from bot.briefing.retrieval import is_on_topic
from bot.briefing.sentences import Part, Sentence, from_source, own_words, render_part
from bot.briefing.verdicts import Comparison, Verdict, compare, decide
from bot.engine.base import GenerationRequest, collect
from bot.index import Corpus, ScoredPassage, SourceIndex
from bot.measures import elapsed_ms

EVIDENCE_K = 5
SHOWN_EVIDENCE = 3
MAX_CLAIM_CHARS = 500
EXPLAIN_MAX_TOKENS = 60
RELEVANT_COVERAGE = 0.5  # the model's explanation must be about the claim, not just about the sources
EXPLAIN_STOP = ("\nClaim:", "Claim:", "\nSources:")
NOT_IN_SOURCES = "The briefing sources do not address this claim."
OFF_SUBJECT = "That claim is not about the subject the briefing sources cover (the US-China AI debate)."


@dataclass(slots=True)
class FactCheck:
    claim: str
    verdict: Verdict
    evidence: list[ScoredPassage]
    said: Part  # the explanation: the model's checked sentence, the deciding quote, or the bot's words
    citations: list[Citation] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)  # why: the mismatches found, or what matched
    quote: str = ""  # the deciding sentence, verbatim from evidence[0]
    grounded: float = 1.0
    model: str = ""
    total_ms: float = 0.0

    @property
    def explanation(self) -> str:
        return render_part(self.said)

    def to_json(self) -> dict[str, Any]:
        return {
            "claim": self.claim,
            "verdict": self.verdict,
            "evidence": [
                {
                    "id": e.passage.id,
                    "source": e.passage.source,
                    "title": e.passage.title,
                    "text": e.passage.text,
                }
                for e in self.evidence
            ],
            "explanation": self.explanation,
            "quote": self.quote,
            "reasons": list(self.reasons),
            "citations": [c.to_json() for c in self.citations],
            "grounded": round(self.grounded, 3),
            "model": self.model,
            "total_ms": self.total_ms,
        }


# --- the check ------------------------------------------------------------------------------


def _quote_sentence(verdict: Verdict, quote: Sentence) -> Part:
    lead = "The sources say:" if verdict == "supported" else "The sources say otherwise:"
    return Part((quote,), lead, "quotes")


async def _model_explanation(
    ctx: BriefingContext,
    claim: str,
    verdict: Verdict,
    deciding: Comparison,
    evidence: list[ScoredPassage],
    user_id: str,
) -> tuple[Sentence | None, list[Citation], int, int]:
    """The model's one-sentence explanation, verified; None if nothing in it can be used.

    Returns (sentence, its citations, checked sentences, supported sentences). `evidence[0]` is the
    deciding passage, so [1] means the same passage here and in the fact-check's citations."""
    sampling = ctx.sampling(max_tokens=EXPLAIN_MAX_TOKENS)
    sampling = replace(sampling, stop=(*sampling.stop, *EXPLAIN_STOP))
    messages, given, _ = fit_to_context(
        ctx.engine,
        lambda ps, _hs: model_messages(ctx.prompts, "briefer", "factcheck", ps, claim=claim),
        evidence,
        [],
        sampling.max_tokens,
    )
    text, _usage = await collect(
        ctx.engine, GenerationRequest(messages=messages, sampling=sampling, user_id=user_id)
    )
    corpus = Corpus.of(p.passage for p in given)
    text = strip_labels(trim_unfinished(text), passage_labels(given))
    verification = verify(text, given, people=ctx.index.corpus.people)
    checked = len(verification.checked)
    supported = checked - len(verification.unsupported)
    claim_terms = terms_of(claim)
    titles = [normalise_for_quote(p.passage.title) for p in given]
    for check in verification.sentences:
        if not check.supported or len(terms_of(check.text) & claim_terms) < RELEVANT_COVERAGE * len(
            claim_terms
        ):
            continue
        if any(title in normalise_for_quote(check.text) for title in titles):
            continue  # the model copied a source label ("[1] Title - Heading: ...") rather than explaining
        # The sentence must not itself repeat what makes the claim wrong (or contradict its source).
        if verdict == "contradicted" and compare(check.text, deciding.scored, corpus).mismatches:
            continue
        if any(compare(check.text, given[n - 1], corpus).mismatches for n in check.numbers):
            continue
        cited = [c for c in verification.citations if c.number in check.numbers]
        return check, cited, checked, supported
    return None, [], checked, supported


async def verdict_for(
    index: SourceIndex, claim: str, off: Collection[str] = ()
) -> tuple[list[ScoredPassage], list[Comparison], Verdict, Comparison | None]:
    """The evidence for `claim` (empty when it is off the subject), each passage's word-level
    comparison, and the verdict with the comparison it rests on, after the meaning checks
    (`off`: those left out, for ablation)."""
    found = await index.search(claim, k=EVIDENCE_K)
    evidence = await asyncio.to_thread(closest_sentence, index, claim, found)
    if not is_on_topic(claim, found) and not on_the_subject(evidence):
        return [], [], "not_in_sources", None
    comparisons = [compare(claim, scored, index.corpus, off) for scored in found]
    verdict, deciding = await asyncio.to_thread(judge, evidence, *decide(comparisons), comparisons, off)
    return found, comparisons, verdict, deciding


async def check_claim(ctx: BriefingContext, claim: str, *, user_id: str) -> FactCheck:
    """Fact-check `claim` against the sources (see the module docstring for how)."""
    started = time.perf_counter()
    claim = clean_user_text(claim, max_chars=min(ctx.max_input_chars, MAX_CLAIM_CHARS), what="claim")
    model = ctx.engine.model_name
    found, comparisons, verdict, deciding = await verdict_for(ctx.index, claim)
    if not found:
        said = Part((own_words(OFF_SUBJECT),))
        return FactCheck(claim, "not_in_sources", [], said, model=model, total_ms=elapsed_ms(started))
    if deciding is None:
        evidence = found[:SHOWN_EVIDENCE]
        return FactCheck(
            claim,
            verdict,
            evidence,
            Part((own_words(NOT_IN_SOURCES),)),
            reasons=[
                f"closest passage {c.scored.passage.id} covers {c.coverage:.0%} of the claim"
                for c in comparisons[:1]
            ],
            model=model,
            total_ms=elapsed_ms(started),
        )
    others = [s for s in found if s is not deciding.scored]
    evidence = [deciding.scored, *others[: SHOWN_EVIDENCE - 1]]
    p = deciding.scored.passage
    citation = Citation.of(1, p, deciding.sentence.strip())
    quote_line = _quote_sentence(verdict, from_source(deciding.sentence, citation))
    model_line, model_citations, checked, supported = await _model_explanation(
        ctx, claim, verdict, deciding, evidence, user_id
    )
    citations = {c.number: c for c in model_citations}
    citations[1] = citation
    reasons = deciding.mismatches or [f"{p.id} covers {deciding.coverage:.0%} of the claim's content words"]
    # The quote line is verbatim evidence: it counts as one supported sentence.
    grounded = (supported + 1) / (checked + 1)
    return FactCheck(
        claim,
        verdict,
        evidence,
        Part((model_line,)) if model_line else quote_line,
        citations=[citations[n] for n in sorted(citations)],
        reasons=reasons,
        quote=deciding.sentence.strip(),
        grounded=grounded,
        model=model,
        total_ms=elapsed_ms(started),
    )
