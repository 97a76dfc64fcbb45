"""The REST API under `/api/v10`: the routes discord.py calls for login, command sync, messages,
typing, threads, DMs and interaction responses (callback with `with_response`, webhook edits and
follow-ups). Every request is recorded in `World.requests` before it is answered.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from discord_imitation import payloads
from discord_imitation.polls import Poll, PollRefused
from discord_imitation.world import EPHEMERAL, LOADING, Interaction, Request, StoredMessage, World

API = "/api/v10"
# Interaction callback types (https://discord.com/developers/docs/interactions/receiving-and-responding).
CHANNEL_MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE, AUTOCOMPLETE, MODAL = 4, 5, 6, 7, 8, 9

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_reply(data: Any, status: int = 200) -> web.Response:
    """Exactly `application/json`: discord.py treats `...; charset=utf-8` as plain text."""
    return web.Response(
        body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"}
    )


def error(status: int, message: str, code: int = 0) -> web.Response:
    return json_reply({"message": message, "code": code}, status)


MAX_UPLOAD_BYTES = 25 * 1024 * 1024  # Discord's attachment size limit without boosts


async def read_files(request: web.Request) -> dict[str, bytes]:
    """The files of a multipart body (`files[n]` parts), by file name."""
    if not request.content_type.startswith("multipart/"):
        return {}
    found: dict[str, bytes] = {}
    for part in (await request.post()).values():
        if isinstance(part, web.FileField):
            part.file.seek(0)
            found[part.filename] = part.file.read()
    return found


async def read_body(request: web.Request) -> Any:
    """JSON bodies, or the `payload_json` part of a multipart body (messages with files; their bytes
    are read by `read_files`)."""
    if not request.body_exists:
        return None
    if request.content_type.startswith("multipart/"):
        form = await request.post()
        return json.loads(str(form.get("payload_json", "{}")))
    raw = await request.read()  # cached by aiohttp: safe to call again
    return json.loads(raw) if raw else None


class RestApi:
    """Route handlers over a `World`. `dispatch` sends gateway events (THREAD_CREATE)."""

    def __init__(
        self,
        world: World,
        gateway_url: Callable[[], str],
        dispatch: Callable[[str, dict[str, Any]], Awaitable[None]],
        on_change: Callable[[], None],
    ) -> None:
        self.world = world
        self._gateway_url = gateway_url
        self._dispatch = dispatch
        self._on_change = on_change

    def routes(self) -> list[web.RouteDef]:
        r = web
        return [
            r.get(f"{API}/users/@me", self.me),
            r.get(f"{API}/oauth2/applications/@me", self.application),
            r.get(f"{API}/gateway", self.gateway),
            r.get(f"{API}/gateway/bot", self.gateway_bot),
            r.put(f"{API}/applications/{{app}}/commands", self.sync_commands),
            r.put(f"{API}/applications/{{app}}/guilds/{{guild}}/commands", self.sync_commands),
            r.post(f"{API}/users/@me/channels", self.open_dm),
            r.post(f"{API}/channels/{{channel}}/messages", self.create_message),
            r.get(f"{API}/channels/{{channel}}/messages/{{message}}", self.get_message),
            r.patch(f"{API}/channels/{{channel}}/messages/{{message}}", self.edit_message),
            r.delete(f"{API}/channels/{{channel}}/messages/{{message}}", self.delete_message),
            r.post(f"{API}/channels/{{channel}}/typing", self.typing),
            r.post(f"{API}/channels/{{channel}}/polls/{{message}}/expire", self.end_poll),
            r.get(f"{API}/channels/{{channel}}/polls/{{message}}/answers/{{answer}}", self.poll_voters),
            r.post(f"{API}/channels/{{channel}}/threads", self.create_thread),
            r.post(f"{API}/channels/{{channel}}/messages/{{message}}/threads", self.create_thread),
            r.post(f"{API}/interactions/{{id}}/{{token}}/callback", self.interaction_callback),
            r.post(f"{API}/webhooks/{{app}}/{{token}}", self.followup),
            r.get(f"{API}/webhooks/{{app}}/{{token}}/messages/{{message}}", self.webhook_get),
            r.patch(f"{API}/webhooks/{{app}}/{{token}}/messages/{{message}}", self.webhook_edit),
            r.delete(f"{API}/webhooks/{{app}}/{{token}}/messages/{{message}}", self.webhook_delete),
        ]

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Record the request; refuse a wrong bot token (webhook and callback routes use their own);
        apply the rate limits (a 429 instead of the handler, headers on the answer)."""
        body = await read_body(request)  # aiohttp keeps the bytes: handlers read it again
        self.world.requests.append(Request(request.method, request.path, body, time.monotonic()))
        if not request.path.startswith(API):  # the CDN: no token, no API rate limits
            return await handler(request)
        if sum(map(len, (await read_files(request)).values())) > MAX_UPLOAD_BYTES:
            return error(413, "Request entity too large", 40005)
        open_route = "/webhooks/" in request.path or "/interactions/" in request.path
        authorized = request.headers.get("Authorization") == f"Bot {self.world.token}"
        if request.path.startswith(API) and not open_route and not authorized:
            return error(401, "401: Unauthorized")
        template = request.match_info.route.resource.canonical if request.match_info.route.resource else ""
        verdict = self.world.limits.check(
            request.method, template.removeprefix(API), request.path, dict(request.match_info)
        )
        try:
            if verdict.retry_after is not None:
                return web.Response(
                    body=json.dumps(verdict.body()).encode(),
                    status=429,
                    headers={"Content-Type": "application/json", **verdict.refusal_headers()},
                )
            if request.method == "PATCH" and self.world.disconnect_edits > 0:
                self.world.disconnect_edits -= 1  # the client sees ServerDisconnectedError
                if request.transport is not None:
                    request.transport.close()
                return web.Response(status=500)
            if (refused := self._forbidden(request)) is not None:
                refused.headers.update(verdict.headers)
                return refused
            response = await handler(request)
            response.headers.update(verdict.headers)
            return response
        finally:
            self._on_change()

    def _forbidden(self, request: web.Request) -> web.Response | None:
        """403 in a channel the bot lost access to; 401 for an expired interaction token."""
        channel = request.match_info.get("channel")
        if channel is not None and int(channel) in self.world.no_access:
            return error(403, "Missing Access", 50001)
        token = request.match_info.get("token")
        interaction = self._interaction(token) if token else None
        expired = interaction is not None and time.monotonic() - interaction.created > self.world.token_ttl_s
        if expired and "/webhooks/" in request.path:
            return error(401, "Invalid Webhook Token", 50027)
        return None

    # --- login and sync ----------------------------------------------------------------------------

    async def me(self, request: web.Request) -> web.Response:
        return json_reply(self.world.bot.payload)

    async def application(self, request: web.Request) -> web.Response:
        return json_reply(payloads.application(self.world.application_id, self.world.owner.payload))

    async def gateway(self, request: web.Request) -> web.Response:
        return json_reply({"url": self._gateway_url()})

    async def gateway_bot(self, request: web.Request) -> web.Response:
        """Where a sharded bot connects, how many shards Discord recommends, how many sessions it
        may still start (discord.py's AutoShardedClient asks this before connecting)."""
        limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
        shards = self.world.shards
        return json_reply({"url": self._gateway_url(), "shards": shards, "session_start_limit": limit})

    async def sync_commands(self, request: web.Request) -> web.Response:
        guild = request.match_info.get("guild")
        synced = []
        for command in (await read_body(request)) or []:
            stored = {
                **command,
                "id": str(self.world.new_id()),
                "application_id": str(self.world.application_id),
            }
            stored.setdefault("type", 1)
            stored.setdefault("version", "1")
            stored.setdefault("default_member_permissions", None)
            stored.setdefault("options", [])
            if guild:
                stored["guild_id"] = guild
            self.world.commands[stored["name"]] = stored
            synced.append(stored)
        self.world.synced.append((int(guild) if guild else None, synced))
        return json_reply(synced)

    # --- messages --------------------------------------------------------------------------------

    def store_bot_message(
        self,
        channel_id: int,
        body: dict[str, Any],
        *,
        token: str | None = None,
        files: dict[str, bytes] | None = None,
    ) -> StoredMessage:
        reference = (body.get("message_reference") or {}).get("message_id")
        stored = StoredMessage(
            id=self.world.new_id(),
            channel_id=channel_id,
            guild_id=self.world.guild_of(channel_id),
            author_id=self.world.bot.id,
            reference_id=int(reference) if reference else None,
            interaction_token=token,
        )
        for filename, data in (files or {}).items():
            stored.uploads.append(self.world.cdn.new(self.world.new_id(), channel_id, filename, data))
        stored.record(body)
        self.world.messages[stored.id] = stored
        return stored

    def _known_channel(self, channel_id: int) -> bool:
        w = self.world
        return channel_id in w.channels or channel_id in w.threads or w.is_dm(channel_id)

    async def create_message(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel"])
        if not self._known_channel(channel_id):
            return error(404, "Unknown Channel", 10003)
        body = (await read_body(request)) or {}
        if len(body.get("content") or "") > 2000:
            return error(400, "Invalid Form Body: content: Must be 2000 or fewer in length.", 50035)
        reference = (body.get("message_reference") or {}).get("message_id")
        if reference and int(reference) not in self.world.messages:  # replying to a deleted message
            return error(400, "Invalid Form Body: message_reference: Unknown message", 50035)
        try:
            poll = Poll.create(body["poll"]) if body.get("poll") else None
        except PollRefused as refused:
            return error(refused.status, refused.message, refused.code)
        stored = self.store_bot_message(channel_id, body, files=await read_files(request))
        stored.poll = poll
        return json_reply(self.world.message_payload(stored))

    def _message(self, request: web.Request) -> StoredMessage | None:
        stored = self.world.messages.get(int(request.match_info["message"]))
        return stored if stored and stored.channel_id == int(request.match_info["channel"]) else None

    async def get_message(self, request: web.Request) -> web.Response:
        stored = self._message(request)
        return (
            json_reply(self.world.message_payload(stored)) if stored else error(404, "Unknown Message", 10008)
        )

    async def edit_message(self, request: web.Request) -> web.Response:
        stored = self._message(request)
        if stored is None:
            return error(404, "Unknown Message", 10008)
        if stored.author_id != self.world.bot.id:
            return error(403, "Cannot edit a message authored by another user", 50005)
        body = (await read_body(request)) or {}
        if len(body.get("content") or "") > 2000:
            return error(400, "Invalid Form Body: content: Must be 2000 or fewer in length.", 50035)
        if body.get("poll"):
            return error(400, "Cannot edit a poll", 520003)
        stored.record(body)
        return json_reply(self.world.message_payload(stored))

    async def end_poll(self, request: web.Request) -> web.Response:
        """End a poll early: its author only, once (Discord's "expire")."""
        stored = self._message(request)
        if stored is None:
            return error(404, "Unknown Message", 10008)
        if stored.poll is None:
            return error(400, "Cannot expire a non-poll message", 520006)
        if stored.author_id != self.world.bot.id:
            return error(403, "Missing Permissions", 50013)
        try:
            stored.poll.end()
        except PollRefused as refused:
            return error(refused.status, refused.message, refused.code)
        return json_reply(self.world.message_payload(stored))

    async def poll_voters(self, request: web.Request) -> web.Response:
        stored = self._message(request)
        if stored is None or stored.poll is None:
            return error(404, "Unknown Message", 10008)
        answer = int(request.match_info["answer"])
        voters = [
            self.world.person_by_id(u).payload for u, chosen in stored.poll.votes.items() if answer in chosen
        ]
        return json_reply({"users": voters})

    async def delete_message(self, request: web.Request) -> web.Response:
        stored = self._message(request)
        if stored is not None:
            del self.world.messages[stored.id]
        return web.Response(status=204)

    async def typing(self, request: web.Request) -> web.Response:
        self.world.typing.append((int(request.match_info["channel"]), time.monotonic()))
        return web.Response(status=204)

    async def create_thread(self, request: web.Request) -> web.Response:
        parent = int(request.match_info["channel"])
        if parent not in self.world.channels:
            return error(400, "Cannot create a thread here", 50024)
        body = (await read_body(request)) or {}
        thread_id = (
            int(request.match_info["message"]) if "message" in request.match_info else self.world.new_id()
        )
        data = payloads.thread(
            thread_id, self.world.guild_id, parent, self.world.bot.id, body.get("name", "thread")
        )
        data["member"] = {
            "id": str(thread_id),
            "user_id": str(self.world.bot.id),
            "join_timestamp": payloads.now_iso(),
            "flags": 0,
        }
        self.world.threads[thread_id] = data
        await self._dispatch("THREAD_CREATE", {**data, "newly_created": True})
        return json_reply(data)

    async def open_dm(self, request: web.Request) -> web.Response:
        person = self.world.person_by_id(int(((await read_body(request)) or {})["recipient_id"]))
        channel_id = self.world.dm_channel(person)
        return json_reply(payloads.dm_channel(channel_id, person.payload))

    # --- interactions ------------------------------------------------------------------------------

    def _interaction(self, token: str) -> Interaction | None:
        return self.world.interactions.get(token)

    async def interaction_callback(self, request: web.Request) -> web.Response:
        interaction = self._interaction(request.match_info["token"])
        if interaction is None or str(interaction.id) != request.match_info["id"]:
            return error(404, "Unknown interaction", 10062)
        if interaction.callbacks:
            return error(400, "Interaction has already been acknowledged.", 40060)
        if time.monotonic() - interaction.created > self.world.interaction_deadline_s:
            self.world.late_interactions.append(interaction)  # Discord has shown "did not respond"
            return error(404, "Unknown interaction", 10062)
        body = (await read_body(request)) or {}
        interaction.callbacks.append(body)
        kind, data = body.get("type"), body.get("data") or {}
        resource: dict[str, Any] = {"type": kind}
        if kind == AUTOCOMPLETE:
            interaction.choices = data.get("choices", [])
        elif kind == MODAL:
            interaction.modal = data
        elif kind in (CHANNEL_MESSAGE, DEFERRED_MESSAGE):
            flags = int(data.get("flags") or 0) | (LOADING if kind == DEFERRED_MESSAGE else 0)
            stored = self.store_bot_message(
                interaction.channel_id,
                {**data, "flags": flags},
                token=interaction.token,
                files=await read_files(request),
            )
            interaction.original_id = stored.id
            resource["message"] = self.world.message_payload(stored)
        elif kind == UPDATE_MESSAGE and interaction.original_id:
            stored = self.world.messages[interaction.original_id]
            stored.record(data)
            resource["message"] = self.world.message_payload(stored)
        reply: dict[str, Any] = {
            "interaction": {
                "id": str(interaction.id),
                "type": interaction.type,
                "response_message_id": str(interaction.original_id) if interaction.original_id else None,
                "response_message_loading": kind == DEFERRED_MESSAGE,
                "response_message_ephemeral": bool(int(data.get("flags") or 0) & EPHEMERAL),
            },
            "resource": resource,
        }
        if request.query.get("with_response") in ("1", "true", "True"):
            return json_reply(reply)
        return web.Response(status=204)

    def _webhook_message(self, request: web.Request) -> StoredMessage | None:
        interaction = self._interaction(request.match_info["token"])
        if interaction is None:
            return None
        name = request.match_info["message"]
        message_id = interaction.original_id if name == "@original" else int(name)
        return self.world.messages.get(message_id) if message_id else None

    async def followup(self, request: web.Request) -> web.Response:
        interaction = self._interaction(request.match_info["token"])
        if interaction is None:
            return error(404, "Unknown Webhook", 10015)
        stored = self.store_bot_message(
            interaction.channel_id,
            (await read_body(request)) or {},
            token=interaction.token,
            files=await read_files(request),
        )
        return json_reply(self.world.message_payload(stored))

    async def webhook_get(self, request: web.Request) -> web.Response:
        stored = self._webhook_message(request)
        return (
            json_reply(self.world.message_payload(stored)) if stored else error(404, "Unknown Message", 10008)
        )

    async def webhook_edit(self, request: web.Request) -> web.Response:
        stored = self._webhook_message(request)
        if stored is None:
            return error(404, "Unknown Message", 10008)
        body = dict((await read_body(request)) or {})
        if len(body.get("content") or "") > 2000:
            return error(400, "Invalid Form Body: content: Must be 2000 or fewer in length.", 50035)
        body["flags"] = stored.flags & ~LOADING  # the first edit of a deferred reply ends "thinking"
        self._edit_files(stored, body, await read_files(request))
        stored.record(body)
        return json_reply(self.world.message_payload(stored))

    def _edit_files(self, stored: StoredMessage, body: dict[str, Any], files: dict[str, bytes]) -> None:
        """An edit's `attachments` lists what stays (by id); new files come as multipart parts."""
        if "attachments" not in body and not files:
            return
        keep = {str(a.get("id")) for a in body.get("attachments") or []}
        stored.uploads = [u for u in stored.uploads if str(u.id) in keep]
        for filename, data in files.items():
            stored.uploads.append(self.world.cdn.new(self.world.new_id(), stored.channel_id, filename, data))

    async def webhook_delete(self, request: web.Request) -> web.Response:
        stored = self._webhook_message(request)
        if stored is not None:
            del self.world.messages[stored.id]
        return web.Response(status=204)
