"""`PromptAdmin`: moderators change prompt files through a front end, with `/reload`'s safety.

Every change (upload, delete, rollback) goes the same way: build the change, validate the whole
prompt set as it would be (`files.validate`), show the moderator a diff and what changes in the
index (a `Proposal`), and only when the same moderator confirms, write it atomically and reload
through the service's validate-then-swap. If the files on disk moved since the preview, nothing is
written. Every accepted version of the whole set is recorded, content-addressed
(`Store.add_prompt_change`), so any earlier version can be restored through the same path, and every
attempt - refused ones included - is in the audit log (`Store.record_prompt_attempt`).

Who may do this is decided by the front end (`Actor.moderator`, e.g. a Discord role), but refused
here, so that the refusal is audited like everything else.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import bot.prompt_admin.files as files
import bot.prompt_admin.names as names
from bot.documents import convert_in_worker, suffix_of
from bot.errors import InputError
from bot.prompt_admin.fetch import fetch_capped
from bot.safe_files import list_folder
from bot.store import PromptChange

if TYPE_CHECKING:
    from bot.library import ReloadReport
    from bot.sources import Source
    from bot.store import Store

NOT_IN_SERVER = "/prompts works only in a server, where I can check that you are a moderator."
NOT_A_MODERATOR = (
    "Only moderators can manage the prompt files (a moderator role or the Manage Server permission)."
)
NOT_YOURS = "Not yours: only the moderator who asked for this change can confirm or cancel it."
GONE = (
    "This preview is no longer pending (confirmed, cancelled, older than 15 minutes, or I restarted); "
    "nothing was changed. Run the command again."
)
STALE = (
    "The prompt files changed since this preview, so nothing was written. "
    "Run the command again to see the diff against the files as they are now."
)
PROPOSAL_TTL_S = 15 * 60.0
MAX_PROPOSALS = 50
DIFF_LINES = 30
MAX_DIFF_LINE_CHARS = 160
HOST = "host (files edited outside Discord)"
INSTALLED = "as installed"  # in the first version the bot recorded, and never changed since
MAX_CONVERSIONS = 2


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asks: an id the audit log can trace (`discord:123`), a readable name, and what the front
    end established (moderator rights, in a server rather than a DM)."""

    id: str
    name: str
    moderator: bool
    in_server: bool

    @property
    def label(self) -> str:
        return f"{self.id} ({self.name})"


@dataclass(frozen=True, slots=True)
class FileInfo:
    path: str
    kind: str
    size: int
    hash: str
    changed_at: float
    changed_by: str
    outside: bool = False  # its content was last changed outside Discord (on the host)


@dataclass(slots=True)
class Proposal:
    """A validated change waiting for its owner's confirmation."""

    key: int
    owner: str  # Actor.id
    action: str  # put, delete, rollback
    target: str
    change: dict[str, bytes | None]
    base: str  # set hash of the files the preview was made against
    diff: list[str]
    omitted: int
    passages: files.PassageChanges
    created: float
    converted: tuple[str, bytes] | None = None  # a document upload: (source file name, its text)

    def preview(self, limit: int = 2000) -> str:
        """What the moderator reviews before pressing Confirm, in at most `limit` characters: the
        index summary and the instructions always, as much of the diff as fits."""
        verb = {"put": "Upload", "delete": "Delete", "rollback": "Roll back to"}[self.action]
        converted = f" (converted; `{self.converted[0]}` is attached)" if self.converted else ""
        head = f"**{verb} {self.target}**{converted}: the whole prompt set validates with this change.\n"
        head += "```diff\n"
        index = self.passages.summary()[:600]
        tail = f"\n```\n{index}\nConfirm writes it and reloads; nothing changes until then."
        budget = limit - len(head) - len(tail) - 40  # room for the "more lines" note
        shown: list[str] = []
        used = 0
        for line in self.diff:
            line = line[:MAX_DIFF_LINE_CHARS].replace("```", "`\u200b``")  # a file cannot close the block
            used += len(line) + 1
            if used > budget:
                break
            shown.append(line)
        left = len(self.diff) - len(shown) + self.omitted
        more = f"\n... {left} more diff lines" if left else ""
        return head + "\n".join(shown) + more + tail


class PromptAdmin:
    """Prompt-file management over `root` (PROMPTS_DIR). `reload(actor)` is the service's
    validate-then-swap; `live_sources()` the sources of the live set (for the index summary)."""

    def __init__(
        self,
        root: Path,
        store: Store,
        reload: Callable[[str], Awaitable[ReloadReport]],
        live_sources: Callable[[], Sequence[Source]],
        *,
        fetch_timeout_s: float = 10.0,
    ) -> None:
        self.root = root
        self.store = store
        self._reload = reload
        self._live_sources = live_sources
        self.fetch_timeout_s = fetch_timeout_s
        self._pending: dict[int, Proposal] = {}
        self._lock = asyncio.Lock()  # one write-and-reload at a time
        # Conversions at once (each a worker process of up to 1 GiB): more uploads wait their turn.
        self._converting = asyncio.Semaphore(MAX_CONVERSIONS)

    # --- permissions and the audit log ---------------------------------------------------------

    async def _audit(self, actor: Actor, action: str, target: str, outcome: str, detail: str = "") -> None:
        await self.store.record_prompt_attempt(
            actor=actor.label, action=action, target=target, outcome=outcome, detail=detail
        )

    async def _refuse(self, actor: Actor, action: str, target: str, message: str) -> NoReturn:
        await self._audit(actor, action, target, "refused", message)
        raise InputError(message)

    async def _gate(self, actor: Actor, action: str, target: str) -> None:
        if not actor.in_server:
            await self._refuse(actor, action, target, NOT_IN_SERVER)
        if not actor.moderator:
            await self._refuse(actor, action, target, NOT_A_MODERATOR)

    async def _resolve(self, actor: Actor, action: str, spec: str, live: Mapping[str, bytes]) -> str:
        try:
            return names.resolve(spec, live.keys())
        except InputError as exc:
            await self._refuse(actor, action, spec, exc.user_message)

    # --- reading --------------------------------------------------------------------------------

    def file_names(self) -> list[str]:
        """Every prompt file as `folder/name` (a folder listing only: cheap enough to autocomplete)."""
        found = []
        for folder, (_kind, suffixes, _limit) in names.FOLDERS.items():
            paths, _refused = list_folder(self.root / folder, suffixes)
            found += [f"{folder}/{p.name}" for p in paths]
        return found

    async def list_files(self, actor: Actor) -> list[FileInfo]:
        """Every prompt file with its kind, size, content hash and last recorded change."""
        await self._gate(actor, "list", "")
        live = await asyncio.to_thread(files.read_live, self.root)
        last = await self._last_changes()
        found = []
        for rel, data in sorted(live.items()):
            content_hash = files.digest(data)
            at, by = last.get((rel, content_hash)) or (self._mtime(rel), HOST)
            info = FileInfo(rel, names.kind_of(rel), len(data), content_hash, at, by, outside=by == HOST)
            found.append(info)
        await self._audit(actor, "list", "", "shown", f"{len(found)} files")
        return found

    async def _last_changes(self) -> dict[tuple[str, str], tuple[float, str]]:
        """(path, hash) -> (when, who) of the newest recorded change that gave the file that content.
        A file as the first recorded version had it was installed, not edited: only a later change
        on the host (found at start-up, or reloaded) counts as HOST."""
        changes = await self.store.prompt_file_changes()
        first_at = changes[0][2] if changes else None
        last: dict[tuple[str, str], tuple[float, str]] = {}
        for path, new, at, actor, action in changes:
            if at == first_at:
                last[(path, new)] = (self._mtime(path), INSTALLED)
            elif action == "baseline":  # found on the host: its own time is the best "when" there is
                last[(path, new)] = (self._mtime(path), HOST)
            elif action == "reload":
                last[(path, new)] = (at, HOST)
            else:
                last[(path, new)] = (at, f"{actor}, {action}")
        return last

    def _mtime(self, rel: str) -> float:
        try:
            return (self.root / rel).lstat().st_mtime
        except OSError:
            return 0.0

    async def file(self, actor: Actor, spec: str) -> tuple[str, bytes]:
        """One file's bytes, to download and edit."""
        await self._gate(actor, "get", spec)
        live = await asyncio.to_thread(files.read_live, self.root)
        rel = await self._resolve(actor, "get", spec, live)
        if rel not in live:
            await self._refuse(actor, "get", rel, f"There is no prompt file `{rel}` (see /prompts list).")
        await self._audit(actor, "get", rel, "shown", files.digest(live[rel]))
        return rel, live[rel]

    async def history(self, actor: Actor, spec: str | None, limit: int = 15) -> list[PromptChange]:
        """Accepted versions, newest first (those that touched one file, if `spec` names one)."""
        await self._gate(actor, "history", spec or "")
        rel = None
        if spec:
            rel = await self._resolve(actor, "history", spec, dict.fromkeys(self.file_names(), b""))
        await self._audit(actor, "history", rel or "", "shown")
        return await self.store.prompt_changes(path=rel, limit=limit)

    # --- proposing changes -----------------------------------------------------------------------

    async def propose_upload(
        self, actor: Actor, spec: str | None, filename: str, *, url: str, size: int
    ) -> Proposal:
        """An uploaded file (at `url`, `size` bytes claimed) as the new `spec` (default: its name)."""
        await self._gate(actor, "put", spec or filename)
        live = await asyncio.to_thread(files.read_live, self.root)
        if suffix_of(filename) and not (spec or "").startswith(f"{names.DOCUMENTS}/"):
            return await self._propose_document(actor, spec, filename, url=url, size=size, live=live)
        rel = await self._resolve(actor, "put", spec or filename, live)
        limit = names.size_limit(rel)
        too_big = f"`{filename}` is {size} bytes; the limit for {rel} is {limit}."
        data = await self._fetch(actor, rel, filename, url=url, size=size, limit=limit, too_big=too_big)
        if (problem := files.text_problem(rel, data)) is not None:
            await self._refuse(actor, "put", rel, f"Upload refused; nothing was changed:\n{problem}")
        return await self._propose(actor, "put", rel, {rel: data}, live)

    async def _fetch(
        self, actor: Actor, rel: str, filename: str, *, url: str, size: int, limit: int, too_big: str
    ) -> bytes:
        """The upload's bytes; refused (and audited as a refused put of `rel`) when the size Discord
        reports is over `limit`, before any fetch, or when the fetch itself passes it or fails."""
        if size > limit:
            await self._refuse(actor, "put", rel, too_big)
        try:
            return await fetch_capped(
                url, max_bytes=limit, timeout_s=self.fetch_timeout_s, what=f"`{filename}`"
            )
        except InputError as exc:
            await self._refuse(actor, "put", rel, exc.user_message)

    async def _propose_document(
        self, actor: Actor, spec: str | None, filename: str, *, url: str, size: int, live: dict[str, bytes]
    ) -> Proposal:
        """An uploaded PDF, web page or Word file: converted (in a worker process) into the source
        `spec` (default: named after the file), previewed together with the original, which goes
        into `documents/` so that the history holds both and a rollback restores both."""
        suffix = suffix_of(filename)
        stem = names.document_stem(filename, suffix)
        rel = await self._resolve(actor, "put", spec or f"{stem}.md", live)
        if names.kind_of(rel) != "source" or not rel.endswith(".md"):
            await self._refuse(
                actor, "put", rel, f"A document becomes a source: name it like `sources/{stem}.md`."
            )
        stem = rel.partition("/")[2][: -len(".md")]
        limit = names.size_limit(f"{names.DOCUMENTS}/x{suffix}")
        too_big = f"`{filename}` is {size} bytes; documents may be at most {limit}."
        data = await self._fetch(actor, rel, filename, url=url, size=size, limit=limit, too_big=too_big)
        try:
            async with self._converting:
                source = (await convert_in_worker(data, filename)).encode("utf-8")
        except InputError as exc:
            await self._refuse(actor, "put", rel, f"Upload refused; nothing was changed: {exc.user_message}")
        original = f"{names.DOCUMENTS}/{stem}{suffix}"
        change: dict[str, bytes | None] = {rel: source, original: data}
        for other in live:  # the same source's original in another format is replaced, not kept
            if other.startswith(f"{names.DOCUMENTS}/{stem}.") and other != original:
                change[other] = None
        proposal = await self._propose(actor, "put", rel, change, live)
        proposal.converted = (rel.partition("/")[2], source)
        return proposal

    async def propose_delete(self, actor: Actor, spec: str) -> Proposal:
        await self._gate(actor, "delete", spec)
        live = await asyncio.to_thread(files.read_live, self.root)
        rel = await self._resolve(actor, "delete", spec, live)
        if rel not in live:
            await self._refuse(actor, "delete", rel, f"There is no prompt file `{rel}` (see /prompts list).")
        if (kind := names.kind_of(rel)) not in ("source", "document"):
            needed = (
                f"`{rel}` is a {kind} the bot needs; it cannot be deleted (upload a new version instead)."
            )
            await self._refuse(actor, "delete", rel, needed)
        change: dict[str, bytes | None] = {rel: None}
        if kind == "source":  # the document it was converted from goes with it
            stem = rel.partition("/")[2].rpartition(".")[0]
            change |= {other: None for other in live if other.startswith(f"{names.DOCUMENTS}/{stem}.")}
        return await self._propose(actor, "delete", rel, change, live)

    async def propose_rollback(self, actor: Actor, ref: str) -> Proposal:
        """Restore the whole prompt set of an earlier version (`#12`, `12` or a set-hash prefix)."""
        await self._gate(actor, "rollback", ref)
        found = await self.store.prompt_changes(ref=ref.strip(), limit=50) if ref.strip() else []
        if len({c.set_hash for c in found}) != 1:
            why = "matches several versions; give more of it" if found else "is not a recorded version"
            await self._refuse(actor, "rollback", ref, f"`{ref}` {why} (see /prompts history).")
        target = found[0]
        live = await asyncio.to_thread(files.read_live, self.root)
        change: dict[str, bytes | None] = {rel: None for rel in live if rel not in target.manifest}
        for rel, content_hash in target.manifest.items():
            if rel not in live or files.digest(live[rel]) != content_hash:
                if (data := await self.store.prompt_blob(content_hash)) is None:
                    await self._refuse(
                        actor, "rollback", ref, f"The content of {rel} in #{target.id} is missing."
                    )
                change[rel] = data
        return await self._propose(actor, "rollback", f"#{target.id} ({target.set_hash})", change, live)

    async def _propose(
        self, actor: Actor, action: str, target: str, change: dict[str, bytes | None], live: dict[str, bytes]
    ) -> Proposal:
        change = {rel: data for rel, data in change.items() if live.get(rel) != data}
        if not change:
            await self._refuse(actor, action, target, f"Nothing to change: {target} is already like that.")
        prompts, problems = await asyncio.to_thread(files.validate, self.root, change)
        if prompts is None:
            text = "Refused: the prompt set would be invalid, so nothing was changed:\n" + "\n".join(problems)
            await self._refuse(actor, action, target, text)
        diff: list[str] = []
        omitted = 0
        for rel in sorted(change):
            lines, more = files.diff(rel, live.get(rel), change[rel], DIFF_LINES - len(diff))
            diff += lines
            omitted += more
        proposal = Proposal(
            key=secrets.randbits(48),
            owner=actor.id,
            action=action,
            target=target,
            change=change,
            base=files.set_hash({rel: files.digest(data) for rel, data in live.items()}),
            diff=diff,
            omitted=omitted,
            passages=files.passage_changes(self._live_sources(), prompts.sources),
            created=time.monotonic(),
        )
        self._keep(proposal)
        await self._audit(actor, action, target, "previewed", ", ".join(sorted(change)))
        return proposal

    def _keep(self, proposal: Proposal) -> None:
        """Hold at most MAX_PROPOSALS previews, none older than PROPOSAL_TTL_S."""
        now = time.monotonic()
        for key, old in list(self._pending.items()):
            if now - old.created > PROPOSAL_TTL_S:
                del self._pending[key]
        while len(self._pending) >= MAX_PROPOSALS:
            del self._pending[next(iter(self._pending))]
        self._pending[proposal.key] = proposal

    def owner_of(self, key: int) -> str | None:
        """Who may confirm or cancel preview `key` (None: no such preview pending)."""
        proposal = self._pending.get(key)
        if proposal is None or time.monotonic() - proposal.created > PROPOSAL_TTL_S:
            return None
        return proposal.owner

    # --- confirming -------------------------------------------------------------------------------

    async def _take(self, actor: Actor, key: int, action: str) -> Proposal:
        owner = self.owner_of(key)
        if owner is None:
            await self._refuse(actor, action, f"preview {key}", GONE)
        if owner != actor.id:
            await self._refuse(actor, action, f"preview {key}", NOT_YOURS)
        return self._pending.pop(key)

    async def cancel(self, actor: Actor, key: int) -> Proposal:
        proposal = await self._take(actor, key, "cancel")
        await self._audit(actor, proposal.action, proposal.target, "cancelled")
        return proposal

    async def confirm(self, actor: Actor, key: int) -> ReloadReport:
        """Write the previewed change and reload; on any failure the folder is as it was."""
        proposal = await self._take(actor, key, "confirm")
        async with self._lock:
            live = await asyncio.to_thread(files.read_live, self.root)
            if files.set_hash({rel: files.digest(data) for rel, data in live.items()}) != proposal.base:
                await self._refuse(actor, proposal.action, proposal.target, STALE)
            await self._record(HOST, "baseline", "files as found", "", live)
            await asyncio.to_thread(files.apply, self.root, proposal.change, live)
            report = await self._reload(actor.label)
            if not report.ok:
                await asyncio.to_thread(files.apply, self.root, files.undo_of(proposal.change, live), live)
                await self._audit(
                    actor, proposal.action, proposal.target, "failed", "\n".join(report.problems)
                )
                raise InputError(report.summary() + "\nThe files were put back as they were.")
            after = {rel: data for rel, data in {**live, **proposal.change}.items() if data is not None}
            detail = f"{proposal.action} {proposal.target}"
            await self._record(actor.label, proposal.action, detail, report.version, after)
            await self._audit(actor, proposal.action, proposal.target, "accepted", report.version)
        return report

    async def record_start(self, prompt_version: str) -> None:
        """At start-up: record the files as found if they differ from the newest recorded version,
        so a host edit and `/reload` made before any change from Discord can still be rolled back
        to the files the bot started with."""
        async with self._lock:
            live = await asyncio.to_thread(files.read_live, self.root)
            await self._record(HOST, "baseline", "files as found", prompt_version, live)

    async def record_reload(self, actor_label: str, prompt_version: str) -> None:
        """After a successful `/reload`: record the set if host edits changed it since the last record."""
        async with self._lock:
            live = await asyncio.to_thread(files.read_live, self.root)
            await self._record(
                actor_label, "reload", "files edited on the host, reloaded", prompt_version, live
            )

    async def _record(
        self, actor: str, action: str, detail: str, version: str, now: dict[str, bytes]
    ) -> None:
        """Add a version unless the newest recorded one has the same contents."""
        manifest = {rel: files.digest(data) for rel, data in now.items()}
        set_hash = files.set_hash(manifest)
        newest = await self.store.prompt_changes(limit=1)
        if newest and newest[0].set_hash == set_hash:
            return
        before = newest[0].manifest if newest else {}
        changed = sorted(
            rel for rel in before.keys() | manifest.keys() if before.get(rel) != manifest.get(rel)
        )
        rows = [(rel, before.get(rel), manifest.get(rel)) for rel in changed]
        blobs = {manifest[rel]: now[rel] for rel in changed if rel in manifest}
        change = PromptChange(actor, action, detail, version, set_hash, manifest, rows)
        await self.store.add_prompt_change(change, blobs)
