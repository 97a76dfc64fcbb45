"""Which prompt file a moderator may name: a plain file name in one kind's folder.

Why so strict: the name comes from a Discord user (an option they type, or the name of a file they
attach), and it decides where the bot writes. A name is therefore never joined to a path as given:
it must be `<folder>/<name>` or a bare `<name>`, the folder one of the five kinds, the name a file
name of letters, digits, `-` and `_` with a `.md` (for sources also `.txt`; for the lexicon `.toml`)
suffix - so no folder
separators, no `..`, no hidden files, no control characters, whatever the operating system.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from types import MappingProxyType

from bot.documents import MAX_DOCUMENT_BYTES
from bot.documents import SUFFIXES as DOCUMENT_SUFFIXES
from bot.errors import InputError
from bot.promptset import MAX_PROMPT_FILE_BYTES
from bot.sources import MAX_SOURCE_BYTES, STEM_OK
from bot.words.lexicon import FOLDER as LEXICON_FOLDER

DOCUMENTS = "documents"
# folder -> (kind, allowed suffixes, size limit): the same limits the loaders apply.
FOLDERS = MappingProxyType(
    {
        "personas": ("persona", (".md",), MAX_PROMPT_FILE_BYTES),
        "templates": ("template", (".md",), MAX_PROMPT_FILE_BYTES),
        "messages": ("message", (".md",), MAX_PROMPT_FILE_BYTES),
        "framings": ("framing", (".md",), MAX_PROMPT_FILE_BYTES),
        "sources": ("source", (".md", ".txt"), MAX_SOURCE_BYTES),
        LEXICON_FOLDER: ("lexicon", (".toml",), MAX_PROMPT_FILE_BYTES),
        # The originals that sources were converted from (bot/documents): kept beside their source
        # so that history and rollback restore both; the loaders never read them.
        DOCUMENTS: ("document", DOCUMENT_SUFFIXES, MAX_DOCUMENT_BYTES),
    }
)
SUFFIXES = frozenset(suffix for _kind, suffixes, _limit in FOLDERS.values() for suffix in suffixes)
SHAPE = "a file name like `sources/my-article.md` (letters, digits, - and _; .md, .txt or .toml)"


def document_stem(filename: str, suffix: str) -> str:
    """A source name for an uploaded document: its file name without `suffix`, anything but letters,
    digits, `-` and `_` made a hyphen ('Geneva Report (2026).pdf' -> 'Geneva-Report-2026')."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", base[: len(base) - len(suffix)]).strip("-_")[:64].rstrip("-_")
    return stem or "document"


def kind_of(path: str) -> str:
    return FOLDERS[path.partition("/")[0]][0]


def size_limit(path: str) -> int:
    return FOLDERS[path.partition("/")[0]][2]


def check_plain_name(name: str) -> None:
    """Refuse anything but a plain file name; the message says which rule it broke."""
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise InputError(f"`{name!r}` contains control characters; expected {SHAPE}.")
    if "/" in name or "\\" in name:
        raise InputError(f"`{name}` is not a plain file name (no folders inside a kind's folder).")
    if ".." in name:
        raise InputError(f"`{name}`: `..` is not allowed in a file name.")
    if name.startswith("."):
        raise InputError(f"`{name}` is a hidden file name; expected {SHAPE}.")
    stem, dot, suffix = name.rpartition(".")
    if not dot or f".{suffix}" not in SUFFIXES:
        raise InputError(f"`{name}`: only {', '.join(sorted(SUFFIXES))} files are prompt files.")
    if not STEM_OK.match(stem):
        raise InputError(f"`{name}` is not {SHAPE}, at most 64 characters before the suffix.")


def resolve(spec: str, existing: Iterable[str]) -> str:
    """`folder/name` for what a moderator typed: `folder/name` as is, or a bare `name` found in
    exactly one folder of `existing` (new bare names are sources: the other kinds are fixed sets)."""
    spec = spec.strip()
    if not spec:
        raise InputError(f"Name a file: {SHAPE}.")
    if "/" in spec:
        folder, _, name = spec.partition("/")
        if folder not in FOLDERS:
            raise InputError(f"`{spec}`: the folder must be one of {', '.join(f + '/' for f in FOLDERS)}.")
    else:
        name = spec
        found = sorted(p for p in existing if p.partition("/")[2] == name)
        if len(found) > 1:
            raise InputError(f"`{name}` is in several folders; say which: {', '.join(found)}.")
        folder = found[0].partition("/")[0] if found else "sources"
    check_plain_name(name)
    if not name.endswith(FOLDERS[folder][1]):
        raise InputError(f"`{folder}/{name}`: files in {folder}/ end in {' or '.join(FOLDERS[folder][1])}.")
    return f"{folder}/{name}"
