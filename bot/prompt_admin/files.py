"""The prompt folder as files: what is live on disk, a candidate set staged beside it, the diff a
moderator reviews, what changes in the index, and the atomic write that makes a change real.

A change is a mapping `folder/name -> bytes` (write) or `-> None` (delete). It is validated by
copying the live folder into a temporary one, applying the change there and loading that copy with
the same `load_prompt_set` that `/reload` uses, so a moderator sees the very `file:line: message`
problems `/reload` would report, and the live folder is untouched until they confirm.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import os
import shutil
import stat
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.prompt_admin.names import DOCUMENTS, FOLDERS
from bot.promptset import PromptSet, load_prompt_set
from bot.safe_files import UnsafeFileError, list_folder, read_regular_file
from bot.sources import Source

Change = Mapping[str, bytes | None]
DIFF_CONTEXT = 1


def digest(data: bytes) -> str:
    """The content address of a file's bytes (history keys, `/prompts list`)."""
    return hashlib.sha256(data).hexdigest()


def set_hash(hashes: Mapping[str, str]) -> str:
    """The content address of a whole prompt set: its file names and their contents' hashes."""
    joined = "".join(f"{path}\0{hashes[path]}\n" for path in sorted(hashes))
    return hashlib.sha256(joined.encode()).hexdigest()[:12]


def read_live(root: Path) -> dict[str, bytes]:
    """Every prompt file the loaders would read, as bytes. Entries that cannot be read safely
    (links, FIFOs, oversized files) are left out: validation reports them as problems."""
    files: dict[str, bytes] = {}
    for folder, (_kind, suffixes, limit) in FOLDERS.items():
        paths, _refused = list_folder(root / folder, suffixes)
        for path in paths:
            with contextlib.suppress(OSError, UnsafeFileError):
                files[f"{folder}/{path.name}"] = read_regular_file(path, limit)
    return files


def _skip_special(folder: str, names: list[str]) -> set[str]:
    """copytree's filter: FIFOs and devices are not copied (copying a FIFO would block)."""
    skipped = set()
    for name in names:
        mode = os.lstat(os.path.join(folder, name)).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)):
            skipped.add(name)
    return skipped


def stage(root: Path, staging: Path, change: Change) -> None:
    """Copy the kind folders of `root` into `staging` (links stay links, never followed), then
    apply `change` there."""
    for folder in FOLDERS:
        source, target = root / folder, staging / folder
        if source.is_symlink():
            os.symlink(os.readlink(source), target)
        elif source.is_dir():
            shutil.copytree(source, target, symlinks=True, ignore=_skip_special)
    for rel, data in change.items():
        path = staging / rel
        path.unlink(missing_ok=True)
        if data is not None:
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(data)


def validate(root: Path, change: Change) -> tuple[PromptSet | None, list[str]]:
    """The prompt set as it would be with `change` applied, or its `file:line: message` problems."""
    with tempfile.TemporaryDirectory(prefix="prompts-candidate-") as tmp:
        stage(root, Path(tmp), change)
        return load_prompt_set(Path(tmp))


def text_problem(rel: str, data: bytes) -> str | None:
    """Why `data` is not a text file a moderator can upload (binary, not UTF-8), or None."""
    if b"\x00" in data:
        return f"{rel}:1: binary file (contains NUL bytes); upload UTF-8 text (.md, .txt or .toml)"
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return f"{rel}:{line}: not valid UTF-8 text"
    return None


def diff(rel: str, old: bytes | None, new: bytes | None, max_lines: int) -> tuple[list[str], int]:
    """A unified diff of one file (at most `max_lines` lines) and how many lines were left out. An
    original document (PDF, Word) is binary: one line says what happens to it instead."""
    if rel.startswith(f"{DOCUMENTS}/"):
        what = "removed" if new is None else "added" if old is None else "replaced"
        size = f", {len(new)} bytes" if new is not None else ""
        return [f"# {rel}: original document {what}{size} (kept in the history, not shown)"][:max_lines], 0
    before = old.decode("utf-8-sig", errors="replace").splitlines() if old is not None else []
    after = new.decode("utf-8-sig", errors="replace").splitlines() if new is not None else []
    lines = list(
        difflib.unified_diff(
            before,
            after,
            fromfile=f"a/{rel}" if old is not None else "/dev/null",
            tofile=f"b/{rel}" if new is not None else "/dev/null",
            n=DIFF_CONTEXT,
            lineterm="",
        )
    )
    return lines[:max_lines], max(0, len(lines) - max_lines)


@dataclass(frozen=True, slots=True)
class PassageChanges:
    """What a change does to the index: passage ids added, changed (text, heading or framing) and
    removed."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def summary(self, max_ids: int = 8) -> str:
        def shown(ids: list[str]) -> str:
            more = f" (+{len(ids) - max_ids} more)" if len(ids) > max_ids else ""
            return ", ".join(ids[:max_ids]) + more

        parts = [
            f"{label} {len(ids)}: {shown(ids)}" if ids else f"{label} 0"
            for label, ids in (("added", self.added), ("changed", self.changed), ("removed", self.removed))
        ]
        return "Index: passages " + "; ".join(parts)


def passage_changes(old: Sequence[Source], new: Sequence[Source]) -> PassageChanges:
    def by_id(sources: Sequence[Source]) -> dict[str, tuple[str, str, tuple[str, ...], str]]:
        return {p.id: (p.heading, p.text, p.framing, p.page) for s in sources for p in s.passages}

    before, after = by_id(old), by_id(new)
    return PassageChanges(
        added=sorted(after.keys() - before.keys()),
        changed=sorted(k for k in after.keys() & before.keys() if after[k] != before[k]),
        removed=sorted(before.keys() - after.keys()),
    )


def write_atomically(root: Path, rel: str, data: bytes | None) -> None:
    """Replace (or delete) one file so a reader sees the old bytes or the new, never half of them:
    written to a temporary file in the same folder, flushed to disk, then renamed over the target.
    A link at the target is replaced, never followed."""
    folder = root / rel.partition("/")[0]
    if folder.is_symlink():
        raise OSError(f"{folder} is a symbolic link; the bot writes only inside PROMPTS_DIR")
    target = folder / rel.partition("/")[2]
    if data is None:
        target.unlink(missing_ok=True)
    else:
        folder.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-", suffix=".tmp")  # ignored by the loaders
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a crash
    finally:
        os.close(dir_fd)


def apply(root: Path, change: Change, live: Mapping[str, bytes]) -> None:
    """Write every file of `change` into `root`. If one write fails, the files already written get
    their bytes from `live` (the folder before) back, and the failure is raised."""
    written: list[str] = []
    try:
        for rel, data in change.items():
            write_atomically(root, rel, data)
            written.append(rel)
    except BaseException:
        for rel in written:
            write_atomically(root, rel, live.get(rel))
        raise


def undo_of(change: Change, live: Mapping[str, bytes]) -> dict[str, bytes | None]:
    """The change that puts back what `change` replaces (`live` holds the files before)."""
    return {rel: live.get(rel) for rel in change}
