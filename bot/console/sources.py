"""`python -m bot sources add FILE [--name NAME] [--dry-run]`: a document becomes a source file.

The same conversion as `/prompts put` with a document (bot/documents, in a worker process), and the
same rule as every change to the prompt folder: the whole set is validated as it would be, with the
loader `/reload` uses, before anything is written, so a broken result never replaces a working
file. The original document is kept beside the source in `documents/` (as from Discord), so the
history records both once the running bot reloads.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import bot.prompt_admin.files as files
import bot.prompt_admin.names as names
from bot.documents import MAX_DOCUMENT_BYTES, convert_in_worker, suffix_of
from bot.errors import InputError
from bot.safe_files import UnsafeFileError, read_regular_file


@dataclass(frozen=True, slots=True)
class Added:
    """What `add_document` did (or, for a dry run, would do)."""

    source: str  # sources/<name>.md
    text: str  # the converted source file
    replaced: bool  # a source of that name existed


def _read(path: Path) -> bytes:
    try:
        return read_regular_file(path, MAX_DOCUMENT_BYTES)
    except UnsafeFileError as exc:
        raise InputError(f"{path}: {exc}") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the file ({exc.strerror})") from None


async def add_document(root: Path, path: Path, name: str | None, *, dry_run: bool) -> Added:
    """Convert `path` into `sources/<name>.md` under `root` (the prompts folder) and write it with
    its original, unless `dry_run`; InputError with the reason (or the set's problems) otherwise."""
    suffix = suffix_of(path.name)
    if not suffix:
        raise InputError(f"{path.name}: only .pdf, .html, .htm and .docx documents can be added.")
    stem = names.document_stem(name or path.name, suffix if name is None else "")
    if name is not None and name.endswith(".md"):
        stem = names.document_stem(name, ".md")
    rel = f"sources/{stem}.md"
    names.check_plain_name(f"{stem}.md")
    text = await convert_in_worker(await asyncio.to_thread(_read, path), path.name)
    live = await asyncio.to_thread(files.read_live, root)
    added = Added(rel, text, rel in live)
    if dry_run:
        return added
    original = f"{names.DOCUMENTS}/{stem}{suffix}"
    data = await asyncio.to_thread(_read, path)
    change: dict[str, bytes | None] = {rel: text.encode("utf-8"), original: data}
    change |= {o: None for o in live if o.startswith(f"{names.DOCUMENTS}/{stem}.") and o != original}
    prompts, problems = await asyncio.to_thread(files.validate, root, change)
    if prompts is None:
        raise InputError(
            "The prompt set would be invalid with this source, so nothing was written:\n"
            + "\n".join(problems)
        )
    await asyncio.to_thread(files.apply, root, change, live)
    return added
