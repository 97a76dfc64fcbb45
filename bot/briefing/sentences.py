"""Checked sentences, and the one place where they become text.

Every mode composes its reply from `Sentence` objects: the model's sentences as `verify`
(citations.py) checked them, sentences cut verbatim from a source, and the bot's own words (a lead,
a canned message). A sentence knows the citations it rests on; it never holds `[n]` markers or
quotation marks it did not have. Sentences are grouped in `Part`s (a paragraph, a list, a block of
quotes, with a lead such as "**Bottom line:**"), and a reply is the parts in order.

Why objects: when text was the data structure, markers were written into it, parsed again,
renumbered and stripped, four places that had to agree on a regex. Now the model's output is parsed
once (`verify`), and `render_part` below is the only code that writes `[n]`, quotation marks and
`QUOTE_LEAD`. Front ends render the parts a stream hands them with it; a result's `text` is the same
rendering of all its parts, so the text streamed is always exactly a prefix of the final text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from bot.names import bare, names_in
from bot.sources import Passage, page_label

Check = Literal["supported", "unsupported", "too_short"]
Layout = Literal["prose", "list", "quotes", "attributed"]
QUOTE_LEAD = "In the sources' own words:"  # introduces verbatim quotes added to a thin answer or speech


@dataclass(frozen=True, slots=True)
class Citation:
    """A verified citation: `quote` is a verbatim sentence of the passage `id`."""

    number: int  # the [n] used in the answer text
    id: str
    source: str
    title: str
    quote: str
    framing: tuple[str, ...] = ()
    by: str = ""  # the source's byline, named after a quote of it
    page: str = ""  # the passage's page in the original document ("4", "4-5"; "" when unknown)

    @classmethod
    def of(cls, number: int, passage: Passage, quote: str) -> Citation:
        """Citation `number` of `passage`, resting on `quote` (a sentence of it)."""
        p = passage
        return cls(number, p.id, p.source, p.title, quote, p.framing, p.by, p.page)

    @property
    def label(self) -> str:
        """The passage id as a source list shows it, with its page where the original has pages:
        `report#summary (p. 4)`, so a reader can find the passage in the PDF."""
        return f"{self.id} ({page_label(self.page)})" if self.page else self.id

    def to_json(self, *, with_framing: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "source": self.source,
            "title": self.title,
            "quote": self.quote,
        }
        if self.page:
            data["page"] = self.page
        if with_framing:
            data["framing"] = (
                "both" if len(self.framing) > 1 else (self.framing[0] if self.framing else "neutral")
            )
        return data


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence of a reply, without markers.

    `check` is the result of `verify` for a sentence the model wrote: "supported" (it rests on
    `citations`), "unsupported" or "too_short" (too few content words to carry a claim). A sentence
    cut from a source is `verbatim` and "supported" by construction. None: the bot's own words, which
    claim nothing that needs checking (a canned message, "The sources do not say ...")."""

    text: str
    citations: tuple[Citation, ...] = ()
    check: Check | None = None
    verbatim: bool = False

    @property
    def supported(self) -> bool | None:
        """True or False for a checked sentence; None when it was too short to check (or unchecked)."""
        return None if self.check in (None, "too_short") else self.check == "supported"

    @property
    def numbers(self) -> list[int]:
        return [c.number for c in self.citations]

    def to_payload(self) -> dict[str, Any]:
        """For JSON that must round-trip (the briefing cache): citations by number."""
        return {"text": self.text, "numbers": self.numbers, "check": self.check, "verbatim": self.verbatim}

    @classmethod
    def from_payload(cls, data: Mapping[str, Any], citations: Mapping[int, Citation]) -> Sentence:
        cited = tuple(citations[n] for n in data["numbers"] if n in citations)
        return cls(data["text"], cited, data["check"], bool(data["verbatim"]))


def own_words(text: str) -> Sentence:
    """The bot's own words: nothing to check, nothing cited."""
    return Sentence(text)


def from_source(text: str, citation: Citation) -> Sentence:
    """A sentence cut word for word from the passage `citation` names."""
    return Sentence(text.strip(), (citation,), "supported", verbatim=True)


def renumbered(sentence: Sentence, order: dict[int, int], citations: Mapping[int, Citation]) -> Sentence:
    """`sentence` with its citations numbered in order of first appearance: `order` (old -> new) is
    extended as new numbers appear, and carried from one sentence to the next; a citation not in
    `citations` is dropped.

    Why: numbers are handed out while a briefing's parts are picked, so the finished text could
    read [1], [2], [4]; a reader takes a gap for a missing source."""
    for number in sentence.numbers:
        if number in citations:
            order.setdefault(number, len(order) + 1)
    kept = dict.fromkeys(n for n in sentence.numbers if n in order)
    return replace(sentence, citations=tuple(replace(citations[n], number=order[n]) for n in kept))


@dataclass(frozen=True, slots=True)
class Part:
    """A piece of a reply as shown: its sentences laid out after an optional `lead`, joined to the
    part before it by `separator` ("" for a reply's first part).

    Layouts: "prose" (sentences after one another), "list" (a "- " line each), "quotes" (each in
    quotation marks: inline for one, a list for several), "attributed" (one quote after a lead that
    names its author, so without the byline after it)."""

    sentences: tuple[Sentence, ...]
    lead: str = ""
    layout: Layout = "prose"
    separator: str = ""

    def to_payload(self) -> dict[str, Any]:
        return {
            "sentences": [s.to_payload() for s in self.sentences],
            "lead": self.lead,
            "layout": self.layout,
            "separator": self.separator,
        }

    @classmethod
    def from_payload(cls, data: Mapping[str, Any], citations: Mapping[int, Citation]) -> Part:
        sentences = tuple(Sentence.from_payload(s, citations) for s in data["sentences"])
        return cls(sentences, data["lead"], data["layout"], data["separator"])


# --- rendering: the one place that writes markers and quotation marks --------------------------------


def quoted(sentence: str) -> str:
    """A source sentence in quotation marks, unless it already holds some (no quotes in quotes)."""
    sentence = sentence.strip()
    return sentence if '"' in sentence or "“" in sentence else f'"{sentence}"'


def render_sentence(sentence: Sentence, *, numbers: bool = True, in_quotes: bool = False) -> str:
    """'A fact.' cited [2] -> 'A fact [2].' (the marker before the final punctuation); in quotes,
    '"A fact." [2]'. A cited source sentence that lacks a final stop is closed with one (after its
    marker), so a picked sentence reads as a sentence; the model's sentences are shown as written."""
    text = sentence.text.strip()
    markers = _markers(sentence, numbers)
    if in_quotes:
        return quoted(text) + _byline(sentence) + markers
    if text and text[-1] in ".!?":
        return text[:-1] + markers + text[-1] if markers else text
    return text + markers + ("." if sentence.verbatim and sentence.citations and text else "")


def _markers(sentence: Sentence, numbers: bool) -> str:
    return "".join(f" [{n}]" for n in dict.fromkeys(sentence.numbers)) if numbers else ""


def attribution(sentence: Sentence) -> str:
    """Who a source sentence is from, as the lead of an answer built from it: "According to
    Ana Ruiz:", or the sources when the passage names no author or outlet. Empty when the sentence
    already names its author (by any part of the name): saying it twice reads as a stammer."""
    by = sentence.citations[0].by if sentence.citations else ""
    if by and _names_author(sentence.text, by):
        return ""
    return f"According to {by}:" if by else "According to the sources:"


def _names_author(text: str, by: str) -> bool:
    """Whether a name in `text` shares a word of three letters or more with the byline `by`."""
    parts = {bare(part) for part in by.split() if len(part) > 2}
    return any(bare(token) in parts for name in names_in(text, parts) for token in name)


def _byline(sentence: Sentence) -> str:
    """' (Ana Ruiz)' after a quote of a source that names its author or outlet: an answer that
    quotes two articles says which said what ("who warns against ...?"), before the reader looks the
    number up. Not after a quote that names its author already."""
    by = sentence.citations[0].by if sentence.verbatim and sentence.citations else ""
    return f" ({by})" if by and not _names_author(sentence.text, by) else ""


def render_sentences(sentences: Iterable[Sentence], separator: str = " ", *, numbers: bool = True) -> str:
    return separator.join(render_sentence(s, numbers=numbers) for s in sentences).strip()


def render_part(part: Part, *, numbers: bool = True, first: bool = False, quote_chars: int = 0) -> str:
    """The text of one part, with its separator unless it is `first` (what a front end shows when a
    stream hands it the part). `quote_chars`: supporting quotes longer than this are cut at a word
    with "…" (a front end that lists each quote in full elsewhere keeps them to a line); 0 keeps
    them whole."""
    in_quotes = part.layout == "quotes"
    if part.layout == "attributed":  # the lead names who says it: no byline after the quote
        items = [quoted(s.text) + _markers(s, numbers) for s in part.sentences]
    else:
        sentences = [_cut(s, quote_chars) for s in part.sentences] if in_quotes else part.sentences
        items = [render_sentence(s, numbers=numbers, in_quotes=in_quotes) for s in sentences]
    if part.layout == "list" or (in_quotes and len(items) > 1):
        body = "\n".join([*([part.lead] if part.lead else []), *(f"- {item}" for item in items)])
    elif part.lead:
        body = f"{part.lead} {' '.join(items)}"
    else:
        body = " ".join(items)
    return body if first else part.separator + body


def render(parts: Sequence[Part], *, numbers: bool = True, quote_chars: int = 0) -> str:
    """A whole reply; `numbers=False` leaves the markers out (what the model reads back as history)."""
    return "".join(
        render_part(p, numbers=numbers, first=i == 0, quote_chars=quote_chars) for i, p in enumerate(parts)
    )


def _cut(sentence: Sentence, chars: int) -> Sentence:
    """`sentence` with its text cut at a word before `chars` characters, marked "…"."""
    text = " ".join(sentence.text.split())
    if not chars or len(text) <= chars:
        return sentence
    return replace(sentence, text=text[: chars - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…")


class Shown:
    """What the reader has been shown so far, as parts; every later part extends it, nothing is taken
    back. `text` is their rendering, kept as it grows."""

    def __init__(self) -> None:
        self.parts: list[Part] = []
        self.text = ""

    def add(self, part: Part, separator: str = " ") -> Part | None:
        """Append `part` (after `separator` unless it is the first) and return it as it is to be
        streamed; None if it shows nothing."""
        if not part.sentences and not part.lead:
            return None
        part = replace(part, separator=separator if self.parts else "")
        self.parts.append(part)
        self.text += render_part(part)
        return part
