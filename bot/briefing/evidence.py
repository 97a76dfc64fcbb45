"""What the sources hold for one question, weighed before the model says a word.

Three decisions rest on this, all taken from the retrieved evidence rather than from the model:

- **answerability**: do the passages answer the question? A question is declined when the best
  passage covers too little of what it asks (coverage weighted by how informative each word is),
  when names or figures it asks about appear nowhere in the sources, or when it asks for a number
  or a year and no candidate sentence gives one;
- **the extractive core**: the source sentences that best answer *this* question, scored sentence
  by sentence (for a list question, one item per sibling passage of the same source);
- **ranking**: passages ordered by their best sentence, which survives paraphrase better than
  passage-level BM25 alone.

Why weigh words by their rarity in general English (wordfreq's Zipf scale) and not only by the
corpus: the corpus is a few dozen passages, so it cannot tell a question's frame ("what role could
... play") from its subject ("independent auditors"). General-English rarity can: "play" is common
everywhere, "auditors" and "Hiroshima" are not. The rules hold for any source a moderator drops in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from wordfreq import zipf_frequency

from bot.index import ScoredPassage, SourceIndex
from bot.sources import Passage
from bot.terms import STOPWORDS, WORD_RE, is_question, match_terms, sentences_of, stem, words

ZIPF_CEILING = 8.0  # "the" is 7.7: every word gets a positive weight
MIN_WEIGHT = 0.5
COVERAGE_MIN = 0.45  # weighted share of the question the best passage must hold
MISSING_SPECIFIC_MAX = 0.25  # weighted share of names/figures absent from every source that declines
PICK_RATIO = 0.6  # a further sentence must score this share of the best one
LIST_RATIO = 0.45  # list items from sibling passages may be weaker
MAX_PICKS = 2
MAX_LIST_PICKS = 5
MIN_SENTENCE_WORDS = 5
CLOSEST_TOPICS = 3
SUBJECT_SHARE = 0.1  # a word in this share of passages is part of what the sources are about
RARE_WEIGHT = ZIPF_CEILING - 3.5  # rarer in English than about 3 in a million words
STRONG_MATCH = 0.8  # a question naming none of the subject must match a passage this well
# "Which (Chinese) cities ...", "What warning signs do ...", "What kinds of ...", "What are ...": a
# plural asked for by which/what wants every item, not the first one found.
_WHICH_PLURAL_RE = re.compile(r"^\s*which\s+(?:[\w-]+\s+)?[a-z-]{2,}[^s\W]s\b", re.I)
_WHAT_PLURAL_RE = re.compile(
    r"^\s*what\s+(?:(?:are|were)\b|(?:[\w-]+\s+)?[a-z-]{2,}[^s\W]s\s+(?:of|do|did|does|are|were|could|can|"
    r"would|should|will|might|may|have|has|had)\b)",
    re.I,
)
_NUMBER_Q_RE = re.compile(
    r"\bhow (?:much|many|large|big|often|long)\b|\bwhat (?:share|percentage|number)\b", re.I
)
_YEAR_Q_RE = re.compile(r"\b(?:what|which|in what) year\b|\bwhen (?:was|were|did|is|will)\b", re.I)
_FIGURE_RE = re.compile(
    r"\d|\b(?:two|three|four|five|six|seven|eight|nine|ten|dozens?|hundreds?|thousands?|millions?|"
    r"billions?|trillions?|percent|half|third|quarter)\b",
    re.I,
)
_YEAR_RE = re.compile(r"\b(?:1[5-9]|20)\d\d\b")
_DANGLING_RE = re.compile(r"^(?:it|this|these|those|they|he|she|also|both)\b", re.I)


@lru_cache(maxsize=16384)
def informativeness(word: str) -> float:
    """How much a word says about what is asked: its surprisal in general English.

    wordfreq's Zipf scale puts "the" at 7.7, "play" at 5.6, "auditors" at 3.3 and an unknown name
    at 0, so a question's frame weighs little and its subject a lot."""
    return max(MIN_WEIGHT, ZIPF_CEILING - zipf_frequency(word, "en"))


@dataclass(frozen=True, slots=True)
class Focus:
    """What a question asks about: weighted terms, the names and figures in it, what it wants back."""

    weights: dict[str, float]  # stem -> informativeness
    specific: frozenset[str]  # stems of names, acronyms and numbers as the user wrote them
    answer_type: str | None  # "number", "year" or None
    wants_list: bool

    @property
    def total(self) -> float:
        return sum(self.weights.values())

    def coverage(self, terms: frozenset[str] | set[str]) -> float:
        """Weighted share of the question found in `terms` (0..1)."""
        total = self.total
        return sum(w for t, w in self.weights.items() if t in terms) / total if total else 0.0


def _is_specific(token: str, first: bool) -> bool:
    """A name, an acronym or a figure: capitalised past the first word, all capitals, or digits."""
    if any(c.isdigit() for c in token):
        return True
    if len(token) >= 2 and token.isupper():
        return True
    return token[0].isupper() and (not first or informativeness(token.lower()) > ZIPF_CEILING - 4)


def focus_of(question: str) -> Focus:
    weights: dict[str, float] = {}
    specific: set[str] = set()
    for position, match in enumerate(WORD_RE.finditer(question)):
        token = match.group(0)
        word = token.lower().replace("’", "'")
        if word in STOPWORDS or (len(word) < 2 or (len(word) == 2 and not token.isupper())):
            continue  # two letters only as written in capitals: "AI", "EU", "G7"
        term = stem(word)
        weights[term] = max(weights.get(term, 0.0), informativeness(word.removesuffix("'s")))
        if _is_specific(token, position == 0):
            specific.add(term)
    answer_type = (
        "year" if _YEAR_Q_RE.search(question) else "number" if _NUMBER_Q_RE.search(question) else None
    )
    wants_list = bool(_WHICH_PLURAL_RE.match(question) or _WHAT_PLURAL_RE.match(question))
    return Focus(weights, frozenset(specific), answer_type, wants_list)


@dataclass(frozen=True, slots=True)
class Pick:
    """A source sentence chosen because it answers the question."""

    sentence: str
    scored: ScoredPassage
    score: float
    terms: frozenset[str]


@dataclass(frozen=True, slots=True)
class Evidence:
    """The weighed evidence for one question: the decision, what it rested on, and the core."""

    focus: Focus
    ranked: list[ScoredPassage]  # passages, best answer first
    picks: list[Pick]
    answerable: bool
    kind: str  # "answer", "off_topic" or "not_covered"
    coverage: float  # the best passage's weighted coverage of the question
    missing: tuple[str, ...]  # question terms no source uses
    reason: str
    closest: tuple[str, ...] = field(default=())  # headings of the closest passages


def _has_type(sentence: str, answer_type: str | None) -> bool:
    if answer_type == "year":
        return bool(_YEAR_RE.search(sentence))
    if answer_type == "number":
        return bool(_FIGURE_RE.search(sentence))
    return True


def sentence_score(focus: Focus, sentence_terms: frozenset[str], context: frozenset[str]) -> float:
    """How well one sentence answers: its own coverage of the question, helped a little by what its
    passage's heading and source add (a sentence may lean on its heading for its subject)."""
    own = focus.coverage(sentence_terms)
    return 0.8 * own + 0.2 * focus.coverage(sentence_terms | context)


def _candidates(focus: Focus, scored: ScoredPassage, context: frozenset[str]) -> list[Pick]:
    picks = []
    for sentence in sentences_of(scored.passage.text):
        if len(words(sentence)) < MIN_SENTENCE_WORDS or is_question(sentence):
            continue
        terms = match_terms(sentence)
        score = sentence_score(focus, terms, context)
        if focus.answer_type and _has_type(sentence, focus.answer_type):
            score += 0.15
        if _DANGLING_RE.match(sentence):
            score -= 0.05
        picks.append(Pick(sentence.strip(), scored, round(score, 4), terms))
    return picks


def _context(passage: Passage, meta: str) -> frozenset[str]:
    return match_terms(f"{passage.heading} {meta}")


def scored_sentences(index: SourceIndex, focus: Focus, scored: ScoredPassage) -> list[Pick]:
    """Every sentence of one passage that can stand alone, scored against `focus` as `weigh` scores
    them: for modes that choose their own extractive core (a debate speech scores its side's
    passages against the motion)."""
    return _candidates(focus, scored, _context(scored.passage, index.meta(scored.passage)))


def _choose(focus: Focus, candidates: list[Pick]) -> list[Pick]:
    """The best sentence, then others that add something the chosen ones lack (list questions: one
    item per passage, so the items spread over sibling passages are gathered)."""
    ordered = sorted(candidates, key=lambda p: p.score, reverse=True)
    if not ordered or ordered[0].score <= 0:
        return []
    best = ordered[0].score
    limit, ratio = (MAX_LIST_PICKS, LIST_RATIO) if focus.wants_list else (MAX_PICKS, PICK_RATIO)
    chosen = [ordered[0]]
    covered = set(ordered[0].terms)
    for pick in ordered[1:]:
        if len(chosen) >= limit or pick.score < ratio * best:
            break
        if focus.wants_list:
            if any(c.scored.passage.id == pick.scored.passage.id for c in chosen):
                continue
        elif not (set(focus.weights) & pick.terms) - covered:
            continue  # adds nothing the question asks about
        chosen.append(pick)
        covered |= pick.terms
    return chosen


def _siblings(index: SourceIndex, source: str, pool: Sequence[ScoredPassage]) -> list[ScoredPassage]:
    """Every passage of `source`, so a list spread over a section is seen whole."""
    seen = {s.passage.id for s in pool}
    return [ScoredPassage(p, 0.0) for p in index.passages if p.source == source and p.id not in seen]


def weigh(index: SourceIndex, question: str, pool: Sequence[ScoredPassage]) -> Evidence:
    """Weigh the retrieved `pool` for `question` (see the module docstring)."""
    focus = focus_of(question)
    vocabulary = index.vocabulary
    missing = tuple(t for t in focus.weights if t not in vocabulary)
    candidates: list[Pick] = []
    for scored in pool:
        candidates += _candidates(focus, scored, _context(scored.passage, index.meta(scored.passage)))
    if focus.wants_list and candidates:
        top = max(candidates, key=lambda p: p.score).scored.passage
        for scored in _siblings(index, top.source, pool):
            candidates += _candidates(focus, scored, _context(scored.passage, index.meta(scored.passage)))
    passage_cover = {
        s.passage.id: focus.coverage(match_terms(s.passage.text) | _context(s.passage, index.meta(s.passage)))
        for s in pool
    }
    best_by_passage: dict[str, float] = {}
    for pick in candidates:
        best_by_passage[pick.scored.passage.id] = max(
            best_by_passage.get(pick.scored.passage.id, 0.0), pick.score
        )
    ranked = sorted(
        pool,
        key=lambda s: best_by_passage.get(s.passage.id, 0.0) + 0.5 * passage_cover[s.passage.id],
        reverse=True,
    )
    picks = _choose(focus, candidates)
    coverage = max(passage_cover.values(), default=0.0)
    closest = tuple(dict.fromkeys(s.passage.heading or s.passage.title for s in ranked))[:CLOSEST_TOPICS]
    kind, reason = _decide(focus, coverage, missing, picks, subject_terms(index), vocabulary)
    return Evidence(
        focus, ranked, picks, kind == "answer", kind, round(coverage, 3), missing, reason, closest
    )


def subject_terms(index: SourceIndex) -> frozenset[str]:
    """The words a good share of the passages use: what this set of sources is about."""
    floor = max(2, SUBJECT_SHARE * len(index.passages))
    return frozenset(t for t, n in index.document_frequency.items() if n >= floor)


def _anchored(focus: Focus, subject: frozenset[str], vocabulary: frozenset[str]) -> bool:
    """Whether the question names what the sources are about: a word most passages share, or a
    name or rare word that the sources use ("TikTok", "Sputnik"), which no unrelated question has."""
    return any(
        t in subject or (t in vocabulary and (t in focus.specific or w >= RARE_WEIGHT))
        for t, w in focus.weights.items()
    )


def _decide(
    focus: Focus,
    coverage: float,
    missing: tuple[str, ...],
    picks: list[Pick],
    subject: frozenset[str],
    vocabulary: frozenset[str],
) -> tuple[str, str]:
    """(kind, reason): "answer", or why not. Off topic when most of the question is words the
    sources never use; not covered when the subject is there but what is asked is not."""
    total = focus.total or 1.0
    missing_share = sum(focus.weights[t] for t in missing) / total
    missing_specific = [t for t in missing if t in focus.specific]
    specific_share = sum(focus.weights[t] for t in missing_specific) / total
    unknown = "off_topic" if missing_share >= 0.5 or not picks else "not_covered"
    if not focus.weights:
        return "off_topic", "the question has no content words"
    if not picks:
        return "off_topic", "no passage matches the question"
    if specific_share >= MISSING_SPECIFIC_MAX:
        return unknown, f"the sources never mention {', '.join(missing_specific)}"
    if not _anchored(focus, subject, vocabulary) and coverage < STRONG_MATCH:
        return (
            "off_topic",
            f"the question names nothing the sources are about (closest covers {coverage:.0%})",
        )
    if coverage < COVERAGE_MIN:
        return (
            unknown,
            f"the closest passage covers {coverage:.0%} of the question (needs {COVERAGE_MIN:.0%})",
        )
    if focus.answer_type and not any(_has_type(p.sentence, focus.answer_type) for p in picks):
        return "not_covered", f"the question asks for a {focus.answer_type} and no close sentence gives one"
    return "answer", f"the closest passage covers {coverage:.0%} of the question"
