"""Naming each person in full the first time a reply mentions them.

Why: a briefing is put together from sentences of several passages, so its first sentence about a
person is often one that, in its source, came after the person was introduced: a bare surname, or
"she" or "his" alone. Out of that context the reader does not know who is meant. The first mention
of a person in the reply therefore becomes the full name the sources give, and a pronoun in a
sentence that names nobody becomes the one person its cited passage names (the parser says which
words are such pronouns). Later mentions are left as written.

A sentence cut from a source keeps its words: what is added goes in square brackets, as an editor
marks an insertion in a quote ("[Ana] Ruiz said ...", "... was [Ruiz's] plan"). A sentence the
model wrote is changed in place.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from bot.briefing.sentences import Sentence
from bot.language import LanguageModels
from bot.names import bare, is_person_like, people_in
from bot.sources import Passage


def full_names(passages: Iterable[Passage]) -> dict[str, str]:
    """Surname (lowercased) -> the one full name the sources give it, from bylines and text.
    A surname two different people share is left out: it cannot be expanded safely."""
    found: dict[str, set[str]] = {}
    for passage in passages:
        names = [name for name in people_in(passage.text) if is_person_like(name)]
        byline = tuple(passage.by.split())
        if is_person_like(byline):
            names.append(byline)
        for name in names:
            found.setdefault(bare(name[-1]), set()).add(" ".join(name).removesuffix("'s"))
    return {surname: next(iter(full)) for surname, full in found.items() if len(full) == 1}


@dataclass(slots=True)
class Introductions:
    """Who a reply has named so far; `introduce` each sentence in reading order."""

    full: dict[str, str]  # from `full_names`
    passages: dict[str, Passage]  # by id: the passages the reply's sentences may cite
    models: LanguageModels | None = None
    named: set[str] = field(default_factory=set)  # full names already given

    def introduce(self, sentence: Sentence) -> Sentence:
        """`sentence` with its first mention of each person not yet named given in full."""
        text = sentence.text
        people = people_in(text, self.full.keys())
        if not people:
            text = self._pronoun_named(sentence)
            people = people_in(text, self.full.keys())
        for name in people:
            full = self.full.get(bare(name[-1]))
            if full is None:
                continue
            if len(name) == 1 and full not in self.named:
                surname = name[0].removesuffix("'s")
                given = full.removesuffix(surname).strip()
                said = f"[{given}] {surname}" if sentence.verbatim else full
                found = re.search(rf"\b{re.escape(surname)}\b", text)
                if found is not None:
                    text = text[: found.start()] + said + text[found.end() :]
            self.named.add(full)
        return sentence if text == sentence.text else replace(sentence, text=text)

    def _pronoun_named(self, sentence: Sentence) -> str:
        """The text with its first "she", "his" (...) replaced by the one person the cited passages
        name (their byline when their text names nobody); unchanged when that is not one person."""
        text = sentence.text
        if self.models is None or not self.models.parses:
            return text
        found = self.models.person_pronoun(text)
        if found is None:
            return text
        people: set[str] = set()
        for citation in sentence.citations:
            passage = self.passages.get(citation.id)
            text_of = passage.text if passage is not None else ""
            named = [self.full.get(bare(n[-1]), " ".join(n)) for n in people_in(text_of, self.full.keys())]
            people |= set(named)
            if passage is not None and not named and passage.by in self.full.values():
                people.add(passage.by)
        if len(people) != 1:
            return text
        person = people.pop()
        if person not in self.full.values():
            return text  # a name whose surname is ambiguous: not said in full with confidence
        start, end, possessive = found
        said = person if person not in self.named else person.split()[-1]
        if possessive:
            said += "'s"
        if sentence.verbatim:
            said = f"[{said}]"
        return text[:start] + said + text[end:]


__all__ = ["Introductions", "full_names"]
