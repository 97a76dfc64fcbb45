"""`/reload` across bot processes that share one PROMPTS_DIR (a sharded bot).

A moderator's `/reload` reaches only the process that runs the moderator's shard. So that process
leaves a note in PROMPTS_DIR - the version of the prompt set it just loaded - and every process
checks the note every PROMPTS_POLL_S seconds and reloads itself when the note changes.

Why a note and not the files themselves: moderators edit files and then reload on purpose; a process
that picked up every saved file by itself would serve half-finished edits. The note is the one file
of PROMPTS_DIR the bot writes; the prompt loader ignores it (it reads only the known folders).
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

NOTE = ".reloaded"
MAX_NOTE_BYTES = 200


class Reloadable(Protocol):
    """What the watcher needs of `BriefingService`."""

    @property
    def prompt_version(self) -> str: ...

    async def reload(self, *, actor: str) -> object: ...


def publish(root: Path, version: str) -> None:
    """Leave the note that `version` is live; written whole or not at all (rename). Never raises:
    a read-only PROMPTS_DIR costs only the other processes' reload, which is logged."""
    note = root / NOTE
    partial = root / f"{NOTE}.{os.getpid()}.tmp"
    try:
        partial.write_text(version + "\n", encoding="utf-8")
        os.replace(partial, note)
    except OSError as exc:
        log.warning("could not tell other bot processes about the reload (%s): %s", note, exc.strerror)


def published(root: Path) -> str | None:
    """The version the last `/reload` of any process loaded, or None when there is no (readable) note."""
    try:
        with (root / NOTE).open("rb") as handle:
            text = handle.read(MAX_NOTE_BYTES).decode("utf-8", errors="replace").strip()
    except OSError:
        return None
    return text or None


async def follow_reloads(service: Reloadable, root: Path, interval_s: float) -> None:
    """Run until cancelled: reload `service` whenever another process publishes a new version.

    A note already there at start describes files this process has just loaded, so only changes
    after the start count; a note naming the version already live needs no reload.
    """
    seen = await asyncio.to_thread(published, root)
    while True:
        await asyncio.sleep(interval_s)
        note = await asyncio.to_thread(published, root)
        if note is None or note == seen:
            continue
        seen = note
        if note == service.prompt_version:
            continue
        log.info("another bot process reloaded the prompt files (%s): reloading here too", note)
        try:
            await service.reload(actor=f"reload in another bot process ({note})")
        except Exception:  # the watcher must outlive one bad reload (a full disk, a locked database)
            log.exception("reloading after another process's /reload failed")
