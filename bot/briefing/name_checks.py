"""Names in a claim against the passage: a name the passage lacks leaves the claim unsupported, and
one in a role the passage gives another name contradicts it.

Why a module of its own: names decide most misattributions ("Singh recommends track-two dialogue"
of Liu's passage), and which words are names, which name a person and which the sources use
everywhere are read from the corpus (`Corpus`), not from a list.
"""

from __future__ import annotations

import re

from bot.briefing.claim_terms import US_RE, terms_of, text_terms
from bot.briefing.reading import Reading
from bot.index import Corpus
from bot.names import bare, is_person_like, names_in
from bot.sources import Passage
from bot.terms import stem, words
from bot.words.lexicon import MONTH_ABBREVIATIONS, lexicon

__all__ = ["check_names"]

# a person the sources know, named where the passage names another, contradicts the claim only when
# nearly all the rest of it is said of that other person ("Tanwar wrote The Wall Dancers"), not when
# a word or two is ("Tanwar has written three books": Liu wrote one, which says nothing of Tanwar)
NAME_SWAP_COVERAGE = 0.75
MIN_NAME_SWAP_TERMS = 3  # ...and, for a name the sources never use, at least this many of its other words
SAID_OF_ANOTHER_SHARE = 0.5  # a sentence saying this much of what the claim says of a person...
MIN_PREDICATE_TERMS = 2  # ...of a claim saying at least this much of them
SUBJECT_WORDS = 4  # ...and naming another person in its opening words, as its subject ("Dr. Lena Moraes")


def check_names(r: Reading, passage: Passage, corpus: Corpus) -> bool:
    """Every name in the claim must be in the passage or its byline ("Singh says ..." of a passage
    of an author's article that does not repeat the name). A person the sources know, named where
    this passage names another person (or where its author, named in the byline, speaks), is a
    misattribution; a name the sources never use (an employer, a
    newspaper) leaves the claim unsupported, not contradicted. Returns whether all names are there."""
    lowered = f"{r.text} {passage.by} {passage.title}".lower()  # "the Chernobyl essay": its title
    source_people = [n for n in names_in(passage.text) if is_person_like(n)]
    author = bool(passage.by) and is_person_like(tuple(passage.by.split()))
    names_ok = True
    # Each naming sentence is read with the heading (the first sentence), which often holds the
    # subject: "who designed the network" under "Pillar three: joint monitoring stations".
    heading = terms_of(r.sentences[0]) if r.sentences else set()
    for name in r.names:
        tokens = [bare(t) for t in name]
        if any(token in lowered or MONTH_ABBREVIATIONS.get(token, token) in lowered for token in tokens):
            continue
        synonym = all(stem(t) in lexicon().synonyms for t in tokens)
        if synonym and terms_of(" ".join(name)) <= text_terms(r.text):
            continue  # "Washington" for a passage that says "the United States"
        names_ok = False
        known_elsewhere = re.search(r"\b" + r"\s+".join(re.escape(t) for t in tokens) + r"\b", corpus.text)
        naming = [s for s in r.sentences if any(" ".join(n) in s for n in source_people)]
        speaker = " ".join(source_people[0]) if source_people else ""
        if not naming and author:  # the author says every sentence of their own passage
            naming, speaker = r.sentences, passage.by
        others = r.claim_terms - terms_of(" ".join(name))
        about = (
            max((len((terms_of(s) | heading) & others) / len(others) for s in naming), default=0.0)
            if others
            else 0.0
        )
        if _is_person(name, corpus) and known_elsewhere and speaker and about >= NAME_SWAP_COVERAGE:
            claimed, named = " ".join(name), speaker
            r.mismatch(f"name: the claim names {claimed}, the source {named}", terms_of(claimed))
        elif not known_elsewhere and (named := _named_instead(r, corpus.widespread)):
            claimed = " ".join(name)
            r.mismatch(f"name: the claim names {claimed}, the source {named}", terms_of(claimed))
    if names_ok:
        _check_said_of_another(r, corpus)
    return names_ok


def _check_said_of_another(r: Reading, corpus: Corpus) -> None:
    """A person the passage names, credited with what it says of another: "Rafael Quint opposes the
    merger" against "Dr. Lena Moraes opposes moving births ... Quint replies that ...". The sentence
    saying most of the claim's predicate opens with another person and does not name the claimed
    one, and no sentence naming the claimed one says as much of it."""
    # a byline name opening the claim is a name too ("Morrow opposes ..."), though no sentence of
    # the sources uses it past its first word
    claimed = [name for name in names_in(r.claim, corpus.names | corpus.people) if _is_person(name, corpus)]
    if len(claimed) != 1 or len(r.predicate) < MIN_PREDICATE_TERMS:
        return
    mine = {bare(t) for t in claimed[0]}
    said = [(len(text_terms(s) & r.predicate) / len(r.predicate), s) for s in r.sentences[1:]]
    best, sentence = max(said, default=(0.0, ""))
    if best < SAID_OF_ANOTHER_SHARE:
        return
    people = [
        n for n in names_in(sentence, corpus.names) if _is_person(n, corpus) and not _is_place(n, corpus)
    ]
    if not people or any({bare(t) for t in n} & mine for n in people):
        return
    opening = {bare(w) for w in words(sentence)[:SUBJECT_WORDS]}
    if not {bare(t) for t in people[0]} & opening:
        return  # the other name is no subject of the sentence ("appeared on the site News Headline Alert")
    if any(share >= best for share, s in said if mine & {bare(w) for w in words(s)}):
        return
    other = " ".join(people[0])
    r.mismatch(
        f"name: the source says this of {other}, not {' '.join(claimed[0])}", terms_of(" ".join(claimed[0]))
    )
    r.show(sentence)


def _is_place(name: tuple[str, ...], corpus: Corpus) -> bool:
    """A name the sources use after "in", "at" or "from" ("in San Francisco"): a place, whatever its
    shape says."""
    spelled = r"\s+".join(re.escape(bare(t)) for t in name)
    return re.search(r"\b(?:in|at|from)\s+" + spelled + r"\b", corpus.text) is not None


def _is_person(name: tuple[str, ...], corpus: Corpus) -> bool:
    """A person's name: two or three capitalised words, or a word the sources name a person by."""
    return is_person_like(name) or (len(name) == 1 and bare(name[0]) in corpus.people)


def _named_instead(r: Reading, widespread: frozenset[str]) -> str:
    """The name a sentence of the passage gives where the claim gives one the sources never use,
    when that sentence says nearly all the rest of the claim: "Liu points to the release of
    Alibaba's Qwen as the Sputnik moment" against "Liu points to the release of DeepSeek-R1 ... as
    a recent Sputnik moment". A claim that says little besides the unknown name ("Liu was
    interviewed by CNN") is only not found: an attribute the sources never give."""
    skip = {bare(t) for name in r.names for t in name} | widespread
    for sentence in r.sentences[1:]:
        carried = text_terms(f"{r.sentences[0]} {sentence}") & r.predicate
        if len(carried) < MIN_NAME_SWAP_TERMS or len(carried) < NAME_SWAP_COVERAGE * len(r.predicate):
            continue
        for name in names_in(sentence):
            if not {bare(t) for t in name} & skip and not US_RE.fullmatch(" ".join(name)):
                r.show(sentence)
                return " ".join(name)
    return ""
