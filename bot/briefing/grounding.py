"""Helpers shared by the brief, debate and fact-check modes: prompting a small model with plain
numbered sources, cleaning what it writes, and selecting verbatim, cited sentences from passages.

Why plain sources: given "[1] Title - Heading: text", a 135M model starts its answer by copying
"Title - Heading:"; given "[1] text" it writes about the text. Passages are written to be
self-contained (they name their subject), so nothing is lost. What the model still copies (a source
label, a transcript label, a sentence cut off by the token budget) is removed before verification.

Why selection: the parts of a briefing or a judgement that must be present and correct however weak
the model is (key facts, each framing, what is uncertain, a side's strongest point) are sentences cut
verbatim from the passages, scored by the topic's words plus weighted cue phrases.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from bot.briefing.citations import MARKER_RE
from bot.briefing.models import Citation
from bot.briefing.sentences import Sentence, from_source, renumbered
from bot.briefing.topics import normalise_topic
from bot.engine.base import ChatMessage
from bot.index import ScoredPassage
from bot.promptset import PromptSet
from bot.terms import content_terms, first_word, is_question, sentences_of, split_sentences, words
from bot.words.vocabulary import Cues, vocabulary

MIN_SENTENCE_WORDS = 6
LONG_SENTENCE_WORDS = 40  # longer sentences are used only when nothing shorter fits
MIN_UNCERTAINTY = 3  # one strong cue, or three weak ones
NO_UNCERTAINTY = "The sources do not say what remains open on this topic."
# A sentence opening with a "dangling" word (prompts/lexicon/words.toml) leans on the one before it ("Third,
# whether a global pause ...", "It calls for ..."); cut out of its passage it reads as a fragment, so
# it only wins on a clear margin.
DANGLING_PENALTY = 2
# A passage tagged with the wanted framing alone states that framing; one tagged with both weighs it.
OWN_FRAMING_BONUS = 3
_SENTENCE_END = (".", "!", "?", '"', "”", "’", ")")


# --- prompting and cleaning -----------------------------------------------------------------------


def plain_sources(passages: Sequence[ScoredPassage]) -> str:
    """Numbered passage texts without titles or headings: "[1] text"."""
    return "\n\n".join(f"[{n}] {scored.passage.text}" for n, scored in enumerate(passages, start=1))


def model_messages(
    prompts: PromptSet, persona: str, template: str, passages: Sequence[ScoredPassage], **fields: str
) -> tuple[ChatMessage, ...]:
    """System persona, then the template filled with plain numbered sources as the user turn."""
    user = prompts.template(template).render(sources=plain_sources(passages), **fields)
    return (
        ChatMessage(role="system", content=prompts.persona(persona)),
        ChatMessage(role="user", content=user),
    )


def strip_labels(text: str, labels: Iterable[str]) -> str:
    """Remove copied labels ("Title - Heading:", "Race side (round 1):") wherever they appear."""
    for label in sorted({label for label in labels if label.strip()}, key=len, reverse=True):
        text = re.sub(re.escape(label) + r"\s*:?\s*", "", text, flags=re.IGNORECASE)
    return re.sub(r"^\s*\[\d+\]\s*", "", text).strip()


def passage_labels(passages: Sequence[ScoredPassage]) -> list[str]:
    """What a small model may copy from a source list: titles, headings and "Title - Heading"."""
    labels: list[str] = []
    for scored in passages:
        p = scored.passage
        labels += [p.title, f"{p.title} - {p.heading}" if p.heading else p.title]
        if p.heading and len(p.heading.split()) > 2:  # a short heading ("Overview") is also plain prose
            labels.append(p.heading + ":")
    return labels


def trim_unfinished(text: str) -> str:
    """Drop a last sentence the token budget cut off mid-way (keep it, with "…", if it is the only one)."""
    text = text.strip()
    if not text or MARKER_RE.sub("", text).rstrip().endswith(_SENTENCE_END):
        return text
    sentences = split_sentences(text)
    if len(sentences) > 1:
        return text[: text.rindex(sentences[-1])].strip()
    return text + "…"


# --- selection ------------------------------------------------------------------------------------


def cue_score(sentence: str, cues: Cues) -> int:
    """Weighted count of the cue phrases in a sentence."""
    return sum(weight * len(pattern.findall(sentence)) for pattern, weight in cues)


def candidate_sentences(text: str) -> list[str]:
    """A passage's sentences that can stand alone in a briefing (not fragments, not list stubs, not
    questions: "Can the US and China cooperate?" informs nobody)."""
    return [s for s in sentences_of(text) if len(words(s)) >= MIN_SENTENCE_WORDS and not is_question(s)] or [
        text.strip()
    ]


class Numbering:
    """Passages numbered in order of first use across a whole briefing: [n] = passages[n-1]."""

    def __init__(self, passages: Sequence[ScoredPassage] = ()) -> None:
        self.passages: list[ScoredPassage] = []
        for scored in passages:
            self.number(scored)

    def number(self, scored: ScoredPassage) -> int:
        for n, existing in enumerate(self.passages, start=1):
            if existing.passage.id == scored.passage.id:
                return n
        self.passages.append(scored)
        return len(self.passages)

    def citation(self, scored: ScoredPassage, quote: str) -> Citation:
        return Citation.of(self.number(scored), scored.passage, quote)


@dataclass(slots=True)
class Picks:
    """Selected sentences with their citations, for one briefing."""

    numbering: Numbering
    citations: dict[int, Citation] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)

    def take(self, scored: ScoredPassage, sentence: str) -> Sentence:
        citation = self.numbering.citation(scored, sentence)
        self.citations.setdefault(citation.number, citation)
        self.used.add(normalise_topic(sentence))
        return from_source(sentence, citation)

    def renumbered(
        self, groups: Sequence[Sequence[Sentence]]
    ) -> tuple[list[list[Sentence]], list[Citation], list[ScoredPassage]]:
        """`groups` of sentences with their citations renumbered 1, 2, 3... in order of first
        appearance, the citations in that order, and the passages in the new numbering (cited first,
        then the rest).

        Why: numbers are handed out while parts are picked (the generated bottom line keeps the
        prompt's numbers, the uncertain line is picked before the key facts), so the finished text
        could read [1], [2], [4]; a reader takes a gap for a missing source.
        """
        order: dict[int, int] = {}
        new_groups = [[renumbered(s, order, self.citations) for s in group] for group in groups]
        citations = [replace(self.citations[old], number=new) for old, new in order.items()]
        cited = [self.numbering.passages[old - 1] for old in order]
        rest = [p for n, p in enumerate(self.numbering.passages, start=1) if n not in order]
        return new_groups, citations, cited + rest

    def best(
        self,
        candidates: Sequence[ScoredPassage],
        about: set[str],
        *,
        cues: Cues = (),
        cue_weight: int = 1,
        min_cue: int = 0,
        cue_cap: int | None = None,
        prefer_framing: str | None = None,
    ) -> Sentence | None:
        """The best unused sentence over `candidates`, cited; None if none has `min_cue` cue weight.

        Score: content terms shared with `about`, plus `cue_weight` x the sentence's cue score, plus
        OWN_FRAMING_BONUS for a passage tagged with `prefer_framing` alone. Sentences over
        LONG_SENTENCE_WORDS only win when nothing shorter qualifies; ties go to earlier (better
        retrieved) passages, then shorter.

        `cue_cap` caps the cue score once `min_cue` is met, so the topic decides among sentences that
        all qualify: without it a sentence stacking cues ("three open questions that remain unclear or
        unknown") wins every topic while saying nothing about any of them.
        """
        choice: tuple[tuple[int, int, int, int], ScoredPassage, str] | None = None
        dangling = vocabulary().dangling
        for rank, scored in enumerate(candidates):
            own = prefer_framing is not None and scored.passage.framing == (prefer_framing,)
            bonus = OWN_FRAMING_BONUS * own
            for sentence in candidate_sentences(scored.passage.text):
                if normalise_topic(sentence) in self.used:
                    continue
                cue = cue_score(sentence, cues) if cues else 0
                if cue < min_cue:
                    continue
                if cue_cap is not None:
                    cue = min(cue, cue_cap)
                n_words = len(words(sentence))
                score = len(content_terms(sentence) & about) + cue_weight * cue + bonus
                score -= DANGLING_PENALTY * (first_word(sentence) in dangling)
                key = (int(n_words <= LONG_SENTENCE_WORDS), score, -rank, -n_words)
                if choice is None or key > choice[0]:
                    choice = (key, scored, sentence)
        return None if choice is None else self.take(choice[1], choice[2])
