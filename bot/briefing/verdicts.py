"""How a claim stands against one passage: supported, contradicted, or not addressed by it.

The fact-check (`factcheck.py`) and the premise check (`premise.py`) both rest on this reading, and
never on a model's say-so. For each passage the claim is compared word by word:

- *coverage*: the share of the claim's content words found in the passage, each weighed by how
  informative it is in general English, and at least half of what it says of its names unweighed,
  so that rare names cannot carry a claim alone;
- *critical details* that must match exactly for "supported": figures and names;
- *mismatches* that make a well-covered claim "contradicted", each found by one check of
  `WORD_CHECKS`: a "not" in one and not the other, an antonym, a figure given differently, another
  person named for the same thing, what the source sets aside or calls a misreading;
- *denials*: a negative claim is supported by a passage that denies the same thing, in a "not" of
  its own, a set-aside phrase or a misreading it names (which words a "not" reaches: negation.py).

`decide` then weighs the comparisons with every passage retrieved for the claim; the meaning checks
(meaning_checks.py) may change the verdict after. Measured per check with `eval --ablate`: checks
that added nothing on sources nobody tuned on were deleted (docs/language.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Literal

from bot.briefing.claim_terms import (
    numbers_in,
    terms_of,
    text_terms,
    weighted_coverage,
)
from bot.briefing.figure_checks import DECADE_RE, check_numbers, in_decade
from bot.briefing.name_checks import check_names
from bot.briefing.negation import comparable, is_negation, negated_terms, negated_words
from bot.briefing.reading import MISMATCH_COVERAGE, Reading
from bot.briefing.stance import AGAINST, FOR, calls_for, prescribes, stance_of
from bot.index import Corpus, ScoredPassage
from bot.language.antonyms import antonyms_of, lemmas_of
from bot.names import names_in
from bot.sources import Passage
from bot.terms import CLAUSE_RE, leans_on_previous, sentences_of, stem, words
from bot.words.lexicon import lexicon

Verdict = Literal["supported", "contradicted", "not_in_sources"]


SUPPORT_COVERAGE = 0.75  # share of the claim's content words the passage must contain
MIN_MATCHED = 2
ONLY_COVERAGE = 0.34  # a "not only" counts in a sentence that, with the one before, carries this much
REJECTION_WORDS = 4  # "It is not: ...", "This does not ...": a rejection opens its sentence
NEGATION_COVERAGE = 0.6  # a negation counts only in a sentence that carries this much of the claim

_ONLY_RE = re.compile(r"(?<!not )(?<!no longer )\bonly\b", re.I)
_NOT_ONLY_RE = re.compile(r"\b(?:not|no longer) (?:only|just)\b", re.I)  # "is no longer only a Chinese story"


def best_sentence(passage_text: str, claim_terms: set[str]) -> str:
    sentences = sentences_of(passage_text) or [passage_text]
    return max(sentences, key=lambda s: (len(text_terms(s) & claim_terms), -len(s)))


@dataclass(slots=True)
class Comparison:
    scored: ScoredPassage
    sentence: str  # the passage sentence closest to the claim
    coverage: float
    matched: int
    critical_ok: bool
    mismatches: list[str]
    core_coverage: float  # coverage without the mismatched words
    sentence_coverage: float = 0.0  # the deciding sentence's coverage of the claim
    predicate_coverage: float = 1.0  # the passage's coverage of the claim less its names
    founded: bool = True  # every figure and name of the claim is in the passage (or its byline)

    @property
    def supports(self) -> bool:
        return (
            self.coverage >= SUPPORT_COVERAGE
            and self.predicate_coverage >= MISMATCH_COVERAGE
            and self.matched >= MIN_MATCHED
            and self.critical_ok
            and not self.mismatches
        )

    @property
    def contradicts(self) -> bool:
        return (
            bool(self.mismatches) and self.core_coverage >= MISMATCH_COVERAGE and self.matched >= MIN_MATCHED
        )


_QUOTED_RE = re.compile(r"[\"“][^\"“”]*[\"”]")
_SUPPOSED_RE = re.compile(r"\b(?:if|unless|whether)\b[^,;.]*", re.I)


def _about_claim(r: Reading) -> list[str]:
    """The passage's sentences that carry a third of the claim, each read with the one before it
    ("The tug of war ... is no longer only a Chinese story" follows the sentence naming the
    push-and-pull): a "not only" in a heading or elsewhere in the passage says nothing of it."""
    pairs = zip(["", *r.sentences], r.sentences, strict=False)
    return [s for before, s in pairs if r.coverage_of(f"{before} {s}") >= ONLY_COVERAGE]


def _check_negation(r: Reading) -> bool:
    """A sentence about the claim that negates what the claim affirms (or the reverse) contradicts
    it; a negative claim is supported only by a sentence that says the same "not", or denies the
    same thing in other words (`_denies`). A passage that says the negative claim itself is not
    read against its other sentences ("Farm groups campaigned against a 'fertilizer ban'" follows
    "the compact does not ban fertilizer"). Returns whether a negative claim's negation is found."""
    if r.denied:
        return _check_denied_report(r, r.denied)
    if prescribes(r.claim) and (found := _check_stance(r)) is not None:
        return found
    claim_negated = r.negated
    if claim_negated and any(_denies(r, s, claim_negated) for s in r.sentences):
        return True
    # "...fear being seen as weak if they call for a slowdown" asserts no call: a source saying they
    # cannot call for one does not contradict it.
    supposed = set().union(*(terms_of(m.group(0)) for m in _SUPPOSED_RE.finditer(r.claim)))
    for at, sentence in enumerate(r.sentences):
        # "They cannot call for a slowdown" is about the subject of the sentence before.
        before = r.sentences[at - 1] if at and leans_on_previous(sentence) else ""
        # clause by clause (at ";" and ":"): in "The article does not identify the researchers; the
        # experts Singh met remain anonymous" the "not" is on identifying them, not on meeting them,
        # and "AI cannot be contained within borders: researchers collaborate through global
        # conferences" does not deny the conferences
        if any(
            _says_the_opposite(r, at, before, supposed, part) for part in CLAUSE_RE.split(sentence)
        ) and not _said_outright(r, sentence):
            r.mismatch("negation: one says 'not'/'no'/'little', the other does not")
            r.show(sentence)
            if before and r.sentence == sentence and before in r.quotable:
                r.sentence = f"{before} {sentence}"
            break
    if _ONLY_RE.search(r.claim) and any(_NOT_ONLY_RE.search(s) for s in _about_claim(r)):
        r.mismatch("only: the claim says 'only', the source 'not only' or 'no longer only'")
    return not claim_negated or any(_also_denies(r, at) for at in range(len(r.sentences)))


def _said_outright(r: Reading, sentence: str) -> bool:
    """Whether another sentence of the passage says the affirmative claim outright, carrying more of
    it than `sentence`, with no "not" on its words and not as an impression or a misreading:
    "Singh, the journalist who met and interviewed the researchers, argues..." settles "Singh
    interviewed Chinese AI researchers", whatever "The article does not identify any of the
    researchers by name" denies; "A common misreading is that the compact bans fertilizer" says
    nothing outright."""
    if r.negated:
        return False
    lex = lexicon()
    cues = lex.appearance | lex.misreading
    here = r.coverage_of(sentence)
    return any(
        # a term in quotation marks is reported, not said: Liu points to DeepSeek-R1 as a "Sputnik
        # moment", which does not say outright that it was one
        r.coverage_of(_QUOTED_RE.sub(" ", other)) >= max(SUPPORT_COVERAGE, here + 1e-9)
        and not negated_terms(other, r.claim_terms)
        and not set(words(other)) & cues
        for other in r.sentences
        if other != sentence
    )


def _also_denies(r: Reading, at: int) -> bool:
    """Whether the passage's sentence `at` denies what the negative claim denies: a "not" on the same
    word, or, in a clause that carries the claim, on another word of it ("the immediate worry is not
    a Terminator-style uprising" for "a Terminator-style uprising is not the immediate worry")."""
    sentence = r.sentences[at]
    if r.negated & negated_terms(sentence, r.claim_terms):
        return True
    return any(
        negated_terms(part, r.claim_terms) and _carried(r, at, "", part) >= NEGATION_COVERAGE
        for part in CLAUSE_RE.split(sentence)
    )


def _carried(r: Reading, at: int, before: str, part: str = "") -> float:
    """How much of the claim the passage's sentence `at` (or `part` of it) carries, read after
    `before` (the sentence it leans on) and under its heading, on which it leans for its subject;
    0.0 when it carries too little of what the claim says of its names."""
    with_heading = f"{r.sentences[0] if at else ''} {before} {part or r.sentences[at]}"
    if r.predicate_coverage(with_heading) < MISMATCH_COVERAGE:
        return 0.0
    return r.coverage_of(with_heading)


def _says_the_opposite(r: Reading, at: int, before: str, supposed: set[str], part: str) -> bool:
    """Whether `part` (a clause of the passage's sentence `at`, read after `before`, the sentence it
    leans on) carries enough of the claim and puts a "not" where the claim has none, or the
    reverse, on a word they share.

    A sentence leans on its heading for its subject ("The old lamp was not repaired" under "Storm
    damage to the lighthouse lamp"), so the heading counts toward how much of the claim it carries.
    A sentence that needs its heading for that must share more of what the claim says than the
    words the "not" falls on: "She does not think the rota needs paid staff" says nothing of
    whether she counts keepers as staff. Two "not"s that fall on different words of the same
    clause ("cannot be kept inside" against "would not stay inside") agree."""
    if _carried(r, at, before, part) < NEGATION_COVERAGE:
        return False
    text = f"{before} {part}"
    shared = r.claim_terms & terms_of(text)
    denies = negated_terms(part, r.claim_terms)
    differ = r.negated ^ denies
    if not (shared - supposed) & differ or (r.negated and denies & shared):
        return False
    return at == 0 or r.coverage_of(text) >= NEGATION_COVERAGE or bool((shared & r.predicate) - differ)


def _check_stance(r: Reading) -> bool | None:
    """A claim that says what ought to be ("The US should not treat the race as zero-sum"): the
    sentence about it that takes a stance (stance.py: a warning, a recommendation, a "should" of its
    own) and carries most of it decides. Its stance, turned round by a "not" on the claim's words
    ("warns against deployment without testing" is for testing), must be the claim's, turned round
    by the claim's own "not". A sentence that only describes the thing ("the race gives labs an
    incentive to put speed ahead of safety") decides nothing: with no sentence taking a stance, a
    claim against something is not found (its "not" is on the "should", not a denial of what the
    source describes), and one for something is read like any other claim (None). Returns whether
    the claim's stance is found, which a claim against something needs to be supported."""
    wanted = AGAINST if r.negated else FOR
    best: tuple[float, int, str] | None = None
    for at, sentence in enumerate(r.sentences):
        before = r.sentences[at - 1] if at and leans_on_previous(sentence) else ""
        if (coverage := _carried(r, at, before)) < NEGATION_COVERAGE:
            continue
        text = f"{before} {sentence}"
        tokens = words(sentence)
        first = next((n for n, w in enumerate(tokens) if terms_of(w) & r.predicate), None)
        if not (stance := stance_of(sentence, first)):
            continue
        if negated_terms(sentence, r.claim_terms) & terms_of(text) or _sets_aside(r, sentence):
            stance = -stance  # "warns against deployment without testing", "as an alternative to X"
        if best is None or coverage > best[0]:
            best = (coverage, stance, sentence)
    if best is None:
        return None if wanted == FOR else False
    if best[1] != wanted:
        r.mismatch(
            "stance: the claim says it should be; the source warns against it"
            if wanted == FOR
            else "stance: the claim says it should not be; the source is for it"
        )
        r.show(best[2])
        return False
    return True


def _check_denied_report(r: Reading, clause: str) -> bool:
    """ "Singh does not think the real race is between nations" denies the clause after its verb: a
    sentence about the claim that says the opposite of the clause (a "not" on its words where the
    clause has none, or none where it has one: "the real race is not between nations") supports
    it; one that says the clause as it stands contradicts it ("The essay does not warn about
    deployment without safety testing" against "deployment without adequate testing"). A whole
    clause, not a word: the two "not"s rarely fall on the same word. Returns whether the denial is
    found."""
    terms = terms_of(clause) & r.claim_terms
    denied = bool(negated_terms(clause, terms))
    about = []
    for at, sentence in enumerate(r.sentences):
        before = r.sentences[at - 1] if at and leans_on_previous(sentence) else ""
        text = f"{before} {sentence}"
        if r.coverage_of(text) >= NEGATION_COVERAGE and r.predicate_coverage(text) >= MISMATCH_COVERAGE:
            about.append(sentence)
    if any(bool(negated_terms(s, terms)) != denied for s in about):
        return True
    if about:
        r.mismatch("negation: the claim denies what the source says")
        r.show(about[0])
    return False


def opposite_pairs(claim_words: set[str], in_view: set[str]) -> list[tuple[frozenset[str], frozenset[str]]]:
    """Pairs of word sets that say opposite things, among the words in view: the lexicon's own pairs,
    which a moderator may extend (factcheck.toml), then for each claim word the words that share a
    lemma with it against those that are WordNet antonyms of one (language/antonyms.py: "rose"
    against "fell")."""
    pairs = []
    for word in claim_words:
        opposites = antonyms_of(word)
        theirs = frozenset(w for w in in_view if lemmas_of(w) & opposites) if opposites else frozenset()
        if theirs:
            lemmas = lemmas_of(word)
            pairs.append((frozenset(w for w in in_view if lemmas_of(w) & lemmas), theirs))
    return [*lexicon().antonyms, *pairs]


def _check_antonyms(r: Reading) -> None:
    """Antonyms, clause by clause: only clauses about the claim (sharing one of its other content
    words) count, so "who is ahead: governance is losing" contradicts "governance is winning" although
    the passage also says "ahead" elsewhere. "calls for X" endorses X like "recommends X"."""
    # A word the claim itself denies says neither side: "do not publicly call", "does not say [the
    # experts celebrate]"; nor does one it only supposes: "if they publicly ask, they are seen as
    # disloyal" against "they cannot publicly call for it without being seen as unpatriotic".
    supposed = set().union(*(words(m.group(0)) for m in _SUPPOSED_RE.finditer(r.claim)))
    claim_words = set(words(r.claim)) - negated_words(r.claim) - set(words(r.denied)) - supposed
    clauses = [
        (terms_of(c), set(words(c)) | ({"favors"} if calls_for(words(c)) else set()), negated_words(c))
        for c in (part for sentence in r.sentences for part in CLAUSE_RE.split(sentence))
    ]
    in_view = claim_words.union(*(words_ for _terms, words_, _negated in clauses))
    for left, right in opposite_pairs(claim_words, in_view):
        for mine, theirs in ((left, right), (right, left)):
            said = claim_words & mine
            if not said:
                continue
            about = r.claim_terms - {stem(w) for w in said}
            relevant = [(words_, negated) for terms, words_, negated in clauses if terms & about]
            # "does not mean abandoning X" says the opposite of "abandon X": a negated word changes side.
            opposite = (
                set().union(*((w & theirs) - n | (w & mine & n) for w, n in relevant)) if relevant else set()
            )
            if opposite and not any((w & mine) - n for w, n in relevant):
                word = min(opposite)  # a word of the claim's own side is the opposite only when negated
                shown = f"not {word}" if word in mine else word
                reason = f"antonym: the claim says '{min(said)}', the source '{shown}'"
                r.mismatch(reason, {stem(w) for w in said})


_SET_ASIDE_END_RE = re.compile(r"[,;:.!?]|\b(?:to|toward|towards|into)\b", re.I)
_LEADING_TO_RE = re.compile(r"\s*(?:to|into)\b", re.I)


def _check_contrast(r: Reading) -> None:
    """A claim that says what the source sets aside: "Liu recommends an all-out AI race" against "As
    an alternative to an all-out AI race, Liu recommends expanding track-two dialogues". It holds
    half the set-aside phrase's words or more, shares a word of the rest of the sentence
    ("recommends"), and fewer of the rest than of the phrase: it says the same of the other thing.
    A claim that states the contrast itself ("... as an alternative to a race"), puts the set-aside
    thing in the past ("used to", "no longer": `formerly`) or denies it ("does not recommend a race")
    is left alone."""
    lex = lexicon()
    if r.negated or lex.formerly.search(r.claim):
        return
    if lex.set_aside.search(r.claim):
        _check_claims_aside(r)
        return
    for sentence in r.sentences:
        if marker := _sets_aside(r, sentence):
            r.mismatch(f"contrast: the source sets this aside ('{marker} ...')", _aside_held(r, sentence))
            r.show(sentence)
            return


def _check_claims_aside(r: Reading) -> None:
    """The other way round: a claim that sets aside what the source says of the same thing ("the
    lesson is that complexity calls for confidence rather than humility" against "complexity
    demands humility"; "countries will turn away from Chinese infrastructure" against "will rely
    on Chinese infrastructure"). The sentence holds half the set-aside words or more, with no "not"
    on them and no set-aside phrase of its own over them, and half the claim's other words."""
    for marker, aside, rest in _set_asides(r.claim):
        aside &= r.claim_terms
        if not aside or not rest:
            continue
        for sentence in r.sentences[1:]:
            said = text_terms(sentence)
            held = said & aside
            if len(held) < MISMATCH_COVERAGE * len(aside) or held & negated_terms(sentence, aside):
                continue
            if any(theirs & aside for _, theirs, _ in _set_asides(sentence)):
                continue
            if len(said & rest) >= MISMATCH_COVERAGE * len(rest):
                r.mismatch(f"contrast: the claim sets aside what the source says ('{marker} ...')", aside)
                r.show(sentence)
                return


def _denies(r: Reading, sentence: str, claim_negated: set[str]) -> bool:
    """Whether `sentence`, about the claim, denies what the negative claim denies: with a "not" of
    its own on the same thing ("the real race is not between nations" for "Singh does not think the
    real race is between nations"), by setting it aside ("as an alternative to an all-out AI race,
    Liu recommends ...") or by calling it a misreading before saying it ("A common misreading is
    that the compact bans fertilizer"; not "Liu considers the framing dangerous and a misreading")."""
    if _sets_aside(r, sentence):
        return True
    if r.coverage_of(sentence) < NEGATION_COVERAGE:
        return False
    if claim_negated & negated_terms(sentence, r.claim_terms):
        return True
    tokens = words(sentence)
    cue = next((i for i, w in enumerate(tokens) if w in lexicon().misreading), None)
    said = next((i for i, w in enumerate(tokens) if comparable(w) in claim_negated), None)
    return cue is not None and said is not None and cue < said


def _set_asides(sentence: str) -> list[tuple[str, set[str], set[str]]]:
    """Each set-aside phrase of `sentence`: (its marker, the words it sets aside, the other words)."""
    found = []
    for marker in lexicon().set_aside.finditer(sentence):
        after = sentence[marker.end() :]
        lead = _LEADING_TO_RE.match(after)  # "rather than to the workshops": what follows is set aside
        end = _SET_ASIDE_END_RE.search(after, lead.end() if lead else 0)
        cut = end.start() if end else len(after)
        aside = terms_of(after[:cut])
        found.append(
            (marker.group(0), aside, terms_of(f"{sentence[: marker.start()]} {after[cut:]}") - aside)
        )
    return found


def _sets_aside(r: Reading, sentence: str) -> str:
    """The marker of a phrase of `sentence` that sets aside what the claim says of the same subject
    (half the phrase's words or more, a word of the rest, and fewer of the rest), or ""."""
    for marker, aside, rest in _set_asides(sentence):
        held, shared = aside & r.claim_terms, rest & r.predicate
        if aside and len(held) >= MISMATCH_COVERAGE * len(aside) and 0 < len(shared) < len(held):
            return marker
    return ""


def _aside_held(r: Reading, sentence: str) -> set[str]:
    return set().union(*(aside & r.claim_terms for _, aside, _ in _set_asides(sentence)))


def _check_misreading(r: Reading, passage: Passage) -> None:
    """A view the source itself calls a misconception or misreading is not supported by it: "the
    first misconception is treating China as a monolith" contradicts "China is a monolith"."""
    cues = lexicon().misreading
    if set(words(r.claim)) & cues:
        return  # the claim itself says it is a misreading
    if r.negated:
        return  # "The compact does not ban fertilizer" denies the misreading, it does not repeat it
    if _check_appearance(r):
        return
    at = r.sentences.index(r.sentence) if r.sentence in r.sentences else -1
    after = r.sentences[at + 1] if 0 <= at < len(r.sentences) - 1 else ""
    if not leans_on_previous(after) and not (terms_of(after) & r.claim_terms) - lexicon().document:
        after = ""  # a sentence calling something else misleading, sharing no word with the claim
    near = [r.sentence, after] if _own_account(r, at) else [passage.heading, r.sentence, after]
    if r.coverage_of(r.sentence) >= MISMATCH_COVERAGE and any(set(words(text)) & cues for text in near):
        r.mismatch("misreading: the source presents this view as a misconception or misreading")
        if set(words(after)) & cues and not set(words(r.sentence)) & cues:
            r.sentence = f"{r.sentence} {after}"  # the evidence is the view and the sentence calling it wrong


def _own_account(r: Reading, at: int) -> bool:
    """Whether the passage's sentence `at` gives the source's own account under a heading that
    names a misreading: it comes after the sentence rejecting the misreading ("It is not: ...") and
    says something flatly ("paying cash on board ended in 2016"), neither quoting the misreading
    nor denying anything ("Leaflets warning that 'cash is banned' described a change that is not
    in the plan" restates the misreading to dismiss it)."""
    rejected = next(
        (
            n
            for n, sentence in enumerate(r.sentences[1:], start=1)
            if leans_on_previous(sentence)
            and any(map(is_negation, words(CLAUSE_RE.split(sentence)[0])[:REJECTION_WORDS]))
        ),
        None,
    )
    if rejected is None or at <= rejected:
        return False
    sentence = r.sentences[at]
    return not _QUOTED_RE.search(sentence) and not any(map(is_negation, words(sentence)))


def _check_appearance(r: Reading) -> bool:
    """A sentence that holds the claim only as how things look ("short trips ... reinforce the
    impression that China is sprinting ahead") reports an impression, not a fact: it does not support
    the claim said flatly, it presents it as a view the source doubts. Only a clause that itself
    carries the claim counts, so a cue elsewhere in the passage, or in the sentence's other clause
    ("...at the cost of safeguards; Liu calls DeepSeek-R1 overhyped"), leaves other claims alone."""
    lex = lexicon()
    if set(words(r.claim)) & (lex.appearance | lex.naming):
        # "...reinforce the impression that..." says the same; "Liu calls DeepSeek-R1 a Sputnik
        # moment" reports the name she gives it, and she does. "The essay says the race is simply a
        # contest of resources" drops the essay's "looks like": it is checked.
        return False
    for sentence in r.sentences:
        clauses = CLAUSE_RE.split(sentence)
        if any(
            set(words(c)) & lex.appearance and r.coverage_of(c) >= MISMATCH_COVERAGE for c in clauses
        ) and not _said_outright(r, sentence):
            r.mismatch("misreading: the source gives this as an impression or appearance, not as fact")
            r.show(sentence)
            return True
    return False


WordCheck = Callable[[Reading, Passage, Corpus], bool]


def _negation(r: Reading, _passage: Passage, _corpus: Corpus) -> bool:
    return _check_negation(r)


def _antonyms(r: Reading, _passage: Passage, _corpus: Corpus) -> bool:
    _check_antonyms(r)
    return True


def _set_aside(r: Reading, _passage: Passage, _corpus: Corpus) -> bool:
    _check_contrast(r)
    return True


def _figures(r: Reading, _passage: Passage, _corpus: Corpus) -> bool:
    return check_numbers(r)


def _misreading(r: Reading, passage: Passage, _corpus: Corpus) -> bool:
    _check_misreading(r, passage)
    return True


# The word-level checks, in the order they read a claim against a passage. Each notes its
# mismatches on the reading and returns whether the claim's critical details (a "not", a figure, a
# name) hold. `python -m bot eval --claims FILE --ablate` reports what each adds.
WORD_CHECKS: dict[str, WordCheck] = {
    "negation": _negation,
    "antonyms": _antonyms,
    "set_aside": _set_aside,
    "figures": _figures,
    "names": check_names,
    "misreading": _misreading,
}
FOUNDING_CHECKS = ("figures", "names")  # their failure means the claim's own details are not there


def compare(claim: str, scored: ScoredPassage, corpus: Corpus, off: Collection[str] = ()) -> Comparison:
    """Compare `claim` with one passage (`corpus`: every passage, for the names; `off`: checks left
    out, for ablation)."""
    p = scored.passage
    passage_text = p.full_text
    claim_terms = terms_of(claim)
    r = Reading(
        claim,
        claim_terms,
        best_sentence(p.text, claim_terms),
        sentences_of(passage_text),
        passage_text,
        names=names_in(claim, corpus.names),
    )
    r.quotable = frozenset(sentences_of(p.text))
    held = {name: check(r, p, corpus) for name, check in WORD_CHECKS.items() if name not in off}
    passage_terms = text_terms(f"{p.title} {passage_text}")
    passage_terms |= {d for d in DECADE_RE.findall(claim) if in_decade(d, numbers_in(passage_text))}
    matched = claim_terms & passage_terms
    core = claim_terms - r.mismatched_terms
    return Comparison(
        scored=scored,
        sentence=r.sentence,
        coverage=weighted_coverage(claim, claim_terms, matched),
        matched=len(matched),
        critical_ok=all(held.values()),
        mismatches=r.mismatches,
        core_coverage=len(core & passage_terms) / len(core) if core else 0.0,
        sentence_coverage=r.coverage_of(r.sentence),
        predicate_coverage=r.predicate_coverage(f"{p.title} {passage_text}"),
        founded=all(held.get(name, True) for name in FOUNDING_CHECKS),
    )


def decide(comparisons: list[Comparison]) -> tuple[Verdict, Comparison | None]:
    """Supported if a passage supports the claim and none contradicts it sentence for sentence at
    least as closely; else contradicted if one contradicts it; else not in the sources."""
    supporting = [c for c in comparisons if c.supports]
    contradicting = [c for c in comparisons if c.contradicts]
    if supporting:
        best = max(supporting, key=lambda c: (c.coverage, c.scored.score))
        against = [c for c in contradicting if c.sentence_coverage >= best.sentence_coverage]
        if not against:
            return "supported", best
        return "contradicted", max(against, key=lambda c: (c.sentence_coverage, c.core_coverage))
    if contradicting:
        return "contradicted", max(contradicting, key=lambda c: (c.core_coverage, c.scored.score))
    return "not_in_sources", None
