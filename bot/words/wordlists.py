"""The prompt set's two lexicon files (`prompts/lexicon/`) validated together, and installed as the
word lists the briefing reads.

How the word lists reach the code, and why this way: the code that reads them (the topic gate, the
stop words of every comparison, the fact-check's antonyms, the selectors' cues) is reached from many
plain functions that take no prompt set, so `vocabulary()` and `lexicon()` stay module-level
accessors. They return the lists the running request pinned, else the lists of the prompt set now
live: `bot.library.build_snapshot` installs a set's lists once the whole set validated, and pins
them while it indexes (the index's terms rest on its stop words); `BriefingService.context()`, where
every request takes its snapshot, pins that snapshot's lists. The pin is a `ContextVar`: it belongs
to the request's asyncio task (and to the threads `asyncio.to_thread` runs for it), so a reload that
swaps sets while a request is in flight changes nothing that request reads. The briefing cache stays
right because the lexicon files are hashed into the prompt set's version, which keys the cache.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.words import lexicon as lexicon_module
from bot.words import vocabulary as vocabulary_module
from bot.words.lexicon import FOLDER, LEXICON_FILE, WORDS_FILE, Lexicon, LexiconError, read_toml
from bot.words.vocabulary import Vocabulary

FILES = (LEXICON_FILE, WORDS_FILE)  # the words read the fact-check's number words: that file first
_TOML_LINE_RE = re.compile(r"at line (\d+)")
_NTH_KEY_RE = re.compile(r"^(?P<table>[\w.]+)\[(?P<n>\d+)\]\.(?P<leaf>\w+)$")


@dataclass(frozen=True, slots=True)
class WordLists:
    """Both lexicon files of one prompt set, parsed and validated."""

    lexicon: Lexicon
    vocabulary: Vocabulary

    def install(self) -> None:
        """Make these the word lists every `lexicon()` and `vocabulary()` call reads from now on,
        except in a request that pinned its own."""
        lexicon_module.install(self.lexicon)
        vocabulary_module.install(self.vocabulary)

    def pin(self) -> None:
        """Make these the word lists of the running request: of the current asyncio task (and of the
        threads it hands work to with `asyncio.to_thread`, which copies the context), whatever a
        reload installs meanwhile."""
        lexicon_module.pin(self.lexicon)
        vocabulary_module.pin(self.vocabulary)


def live_word_lists() -> WordLists:
    """The word lists now live (to put back if a set that installed its own fails later on)."""
    return WordLists(lexicon=lexicon_module.lexicon(), vocabulary=vocabulary_module.vocabulary())


def line_of(text: str, key: str) -> int:
    """The 1-based line of dotted `key` in a TOML text: its own table's header, else its `key =` line
    inside its table, else that table's header, else 1 (a key missing altogether)."""
    lines = text.splitlines()
    if (nth := _NTH_KEY_RE.match(key)) is not None:  # "antonyms[6].left": in the 6th [[antonyms]]
        return _line_in_nth(lines, nth["table"], int(nth["n"]), nth["leaf"])
    if (own := _header(lines, key)) is not None:
        return own + 1
    *table, leaf = key.split(".") if key else [""]
    start, end = 0, next((i for i, line in enumerate(lines) if line.lstrip().startswith("[")), len(lines))
    if table:
        header = _header(lines, ".".join(table))
        if header is None:
            return line_of(text, ".".join(table))
        start = header + 1
        end = next((i for i in range(start, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
    assignment = re.compile(rf"^\s*{re.escape(leaf)}\s*=")
    found = next((i for i in range(start, end) if assignment.match(lines[i])), start - 1 if table else -1)
    return found + 1 if found >= 0 else 1


def _line_in_nth(lines: list[str], table: str, n: int, leaf: str) -> int:
    """The line of `leaf =` in the `n`th `[[table]]` of an array of tables, else that header's line."""
    headers = [i for i, line in enumerate(lines) if line.split("#")[0].strip() == f"[[{table}]]"]
    if not headers:
        return 1
    start = headers[min(n, len(headers)) - 1]
    end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
    assignment = re.compile(rf"^\s*{re.escape(leaf)}\s*=")
    return next((i for i in range(start + 1, end) if assignment.match(lines[i])), start) + 1


def _header(lines: list[str], table: str) -> int | None:
    wanted = {f"[{table}]", f"[[{table}]]"}
    return next((i for i, line in enumerate(lines) if line.split("#")[0].strip() in wanted), None)


def missing_files(texts: Mapping[str, str], problems: Sequence[str] = ()) -> list[str]:
    """A `lexicon/<file>:1: required lexicon file is missing` problem for each lexicon file that was
    not read and has no problem of its own in `problems` already (a file that could not be read is
    not also called missing)."""
    return [
        f"{FOLDER}/{name}:1: required lexicon file is missing"
        for name in FILES
        if name not in texts and not any(p.startswith(f"{FOLDER}/{name}:") for p in problems)
    ]


def parse_word_lists(texts: Mapping[str, str]) -> tuple[WordLists | None, list[str]]:
    """Validate the lexicon files' texts (file name -> text). Returns (word lists, []) or (None,
    problems), each `lexicon/<file>:<line>: message` like every prompt-file problem."""
    if problems := missing_files(texts):
        return None, problems
    where = LEXICON_FILE
    try:
        lexicon = lexicon_module.parse(read_toml(texts[LEXICON_FILE]))
        where = WORDS_FILE
        vocabulary = vocabulary_module.parse(read_toml(texts[WORDS_FILE]))
    except LexiconError as exc:
        syntax = _TOML_LINE_RE.search(str(exc))
        line = int(syntax.group(1)) if syntax and not exc.key else line_of(texts[where], exc.key)
        return None, [f"{FOLDER}/{where}:{line}: {exc}"]
    return WordLists(lexicon=lexicon, vocabulary=vocabulary), []
