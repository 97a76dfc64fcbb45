"""Text that is shown only once it is checked.

The model's text streams in token by token. A sentence is released to the reader only when it is
complete and has passed every check, so nothing shown is ever withdrawn:

- `verify` (citations.py): it shares enough of its words with a passage it was given, names no
  person that passage does not name, and quotes nothing that is not verbatim;
- the fact-check comparison (factcheck.py): it does not contradict the passage it rests on (a
  number, a negation, an antonym, a person the passage gives differently), and every figure and
  name it gives is in that passage ("The technology is called Vettrak" is not, whatever else is);
- where the mode says what the text must be about (an answer: its question), it bears on that;
- where the mode gives the language models (`placed`), each name, date and figure it gives is in
  one of the passage sentences closest to it in meaning, not merely somewhere in the passage;
- it is not a question, and not a repeat of a sentence already shown.

`SentenceGate` does this for any mode that streams model text (answers, debate speeches, the judge,
the brief's bottom line). It hands out `Sentence` objects (sentences.py); the mode decides where
they go and the front end renders them.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Callable, Sequence

from bot.briefing.citations import verify
from bot.briefing.grounding import trim_unfinished
from bot.briefing.meaning_checks import placed
from bot.briefing.models import Citation
from bot.briefing.sentences import Sentence
from bot.briefing.verdicts import compare
from bot.index import Corpus, ScoredPassage, SourceIndex
from bot.terms import is_question, match_terms, split_sentences, words

REPEAT_OVERLAP = 0.8  # a sentence whose words are this much inside a shown one says nothing new
_OPEN_MARKER_RE = re.compile(r"\[[\d,\s]*$")


def _plain(text: str) -> str:
    """Lowercased words only, for telling whether a sentence is part of a title."""
    return " ".join(words(text))


class SentenceGate:
    """Feed it the model's text as it arrives; it returns each sentence that completes and passes,
    as a checked `Sentence` citing the passages it rests on."""

    def __init__(
        self,
        numbered: Sequence[ScoredPassage],
        corpus: Corpus,
        *,
        labels: Sequence[str] = (),
        bears_on: Callable[[frozenset[str]], bool] | None = None,
        placed: Callable[[str, Sequence[ScoredPassage]], bool] | None = None,
    ) -> None:
        self.numbered = list(numbered)
        self.placed = placed  # whether its names and figures are where its passages give them
        self.corpus = corpus
        self.labels = list(labels)
        self.bears_on = bears_on  # whether a sentence's terms are about what the mode was asked
        self.checks: list[Sentence] = []  # every sentence the model completed
        self.kept: list[Sentence] = []
        self.citations: dict[int, Citation] = {}
        self.unverified_quotes = 0
        self._buffer = ""
        self._shown_terms: list[frozenset[str]] = []
        # "I Met With China's Top AI Experts [3]." names a source and says nothing: a sentence that is
        # (part of) a title is not shown; one that says what the title says in a sentence of its own
        # ("China's top AI experts are freaking out") may be, and so may a heading's words
        self._titles = [_plain(s.passage.title) for s in self.numbered]

    @classmethod
    def reading(
        cls,
        numbered: Sequence[ScoredPassage],
        index: SourceIndex,
        *,
        labels: Sequence[str] = (),
        bears_on: Callable[[frozenset[str]], bool] | None = None,
    ) -> SentenceGate:
        """A gate over `index`'s passages that also reads meaning: a sentence's names and figures
        must be where its passages give them (`meaning_checks.placed`)."""
        return cls(
            numbered, index.corpus, labels=labels, bears_on=bears_on, placed=functools.partial(placed, index)
        )

    def feed(self, piece: str) -> list[Sentence]:
        """Add a piece of streamed text; return the sentences it completed that pass."""
        done = self._completed(piece)
        return self._check(done) if done else []

    def finish(self) -> list[Sentence]:
        """The stream ended: check what is left (a sentence cut off by the token budget is dropped)."""
        rest = self._rest()
        return self._check(rest) if rest else []

    async def afeed(self, piece: str) -> list[Sentence]:
        """`feed` for a streaming loop: the checks (a parse and an embedding per sentence, tens of
        milliseconds) run in a worker thread, so other members' replies keep streaming meanwhile."""
        done = self._completed(piece)
        return await asyncio.to_thread(self._check, done) if done else []

    async def afinish(self) -> list[Sentence]:
        """`finish`, its checks off the event loop as in `afeed`."""
        rest = self._rest()
        return await asyncio.to_thread(self._check, rest) if rest else []

    def _completed(self, piece: str) -> str:
        """Add `piece`; return the text of the sentences it completed ("" while none has)."""
        self._buffer += piece
        if _OPEN_MARKER_RE.search(self._buffer):
            return ""  # "fact. [1" : wait for the marker to close, it belongs to this sentence
        sentences = split_sentences(self._buffer)
        if len(sentences) < 2:
            return ""
        last = sentences[-1]
        done = self._buffer[: self._buffer.rindex(last)]
        self._buffer = self._buffer[len(done) :]
        return done

    def _rest(self) -> str:
        """What is left at the end of the stream, less a sentence the token budget cut off."""
        rest, self._buffer = trim_unfinished(self._buffer), ""
        return "" if rest.endswith("…") else rest

    def note_shown(self, text: str) -> None:
        """Count text shown by other means (a quote, a correction) so the model cannot repeat it."""
        self._shown_terms.append(match_terms(text))

    def _check(self, text: str) -> list[Sentence]:
        for label in self.labels:
            text = text.replace(label, " ")
        verification = verify(text, self.numbered, people=self.corpus.people)
        self.unverified_quotes += verification.unverified_quotes
        passed = []
        for check in verification.sentences:
            self.checks.append(check)
            if self._passes(check):
                passed.append(check)
                self.kept.append(check)
                self._shown_terms.append(match_terms(check.text))
        for citation in verification.citations:
            if any(citation.number in check.numbers for check in passed):
                self.citations.setdefault(citation.number, citation)
        return passed

    def _passes(self, check: Sentence) -> bool:
        if not check.supported or is_question(check.text):
            return False
        terms = match_terms(check.text)
        if any(len(terms & shown) >= REPEAT_OVERLAP * len(terms) for shown in self._shown_terms):
            return False
        if any(_plain(check.text) in title for title in self._titles):
            return False
        if self.bears_on is not None and not self.bears_on(terms):
            return False
        cited = [self.numbered[n - 1] for n in check.numbers]
        comparisons = [compare(check.text, scored, self.corpus) for scored in cited]
        if not any(c.founded for c in comparisons) or any(c.mismatches for c in comparisons):
            return False
        return self.placed is None or self.placed(check.text, cited)

    @property
    def checked(self) -> list[Sentence]:
        return [s for s in self.checks if s.supported is not None]

    @property
    def grounded(self) -> float:
        """Share of the model's checkable sentences that passed (1.0 when it wrote none)."""
        checked = self.checked
        return 1.0 if not checked else sum(1 for s in checked if s in self.kept) / len(checked)

    @property
    def unsupported(self) -> list[str]:
        return [s.text for s in self.checked if s not in self.kept]
