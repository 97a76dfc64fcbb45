"""Citation verification: the model's text is checked against the passages it was given.

Why not trust the model: a 135M model cites [3] when it means [1], cites passages it was never
given and puts invented words in quotation marks. So every mode runs its output through `verify`:

- the text is parsed once, here, into `Sentence` objects (sentences.py): from then on nothing reads
  markers out of text, and only the renderer writes them;
- each sentence is compared with the passages (content-word overlap); a `[n]` marker survives only
  if passage n was in the prompt *and* supports the sentence; a supported sentence without a valid
  marker is attributed to its best passage;
- every citation's `quote` is a sentence cut from the passage itself, so it is verbatim by
  construction;
- text the model presents as a quotation must appear verbatim in a given passage, otherwise the
  quotation marks are removed (it is no longer presented as a quote) and the sentence is flagged;
- `grounded` = supported sentences / checked sentences; unsupported sentences are listed.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from bot.briefing.models import Citation
from bot.briefing.sentences import Check, Sentence, render_sentences
from bot.index import ScoredPassage
from bot.names import names_missing, people_in
from bot.terms import CLAUSE_RE, content_terms, overlap, split_sentences

# `(?<!\s)`: a match starts where a whitespace run starts (as the leftmost match would anyway), so a
# long run without a marker is scanned once, not once per position (quadratic).
MARKER_RE = re.compile(r"(?<!\s)\s*\[(?:source\s*)?(\d{1,2}(?:\s*,\s*\d{1,2})*)\]", re.IGNORECASE)
QUOTE_RE = re.compile(r"[\"“]([^\"“”]{12,400})[\"”]")
MIN_TERMS_TO_CHECK = 3  # shorter sentences ("Yes.", "In short:") carry no checkable claim
# Share of a sentence's content words (and of each clause's) that its passage must hold. At 0.34 for
# a cited passage, a third of the model's shown sentences held 50-60% and many of those were
# invented ("the US and China cannot collaborate on AI safety despite their desire to do so"); at
# 0.6 they are dropped and the source sentences fill in, with the same coverage on every eval file.
SUPPORT_THRESHOLD = 0.6


@dataclass(slots=True)
class Verification:
    """What `verify` found: the model's sentences as checked objects, and the citations they rest on."""

    citations: list[Citation]
    sentences: list[Sentence] = field(default_factory=list)
    unverified_quotes: int = 0

    @property
    def text(self) -> str:
        """Every sentence, rendered with its verified markers."""
        return render_sentences(self.sentences)

    @property
    def checked(self) -> list[Sentence]:
        return [s for s in self.sentences if s.supported is not None]

    @property
    def grounded(self) -> float:
        checked = self.checked
        return 1.0 if not checked else sum(1 for s in checked if s.supported) / len(checked)

    @property
    def unsupported(self) -> list[str]:
        return [s.text for s in self.sentences if s.supported is False]


def normalise_for_quote(text: str) -> str:
    """Compare quotes ignoring case, curly quotes and whitespace runs."""
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"').replace("—", "-")
    return re.sub(r"\s+", " ", text).strip().lower()


def _check_quotes(sentence: str, passages: list[ScoredPassage]) -> tuple[str, int]:
    """Unquote quotations that are not verbatim in any passage. Returns (sentence, count removed)."""
    haystacks = [normalise_for_quote(p.passage.text) for p in passages]
    removed = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal removed
        inner = normalise_for_quote(match.group(1)).strip(" .,")
        if any(inner in hay for hay in haystacks):
            return match.group(0)
        removed += 1
        return match.group(1)

    return QUOTE_RE.sub(replace, sentence), removed


def best_quote(passage_text: str, about: str) -> str:
    """The passage sentence that best matches `about` (verbatim, from the passage)."""
    target = content_terms(about)
    candidates = split_sentences(passage_text) or [passage_text.strip()]
    return max(candidates, key=lambda s: (len(content_terms(s) & target), -abs(len(s) - 160)))


def passage_text(scored: ScoredPassage) -> str:
    """What a sentence is checked against: the passage's heading and text."""
    return scored.passage.full_text


class _Checked(NamedTuple):
    """One sentence as checked, before the citations it rests on are built."""

    text: str
    numbers: list[int]  # passage numbers (1-based) that support it
    check: Check
    quotes_removed: int


@dataclass(frozen=True, slots=True)
class _Evidence:
    """The numbered passages a text is checked against, with their words counted once."""

    passages: list[ScoredPassage]
    texts: list[str]
    terms: list[set[str]]
    people: Collection[str]  # Corpus.people: words that name a person on their own

    @classmethod
    def of(cls, passages: list[ScoredPassage], people: Collection[str]) -> _Evidence:
        texts = [passage_text(p) for p in passages]
        return cls(passages, texts, [content_terms(t) for t in texts], people)

    def names(self, number: int) -> str:
        """Where passage `number` (0-based) names people: its text and its byline."""
        return f"{self.texts[number]} {self.passages[number].passage.by}"


def _check_sentence(raw: str, evidence: _Evidence, attribute: bool) -> _Checked:
    """Parse one sentence's markers (the only place they are read) and check it against the passages."""
    sentence, removed = _check_quotes(raw, evidence.passages)
    claimed = [int(n) for group in MARKER_RE.findall(sentence) for n in group.split(",")]
    bare = MARKER_RE.sub("", sentence).strip()
    sentence_terms = content_terms(bare)
    if len(sentence_terms) < MIN_TERMS_TO_CHECK:
        return _Checked(bare, [], "too_short", removed)
    scores = [overlap(sentence_terms, t) for t in evidence.terms]
    # A person the passage does not name is invented, whatever else matches: "Singh recommends
    # track-two dialogues" is not what Liu's passage says, though every other word is in it.
    if people := people_in(bare, evidence.people):
        scores = [0.0 if names_missing(people, evidence.names(i)) else s for i, s in enumerate(scores)]
    valid = [
        n for n in dict.fromkeys(claimed) if 1 <= n <= len(scores) and scores[n - 1] >= SUPPORT_THRESHOLD
    ]
    if not valid and attribute and scores:
        best = max(range(len(scores)), key=scores.__getitem__)
        if scores[best] >= SUPPORT_THRESHOLD:
            valid = [best + 1]
    valid = [n for n in valid if _every_clause_holds(bare, evidence.terms[n - 1])]
    return _Checked(bare, valid, "supported" if valid and not removed else "unsupported", removed)


def _every_clause_holds(sentence: str, passage_terms: set[str]) -> bool:
    """Each clause of the sentence ("...gives the main update: China is not a nation-state") must be
    supported on its own: a clause copied from the passage must not carry an invented one past the
    check. A clause too short to check (under MIN_TERMS_TO_CHECK words) is left to the whole."""
    clauses = [content_terms(c) for c in CLAUSE_RE.split(sentence)]
    return all(
        overlap(c, passage_terms) >= SUPPORT_THRESHOLD for c in clauses if len(c) >= MIN_TERMS_TO_CHECK
    )


def _citations(checked: Sequence[_Checked], passages: list[ScoredPassage]) -> list[Citation]:
    """One citation per supporting passage, quoting its sentence closest to what was said of it."""
    said: dict[int, list[str]] = {}
    for sentence in checked:
        for n in sentence.numbers:
            said.setdefault(n, []).append(sentence.text)
    citations = []
    for n in sorted(said):
        p = passages[n - 1].passage
        quote = best_quote(p.text, " ".join(said[n]))
        citations.append(Citation.of(n, p, quote))
    return citations


def verify(
    text: str,
    passages: list[ScoredPassage],
    *,
    attribute: bool = True,
    people: Collection[str] = frozenset(),
) -> Verification:
    """Check the model's `text` against the numbered `passages` (number = index + 1): the one place
    its `[n]` markers are parsed. Returns its sentences as `Sentence` objects citing what supports them
    (each clause holding SUPPORT_THRESHOLD of its content words in the passage). `people`
    (`Corpus.people`): words that name a person on their own, whom a supporting passage must name."""
    evidence = _Evidence.of(passages, people)
    checked = [_check_sentence(raw, evidence, attribute) for raw in split_sentences(text)]
    citations = _citations(checked, passages)
    by_number = {c.number: c for c in citations}
    return Verification(
        citations=citations,
        sentences=[Sentence(c.text, tuple(by_number[n] for n in c.numbers), c.check) for c in checked],
        unverified_quotes=sum(c.quotes_removed for c in checked),
    )
