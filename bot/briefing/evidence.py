"""What the sources hold for one question, weighed before the model says a word.

Three decisions rest on this, all taken from the retrieved evidence rather than from the model:

- **answerability** (answerability.py): do the passages answer the question?
- **the extractive core**: the source sentences that best answer *this* question, scored sentence
  by sentence against the question's weighted focus (focus.py); for a list question, one item per
  sibling passage of the same source;
- **ranking**: passages ordered by their best sentence, which survives paraphrase better than
  passage-level BM25 alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from bot.briefing.answerability import (
    FOLLOW_UP_MAX_WORDS,
    MEANING_ABOUT,
    TYPED_COVERAGE,
    decide,
    earlier_words,
    mostly_unknown,
    read_with,
    subject_terms,
    unknown_names,
)
from bot.briefing.focus import (
    Focus,
    focus_of,
    has_type,
    lead_in,
    related,
    stands_for_a_subject,
    subject_of,
)
from bot.briefing.pick import Pick
from bot.index import ScoredPassage, SourceIndex
from bot.language import LanguageModels
from bot.language.kin import kin_of
from bot.names import people_in
from bot.sources import Passage
from bot.terms import is_question, leans_on_previous, match_terms, sentences_of, words
from bot.words.vocabulary import vocabulary

PICK_RATIO = 0.6  # a further sentence must score this share of the best one
TYPE_BONUS = 0.15  # a sentence giving the kind of thing asked for (a figure, a year, a name, a place)
LIST_RATIO = 0.45  # list items from sibling passages may be weaker
MAX_PICKS = 2
NOVELTY_WEIGHT = 0.15
NOVEL_TERMS = 6
ANNOUNCEMENT_NOVELTY = 0.5  # a sentence with fewer new words than this announces; the next ones answer
MAX_CONTINUATION = 2
MAX_LIST_CONTINUATION = 3
MAX_LIST_PICKS = 5
PHRASE_BONUS = 0.3  # a sentence holding a phrase the question quotes ('race to the bottom')
MIN_SENTENCE_WORDS = 5
MIN_PART_WORDS = 3
# "..., and which/who/what ...", "...; what ...": where a compound question starts its next part.
_PARTS_RE = re.compile(
    r"(?:,?\s+and\s+|;\s*|,\s+)(?=(?:which|who|whom|what|where|when|why|how|in which|does|do|did)\b)", re.I
)
CLOSEST_TOPICS = 3
THREAD_WEIGHT = 0.5  # a follow-up's passage must also be about what the previous question asked
_MARKER_RE = re.compile(r"\s*\[\d+\]")
ANCHOR_MAX_PASSAGES = 2  # a name in more passages than this is a subject, not a pointer
# Weight of a sentence's semantic similarity to the question in its score, beside its weighted word
# coverage: a paraphrase shares meaning, not words.
MEANING_WEIGHT = 0.3
CLOSER_MARGIN = 0.1  # cosine by which the closest sentence must beat the lead to be quoted after it


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


def goes_on(sentence: str) -> bool:
    """Whether `sentence` carries on from the one before: it opens with a word that continues a
    count or points back (prompts/lexicon/words.toml's openers.dangling: "Second, ...", "The first is treating
    China as a monolith"), so "Liu highlights two common misconceptions." is quoted with its items."""
    opening = words(sentence)[:2]
    opener = opening[1] if opening[:1] == ["the"] and len(opening) > 1 else "".join(opening[:1])
    return opener in vocabulary().dangling


def _follows_from(sentence: str) -> bool:
    """ "So the scientists keep quiet ...": a consequence of the sentence before (words.toml's
    openers.consequence), which a quote must carry, since it holds the reason. "So far", "So many"
    are no such (openers.not_consequence)."""
    opening = words(sentence)[:2]
    return (
        bool(opening)
        and opening[0] in vocabulary().consequence
        and not vocabulary().not_consequence & set(opening[1:])
    )


def _span(
    focus: Focus, sentences: list[str], start: int, carry_on: bool = True
) -> tuple[str, frozenset[str]]:
    """The sentence at `start`, continued by the next ones while it only announces what follows
    ("There are reasons for cautious optimism." says which only in the next sentences); a person's
    name is no news ("X, bylined as Y, wrote '...'" is continued to where the piece appeared). For a list
    question the rest of the passage follows: a passage names its items after introducing them.
    `carry_on`: the quote also takes the next sentences while they carry on from it (`goes_on`),
    which are not scored: they complete what is quoted, not what is chosen; and a consequence ("So
    they keep quiet") takes the sentence before it, which holds the reason. Not for a debate, whose
    measure counts a quote as one checked sentence whatever its length."""
    text, terms = sentences[start], match_terms(sentences[start])
    # who said it is no news (not needed for a list, which takes the rest of the passage anyway)
    said_by = frozenset() if focus.wants_list else match_terms(" ".join(" ".join(n) for n in people_in(text)))
    end = start + 1
    limit = MAX_LIST_CONTINUATION if focus.wants_list else MAX_CONTINUATION
    while (
        end < len(sentences)
        and end - start <= limit
        and (
            focus.wants_list
            or novelty(focus, terms - said_by) < ANNOUNCEMENT_NOVELTY
            or text.rstrip().endswith(":")
        )
    ):
        text, terms = f"{text} {sentences[end]}", terms | match_terms(sentences[end])
        end += 1
    while carry_on and end < len(sentences) and end - start <= limit and goes_on(sentences[end]):
        text, end = f"{text} {sentences[end]}", end + 1
    if carry_on and start and _follows_from(text):
        text = f"{sentences[start - 1]} {text}"  # "So they keep quiet": the reason is the one before
    elif carry_on and start and stands_for_a_subject(sentences[start]):
        text = f"{sentences[start - 1]} {text}"  # "They cannot call for ...": who "they" are is before
    return text, terms


def _candidates(
    focus: Focus,
    scored: ScoredPassage,
    context: frozenset[str],
    anchored: frozenset[str] = frozenset(),
    carry_on: bool = True,
    models: LanguageModels | None = None,
    person: str = "",
) -> list[Pick]:
    """Every sentence of the passage that can stand alone, scored; `anchored` are the question's
    names that point at the passage's source (`source_anchors`), found in every sentence of it.
    The `person` a follow-up's "she" means is found likewise in every sentence of a passage that
    names them, unless the sentence names someone else: there the source's own "she" and a surname
    alone are that person too."""
    picks = []
    sentences = sentences_of(scored.passage.text)
    named = match_terms(person)
    if named & match_terms(scored.passage.text):
        anchored |= named
    for start, sentence in enumerate(sentences):
        if len(words(sentence)) < MIN_SENTENCE_WORDS or is_question(sentence):
            continue
        sentence, terms = _span(focus, sentences, start, carry_on)
        terms |= {acronym for acronym, spelled in focus.aliases.items() if spelled <= terms}  # "us"
        anchored_here = anchored
        # the person meant is found everywhere in the passage but where another person is named
        someone_else = named and named <= anchored and not named <= terms
        if someone_else and _names_someone_else(sentence, named, models):
            anchored_here = anchored - named
        if carry_on and start and stands_for_a_subject(sentences[start]):
            # "They cannot get home": who "they" are is the subject of the sentence before (quoted
            # with it), not the rest of that sentence, which says something of its own
            anchored_here = anchored_here | match_terms(subject_of(sentences[start - 1]))
        before = match_terms(sentences[start - 1]) if start else frozenset()
        # a sentence is read after the one before it: a figure given in one sentence is often of
        # what the sentence before introduced, as a sentence is about its passage's heading
        score = sentence_score(focus, terms | anchored_here, context | before) + NOVELTY_WEIGHT * novelty(
            focus, terms
        )
        gives = bool(focus.answer_type) and has_type(sentence, focus.answer_type, models)
        if gives:
            score += TYPE_BONUS
        if focus.phrases and any(phrase in " ".join(words(sentence)) for phrase in focus.phrases):
            score += PHRASE_BONUS  # the words the question quotes, as it quotes them
        if leans_on_previous(sentence):
            score -= 0.05
        picks.append(Pick(sentence.strip(), scored, round(score, 4), terms, before=before, gives=gives))
    return picks


def _names_someone_else(sentence: str, named: frozenset[str], models: LanguageModels | None) -> bool:
    """Whether the parser finds a person in `sentence` other than the one whose words are `named`."""
    if models is None:
        return False
    return any(e.family == "person" and not match_terms(e.text) & named for e in models.entities(sentence))


def _context(passage: Passage, meta: str) -> frozenset[str]:
    return match_terms(f"{passage.heading} {meta}")


def scored_sentences(index: SourceIndex, focus: Focus, scored: ScoredPassage) -> list[Pick]:
    """Every sentence of one passage that can stand alone, scored against `focus` as `weigh` scores
    them: for modes that choose their own extractive core (a debate speech scores its side's
    passages against the motion)."""
    context = _context(scored.passage, index.meta(scored.passage))
    return _candidates(focus, scored, context, carry_on=False, models=_parser(index))


def with_closest(picks: list[Pick], candidates: list[Pick]) -> list[Pick]:
    """`picks` with the candidate closest in meaning to the question right after the lead, when that
    one is about the question (MEANING_ABOUT) and clearly closer than the lead (`CLOSER_MARGIN`): a
    question asked in other words than its source's leads with a sentence that shares its words,
    and the sentence that says what it asks may share few of them, so it is quoted next."""
    if not picks or not candidates:
        return picks
    closest = max(candidates, key=lambda p: p.meaning)
    if closest in picks or closest.meaning < max(MEANING_ABOUT, picks[0].meaning + CLOSER_MARGIN):
        return picks
    return [picks[0], closest, *picks[1:]]


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
    """The sub-questions of a compound question ("Who warns X, and who warns Y?"), or [] if simple.
    The opening of "According to Singh, what ...?" (`lead_in`) is no sub-question: it stays with
    the question it leads into."""
    parts = [p.strip(" ,;") for p in _PARTS_RE.split(question) if len(words(p)) >= MIN_PART_WORDS]
    if len(parts) > 1 and parts[0] == lead_in(question):
        parts = [f"{parts[0]}, {parts[1]}", *parts[2:]]
    return parts if len(parts) > 1 else []


def _choose_for_parts(
    question: str,
    passages: list[ScoredPassage],
    contexts: dict[str, frozenset[str]],
    models: LanguageModels | None = None,
) -> list[Pick]:
    """For a compound question, the best sentence for each part: a two-hop question is answered
    from two places, and the second part alone never outscores the first."""
    chosen: list[Pick] = []
    for part in question_parts(question):
        focus = focus_of(part)
        found = [
            pick for s in passages for pick in _candidates(focus, s, contexts[s.passage.id], models=models)
        ]
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


def source_anchors(index: SourceIndex, focus: Focus) -> dict[str, frozenset[str]]:
    """The names in the question that point at one source rather than at one passage, by source.

    "What did the writer of The Wall Dancers liken DeepSeek to?" describes the author by her book:
    "Wall Dancers" is in her source's author note only, so BM25 and sentence scoring both favour
    that note, and the passage that answers loses. A name that only one source uses, in at most
    `ANCHOR_MAX_PASSAGES` passages, identifies the source the way its title and author (the meta)
    do, so it counts as covered by every passage of that source, like the meta, and the rest of
    the question picks the passage. Only names: a rare common word ("intellectual property") names
    what a passage is about, not which source. And only a name said of the author
    (`SourceIndex.said_of_author`): the town where a compact was signed is a place in the story,
    and "the Haldor plant" must not borrow every passage of the source that names it once."""
    found: dict[str, set[str]] = {}
    for term in focus.specific:
        sources = index.sources_of.get(term, frozenset())
        if len(sources) != 1 or index.document_frequency[term] > ANCHOR_MAX_PASSAGES:
            continue
        source = next(iter(sources))
        if term in index.said_of_author.get(source, frozenset()):
            found.setdefault(source, set()).add(term)
    return {source: frozenset(terms) for source, terms in found.items()}


def _contexts(
    index: SourceIndex, focus: Focus, passages: Sequence[ScoredPassage]
) -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    """Each passage's context terms (its heading, its source's meta, the question's names that point
    at its source) and, apart, those names alone (`source_anchors`), by passage id."""
    anchors = source_anchors(index, focus)
    anchored = {s.passage.id: anchors.get(s.passage.source, frozenset()) for s in passages}
    contexts = {
        s.passage.id: _context(s.passage, index.meta(s.passage)) | anchored[s.passage.id] for s in passages
    }
    return contexts, anchored


def _thread_cover(
    context: str, passages: Sequence[ScoredPassage], contexts: dict[str, frozenset[str]]
) -> dict[str, float]:
    """How much of the previous question each passage covers, for a follow-up: "What caused it?"
    after "What is China envy?" asks about China envy's causes, so a passage on what caused
    something else must not outrank the one on China envy that says "catalysts" instead of "cause".
    Added to every sentence's score, so it orders both the passages and the extractive core."""
    if not context:
        return dict.fromkeys((s.passage.id for s in passages), 0.0)
    earlier = focus_of(context)
    return {
        s.passage.id: earlier.coverage(match_terms(s.passage.text) | contexts[s.passage.id]) for s in passages
    }


def _mostly_unknown(question: str, missing: tuple[str, ...]) -> bool:
    """Whether a long follow-up (one that points back: `retrieval.is_follow_up`) is mostly words no
    source uses ("What do those scientists think about the weather in Paris this weekend?"): the
    previous question's words, which it is weighed with, must not make a question about something
    else look covered. A short one ("Was it really such a big deal?") is read with them as asked."""
    return len(words(question)) > FOLLOW_UP_MAX_WORDS and mostly_unknown(focus_of(question), missing)


def _by_meaning(index: SourceIndex, query: str, candidates: list[Pick]) -> tuple[list[Pick], float]:
    """The candidates with their semantic similarity to the question added to their score, and the
    best similarity (0.0 without the sentence encoder, when only the words count)."""
    if index.semantic is None or not candidates:
        return candidates, 0.0
    # A pick may span several sentences; each was embedded with the index, so only the question is
    # new here, and the span counts as its closest sentence.
    spans = [sentences_of(pick.sentence) or [pick.sentence] for pick in candidates]
    flat = [sentence for span in spans for sentence in span]
    vectors = index.semantic.models.embed([query, *flat])
    each = iter(vectors[1:] @ vectors[0])
    sims = [max(float(next(each)) for _ in span) for span in spans]
    scored = [
        replace(pick, score=round(pick.score + MEANING_WEIGHT * sim, 4), meaning=round(sim, 4))
        for pick, sim in zip(candidates, sims, strict=True)
    ]
    return scored, max(pick.meaning for pick in scored)  # as rounded, so the closest pick equals it


def _typed_by_meaning(focus: Focus, candidates: list[Pick]) -> Pick | None:
    """The candidate closest in meaning that gives what the question asks for (a figure, a year, a
    name), or None when the question asks for no such thing."""
    if not focus.answer_type:
        return None
    typed = [c for c in candidates if c.gives]
    return max(typed, key=lambda c: c.meaning, default=None)


def _placing(pick: Pick, question: str, models: LanguageModels) -> Pick:
    """`pick` scored up when it names a place the question does not: the answer to "where" or "in
    which city"."""
    asked = question.lower()
    if any(place.lower() not in asked for place in models.places(pick.sentence)):
        return replace(pick, score=round(pick.score + TYPE_BONUS, 4))
    return pick


def _in_role(
    pick: Pick,
    roles: frozenset[str],
    asked: str,
    models: LanguageModels,
    acronyms: Mapping[str, frozenset[str]],
) -> Pick:
    """`pick` marked as naming whom the question asks for when it names a person in a role asked
    about (or one WordNet counts as its kin): "Who is the director of X?" is answered by "..., said
    Jane Doe, the centre's director", which shares few of the question's words, and not by the
    sentence that repeats X's full name and names someone else. The role may be given of X by the
    acronym the sources spell out for it (`acronyms`: "Jane Doe, the NCRI's director")."""
    terms = match_terms(asked)

    def asked_about(owner: str) -> bool:
        spelled = acronyms.get(owner.lower())
        return owner.lower() in asked.lower() or (spelled is not None and spelled <= terms)

    for held, people in models.roles(pick.sentence).items():
        if held not in roles and roles.isdisjoint(kin_of(held)):
            continue
        # another organisation's director answers nothing: a role given of a name the question
        # (with the conversation before it: "its chief executive") does not use is someone else's
        if any(not owner or asked_about(owner) for _, owner in people):
            return replace(pick, gives=True, in_role=True)
    return pick


def _led_by(lead: Pick, picks: list[Pick]) -> list[Pick]:
    """`picks` with `lead` first: the sentence that names the person asked for is the answer, and
    the rest of what was chosen follows it."""
    rest = [pick for pick in picks if pick.sentence != lead.sentence]
    return [lead, *rest][: max(MAX_PICKS, len(picks))]


def _parser(index: SourceIndex) -> LanguageModels | None:
    """The index's language models when they can parse."""
    models = index.models
    return models if models is not None and models.parses else None


def _counting(
    index: SourceIndex, question: str, focus: Focus, candidates: list[Pick]
) -> tuple[str | None, Pick | None]:
    """For a how-many question, what it counts (a noun's lemma, read from the parse) and the best
    candidate in which a figure counts that very thing (the figure modifies the same noun in the
    parse): such a sentence answers however few of the question's other words it repeats, since it
    leans on the sentences before it for the rest. (None, None) for any other question, or without
    the parser."""
    models = _parser(index)
    if focus.answer_type != "number" or models is None:
        return None, None
    asked = models.asked_count(question)
    if asked is None:
        return None, None
    stated = models.figure_words(question)  # "how many of the seven ...": not an answer
    found = [
        c for c in candidates if _counts(asked, models.counted(c.sentence, stated)) and _about_it(focus, c)
    ]
    return asked, max(found, key=lambda c: c.score, default=None)


def _counts(asked: str, counted: frozenset[str]) -> bool:
    """Whether a sentence's figures count the thing asked about, or a kind of thing that WordNet
    puts in the same synset or directly above or below it (language/kin.py): asked how many
    farmers, a reporter's count of growers counts them."""
    return asked in counted or bool(counted & kin_of(asked))


def _about_it(focus: Focus, pick: Pick) -> bool:
    """Whether a sentence, read with its passage's heading and earlier sentences, is about what the
    question asks a figure of: the same noun counted of something else answers nothing. A reporter
    names the event in a paragraph's first sentence and counts its people two sentences later. A
    sentence as close in meaning as MEANING_ABOUT is about it in other words: asked in a paraphrase,
    the counting sentence shares few of the question's words."""
    if pick.meaning >= MEANING_ABOUT:
        return True
    return focus.coverage(read_with(pick, before=True) | earlier_words(pick)) >= TYPED_COVERAGE


def _unshown(index: SourceIndex, question: str, candidates: list[Pick], said: str) -> list[Pick]:
    """The candidates the previous answer (`said`, as shown) did not quote, if any: a follow-up asks
    for something new, and the same quotes again tell the reader nothing. (Not for one asking for a
    name, a figure, a year or a place: "who says so?" or "where is it based?" may ask about what was
    just shown.) All stay when a quoted sentence is the closest in meaning of all to the follow-up
    itself: asked what the firm just named makes, the sentence that named it may be the one that
    says."""
    shown = " ".join(words(_MARKER_RE.sub("", said)))
    if not shown:
        return candidates
    fresh = [pick for pick in candidates if " ".join(words(pick.sentence)) not in shown]
    if not any(pick.score > 0 for pick in fresh):
        return candidates
    if len(fresh) < len(candidates) and index.semantic is not None:
        closest = max(_by_meaning(index, question, candidates)[0], key=lambda pick: pick.meaning)
        if " ".join(words(closest.sentence)) in shown:
            return candidates
    return fresh


def weigh(
    index: SourceIndex,
    question: str,
    pool: Sequence[ScoredPassage],
    context: str = "",
    said: str = "",
    person: str = "",
) -> Evidence:
    """Weigh the retrieved `pool` for `question` (see the module docstring); `context` is the
    previous question when this one is a follow-up, `said` the answer it was given, and `person`
    whom its "she" or "his" means (`referents.person_meant`), named in `question` in its place."""
    focus = focus_of(question, context).spelled_out(index.acronyms)
    vocabulary = index.vocabulary
    parser = _parser(index)
    if parser is not None:
        focus = focus.who_read(question, any(e.family == "person" for e in parser.entities(question)))
        focus = focus.measure_read(parser.asks_measure(question))
    missing = tuple(
        t for t in focus.weights if t not in vocabulary and not any(related(t, u) for u in vocabulary)
    )
    passages = list(pool)
    if focus.wants_list and pool:
        passages += _siblings(index, pool[0].passage.source, pool)
    contexts, anchored = _contexts(index, focus, passages)
    thread = _thread_cover(context, passages, contexts)
    candidates = [
        replace(pick, score=round(pick.score + THREAD_WEIGHT * thread[s.passage.id], 4))
        for s in passages
        for pick in _candidates(
            focus, s, contexts[s.passage.id], anchored[s.passage.id], models=parser, person=person
        )
    ]
    asks_where = False
    if parser is not None and parser.asks_for_place(question):
        asks_where = True
        candidates = [_placing(pick, question, parser) for pick in candidates]
    in_role: list[Pick] = []
    if parser is not None and focus.answer_type == "person" and (roles := parser.asked_roles(question)):
        conversation = f"{question} {context} {said}"
        candidates = [_in_role(pick, roles, conversation, parser, index.acronyms) for pick in candidates]
        in_role = [pick for pick in candidates if pick.in_role]
    if not focus.answer_type and not asks_where:
        candidates = _unshown(index, question, candidates, said)
    candidates, meaning = _by_meaning(index, f"{question} {context}".strip(), candidates)
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
        picks = _choose_for_parts(question, passages, contexts, parser) or with_closest(
            _choose(focus, candidates), candidates
        )
    if in_role and not question_parts(question):
        picks = _led_by(max(in_role, key=lambda pick: pick.score), picks)
    coverage = max((passage_cover[s.passage.id] for s in pool), default=0.0)
    closest = tuple(dict.fromkeys(s.passage.heading or s.passage.title for s in ranked))[:CLOSEST_TOPICS]
    rest = focus.without_names()
    rest_coverage = max(
        (rest.coverage(match_terms(s.passage.text) | contexts[s.passage.id]) for s in pool), default=0.0
    )
    compound = bool(question_parts(question))
    if compound:
        rest_coverage = 1.0  # answered from several passages: no one passage need hold it all
    asked, counting = _counting(index, question, focus, candidates)
    typed = counting or _typed_by_meaning(focus, candidates)
    kind, reason = decide(
        focus,
        coverage,
        missing,
        picks,
        subject_terms(index),
        vocabulary,
        rest_coverage,
        compound=compound,
        meaning=meaning,
        typed_meaning=typed.meaning if typed else 0.0,
        counted=counting is not None,
    )
    if kind == "answer" and typed is not None and focus.answer_type and typed not in picks:
        # the sentence that counts what is asked is the answer: it goes right after the lead
        extended = [*picks[:1], typed, *picks[1:]] if typed is counting else [*picks, typed]
        picks = extended[: max(MAX_PICKS, len(picks))]
    if kind == "answer" and counting is None and asked is not None and not compound:
        # nothing is counted that no close sentence counts, however close the rest of the question
        kind, reason = "not_covered", f"the question asks how many {asked}, and no close sentence counts them"
    if kind == "answer" and context and _mostly_unknown(question, missing):
        kind, reason = "off_topic", "most of the follow-up's own words are in no source"
    if kind != "off_topic" and (names := unknown_names(question, index.corpus.text, parser)):
        kind, reason = "not_covered", f"the sources never mention {'; '.join(names)}"
    return Evidence(focus, ranked, picks, kind, round(coverage, 3), missing, reason, closest)
