"""Fact-checking a claim against the briefing sources.

The verdict rests on the retrieved evidence, never on the model's say-so: a 135M model agrees with
almost any claim put to it. For each evidence passage the claim is compared word by word:

- *coverage*: the share of the claim's content words found in the passage (reporting verbs such as
  "said" or "called" and a few synonyms are normalised, see `SYNONYMS`);
- *critical details* that must match exactly for "supported": numbers, names, and the direction of
  an effect ("improves" vs "weakens");
- *mismatches* that make a well-covered claim "contradicted": a negation in one but not the other
  (not/no/never/little evidence...), antonyms (increase/decrease, before/after, first/last...), a
  number the passage gives differently (1996 vs 1986), a person named in the claim where the passage
  names another, an effect in the opposite direction.

Verdict: "supported" if some passage covers the claim with every critical detail and no mismatch;
else "contradicted" if a passage covers the rest of the claim and shows a mismatch; else
"not_in_sources". The model then writes a one-sentence explanation (template `factcheck`), which is
verified like every answer and used only if it is supported and does not repeat the mismatch;
otherwise the explanation quotes the deciding sentence verbatim.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from bot.briefing.citations import normalise_for_quote, verify
from bot.briefing.context import BriefingContext, elapsed_ms
from bot.briefing.grounding import model_messages, passage_labels, strip_labels, trim_unfinished
from bot.briefing.models import Citation
from bot.briefing.names import is_person_like, names_in
from bot.briefing.prompting import clean_user_text, fit_to_context
from bot.briefing.retrieval import is_on_topic
from bot.engine.base import GenerationRequest, collect
from bot.index import ScoredPassage
from bot.terms import content_terms, sentences_of, stem, words

Verdict = Literal["supported", "contradicted", "not_in_sources"]

EVIDENCE_K = 4
SHOWN_EVIDENCE = 3
MAX_CLAIM_CHARS = 500
EXPLAIN_MAX_TOKENS = 60
SUPPORT_COVERAGE = 0.75  # share of the claim's content words the passage must contain
MISMATCH_COVERAGE = 0.5  # ...and for a contradiction, share of the words other than the mismatched ones
MIN_MATCHED = 2
NEGATION_COVERAGE = 0.6  # a negation counts only in a sentence that carries this much of the claim
RELEVANT_COVERAGE = 0.5  # the model's explanation must be about the claim, not just about the sources
EXPLAIN_STOP = ("\nClaim:", "Claim:", "\nSources:")
YEAR_RE = re.compile(r"^(1[5-9]|2[0-9])\d\d$")

# Reporting verbs carry no checkable content: "Liu called X a Y" is checked as "Liu ... X ... Y".
GENERIC = frozenset(
    stem(w)
    for w in """
    happen happened happens occur occurred call called calls describe described describes state
    stated states claim claims claimed argue argues argued note notes noted mention mentions mentioned
    write writes wrote think thinks believe believes suggest suggests suggested report reports
    reported refer refers referred term termed use used uses name named true false fact
    """.split()
)
# A few synonyms the sources and claims use interchangeably (stem -> canonical stem).
SYNONYMS = {
    stem(w): canonical
    for canonical, group in {
        "disaster": "disaster catastrophe catastrophic meltdown accident",
        "warn": "warn warns warned warning caution cautions cautioned",
        "fear": "fear fears feared worry worries worried anxiety anxieties afraid",
        "china": "china chinese beijing",
        "usa": "u.s usa america american americans washington",
        "speed": "speed speeds speeding accelerate accelerates accelerated accelerating",
        "cost": "cost costs expense",
    }.items()
    for w in group.split()
}
NEGATIONS = frozenset(
    """
    not no never none nobody nothing neither nor cannot without little lack lacks lacking rarely hardly
    unable reluctant refuse refuses refused fail fails failed
    """.split()
)
NOT_NEGATING_NEXT = frozenset({"only", "just", "merely", "simply"})  # "not only X" affirms X
WIDE_SCOPE_NEXT = frozenset({"evidence", "sign", "signs", "indication", "proof", "reason"})
WIDE_NEGATION_SCOPE = 10
NEGATION_SCOPE = 4  # a negation applies to a claim word among the next few words ("little evidence that AGI")
POSITIVE = frozenset(
    stem(w)
    for w in """
    improve improves improved improving strengthen strengthens strengthened boost boosts enhance
    enhances help helps helped benefit benefits protect protects protected safer advance advances
    promote promotes bolster bolsters
    """.split()
)
NEGATIVE_WORDS = frozenset(
    stem(w)
    for w in """
    weaken weakens weakened weakening undermine undermines undermined erode erodes eroded erosion
    harm harms harmed harmful hurt hurts worsen worsens damage damages damaged sacrifice sacrificed
    sacrificing dilute diluting loosen loosening threaten threatens dangerous danger misleading
    jeopardize jeopardizes compromise compromises degrade degrades counterproductive
    """.split()
)
NEGATIVE_PHRASES = re.compile(r"\broll(?:s|ed|ing)? back\b|\bat the expense of\b|\bin the name of\b", re.I)
# Words that endorse a proposal: "recommends track-two dialogues" contradicts "opposes track-two dialogues".
ENDORSE = {"recommend", "recommends", "recommended", "propose", "proposes", "proposed", "urges", "urge",
           "advocates", "endorses", "favors", "supports", "backs"}  # fmt: skip
ANTONYMS = [
    ({"increase", "increases", "increased", "rise", "rises", "rose", "grow", "grows", "grew"},
     {"decrease", "decreases", "decreased", "fall", "falls", "fell", "decline", "declines", "shrink"}),
    ({"more", "greater", "higher"}, {"less", "fewer", "lower"}),
    ({"before", "earlier"}, {"after", "later"}),
    ({"first"}, {"last", "second", "third", "final"}),
    ({"fewer", "less", "reduce", "reduces", "reduced", "reducing", "cut", "cuts", "limit", "limits"},
     {"more", "expand", "expands", "expanded", "expanding", "expansion", "greater"}),
    ({"faster", "accelerate", "accelerates", "accelerating", "speed"},
     {"slower", "slow", "slows", "slowing", "pause", "pausing"}),
    ({"support", "supports", "supported", "favor", "favors", "backs", *ENDORSE},
     {"oppose", "opposes", "opposed", "against", "rejects", "reject", "rejected"}),
    ({"public", "publicly"}, {"private", "privately"}),
    ({"eager", "willing", "keen", "happy"}, {"reluctant", "unwilling", "afraid", "hesitant", "refuse"}),
    ({"ahead", "leads", "leading", "winning"}, {"behind", "trails", "trailing", "losing"}),
    ({"allow", "allows", "permit", "permits"}, {"ban", "bans", "prohibit", "prohibits", "forbid"}),
]  # fmt: skip
NUMBER_WORDS = {
    **{w: str(n) for n, w in enumerate("two three four five six seven eight nine ten".split(), start=2)},
    "dozen": "12",
    **{w + plural: value for w, value in (("hundred", "100"), ("thousand", "1000"), ("million", "1000000"),
       ("billion", "1000000000"), ("trillion", "1000000000000")) for plural in ("", "s")},
}  # fmt: skip
_CALLS_FOR_RE = re.compile(r"\bcall(?:s|ed|ing)? for\b", re.I)
_CLAUSE_RE = re.compile(r"[:;]\s+")
_ONLY_RE = re.compile(r"(?<!not )\bonly\b", re.I)
_NOT_ONLY_RE = re.compile(r"\bnot only\b", re.I)
NOT_IN_SOURCES = "The briefing sources do not address this claim."
OFF_SUBJECT = "That claim is not about the subject the briefing sources cover (the US-China AI debate)."


@dataclass(slots=True)
class FactCheck:
    claim: str
    verdict: Verdict
    evidence: list[ScoredPassage]
    explanation: str
    citations: list[Citation] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)  # why: the mismatches found, or what matched
    quote: str = ""  # the deciding sentence, verbatim from evidence[0]
    grounded: float = 1.0
    model: str = ""
    total_ms: float = 0.0

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


# --- comparing a claim with a passage ---------------------------------------------------------


def terms_of(text: str) -> set[str]:
    """Content terms with synonyms merged and reporting verbs dropped."""
    return {SYNONYMS.get(t, t) for t in content_terms(text)} - GENERIC


def numbers_in(text: str) -> set[str]:
    """Digits, plus small number words and magnitudes as digits: "five risks" must not be supported by
    "three risks", nor "millions of dollars" by "billions" ("one" is left out: "no one", "one path")."""
    found = set()
    for w in words(text):
        if w.isdigit():
            found.add(w)
        elif w in NUMBER_WORDS:
            found.add(NUMBER_WORDS[w])
    return found


def negated_terms(text: str, about: set[str]) -> set[str]:
    """The terms of `about` that `text` negates: each negation word negates the first of them among
    the next few words; two negations of the same term cancel.

    Scoped, because long source sentences often hold an unrelated "no" ("no single operator could
    have foreseen") that says nothing about the claim. Targeted, because "experts worry about systems
    rolled out without adequate safety testing" negates the testing, not the worry: it does not
    support "experts are not worried about safety". Counted, because "they cannot call for a slowdown
    without being seen as unpatriotic" is the opposite of "they can call for a slowdown without being
    seen as unpatriotic". "Not only" / "not just" add, they do not negate.
    """
    tokens = words(text)
    found: set[str] = set()
    for i, word in enumerate(tokens):
        if not (word in NEGATIONS or word.endswith("n't")):
            continue
        if i + 1 < len(tokens) and tokens[i + 1] in NOT_NEGATING_NEXT:
            continue
        # "little evidence that X is a priority": the negation reaches over the whole clause.
        wide = i + 1 < len(tokens) and tokens[i + 1] in WIDE_SCOPE_NEXT
        for following in tokens[i + 1 : i + 1 + (WIDE_NEGATION_SCOPE if wide else NEGATION_SCOPE)]:
            term = SYNONYMS.get(stem(following), stem(following))
            if term in about:
                found ^= {term}
                break
    return found


def polarity(text: str) -> tuple[bool, bool]:
    """(says something improves, says something is weakened/harmed)."""
    stems = {stem(w) for w in words(text)}
    return bool(stems & POSITIVE), bool(stems & NEGATIVE_WORDS) or bool(NEGATIVE_PHRASES.search(text))


def best_sentence(passage_text: str, claim_terms: set[str]) -> str:
    sentences = sentences_of(passage_text) or [passage_text]
    return max(sentences, key=lambda s: (len(terms_of(s) & claim_terms), -len(s)))


@dataclass(slots=True)
class Comparison:
    scored: ScoredPassage
    sentence: str  # the passage sentence closest to the claim
    coverage: float
    matched: int
    critical_ok: bool
    mismatches: list[str]
    core_coverage: float  # coverage without the mismatched words

    @property
    def supports(self) -> bool:
        return (
            self.coverage >= SUPPORT_COVERAGE
            and self.matched >= MIN_MATCHED
            and self.critical_ok
            and not self.mismatches
        )

    @property
    def contradicts(self) -> bool:
        return (
            bool(self.mismatches) and self.core_coverage >= MISMATCH_COVERAGE and self.matched >= MIN_MATCHED
        )


def compare(claim: str, scored: ScoredPassage, corpus_text: str) -> Comparison:
    """Compare `claim` with one passage (`corpus_text`: every passage, lowercased, for names)."""
    p = scored.passage
    passage_text = f"{p.heading}. {p.text}"
    claim_terms = terms_of(claim)
    passage_terms = terms_of(f"{p.title} {passage_text}")
    sentence = best_sentence(p.text, claim_terms)
    passage_sentences = sentences_of(passage_text)
    lowered = passage_text.lower()
    mismatches: list[str] = []
    mismatched_terms: set[str] = set()

    # Negation: the claim and its closest sentence must agree (when that sentence is about the claim).
    sentence_coverage = len(terms_of(sentence) & claim_terms) / len(claim_terms) if claim_terms else 0.0
    shared = claim_terms & terms_of(sentence)
    claim_negated = negated_terms(claim, claim_terms)
    if sentence_coverage >= NEGATION_COVERAGE and shared & (
        claim_negated ^ negated_terms(sentence, claim_terms)
    ):
        mismatches.append("negation: one says 'not'/'no'/'little', the other does not")
    # A negative claim is only supported by a sentence that says the same "not" ("experts are not
    # worried" is not supported by a passage that merely shares its words).
    negation_ok = not claim_negated or any(
        claim_negated <= negated_terms(s, claim_terms) for s in passage_sentences
    )
    if _ONLY_RE.search(claim) and _NOT_ONLY_RE.search(passage_text):
        mismatches.append("only: the claim says 'only', the source 'not only'")

    # Direction of an effect.
    claim_up, claim_down = polarity(claim)
    text_up, text_down = polarity(passage_text)
    polarity_ok = (not claim_up or text_up) and (not claim_down or text_down)
    if claim_up and not claim_down and text_down and not text_up:
        mismatches.append("direction: the claim says it improves; the source says it weakens or harms")
    elif claim_down and not claim_up and text_up and not text_down:
        mismatches.append("direction: the claim says it weakens or harms; the source says it improves")
    if mismatches and mismatches[-1].startswith("direction"):
        mismatched_terms |= {stem(w) for w in words(claim)} & (POSITIVE | NEGATIVE_WORDS)

    # Antonyms, clause by clause: only clauses about the claim (sharing one of its other content words)
    # count, so "who is ahead: governance is losing" contradicts "governance is winning" although the
    # passage also says "ahead" elsewhere. "calls for X" endorses X like "recommends X".
    claim_words = set(words(claim))
    passage_clauses = [
        (terms_of(c), set(words(c)) | ({"favors"} if _CALLS_FOR_RE.search(c) else set()))
        for c in (part for sentence in passage_sentences for part in _CLAUSE_RE.split(sentence))
    ]
    for left, right in ANTONYMS:
        for mine, theirs in ((left, right), (right, left)):
            said = claim_words & mine
            if not said:
                continue
            about = claim_terms - {stem(w) for w in said}
            clauses = [clause_words for clause_terms, clause_words in passage_clauses if clause_terms & about]
            opposite = set().union(*(c & theirs for c in clauses)) if clauses else set()
            if opposite and not any(c & mine for c in clauses):
                mismatches.append(f"antonym: the claim says '{min(said)}', the source '{min(opposite)}'")
                mismatched_terms |= {stem(w) for w in said}

    # Numbers: a number the passage gives differently.
    claim_numbers, text_numbers = numbers_in(claim), numbers_in(passage_text)
    numbers_ok = claim_numbers <= text_numbers
    for number in sorted(claim_numbers - text_numbers):
        same_kind = [n for n in text_numbers if bool(YEAR_RE.match(n)) == bool(YEAR_RE.match(number))]
        if same_kind:
            mismatches.append(f"number: the claim says {number}, the source {', '.join(sorted(same_kind))}")
            mismatched_terms.add(number)
            sentence = next((s for s in sentences_of(p.text) if numbers_in(s) & set(same_kind)), sentence)

    # Names: every name must appear; a person named where the source names another is a misattribution.
    names_ok = True
    source_people = [n for n in names_in(p.text) if is_person_like(n)]
    for name in names_in(claim):
        tokens = [t.lower() for t in name]
        if any(token in lowered for token in tokens):
            continue
        names_ok = False
        known_elsewhere = any(token in corpus_text for token in tokens)
        if is_person_like(name) and known_elsewhere and source_people:
            claimed, named = " ".join(name), " ".join(source_people[0])
            mismatches.append(f"name: the claim names {claimed}, the source {named}")
            mismatched_terms |= terms_of(claimed)

    matched = claim_terms & passage_terms
    core = claim_terms - mismatched_terms
    return Comparison(
        scored=scored,
        sentence=sentence,
        coverage=len(matched) / len(claim_terms) if claim_terms else 0.0,
        matched=len(matched),
        critical_ok=numbers_ok and names_ok and polarity_ok and negation_ok,
        mismatches=mismatches,
        core_coverage=len(core & passage_terms) / len(core) if core else 0.0,
    )


def decide(comparisons: list[Comparison]) -> tuple[Verdict, Comparison | None]:
    supporting = [c for c in comparisons if c.supports]
    if supporting:
        return "supported", max(supporting, key=lambda c: (c.coverage, c.scored.score))
    contradicting = [c for c in comparisons if c.contradicts]
    if contradicting:
        return "contradicted", max(contradicting, key=lambda c: (c.core_coverage, c.scored.score))
    return "not_in_sources", None


# --- the check ------------------------------------------------------------------------------


def _quote_sentence(verdict: Verdict, deciding: Comparison) -> str:
    lead = "The sources say" if verdict == "supported" else "The sources say otherwise"
    return f'{lead}: "{deciding.sentence.strip()}" [1]'


async def _model_explanation(
    ctx: BriefingContext,
    claim: str,
    verdict: Verdict,
    deciding: Comparison,
    evidence: list[ScoredPassage],
    user_id: str,
) -> tuple[str, list[Citation], int, int]:
    """The model's one-sentence explanation, verified; '' if nothing in it can be used.

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
    verification = verify(strip_labels(trim_unfinished(text), passage_labels(given)), given)
    checked = len(verification.checked)
    supported = checked - len(verification.unsupported)
    corpus = " ".join(p.passage.text.lower() for p in given)
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
        return check.rendered, cited, checked, supported
    return "", [], checked, supported


async def check_claim(ctx: BriefingContext, claim: str, *, user_id: str) -> FactCheck:
    """Fact-check `claim` against the sources (see the module docstring for how)."""
    started = time.perf_counter()
    claim = clean_user_text(claim, max_chars=min(ctx.max_input_chars, MAX_CLAIM_CHARS), what="claim")
    found = await ctx.index.search(claim, k=EVIDENCE_K)
    model = ctx.engine.model_name
    if not is_on_topic(claim, found):
        return FactCheck(claim, "not_in_sources", [], OFF_SUBJECT, model=model, total_ms=elapsed_ms(started))
    corpus_text = ctx.index.corpus_text
    comparisons = [compare(claim, scored, corpus_text) for scored in found]
    verdict, deciding = decide(comparisons)
    if deciding is None:
        evidence = found[:SHOWN_EVIDENCE]
        return FactCheck(
            claim,
            verdict,
            evidence,
            NOT_IN_SOURCES,
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
    citation = Citation(
        number=1, id=p.id, source=p.source, title=p.title, quote=deciding.sentence.strip(), framing=p.framing
    )
    quote_line = _quote_sentence(verdict, deciding)
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
        model_line or quote_line,
        citations=[citations[n] for n in sorted(citations)],
        reasons=reasons,
        quote=deciding.sentence.strip(),
        grounded=grounded,
        model=model,
        total_ms=elapsed_ms(started),
    )
