"""Reading moderator-edited files in `PROMPTS_DIR` without following them anywhere else.

Why: what is read from `prompts/` becomes searchable (`search`, `/sources`) and goes into prompts. A
symlink `prompts/sources/notes.txt -> ../.env` would publish the bot token; a FIFO would hang a
reload (and start-up) while the reload lock is held; a huge or endless file would fill memory. So
only regular files directly inside the folder are read: the folder is listed without following
links, each file is opened with `O_NOFOLLOW | O_NONBLOCK`, checked with `fstat` to be a regular
file (on the descriptor actually opened, so a swap between check and read changes nothing), and its
size is checked before a byte is read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_OPEN_FLAGS = (
    os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
)
NOT_REGULAR = "is not a regular file (a FIFO, device or folder); only plain files are read"
SYMLINK = "is a symbolic link; only regular files inside PROMPTS_DIR are read (copy the file here instead)"


class UnsafeFileError(ValueError):
    """A file that must not be read; the message says why, in a moderator's words."""


def read_regular_file(path: Path, max_bytes: int) -> bytes:
    """The bytes of `path`, a regular file of at most `max_bytes` that is not a symlink.

    Raises UnsafeFileError (symlink, not a regular file, too big) or OSError (cannot be read).
    """
    if path.is_symlink():
        raise UnsafeFileError(SYMLINK)
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        if path.is_symlink():  # replaced by a link since the check: O_NOFOLLOW refused it (ELOOP)
            raise UnsafeFileError(SYMLINK) from None
        raise exc
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFileError(NOT_REGULAR)
        if info.st_size > max_bytes:
            raise UnsafeFileError(f"file is {info.st_size} bytes; the limit is {max_bytes}")
        data = handle.read(max_bytes + 1)  # a file growing while read is still cut at the limit
    if len(data) > max_bytes:
        raise UnsafeFileError(f"file is over {max_bytes} bytes; the limit is {max_bytes}")
    return data


def list_folder(directory: Path, suffixes: tuple[str, ...]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Files with one of `suffixes` directly in `directory`, sorted, and the entries refused (with why).

    The folder itself must not be a symlink either (it would lead outside PROMPTS_DIR). Sub-folders
    and files with other suffixes are not this function's business and are skipped silently.
    """
    if directory.is_symlink():
        return [], [(directory, SYMLINK)]
    if not directory.is_dir():
        return [], []
    files: list[Path] = []
    refused: list[tuple[Path, str]] = []
    with os.scandir(directory) as entries:
        for entry in entries:
            path = Path(entry.path)
            if path.suffix not in suffixes:
                continue
            if entry.is_symlink():
                refused.append((path, SYMLINK))
            elif entry.is_file(follow_symlinks=False):
                files.append(path)
            elif not entry.is_dir(follow_symlinks=False):
                refused.append((path, NOT_REGULAR))
    return sorted(files), sorted(refused)


__all__ = ["NOT_REGULAR", "SYMLINK", "UnsafeFileError", "list_folder", "read_regular_file"]
