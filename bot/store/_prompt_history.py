"""The prompt set's history: every accepted version (content-addressed, for rollback), the audit
log of `/prompts` attempts, and the `/reload` log."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from bot.store._connection import StoreBase, guarded

MAX_AUDIT_ROWS = 10_000  # attempts kept in the /prompts audit log (accepted changes are all kept)


@dataclass(frozen=True, slots=True)
class PromptChange:
    """One accepted version of the prompt set (see m007_prompt_history)."""

    actor: str
    action: str
    detail: str
    prompt_version: str
    set_hash: str
    manifest: dict[str, str]  # "folder/name" -> sha256 of its bytes
    files: list[tuple[str, str | None, str | None]]  # (path, previous hash, new hash)
    id: int = 0
    at: float = 0.0


class PromptHistory(StoreBase):
    """The prompt_changes, prompt_blobs, prompt_audit (m007) and reloads (m004) tables."""

    @guarded
    async def add_prompt_change(self, change: PromptChange, blobs: dict[str, bytes]) -> int:
        """Record an accepted version with the contents it needs (each stored once per hash)."""
        await self._db.executemany("INSERT OR IGNORE INTO prompt_blobs VALUES (?, ?)", list(blobs.items()))
        cursor = await self._db.execute(
            "INSERT INTO prompt_changes (at, actor, action, detail, prompt_version, set_hash, manifest) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                time.time(),
                change.actor,
                change.action,
                change.detail,
                change.prompt_version,
                change.set_hash,
                json.dumps(change.manifest, sort_keys=True),
            ),
        )
        change_id = cursor.lastrowid
        await self._db.executemany(
            "INSERT INTO prompt_change_files VALUES (?, ?, ?, ?)",
            [(change_id, path, old, new) for path, old, new in change.files],
        )
        await self._db.commit()
        assert change_id is not None
        return change_id

    @guarded
    async def prompt_changes(
        self, *, path: str | None = None, ref: str | None = None, limit: int = 20
    ) -> list[PromptChange]:
        """Accepted versions, newest first: all, those that touched `path`, or the one `ref` names
        (`#12` / `12`, or a prefix of its set hash)."""
        where, args = "", []
        if path is not None:
            where = "WHERE id IN (SELECT change_id FROM prompt_change_files WHERE path = ?)"
            args.append(path)
        elif ref is not None:
            number = ref.removeprefix("#")
            where = "WHERE id = ?" if number.isdigit() else "WHERE set_hash LIKE ? || '%'"
            args.append(number if number.isdigit() else ref.lower())
        async with self._db.execute(
            "SELECT id, at, actor, action, detail, prompt_version, set_hash, manifest FROM prompt_changes "
            f"{where} ORDER BY id DESC LIMIT ?",
            (*args, limit),
        ) as cursor:
            rows = await cursor.fetchall()
        changes = []
        for r in rows:
            async with self._db.execute(
                "SELECT path, old_hash, new_hash FROM prompt_change_files WHERE change_id = ? ORDER BY path",
                (r[0],),
            ) as cursor:
                files = [(f[0], f[1], f[2]) for f in await cursor.fetchall()]
            changes.append(
                PromptChange(r[2], r[3], r[4], r[5], r[6], json.loads(r[7]), files, id=r[0], at=r[1])
            )
        return changes

    @guarded
    async def prompt_blob(self, content_hash: str) -> bytes | None:
        async with self._db.execute(
            "SELECT content FROM prompt_blobs WHERE hash = ?", (content_hash,)
        ) as cursor:
            row = await cursor.fetchone()
        return bytes(row[0]) if row else None

    @guarded
    async def prompt_file_changes(self) -> list[tuple[str, str, float, str, str]]:
        """(path, new hash, when, who, action) of every recorded file change, oldest first."""
        async with self._db.execute(
            "SELECT f.path, f.new_hash, c.at, c.actor, c.action FROM prompt_change_files f "
            "JOIN prompt_changes c ON c.id = f.change_id WHERE f.new_hash IS NOT NULL ORDER BY c.id"
        ) as cursor:
            return [(r[0], r[1], r[2], r[3], r[4]) for r in await cursor.fetchall()]

    @guarded
    async def record_prompt_attempt(
        self, *, actor: str, action: str, target: str, outcome: str, detail: str = ""
    ) -> None:
        await self._db.execute(
            "INSERT INTO prompt_audit (at, actor, action, target, outcome, detail) VALUES (?, ?, ?, ?, ?, ?)",
            (time.time(), actor, action, target, outcome, detail),
        )
        # Bounded: anyone can try /prompts, so only the newest MAX_AUDIT_ROWS attempts are kept.
        await self._db.execute(
            "DELETE FROM prompt_audit WHERE id <= (SELECT MAX(id) FROM prompt_audit) - ?", (MAX_AUDIT_ROWS,)
        )
        await self._db.commit()

    @guarded
    async def prompt_attempts(self, limit: int = 50) -> list[dict[str, Any]]:
        """The audit log of `/prompts`, newest first."""
        async with self._db.execute(
            "SELECT at, actor, action, target, outcome, detail FROM prompt_audit ORDER BY id DESC LIMIT ?",
            (limit,),
        ) as cursor:
            rows = await cursor.fetchall()
        keys = ("at", "actor", "action", "target", "outcome", "detail")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    # --- reload log ----------------------------------------------------------------------------

    @guarded
    async def record_reload(
        self, *, actor: str, ok: bool, version: str, content_hash: str, summary: dict[str, Any]
    ) -> None:
        await self._db.execute(
            "INSERT INTO reloads (actor, at, ok, version, content_hash, summary) VALUES (?, ?, ?, ?, ?, ?)",
            (actor, time.time(), int(ok), version, content_hash, json.dumps(summary)),
        )
        await self._db.commit()

    @guarded
    async def reloads(self, limit: int = 20) -> list[dict[str, Any]]:
        async with self._db.execute(
            "SELECT actor, at, ok, version, content_hash, summary FROM reloads ORDER BY id DESC LIMIT ?",
            (limit,),
        ) as cursor:
            rows = await cursor.fetchall()
        return [
            {
                "actor": r[0],
                "at": r[1],
                "ok": bool(r[2]),
                "version": r[3],
                "content_hash": r[4],
                "summary": json.loads(r[5]),
            }
            for r in rows
        ]
