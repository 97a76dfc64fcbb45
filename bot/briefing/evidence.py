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

from bot.briefing.names import names_in, people_in
from bot.index import ScoredPassage, SourceIndex
from bot.sources import Passage
from bot.terms import STOPWORDS, WORD_RE, is_question, match_terms, sentences_of, stem, words

ZIPF_CEILING = 8.0  # "the" is 7.7: every word gets a positive weight
MIN_WEIGHT = 0.5
TYPED_COVERAGE = 0.35  # a figure must come in a sentence about what the question asks the figure of
COVERAGE_MIN = 0.35  # weighted share of the question the best passage must hold
MISSING_SPECIFIC_MAX = 0.25  # weighted share of names/figures absent from every source that declines
PICK_RATIO = 0.6  # a further sentence must score this share of the best one
LIST_RATIO = 0.45  # list items from sibling passages may be weaker
MAX_PICKS = 2
NOVELTY_WEIGHT = 0.15
NOVEL_TERMS = 6
ANNOUNCEMENT_NOVELTY = 0.5  # a sentence with fewer new words than this announces; the next ones answer
MAX_CONTINUATION = 2
MAX_LIST_CONTINUATION = 3
MAX_LIST_PICKS = 5
MIN_SENTENCE_WORDS = 5
CONTEXT_WEIGHT = 0.5
MIN_PART_WORDS = 3
# "..., and which/who/what ...", "...; what ...": where a compound question starts its next part.
_PARTS_RE = re.compile(
    r"(?:,?\s+and\s+|;\s*|,\s+)(?=(?:which|who|whom|what|where|when|why|how|in which|does|do|did)\b)", re.I
)
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
_WHO_RE = re.compile(r"^\s*(?:who|whom)\b", re.I)  # "who ran it?" wants a name; "who is Liu?" has one
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
    at 0, so a question's frame weighs little and its subject a lot. Imported on first use: loading
    the word list costs a quarter of a second that commands without questions need not pay."""
    from wordfreq import zipf_frequency

    return max(MIN_WEIGHT, ZIPF_CEILING - zipf_frequency(word, "en"))


@dataclass(frozen=True, slots=True)
class Focus:
    """What a question asks about: weighted terms, the names and figures in it, what it wants back."""

    weights: dict[str, float]  # stem -> informativeness
    specific: frozenset[str]  # stems of names, acronyms and numbers as the user wrote them
    answer_type: str | None  # "number", "year" or None
    wants_list: bool
    surface: dict[str, str] = field(default_factory=dict, compare=False)  # stem -> the word as asked

    @property
    def total(self) -> float:
        return sum(self.weights.values())

    def coverage(self, terms: frozenset[str] | set[str]) -> float:
        """Weighted share of the question found in `terms` (0..1), stems that are near-variants
        counting as found ("auditor"/"audit", "china"/"chines")."""
        total = self.total
        if not total:
            return 0.0
        return (
            sum(w for t, w in self.weights.items() if t in terms or any(related(t, u) for u in terms)) / total
        )


def related(a: str, b: str) -> bool:
    """Two stems of one word family: one is the other plus a short ending, or they share all but the
    last letter of the shorter ("audit"/"auditor", "china"/"chines"). The Snowball stemmer keeps
    these apart because it never looks across parts of speech."""
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) < 4 or len(long) - len(short) > 3:
        return False
    return long.startswith(short) or (long.startswith(short[:-1]) and len(short) >= 5)


def _is_specific(token: str, first: bool) -> bool:
    """A name, an acronym or a figure: capitalised past the first word, all capitals, or digits."""
    if any(c.isdigit() for c in token):
        return True
    if len(token) >= 2 and token.isupper():
        return True
    return token[0].isupper() and (not first or informativeness(token.lower()) > ZIPF_CEILING - 4)


def focus_of(question: str, context: str = "") -> Focus:
    """The focus of `question`; `context` (the conversation's previous question, for a follow-up)
    adds its words at half weight, so "what caused it?" still asks mainly about causes."""
    focus = _focus_of(question)
    if not context:
        return focus
    earlier = _focus_of(context)
    weights = {t: w * CONTEXT_WEIGHT for t, w in earlier.weights.items()}
    weights.update(focus.weights)
    surface = {**earlier.surface, **focus.surface}
    return Focus(weights, focus.specific | earlier.specific, focus.answer_type, focus.wants_list, surface)


def _focus_of(question: str) -> Focus:
    weights: dict[str, float] = {}
    surface: dict[str, str] = {}
    specific: set[str] = set()
    for position, match in enumerate(WORD_RE.finditer(question)):
        token = match.group(0)
        word = token.lower().replace("’", "'")
        if word in STOPWORDS or (len(word) < 2 or (len(word) == 2 and not token.isupper())):
            continue  # two letters only as written in capitals: "AI", "EU", "G7"
        term = stem(word)
        surface.setdefault(term, token)
        weights[term] = max(weights.get(term, 0.0), informativeness(word.removesuffix("'s")))
        if _is_specific(token, position == 0):
            specific.add(term)
    answer_type = (
        "year"
        if _YEAR_Q_RE.search(question)
        else "number"
        if _NUMBER_Q_RE.search(question)
        else "person"
        if _WHO_RE.match(question) and not people_in(question)
        else None
    )
    wants_list = bool(_WHICH_PLURAL_RE.match(question) or _WHAT_PLURAL_RE.match(question))
    return Focus(weights, frozenset(specific), answer_type, wants_list, surface)


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
    kind: str  # "answer", "off_topic" or "not_covered"
    coverage: float  # the best passage's weighted coverage of the question
    missing: tuple[str, ...]  # question terms no source uses
    reason: str
    closest: tuple[str, ...] = field(default=())  # headings of the closest passages

    @property
    def answerable(self) -> bool:
        return self.kind == "answer"


def _has_type(sentence: str, answer_type: str | None) -> bool:
    if answer_type == "person":
        return bool(names_in(sentence))
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


def novelty(focus: Focus, sentence_terms: frozenset[str]) -> float:
    """Share (0..1) of a full sentence's worth of words the question did not already say: an answer
    tells something new ("traffic systems freezing in gridlock"), an announcement only echoes the
    question ("experts sketch a few scenarios")."""
    new = [
        t for t in sentence_terms if t not in focus.weights and not any(related(t, q) for q in focus.weights)
    ]
    return min(1.0, len(new) / NOVEL_TERMS)


def _span(focus: Focus, sentences: list[str], start: int) -> tuple[str, frozenset[str]]:
    """The sentence at `start`, continued by the next ones while it only announces what follows
    ("There are reasons for cautious optimism." says which only in the next sentences). For a list
    question the rest of the passage follows: a passage names its items after introducing them."""
    text, terms = sentences[start], match_terms(sentences[start])
    end = start + 1
    while (
        end < len(sentences)
        and end - start <= (MAX_LIST_CONTINUATION if focus.wants_list else MAX_CONTINUATION)
        and (focus.wants_list or novelty(focus, terms) < ANNOUNCEMENT_NOVELTY or text.rstrip().endswith(":"))
    ):
        text, terms = f"{text} {sentences[end]}", terms | match_terms(sentences[end])
        end += 1
    return text, terms


def _candidates(focus: Focus, scored: ScoredPassage, context: frozenset[str]) -> list[Pick]:
    picks = []
    sentences = sentences_of(scored.passage.text)
    for start, sentence in enumerate(sentences):
        if len(words(sentence)) < MIN_SENTENCE_WORDS or is_question(sentence):
            continue
        sentence, terms = _span(focus, sentences, start)
        score = sentence_score(focus, terms, context) + NOVELTY_WEIGHT * novelty(focus, terms)
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
    """The best sentence, then others that add something the question asks about that the chosen
    ones lack."""
    ordered = sorted(candidates, key=lambda p: p.score, reverse=True)
    if not ordered or ordered[0].score <= 0:
        return []
    chosen = [ordered[0]]
    covered = set(ordered[0].terms)
    for pick in ordered[1:]:
        if len(chosen) >= MAX_PICKS or pick.score < PICK_RATIO * ordered[0].score:
            break
        if (set(focus.weights) & pick.terms) - covered:
            chosen.append(pick)
            covered |= pick.terms
    return chosen


def question_parts(question: str) -> list[str]:
    """The sub-questions of a compound question ("Who warns X, and who warns Y?"), or [] if simple."""
    parts = [p.strip(" ,;") for p in _PARTS_RE.split(question) if len(words(p)) >= MIN_PART_WORDS]
    return parts if len(parts) > 1 else []


def _choose_for_parts(
    question: str, passages: list[ScoredPassage], contexts: dict[str, frozenset[str]]
) -> list[Pick]:
    """For a compound question, the best sentence for each part: a two-hop question is answered
    from two places, and the second part alone never outscores the first."""
    chosen: list[Pick] = []
    for part in question_parts(question):
        focus = _focus_of(part)
        found = [pick for s in passages for pick in _candidates(focus, s, contexts[s.passage.id])]
        best = max(found, key=lambda p: p.score, default=None)
        if best is not None and all(best.sentence != c.sentence for c in chosen):
            chosen.append(best)
    return chosen


def _choose_items(candidates: list[Pick], passage_cover: dict[str, float]) -> list[Pick]:
    """For a list question: the passages about the question, best first, and the best sentence of
    each, so items that a section spreads over sibling passages are gathered."""
    best_of: dict[str, Pick] = {}
    for pick in candidates:
        pid = pick.scored.passage.id
        if pid not in best_of or pick.score > best_of[pid].score:
            best_of[pid] = pick
    if not best_of:
        return []
    ordered = sorted(
        best_of.values(), key=lambda p: (passage_cover[p.scored.passage.id], p.score), reverse=True
    )
    top = passage_cover[ordered[0].scored.passage.id]
    return [p for p in ordered if passage_cover[p.scored.passage.id] >= LIST_RATIO * top][:MAX_LIST_PICKS]


def _siblings(index: SourceIndex, source: str, pool: Sequence[ScoredPassage]) -> list[ScoredPassage]:
    """Every passage of `source`, so a list spread over a section is seen whole."""
    seen = {s.passage.id for s in pool}
    return [ScoredPassage(p, 0.0) for p in index.passages if p.source == source and p.id not in seen]


def weigh(index: SourceIndex, question: str, pool: Sequence[ScoredPassage], context: str = "") -> Evidence:
    """Weigh the retrieved `pool` for `question` (see the module docstring); `context` is the
    previous question when this one is a follow-up."""
    focus = focus_of(question, context)
    vocabulary = index.vocabulary
    missing = tuple(
        t for t in focus.weights if t not in vocabulary and not any(related(t, u) for u in vocabulary)
    )
    passages = list(pool)
    if focus.wants_list and pool:
        passages += _siblings(index, pool[0].passage.source, pool)
    contexts = {s.passage.id: _context(s.passage, index.meta(s.passage)) for s in passages}
    candidates = [pick for s in passages for pick in _candidates(focus, s, contexts[s.passage.id])]
    passage_cover = {
        s.passage.id: focus.coverage(match_terms(s.passage.text) | contexts[s.passage.id]) for s in passages
    }
    best_sentence: dict[str, float] = {}
    for pick in candidates:
        pid = pick.scored.passage.id
        best_sentence[pid] = max(best_sentence.get(pid, 0.0), pick.score)
    ranked = sorted(
        pool,
        key=lambda s: best_sentence.get(s.passage.id, 0.0) + 0.5 * passage_cover[s.passage.id],
        reverse=True,
    )
    if focus.wants_list:
        picks = _choose_items(candidates, passage_cover)
    else:
        picks = _choose_for_parts(question, passages, contexts) or _choose(focus, candidates)
    coverage = max((passage_cover[s.passage.id] for s in pool), default=0.0)
    closest = tuple(dict.fromkeys(s.passage.heading or s.passage.title for s in ranked))[:CLOSEST_TOPICS]
    kind, reason = _decide(focus, coverage, missing, picks, subject_terms(index), vocabulary)
    if kind != "off_topic" and (names := unknown_names(question, index.corpus_text)):
        kind, reason = "not_covered", f"the sources never mention {'; '.join(names)}"
    return Evidence(focus, ranked, picks, kind, round(coverage, 3), missing, reason, closest)


def unknown_names(question: str, corpus_text: str) -> list[str]:
    """Multi-word names in the question ("EU AI Act", "Bletchley Park") that no source contains as a
    phrase: each word may be known ("AI", "Park"), the thing named is not."""
    found = []
    for name in (part for run in names_in(question) for part in _split_possessives(run)):
        words_ = [w.lower() for w in name]
        if len(words_) >= 2 and not re.search(
            r"\b" + r"\W+".join(map(re.escape, words_)) + r"\b", corpus_text
        ):
            found.append(" ".join(name))
    return found


def _split_possessives(name: tuple[str, ...]) -> list[tuple[str, ...]]:
    """ "Singh's FAQ" names two things, Singh and his FAQ: a possessive ends a name."""
    parts: list[tuple[str, ...]] = []
    current: list[str] = []
    for token in name:
        stripped = token.removesuffix("'s").removesuffix("’s")
        current.append(stripped)
        if stripped != token:
            parts.append(tuple(current))
            current = []
    return [*parts, tuple(current)] if current else parts


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
        return (
            unknown,
            f"the sources never mention {', '.join(focus.surface.get(t, t) for t in missing_specific)}",
        )
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
    typed = [
        p
        for p in picks
        if _has_type(p.sentence, focus.answer_type) and focus.coverage(p.terms) >= TYPED_COVERAGE
    ]
    if focus.answer_type and not typed:
        return "not_covered", f"the question asks for a {focus.answer_type} and no close sentence gives one"
    return "answer", f"the closest passage covers {coverage:.0%} of the question"
