"""Full-text index over the briefing passages: SQLite FTS5, ranked with BM25, through aiosqlite.

Why FTS5/BM25 rather than embeddings: the corpus is a few hundred short passages whose questions
name people, places and terms that appear in them verbatim ("Chernobyl", "DeepSeek-R1", "track-two");
BM25 finds those exactly, costs no model and no RAM, explains itself, and rebuilds in milliseconds on
a reload. Porter stemming lets "racing"/"races" meet "race".

The index lives in an in-memory SQLite database owned by one aiosqlite connection (its own thread),
so searching never blocks the event loop; each reload builds a fresh index and the old one is closed.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Collection, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite

from bot.acronyms import acronyms_of, is_acronym
from bot.errors import PromptSetError
from bot.language import LanguageModels, SemanticIndex
from bot.names import bare, is_person_like, names_in
from bot.sources import FRAMINGS, Passage, Source
from bot.terms import WORD_RE, match_terms, sentences_of, stopwords, words

MAX_K = 50
MAX_QUERY_TERMS = 64  # a pasted essay as a query must not become a thousand-term OR
VARIANT_ENDINGS = (("ent", "ence"), ("ant", "ance"))  # adjective to noun only: "intelligent" would flood
MIN_VARIANT_LENGTH = 6
WIDESPREAD_SHARE = 0.125  # a name word in more passages than this share is what the sources are about
MIN_WIDESPREAD = 2  # ...and in more than two (a small source set names each thing in few passages)
# bm25() column weights, in the table's column order (heading, text, meta). A heading is a
# moderator's one-line summary of its passage, so a hit there says more than one in the body; the
# meta column (title, author, outlet, date) is shared by every passage of a source and only breaks
# ties towards the right article ("what did Liu say about ...").
BM25_WEIGHTS = (2.0, 1.0, 0.4)
# Reciprocal-rank fusion of the BM25 and the dense ranking: a passage scores 1 / (RRF_K + rank) in
# each (the usual constant), both lists read MAX_K deep. The dense list counts half: at full weight
# its passages displaced answers that BM25 ranked right on the seed files (recall@3 and extractive
# coverage on the project's question files, measured at 1.0, 0.5 and 0.25; docs/language.md).
RRF_K = 60
DENSE_WEIGHT = 0.5

SCHEMA = """
CREATE VIRTUAL TABLE passages USING fts5(
    heading, text, meta, framing UNINDEXED,
    tokenize = 'porter unicode61 remove_diacritics 2'
)
"""


@dataclass(frozen=True, slots=True)
class ScoredPassage:
    """A passage and how well it matched (higher is better; BM25 negated, 0.0 when not searched)."""

    passage: Passage
    score: float


def adjective_noun_variant(word: str) -> str | None:
    """ "silent" -> "silence", "dominant" -> "dominance": the Porter stemmer keeps these apart
    ("silent" vs "silenc"), so a user asking why researchers are "silent" would miss the passage on
    their "culture of silence". Added to the query as one more OR term."""
    if len(word) < MIN_VARIANT_LENGTH or " " in word or "-" in word:
        return None
    for ending, other in VARIANT_ENDINGS:
        if word.endswith(ending):
            return word[: -len(ending)] + other
    return None


def fts_query(text: str) -> str:
    """An FTS5 MATCH expression for free text: its content words, each quoted, joined by OR.

    Quoting makes every user word a literal (no FTS syntax injection: `"`, `*`, `NEAR`, `-col:`
    are all inert) and turns hyphenated words into phrases ("track-two" matches "track two").
    OR rather than AND: a question rarely uses all of a passage's words; BM25 ranks passages that
    match more, and rarer, words first.
    """
    seen: dict[str, None] = {}
    for word in words(text):
        if word in stopwords() or (len(word) < 2 and not word.isdigit()):
            continue
        seen.setdefault(word.replace("'", " ").replace("-", " "), None)
        if variant := adjective_noun_variant(word):
            seen.setdefault(variant, None)
    terms = list(seen)[:MAX_QUERY_TERMS]
    return " OR ".join(f'"{t}"' for t in terms)


def _said_of_author(passages: Sequence[Passage], authors: dict[str, str]) -> dict[str, frozenset[str]]:
    """By source, the words that its text uses only in sentences naming its author ("Yi-Ling Liu,
    author of The Wall Dancers"): a rare name said of the author (her book, her employer) identifies
    the source as its byline does, while a name merely used in it (the town where a compact was
    signed) does not, nor one her views are about ("AGI", in "Yi-Ling Liu cautions that ... AGI"
    and in "Policymakers who assume China is racing toward AGI")."""
    named: dict[str, set[str]] = {}
    unnamed: dict[str, set[str]] = {}
    for passage in passages:
        names = {w for w in words(authors.get(passage.source, "")) if len(w) > 2}
        for sentence in sentences_of(passage.text):
            side = named if names & set(words(sentence)) else unnamed
            side.setdefault(passage.source, set()).update(match_terms(sentence))
    return {source: frozenset(terms - unnamed.get(source, set())) for source, terms in named.items()}


@dataclass(frozen=True, slots=True)
class Corpus:
    """Every passage of a source set, for the checks that look names up: the text, lowercased, and
    the words of the names its sentences use ("singh", "liu", "wall", "dancers"), so a claim opening
    with "Singh recommends ..." is read as naming Singh, and one opening with "Many ..." is not.
    Names come from the passages' text, not from title-case titles and headings, and a word the
    text also writes in lower case ("researchers") is no name."""

    text: str
    names: frozenset[str]
    # The words a person is named by on their own ("Singh", "Liu", "Okafor"): the last word of each
    # person-like name (names.is_person_like) and the words of a person-like byline. A sentence
    # naming one must rest on a passage that names that person (citations._check_sentence).
    people: frozenset[str] = frozenset()
    # Name words in the text of more than one passage in eight ("China", "AI", "Liu"): what the
    # sources are about, not one thing among others that a claim could name in its place.
    widespread: frozenset[str] = frozenset()

    @classmethod
    def of(cls, passages: Iterable[Passage]) -> Corpus:
        passages = list(passages)
        parts = [part for p in passages for part in (p.title, p.heading, p.text)]
        lower = {word for p in passages for word in WORD_RE.findall(p.text) if word.islower()}
        per_passage = [names_in(p.text) for p in passages]
        runs = [name for found in per_passage for name in found]
        named = {bare(token) for name in runs for token in name}
        surnames = {bare(name[-1]) for name in runs if is_person_like(name)}
        bylines = {bare(t) for p in passages if is_person_like(n := tuple(p.by.split())) for t in n}
        in_passages = Counter(t for found in per_passage for t in {bare(t) for name in found for t in name})
        most = max(MIN_WIDESPREAD, WIDESPREAD_SHARE * len(passages))
        widespread = {t for t, n in in_passages.items() if n > most}
        return cls(
            " ".join(parts).lower(),
            frozenset(named - lower),
            frozenset((surnames | bylines) - lower),
            frozenset(widespread),
        )


def embedded_text(passage: Passage) -> str:
    """What a passage's vector is made of: its heading (a moderator's summary of it) and text."""
    return f"{passage.heading}. {passage.text}" if passage.heading else passage.text


def _embedded(language: LanguageModels, sources: Sequence[Source]) -> SemanticIndex:
    """The vectors of every passage and sentence; a source whose text the encoder cannot read is
    refused as a whole set's problem would be, naming its file (the old set keeps serving)."""
    passages = [p for s in sources for p in s.passages]
    try:
        return SemanticIndex.build(
            language, [embedded_text(p) for p in passages], [sentences_of(p.text) for p in passages]
        )
    except Exception as exc:  # the tokenizer or numpy on text it cannot take: any error
        failing = next((s for s in sources if not _embeds(language, s)), None)
        where = f"sources/{failing.path.name}" if failing is not None else "sources"
        raise PromptSetError(
            [f"{where}:1: its text could not be embedded ({type(exc).__name__}: {exc})"]
        ) from exc


def _embeds(language: LanguageModels, source: Source) -> bool:
    try:
        language.embed([embedded_text(p) for p in source.passages])
    except Exception:
        return False
    return True


def fuse(lexical: Sequence[int], dense: Sequence[int]) -> list[tuple[int, float]]:
    """Reciprocal-rank fusion: (item, score), best first. An item only one list holds still counts."""
    scores: dict[int, float] = {}
    for rank, item in enumerate(lexical):
        scores[item] = scores.get(item, 0.0) + 1.0 / (RRF_K + rank + 1)
    for rank, item in enumerate(dense):
        scores[item] = scores.get(item, 0.0) + DENSE_WEIGHT / (RRF_K + rank + 1)
    return sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))


class SourceIndex:
    """Searchable passages of one prompt-set version. Build with `await SourceIndex.build(...)`."""

    def __init__(
        self,
        db: aiosqlite.Connection,
        passages: Sequence[Passage],
        meta: dict[str, str] | None = None,
        authors: dict[str, str] | None = None,
        semantic: SemanticIndex | None = None,
    ) -> None:
        self._db = db
        # Passage and sentence vectors (None when the sentence encoder is not loaded): retrieval
        # fuses them with BM25, and the answer gate and sentence choice read sentence similarity.
        self.semantic = semantic
        self.passages: tuple[Passage, ...] = tuple(passages)
        self._by_id = {p.id: p for p in self.passages}
        self._position = {p.id: i for i, p in enumerate(self.passages)}
        self._meta = dict(meta or {})
        terms_of = [match_terms(f"{p.title} {p.heading} {p.text} {self.meta(p)}") for p in self.passages]
        # How many passages use each (stemmed) word: a name or figure outside this vocabulary is not
        # in the sources, and the words most passages share are what the sources are about.
        self.document_frequency: Counter[str] = Counter(term for terms in terms_of for term in terms)
        self.vocabulary: frozenset[str] = frozenset(self.document_frequency)
        # Which sources use each word: a rare name that only one source uses points at that source
        # (a book its author wrote, an outlet), whichever of its passages answers.
        sources_of: dict[str, set[str]] = {}
        for passage, terms in zip(self.passages, terms_of, strict=True):
            for term in terms:
                sources_of.setdefault(term, set()).add(passage.source)
        self.sources_of: dict[str, frozenset[str]] = {t: frozenset(s) for t, s in sources_of.items()}
        self.said_of_author = _said_of_author(self.passages, authors or {})
        # "US" -> the terms of "United States", as the sources spell the acronyms they use.
        self.acronyms = acronyms_of(f"{p.heading}. {p.text}" for p in self.passages)
        # Every passage's text and names: the fact-check looks names up in it.
        self.corpus = Corpus.of(self.passages)

    def spelled_out(self, query: str) -> str:
        """`query`, plus the phrase of each acronym in it that the sources spell out ("US" adds
        "united states": "us" alone is a stop word)."""
        extra = [
            " ".join(sorted(self.acronyms[word.lower()]))
            for word in WORD_RE.findall(query)
            if word.lower() in self.acronyms and is_acronym(word, query)
        ]
        return " ".join([query, *extra])

    def meta(self, passage: Passage) -> str:
        """The source's title, author, outlet and date: what "who wrote..." questions ask about."""
        return self._meta.get(passage.source, "")

    @classmethod
    async def build(cls, sources: Sequence[Source], language: LanguageModels | None = None) -> SourceIndex:
        passages = [p for s in sources for p in s.passages]
        meta = {s.slug: " ".join(filter(None, (s.title, s.author, s.outlet, s.date))) for s in sources}
        semantic = None
        if language is not None and language.semantic:
            semantic = await asyncio.to_thread(_embedded, language, sources)
        db = await aiosqlite.connect(":memory:")
        try:
            await db.execute(SCHEMA)
            await db.executemany(
                "INSERT INTO passages (rowid, heading, text, meta, framing) VALUES (?, ?, ?, ?, ?)",
                [(i, p.heading, p.text, meta[p.source], " ".join(p.framing)) for i, p in enumerate(passages)],
            )
            await db.commit()
        except BaseException:
            await db.close()
            raise
        return cls(db, passages, meta, {s.slug: s.author for s in sources}, semantic)

    def get(self, passage_id: str) -> Passage | None:
        return self._by_id.get(passage_id)

    @property
    def models(self) -> LanguageModels | None:
        """The language models the index was built with (None when built on words alone)."""
        return self.semantic.models if self.semantic is not None else None

    def position(self, passage_id: str) -> int | None:
        """The passage's row in `passages` (and in `semantic`'s vectors)."""
        return self._position.get(passage_id)

    async def search(
        self,
        query: str,
        k: int = 5,
        *,
        framing: str | None = None,
        exclude: Collection[str] = (),
    ) -> list[ScoredPassage]:
        """The `k` best passages for `query`, optionally only those tagged `framing`, minus `exclude`."""
        match = fts_query(self.spelled_out(query))
        if not match or k <= 0:
            return []
        if framing is not None and framing not in FRAMINGS:
            raise ValueError(f"unknown framing {framing!r}")
        excluded = set(exclude)
        sql = (
            "SELECT rowid, bm25(passages, ?, ?, ?) AS rank FROM passages WHERE passages MATCH ?"
            + (" AND (' ' || framing || ' ') LIKE ?" if framing else "")
            + " ORDER BY rank LIMIT ?"
        )
        params: list[object] = [*BM25_WEIGHTS, match]
        if framing:
            params.append(f"% {framing} %")
        params.append((MAX_K if self.semantic is not None else min(k, MAX_K)) + len(excluded))
        async with self._db.execute(sql, params) as cursor:
            rows = await cursor.fetchall()
        lexical = [(rowid, -rank) for rowid, rank in rows]
        wanted = min(k, MAX_K)
        keep = self._filter(framing, excluded)
        if self.semantic is None:
            found = [ScoredPassage(self.passages[i], score) for i, score in lexical if keep(i)]
            return found[:wanted]
        ranked = await asyncio.to_thread(self.semantic.rank, query, len(self.passages))
        dense = [i for i, _ in ranked if keep(i)]
        fused = fuse([i for i, _ in lexical if keep(i)], dense[:MAX_K])[:wanted]
        if dense and all(i != dense[0] for i, _ in fused):
            # the passage with the sentence closest in meaning always has a place: a question in
            # other words shares few of its words, and half a dense vote alone seldom outranks BM25
            fused = [*fused[: wanted - 1], (dense[0], DENSE_WEIGHT / (RRF_K + 1))]
        return [ScoredPassage(self.passages[i], score) for i, score in fused]

    def _filter(self, framing: str | None, excluded: set[str]) -> Callable[[int], bool]:
        def keep(i: int) -> bool:
            passage = self.passages[i]
            return passage.id not in excluded and (framing is None or framing in passage.framing)

        return keep

    def closer(self) -> Callable[[], Coroutine[Any, Any, None]]:
        """Closes this index's connection without holding the index itself (for a finalizer)."""
        return self._db.close

    async def aclose(self) -> None:
        await self._db.close()
