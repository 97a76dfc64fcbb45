"""Citation verification: the model's text is checked against the passages it was given.

Why not trust the model: a 135M model cites [3] when it means [1], cites passages it was never
given and puts invented words in quotation marks. So every mode runs its output through `verify`:

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
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.briefing.models import Citation
from bot.briefing.names import names_missing, people_in
from bot.index import ScoredPassage
from bot.terms import content_terms, overlap, split_sentences

# `(?<!\s)`: a match starts where a whitespace run starts (as the leftmost match would anyway), so a
# long run without a marker is scanned once, not once per position (quadratic).
MARKER_RE = re.compile(r"(?<!\s)\s*\[(?:source\s*)?(\d{1,2}(?:\s*,\s*\d{1,2})*)\]", re.IGNORECASE)
QUOTE_RE = re.compile(r"[\"“]([^\"“”]{12,400})[\"”]")
MIN_TERMS_TO_CHECK = 3  # shorter sentences ("Yes.", "In short:") carry no checkable claim
SUPPORT_THRESHOLD = 0.5  # share of a sentence's content words that must appear in the passage
CITED_SUPPORT_THRESHOLD = 0.34  # a passage the model cited explicitly needs less evidence
QUOTE_LEAD = "In the sources' own words:"  # introduces a verbatim quote added to a thin answer or speech


@dataclass(slots=True)
class SentenceCheck:
    text: str  # the sentence without markers
    numbers: list[int]  # passage numbers (1-based) that support it, after verification
    supported: bool | None  # None: too short to check
    rendered: str = ""  # the sentence with its verified markers


@dataclass(slots=True)
class Verification:
    text: str  # every sentence, with verified markers
    citations: list[Citation]
    sentences: list[SentenceCheck] = field(default_factory=list)
    unverified_quotes: int = 0

    @property
    def kept_sentences(self) -> list[SentenceCheck]:
        """The sentences worth showing: supported ones, and too-short ones that are not stubs."""
        return [s for s in self.sentences if s.supported or (s.supported is None and not _is_stub(s.text))]

    @property
    def supported_text(self) -> str:
        """Only what could be checked: unsupported sentences removed (too-short ones kept)."""
        return " ".join(s.rendered for s in self.kept_sentences).strip()

    def add_quote(self, citation: Citation, separator: str) -> None:
        """Append `citation.quote` word for word, introduced by QUOTE_LEAD and cited, after `text`.

        The fallback when too little of what the model wrote survived checking: the reader still
        gets a real sentence of the source with its number.
        """
        quote = citation.quote if '"' in citation.quote else f'"{citation.quote}"'  # no quotes in quotes
        lead = separator if self.text else ""
        self.text = f"{self.text}{lead}{QUOTE_LEAD} {quote} [{citation.number}]"
        if all(c.number != citation.number for c in self.citations):
            self.citations = [*self.citations, citation]

    def keep_only(self, kept: Sequence[SentenceCheck]) -> None:
        """Narrow `text` and `citations` to the `kept` sentences. `sentences` (and so the unsupported
        count and the grounded ratio) still describe everything the model wrote."""
        self.text = " ".join(s.rendered for s in kept).strip()
        numbers = {n for s in kept for n in s.numbers}
        self.citations = [c for c in self.citations if c.number in numbers]

    @property
    def checked(self) -> list[SentenceCheck]:
        return [s for s in self.sentences if s.supported is not None]

    @property
    def grounded(self) -> float:
        checked = self.checked
        return 1.0 if not checked else sum(1 for s in checked if s.supported) / len(checked)

    @property
    def unsupported(self) -> list[str]:
        return [s.text for s in self.sentences if s.supported is False]


_STUB_RE = re.compile(r"(?:^|\s)(?:\d{1,2}[.)]|[-*•])$|:$")


def _is_stub(text: str) -> bool:
    """An unchecked leftover that reads as broken once its neighbours are gone: an empty line, a
    lead-in ending in ':' ("The warning signs are: 1."), a bare list number or bullet."""
    text = MARKER_RE.sub("", text).strip()
    return not text or bool(_STUB_RE.search(text)) or text.rstrip(".").isdigit()


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


def verify(
    text: str,
    passages: list[ScoredPassage],
    *,
    attribute: bool = True,
    cited_threshold: float = CITED_SUPPORT_THRESHOLD,
) -> Verification:
    """Check `text` against the numbered `passages` (number = index + 1) and rebuild its citations.

    `cited_threshold`: the share of a sentence's content words its cited passage must hold. Lenient
    by default (a conversational answer paraphrases); a part that is shown as a settled statement,
    such as a briefing's bottom line, asks for more."""
    texts = [passage_text(p) for p in passages]
    terms = [content_terms(text) for text in texts]
    checks: list[SentenceCheck] = []
    cited_text: dict[int, list[str]] = {}
    quotes_removed = 0
    for raw in split_sentences(text):
        sentence, removed = _check_quotes(raw, passages)
        quotes_removed += removed
        claimed = [int(n) for group in MARKER_RE.findall(sentence) for n in group.split(",")]
        bare = MARKER_RE.sub("", sentence).strip()
        sentence_terms = content_terms(bare)
        if len(sentence_terms) < MIN_TERMS_TO_CHECK:
            checks.append(SentenceCheck(bare, [], None, bare))
            continue
        scores = [overlap(sentence_terms, t) for t in terms]
        if people := people_in(bare):  # a person the passage does not name is invented, whatever else matches
            scores = [0.0 if names_missing(people, texts[i]) else s for i, s in enumerate(scores)]
        valid = [
            n for n in dict.fromkeys(claimed) if 1 <= n <= len(passages) and scores[n - 1] >= cited_threshold
        ]
        if not valid and attribute and scores:
            best = max(range(len(scores)), key=scores.__getitem__)
            if scores[best] >= max(SUPPORT_THRESHOLD, cited_threshold):
                valid = [best + 1]
        supported = bool(valid) and not removed
        for n in valid:
            cited_text.setdefault(n, []).append(bare)
        markers = "".join(f" [{n}]" for n in valid)
        rendered = (
            bare[:-1] + markers + bare[-1] if bare and bare[-1] in ".!?" and markers else bare + markers
        )
        checks.append(SentenceCheck(bare, valid, supported, rendered))
    citations = []
    for n in sorted(cited_text):
        p = passages[n - 1].passage
        citations.append(
            Citation(
                number=n,
                id=p.id,
                source=p.source,
                title=p.title,
                quote=best_quote(p.text, " ".join(cited_text[n])),
                framing=p.framing,
            )
        )
    return Verification(
        text=" ".join(c.rendered for c in checks).strip(),
        citations=citations,
        sentences=checks,
        unverified_quotes=quotes_removed,
    )
