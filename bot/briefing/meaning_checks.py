"""Fact-check checks that read meaning rather than shared words, each one uniform unit.

A check reads a claim against its evidence (the source sentence closest to it in meaning, its
passage, and spaCy's reading of both) and returns a `Finding` or None. `CHECKS` is the registry;
`judge` runs them after the word-level comparison (verdicts.py) and may change its verdict:

- `entity_conflict`: the claim gives a name its passages never give, or a date or figure that none
  of the sentences closest to it gives, where the closest sentence gives another of the same type
  (a sum, a date or a place other than the one the source gives for the same thing):
  contradicted, even when the words otherwise match;
- `attribute_conflict`: the closest sentence names the thing the claim describes otherwise (the
  parse's modifier of the same noun, of the same entity type): contradicted;
- `meaning_support`: a claim that says in other words what a sentence says, with no conflict found:
  supported.

`python -m bot eval --ablate` reports what each check adds on each claim file.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace

from bot.briefing.citations import normalise_for_quote
from bot.briefing.verdicts import Comparison, Verdict
from bot.index import ScoredPassage, SourceIndex
from bot.language import LanguageModels
from bot.language.reading import Entity

# Cosine similarity (all-MiniLM-L6-v2) between a claim and a source sentence, set on the project's
# claim files: above SAME_STATEMENT the two are about the same thing, so a differing name or figure
# is a conflict, not another fact (for a name, above SAME_NAMED); above SAYS_SO the sentence says
# what the claim says. Measured over 449 claims in 24 files (seeds and three unrelated sources):
# support in other words adds 5 verdicts, the conflict check 3. A negation check on the parse
# (main verb negated in one and not the other) added none and was removed.
SAME_STATEMENT = 0.6
SAME_NAMED = 0.72
SAYS_SO = 0.72
# A claim at least this close to a retrieved sentence is on the briefing's subject, whatever words
# it uses (claims "not in the sources" but on the subject sit around 0.47; unrelated text far lower).
# A closest sentence this close is also what a denial after it may deny: a question restates the
# rumour it takes for granted in its own words (at SAME_STATEMENT one premise fewer was corrected on
# the question files, and no claim verdict moved either way).
ON_SUBJECT = 0.5
# A model's sentence gives its names and figures as the passage sentences about as close to it as the
# closest one do (within this cosine), each read with the sentence before it; so does a claim its
# figures and dates.
PLACED_MARGIN = 0.1
# How many sentences after the closest a denial of it may come: the next, or the one after a
# sentence that says who found so.
DENIAL_REACH = 2
# A denial whose subject names what it denies ("That rumoured sale did not happen") is of the claim
# only when about it at all: 0.3 against the claim it denies, 0.08 against the sentence before it.
DENIAL_ABOUT = 0.2
# "The audit found no evidence that P" denies a claim that P, or that the audit found P, where P
# says what the claim says in words of its own: a reporter restates the rumour when giving the
# finding. Set on the question and claim files: at SAME_STATEMENT no premise or claim moved; here
# two false premises more are corrected and one paraphrased contradiction more is found, and no
# verdict of any file is lost.
EVIDENCE_ABOUT = 0.45


@dataclass(frozen=True, slots=True)
class Evidence:
    """The source sentence closest in meaning to a claim, with what the checks read of both."""

    claim: str
    scored: ScoredPassage
    sentence: str
    similarity: float
    models: LanguageModels
    context: str  # every retrieved passage, with its source's title and byline
    near: tuple[str, ...] = ()  # the sentences about as close as the closest, each read with the one before
    # the sentences that follow the closest in its source (DENIAL_REACH), each with its passage
    after: tuple[tuple[str, ScoredPassage], ...] = ()
    # the other sentences about as close as the closest (PLACED_MARGIN), each with its passage
    close: tuple[tuple[str, ScoredPassage], ...] = ()

    def unfounded(self) -> list[Entity]:
        """The claim's names, dates and figures that the sources do not give as it does: a name no
        retrieved passage gives, and a figure or date that none of the sentences closest to the
        claim gives. A port's "forty berths" in one paragraph does not found a claim's "forty
        ships" where the sentence about the ships counts twelve."""
        known = self.models.entities(self.context)
        return [e for e in self.models.entities(self.claim) if e.definite and not self._founded(e, known)]

    def _founded(self, entity: Entity, known: list[Entity]) -> bool:
        if entity.is_figure and self.near:
            return any(entity.found_in(window, self.models.entities(window)) for window in self.near)
        return entity.found_in(self.context, known)


@dataclass(frozen=True, slots=True)
class Finding:
    check: str
    verdict: Verdict
    reason: str
    shown: str = ""  # the passage's words to show as evidence, where not the closest sentence alone
    cited: ScoredPassage | None = None  # the passage that holds `shown`, where not the closest's


Check = Callable[[Evidence], Finding | None]
Window = tuple[float, ScoredPassage, str, str]  # cosine, passage, sentence, sentence read in place


def entity_conflict(e: Evidence) -> Finding | None:
    """A name, date or figure the sources never give, where the closest sentence, saying the same
    thing, gives another of the same type. A name must be in a closer sentence than a figure: where
    a person lives, against a sentence naming their country for something else, is an attribute the
    sources do not give, not a different one."""
    if e.similarity < SAME_STATEMENT:
        return None
    rivals = [r for r in e.models.entities(e.sentence) if r.definite and not r.found_in(e.claim, [])]
    for entity in e.unfounded():
        if not entity.is_figure and e.similarity < SAME_NAMED:
            continue
        rival = next((r for r in rivals if r.family == entity.family), None)
        if rival is not None:
            return Finding(
                "entity_conflict",
                "contradicted",
                f"the claim says {entity.text!r} where the source says {rival.text!r}",
            )
    return None


def attribute_conflict(e: Evidence) -> Finding | None:
    """The closest sentence, about the same thing, gives the thing the claim describes by a name
    (a nationality, a place, an organisation) another name of the same type, and never the
    claim's: "a company" of one country is not a company of another."""
    if e.similarity < SAME_STATEMENT:
        return None
    theirs = e.models.described(e.sentence)
    for noun, names in e.models.described(e.claim).items():
        given = theirs.get(noun, [])
        for mine in names:
            same_type = [o for o in given if o.family == mine.family]
            if same_type and all(o.text.lower() != mine.text.lower() for o in same_type):
                return Finding(
                    "attribute_conflict",
                    "contradicted",
                    f"the claim says {mine.text} {noun} where the source says {same_type[0].text} {noun}",
                )
    return None


def denied_after(e: Evidence) -> Finding | None:
    """The source says what the claim says only to deny it. A reporter gives a rumour, a suspicion
    or an expectation in the closest sentence, then says it did not happen: in the next sentence
    by a demonstrative ("This never came to pass."), within DENIAL_REACH by a phrase naming it
    ("That rumoured merger never came to pass", when it is about the claim at all), or by denying
    the very act the claim asserts ("the council never voted on it" after what it was expected to
    vote for), or by saying there was no such act at all ("No inquiry was opened"); or it gives
    the claim only as what someone denied (`_disputed`). A claim that is itself negative is left
    to the word-level negation check."""
    if e.similarity < ON_SUBJECT or e.models.negates(e.claim):
        return None
    if (disputed := _disputed(e)) is not None:
        return disputed
    acts = e.models.acts(e.claim)
    for at, (sentence, passage) in enumerate(e.after):
        found = e.models.denial(sentence)
        if found is None:
            continue
        verb, pointer = found
        if (
            (pointer == "pronoun" and at == 0 and _said_last(e))
            or (pointer == "phrase" and _cosine(e, e.claim, sentence) >= DENIAL_ABOUT)
            or verb in acts
        ):
            return _denied(e, f"the source goes on: {sentence!r}", sentence, passage)
    return None


def _disputed(e: Evidence) -> Finding | None:
    """The source gives what the claim says only as what someone called untrue, or as what nothing
    shows: in the closest sentence ("X denied that P", where P says what the claim says), in the
    next one ("X denied it", of what the closest said last), within DENIAL_REACH of it, or in or
    just after a sentence about as close (a finding is often given a section after the rumour,
    and in the sentence after the one naming who made it: "Its report found no evidence that
    P"). A claim that itself reports the denial or the finding, or the report ("A newspaper
    reported that P"), is left to the other checks."""
    if e.models.denies(e.claim):
        return None
    for at, (sentence, passage) in enumerate(((e.sentence, e.scored), *e.after, *e.close)):
        found = e.models.disputed(sentence)
        if found is None:
            continue
        pointer, words = found
        if pointer == "pronoun":
            reported = e.models.reported_by(e.sentence)
            denied = at == 1 and _said_last(e) and reported not in e.models.verbs(e.claim)
        elif pointer == "evidence":  # "found no evidence that P": of what the claim says was found
            said = max(_cosine(e, e.claim, words), _cosine(e, e.models.reported_clause(e.claim), words))
            denied = said >= EVIDENCE_ABOUT
        else:
            denied = _cosine(e, e.claim, words) >= SAME_STATEMENT
        if denied:
            return _denied(e, f"the source gives it as denied: {sentence!r}", sentence, passage)
    return None


def _denied(e: Evidence, reason: str, denial: str, passage: ScoredPassage) -> Finding:
    """The finding that the source denies the claim, shown with the denying sentence: cited from its
    own passage when that is another one (the next section opens with it, or it is in another
    retrieved passage about as close), else with what it denies (`_with_denial`)."""
    if passage.passage.id != e.scored.passage.id:
        return Finding("denied_after", "contradicted", reason, denial, passage)
    return Finding("denied_after", "contradicted", reason, _with_denial(e, denial))


def _with_denial(e: Evidence, denial: str) -> str:
    """What to quote for a denied claim: the closest sentence and the denial together where the
    passage has them one after the other (the denial alone names nothing it denies), else the
    denial where the passage has it, else the closest sentence alone."""
    if denial == e.sentence:  # the closest sentence is itself the denial ("X denied that P")
        return denial
    text = normalise_for_quote(e.scored.passage.text)
    both = f"{e.sentence} {denial}"
    if normalise_for_quote(both) in text:
        return both
    return denial if normalise_for_quote(denial) in text else ""


def _said_last(e: Evidence) -> bool:
    """Whether the claim says what the closest sentence says last, which a following "This" denies:
    in "The cranes froze, and word spread that they were switched off from abroad" it is the rumour,
    not the freeze. Read by the verbs the claim shares with each part, then by meaning."""
    first, last = e.models.last_clause(e.sentence)
    if not first:
        return True
    verbs = e.models.verbs(e.claim)  # what is done says more than the dates and names around it
    mine, before = len(verbs & e.models.verbs(last)), len(verbs & e.models.verbs(first))
    return mine > before or (mine == before and _cosine(e, e.claim, last) >= _cosine(e, e.claim, first))


def _cosine(e: Evidence, a: str, b: str) -> float:
    vectors = e.models.embed([a, b])
    return float(vectors[0] @ vectors[1])


def meaning_support(e: Evidence) -> Finding | None:
    """Close in meaning, and every name and figure of the claim is in the sources; or about the same
    thing (SAME_STATEMENT) and giving a figure or date, with every figure where the sentences
    closest to it give them. A reporter's own figures anchor a paraphrase whose words drift too far
    for SAYS_SO. Measured over 999 claims: 5 more right and none made wrong, but one paraphrased
    contradiction that keeps its figure went from "not in the sources" to "supported"; lower floors
    traded worse (docs/language.md, tenth round)."""
    if e.similarity < SAME_STATEMENT or e.unfounded():
        return None
    if e.similarity >= SAYS_SO:
        return Finding(
            "meaning_support", "supported", f"the source says this in other words ({e.similarity:.2f})"
        )
    if any(entity.is_figure and entity.definite for entity in e.models.entities(e.claim)):
        return Finding(
            "meaning_support",
            "supported",
            f"the source gives the same figures about the same thing ({e.similarity:.2f})",
        )
    return None


CHECKS: dict[str, Check] = {
    "entity_conflict": entity_conflict,
    "attribute_conflict": attribute_conflict,
    "denied_after": denied_after,
    "meaning_support": meaning_support,
}


def closest_sentence(index: SourceIndex, claim: str, found: Sequence[ScoredPassage]) -> Evidence | None:
    """The sentence of the retrieved passages closest in meaning to the claim, with the sentences
    about as close (`PLACED_MARGIN`: read in place, and each with the one after it), or None
    without the sentence encoder."""
    if index.semantic is None or not found:
        return None
    windows = _windows(index, claim, found)
    if not windows:
        return None
    similarity, scored, sentence, _ = max(windows, key=lambda window: window[0])
    near = _near(windows)
    context = "\n".join(f"{s.passage.title}. {s.passage.by}. {s.passage.full_text}" for s in found)
    after = _after(index, scored, sentence)
    close = tuple(
        dict.fromkeys(
            pair
            for sim, passage, text, _ in sorted(windows, key=lambda window: -window[0])
            if sim >= similarity - PLACED_MARGIN and text != sentence
            for pair in ((text, passage), *_after(index, passage, text)[:1])
        )
    )
    return Evidence(claim, scored, sentence, similarity, index.semantic.models, context, near, after, close)


def _after(index: SourceIndex, scored: ScoredPassage, sentence: str) -> tuple[tuple[str, ScoredPassage], ...]:
    """The sentences that follow `sentence` in its source, up to DENIAL_REACH, each with its passage:
    a reporter may give the suspicion at a section's end and open the next section by denying it."""
    unit = index.position(scored.passage.id)
    if index.semantic is None or unit is None:
        return ()
    sentences = list(index.semantic.sentences[unit])
    if sentence not in sentences:
        return ()
    following = [(s, scored) for s in sentences[sentences.index(sentence) + 1 :]]
    passages = index.passages
    same_source = unit + 1 < len(passages) and passages[unit + 1].source == scored.passage.source
    if len(following) < DENIAL_REACH and same_source:
        following += [(s, ScoredPassage(passages[unit + 1], 0.0)) for s in index.semantic.sentences[unit + 1]]
    return tuple(following[:DENIAL_REACH])


def _windows(index: SourceIndex, text: str, passages: Sequence[ScoredPassage]) -> list[Window]:
    """Each sentence of `passages` with its cosine to `text`, and the sentence read as a reader
    takes it: after its passage's heading and the sentence before (journalists give a fact over
    two sentences)."""
    windows: list[Window] = []
    if index.semantic is None:
        return windows
    for scored in passages:
        unit = index.position(scored.passage.id)
        if unit is None:
            continue
        sims = index.semantic.sentence_similarities(text, unit)
        ordered = list(sims)
        for at, sentence in enumerate(ordered):
            before = ordered[at - 1] if at else ""
            windows.append(
                (sims[sentence], scored, sentence, f"{scored.passage.heading}. {before} {sentence}")
            )
    return windows


def _near(windows: list[Window]) -> tuple[str, ...]:
    """The windows about as close as the closest (`PLACED_MARGIN`), read in place."""
    best = max((window[0] for window in windows), default=0.0)
    return tuple(text for sim, _, _, text in windows if sim >= best - PLACED_MARGIN)


def placed(index: SourceIndex, text: str, cited: Sequence[ScoredPassage]) -> bool:
    """Whether each name, date and figure a model's sentence gives is where its cited passages say
    it: in one of the passage sentences closest to it in meaning (`PLACED_MARGIN`), read with the
    sentence before. All its words being somewhere in the passage is not enough: a passage that
    names a lab's city in one sentence and a meeting's in another does not say the meeting was in
    the lab's city. True without the models."""
    models = index.models
    if index.semantic is None or models is None or not models.parses or not cited:
        return True
    given = [e for e in models.entities(text) if e.definite]
    if not given:
        return True
    near = _near(_windows(index, text, cited))
    return all(any(e.found_in(w, models.entities(w)) for w in near) for e in given)


def on_the_subject(evidence: Evidence | None) -> bool:
    """Whether a claim whose words the topic gate did not find is about what a retrieved sentence
    says: a claim in other words than its source's is still about the source's subject."""
    return evidence is not None and evidence.similarity >= ON_SUBJECT


def judge(
    evidence: Evidence | None,
    verdict: Verdict,
    deciding: Comparison | None,
    comparisons: Sequence[Comparison],
    off: Collection[str] = (),
) -> tuple[Verdict, Comparison | None]:
    """The word-level verdict, changed where a meaning check on `evidence` (the closest sentence)
    finds otherwise (`off`: checks left out, for ablation). A conflict of names or figures outranks
    word-level support; support in other words only decides what the words left undecided."""
    if evidence is None:
        return verdict, deciding
    findings = {name: check(evidence) for name, check in CHECKS.items() if name not in off}
    conflict = (
        findings.get("entity_conflict") or findings.get("attribute_conflict") or findings.get("denied_after")
    )
    if conflict is not None and verdict != "contradicted":
        return "contradicted", _deciding(evidence, comparisons, conflict)
    if verdict != "not_in_sources":
        return verdict, deciding
    if (support := findings.get("meaning_support")) is not None:
        return support.verdict, _deciding(evidence, comparisons, support)
    return verdict, deciding


def _deciding(evidence: Evidence, comparisons: Sequence[Comparison], finding: Finding) -> Comparison:
    """The comparison a meaning check decided on: its passage's (or the passage holding what the
    finding shows), shown with what the finding shows, else the closest sentence."""
    scored = finding.cited or evidence.scored
    same = next((c for c in comparisons if c.scored.passage.id == scored.passage.id), None)
    base = same or Comparison(scored, evidence.sentence, 0.0, 0, True, [], 0.0)
    mismatches = [finding.reason] if finding.verdict == "contradicted" else []
    return replace(base, sentence=finding.shown or evidence.sentence, mismatches=mismatches)


__all__ = ["CHECKS", "Evidence", "Finding", "closest_sentence", "judge", "on_the_subject", "placed"]
