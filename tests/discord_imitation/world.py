"""What the imitation knows: one guild with its roles, channels and people, the DM channels, every
message (with each version the bot sent), the synced commands, the interactions, and a log of every
request the bot made. The REST and gateway modules read and change it; tests read it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from discord_imitation import payloads
from discord_imitation.cdn import Cdn, Upload
from discord_imitation.limits import RateLimits
from discord_imitation.polls import Poll

GUILD_NAME = "Policy Lab"
INTERACTION_DEADLINE_S = 3.0  # the first response to an interaction must come within this
INTERACTION_TOKEN_TTL_S = 15 * 60.0  # follow-ups and edits through its token work this long
EPHEMERAL = 1 << 6
LOADING = 1 << 7


@dataclass
class Person:
    """A guild member (or the bot). `role_ids` are guild roles besides @everyone."""

    id: int
    name: str
    role_ids: list[int] = field(default_factory=list)
    bot: bool = False

    @property
    def payload(self) -> dict[str, Any]:
        return payloads.user(self.id, self.name, bot=self.bot)


@dataclass
class Version:
    """One body of a message: its creation or an edit, with the time it arrived."""

    at: float
    content: str
    embeds: list[dict[str, Any]]
    components: list[dict[str, Any]]
    allowed_mentions: dict[str, Any] | None
    flags: int


@dataclass
class StoredMessage:
    id: int
    channel_id: int
    guild_id: int | None
    author_id: int
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    flags: int = 0
    reference_id: int | None = None
    interaction_token: str | None = None  # set on an interaction's original response and follow-ups
    versions: list[Version] = field(default_factory=list)
    uploads: list[Upload] = field(default_factory=list)  # files the bot attached (on the CDN)
    poll: Poll | None = None  # a native poll sent with the message (it cannot be added later)

    @property
    def files(self) -> dict[str, bytes]:
        return {u.filename: u.data for u in self.uploads}

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        return bool(self.flags & LOADING)

    @property
    def edits(self) -> int:
        return max(0, len(self.versions) - 1)

    @property
    def text(self) -> str:
        """Content plus the embeds' titles, descriptions, fields and footers: what a reader sees."""
        parts = [self.content]
        for embed in self.embeds:
            parts += [embed.get("title", ""), embed.get("description", "")]
            parts += [f"{f.get('name', '')} {f.get('value', '')}" for f in embed.get("fields", [])]
            parts.append(embed.get("footer", {}).get("text", ""))
        return "\n".join(p for p in parts if p)

    def custom_ids(self) -> list[str]:
        return [
            c["custom_id"] for row in self.components for c in row.get("components", []) if "custom_id" in c
        ]

    def record(self, body: dict[str, Any]) -> None:
        """Apply a create/edit body the bot sent and keep it as a version."""
        if "content" in body:
            self.content = body["content"] or ""
        if "embeds" in body:
            self.embeds = body["embeds"] or []
        if "components" in body:
            self.components = body["components"] or []
        if "flags" in body and body["flags"] is not None:
            self.flags = int(body["flags"])
        self.versions.append(
            Version(
                at=time.monotonic(),
                content=self.content,
                embeds=list(self.embeds),
                components=list(self.components),
                allowed_mentions=body.get("allowed_mentions"),
                flags=self.flags,
            )
        )


@dataclass
class Interaction:
    id: int
    token: str
    type: int
    name: str
    user_id: int
    channel_id: int
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    original_id: int | None = None
    choices: list[dict[str, Any]] | None = None  # an autocomplete answer
    modal: dict[str, Any] | None = None  # a form the bot opened in answer (callback type 9)
    payload: dict[str, Any] = field(default_factory=dict)  # the INTERACTION_CREATE data
    created: float = field(default_factory=time.monotonic)


@dataclass
class Request:
    method: str
    path: str
    body: Any
    at: float


class World:
    """The imitated Discord's state. Snowflakes carry their creation time, as Discord's do (the bot
    tells a debate started before its restart by its id), and always increase."""

    def __init__(self) -> None:
        self._last_id = 0
        self.token = "test-token"
        self.shards = 1  # the shard count GET /gateway/bot recommends
        self.bot = Person(self.new_id(), "briefing-bot", bot=True)
        self.application_id = self.bot.id
        self.guild_id = self.new_id()
        self.moderator_role_id = self.new_id()
        self.admin_role_id = self.new_id()
        self.roles = {
            self.guild_id: payloads.role(self.guild_id, "@everyone", payloads.EVERYDAY, 0),
            self.moderator_role_id: payloads.role(self.moderator_role_id, "Moderators", payloads.EVERYDAY, 1),
            self.admin_role_id: payloads.role(self.admin_role_id, "Admins", payloads.MANAGE_GUILD, 2),
        }
        self.owner = Person(self.new_id(), "owner")
        self.people: dict[str, Person] = {
            "alice": Person(self.new_id(), "alice"),
            "bob": Person(self.new_id(), "bob"),
            "carol": Person(self.new_id(), "carol"),
            "mod": Person(self.new_id(), "mod", [self.moderator_role_id]),
            "admin": Person(self.new_id(), "admin", [self.admin_role_id]),
            "otherbot": Person(self.new_id(), "otherbot", bot=True),
        }
        self.general = self.new_id()
        self.other_channel = self.new_id()
        self.channels: dict[int, dict[str, Any]] = {
            self.general: payloads.text_channel(self.general, self.guild_id, "general", 0),
            self.other_channel: payloads.text_channel(self.other_channel, self.guild_id, "off-topic", 1),
        }
        self.threads: dict[int, dict[str, Any]] = {}
        self.dms: dict[int, int] = {}  # user id -> DM channel id
        self.messages: dict[int, StoredMessage] = {}
        self.commands: dict[str, dict[str, Any]] = {}  # name -> command as synced (global or guild)
        self.synced: list[tuple[int | None, list[dict[str, Any]]]] = []  # (guild id or None, commands)
        self.interactions: dict[str, Interaction] = {}  # token -> interaction
        self.requests: list[Request] = []
        self.typing: list[tuple[int, float]] = []  # (channel id, time)
        self.identifies: list[dict[str, Any]] = []
        self.presences: list[dict[str, Any]] = []
        self.limits = RateLimits()
        self.interaction_deadline_s = INTERACTION_DEADLINE_S
        self.token_ttl_s = INTERACTION_TOKEN_TTL_S
        self.late_interactions: list[Interaction] = []  # answered after the deadline (refused)
        self.no_access: set[int] = set()  # channels the bot may no longer see or write in
        self.disconnect_edits = 0  # the next N message edits drop the connection without an answer
        self.cdn = Cdn()  # attachments (users' uploads and the bot's files), served on loopback

    def new_id(self) -> int:
        now = (int(time.time() * 1000) - payloads.DISCORD_EPOCH_MS) << 22
        self._last_id = max(now, self._last_id + 1)
        return self._last_id

    # --- lookups ---------------------------------------------------------------------------------

    def person(self, who: str | Person) -> Person:
        return who if isinstance(who, Person) else self.people[who]

    def add_person(self, name: str) -> Person:
        """A member who joined after start-up (discord.py learns them from their messages)."""
        if name not in self.people:
            self.people[name] = Person(self.new_id(), name)
        return self.people[name]

    def person_by_id(self, user_id: int) -> Person:
        if user_id == self.bot.id:
            return self.bot
        return next(p for p in (self.owner, *self.people.values()) if p.id == user_id)

    def is_dm(self, channel_id: int) -> bool:
        return channel_id in self.dms.values()

    def shard_of(self, guild_id: int | None, shard_count: int) -> int:
        """The shard a guild's events go to (Discord's formula); DMs go to shard 0."""
        return 0 if guild_id is None else (guild_id >> 22) % shard_count

    def guild_of(self, channel_id: int) -> int | None:
        return None if self.is_dm(channel_id) else self.guild_id

    def dm_channel(self, who: str | Person) -> int:
        person = self.person(who)
        if person.id not in self.dms:
            self.dms[person.id] = self.new_id()
        return self.dms[person.id]

    def channel_payload(self, channel_id: int) -> dict[str, Any]:
        if channel_id in self.channels:
            return self.channels[channel_id]
        if channel_id in self.threads:
            return self.threads[channel_id]
        person = self.person_by_id(next(u for u, c in self.dms.items() if c == channel_id))
        return payloads.dm_channel(channel_id, person.payload)

    def permissions(self, person: Person) -> int:
        if person.id == self.owner.id:
            return (1 << 41) - 1
        bits = int(self.roles[self.guild_id]["permissions"])
        for role_id in person.role_ids:
            bits |= int(self.roles[role_id]["permissions"])
        return bits

    def message_payload(self, stored: StoredMessage) -> dict[str, Any]:
        referenced = self.messages.get(stored.reference_id) if stored.reference_id else None
        return payloads.message(
            message_id=stored.id,
            channel_id=stored.channel_id,
            guild_id=stored.guild_id,
            author=self.person_by_id(stored.author_id).payload,
            content=stored.content,
            embeds=stored.embeds,
            components=stored.components,
            flags=stored.flags,
            referenced=self.message_payload(referenced) if referenced else None,
            edited=len(stored.versions) > 1,
            webhook_id=self.application_id if stored.interaction_token else None,
            attachments=[self.cdn.payload(u) for u in stored.uploads],
            poll=stored.poll.payload(self.bot.id) if stored.poll else None,
        )

    def vote(self, message: StoredMessage, who: str | Person, *answer_ids: int) -> None:
        """A member votes on a poll (PollRefused as Discord refuses it: ended, unknown answer)."""
        if message.poll is None:
            raise ValueError("that message has no poll")
        message.poll.vote(self.person(who).id, list(answer_ids))

    def guild_payload(self) -> dict[str, Any]:
        people = [self.owner, *self.people.values()]
        members = [payloads.member(p.payload, p.role_ids) for p in people]
        members.append(payloads.member(self.bot.payload, []))
        return payloads.guild(
            self.guild_id,
            GUILD_NAME,
            owner_id=self.owner.id,
            roles=list(self.roles.values()),
            channels=list(self.channels.values()),
            threads=list(self.threads.values()),
            members=members,
        )

    # --- what the bot sent -----------------------------------------------------------------------

    def bot_messages(self, channel_id: int | None = None) -> list[StoredMessage]:
        return [
            m
            for m in self.messages.values()
            if m.author_id == self.bot.id and (channel_id is None or m.channel_id == channel_id)
        ]

    def requests_to(self, method: str, path_part: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and path_part in r.path]
