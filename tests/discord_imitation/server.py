"""`DiscordImitation`: the REST API and gateway on 127.0.0.1, plus what a test does as a user
(post a message, run a slash command, click a button, type into an autocomplete) and what it waits
for (a message of the bot that satisfies a condition).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Callable
from typing import Any

import discord.http
from aiohttp import web

from discord_imitation import cdn, payloads
from discord_imitation.cdn import Upload
from discord_imitation.gateway import Gateway
from discord_imitation.limits import Refusal
from discord_imitation.rest import RestApi
from discord_imitation.world import Interaction, Person, StoredMessage, World

DEFAULT_TIMEOUT = 30.0
APPLICATION_COMMAND, COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 2, 3, 4, 5
OPTION_TYPES = {str: 3, int: 4, bool: 5, Upload: 11}
SUB_COMMAND = 1


class DiscordImitation:
    """Start with `await DiscordImitation().start()`; point the bot at `api_base` and `gateway_url`."""

    def __init__(self, world: World | None = None) -> None:
        self.world = world or World()
        self._changed = asyncio.Condition()
        self.gateway = Gateway(self.world, lambda: self.gateway_url, self._notify)
        self.rest = RestApi(self.world, lambda: self.gateway_url, self.gateway.dispatch, self._notify)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> DiscordImitation:
        app = web.Application(middlewares=[self.rest.middleware])
        app.add_routes(
            [
                web.get("/gateway", self.gateway.handle),
                web.get(cdn.ROUTE, self.world.cdn.serve),
                *self.rest.routes(),
            ]
        )
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self.world.cdn.base = f"http://127.0.0.1:{self.port}"
        return self

    async def stop(self) -> None:
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def env(self) -> dict[str, str]:
        """The settings that point a bot here."""
        return {
            "DISCORD_TOKEN": self.world.token,
            "DISCORD_API_BASE": self.api_base,
            "DISCORD_GATEWAY_URL": self.gateway_url,
        }

    # --- waiting -----------------------------------------------------------------------------------

    def _notify(self) -> None:
        async def wake() -> None:
            async with self._changed:
                self._changed.notify_all()

        task = asyncio.get_running_loop().create_task(wake())
        task.add_done_callback(lambda t: t.exception())

    async def wait_for(
        self, condition: Callable[[], Any], within: float = DEFAULT_TIMEOUT, what: str = ""
    ) -> Any:
        """Wait until `condition()` returns something truthy; return it."""

        async def poll() -> Any:
            async with self._changed:
                while not (result := condition()):
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), 0.5)
                return result

        try:
            return await asyncio.wait_for(poll(), within)
        except TimeoutError:
            raise AssertionError(f"timed out after {within}s waiting for {what or condition}") from None

    async def wait_ready(self, within: float = DEFAULT_TIMEOUT) -> None:
        await asyncio.wait_for(self.gateway.ready.wait(), within)

    async def wait_message(
        self,
        condition: Callable[[StoredMessage], bool],
        within: float = DEFAULT_TIMEOUT,
        what: str = "a bot message",
    ) -> StoredMessage:
        """The first bot message for which `condition` holds (checked after every change)."""
        return await self.wait_for(
            lambda: next((m for m in self.world.bot_messages() if condition(m)), None), within, what
        )

    @property
    def refused(self) -> list[Refusal]:
        """Every 429 the bot caused (per-route and global)."""
        return self.world.limits.refused

    def replies_to(self, message_id: int) -> list[StoredMessage]:
        return [m for m in self.world.bot_messages() if m.reference_id == message_id]

    # --- acting as a user --------------------------------------------------------------------------

    async def send(
        self,
        content: str,
        *,
        author: str | Person = "alice",
        channel_id: int | None = None,
        mention_bot: bool = False,
        reply_to: int | None = None,
    ) -> StoredMessage:
        """Post a message as a user (MESSAGE_CREATE). `mention_bot` prefixes `<@bot>` like a client."""
        self._driving()
        world = self.world
        person = world.person(author)
        channel_id = channel_id or world.general
        if mention_bot:
            content = f"<@{world.bot.id}> {content}"
        stored = StoredMessage(
            id=world.new_id(),
            channel_id=channel_id,
            guild_id=world.guild_of(channel_id),
            author_id=person.id,
            reference_id=reply_to,
        )
        stored.record({"content": content})
        world.messages[stored.id] = stored
        data = world.message_payload(stored)
        if f"<@{world.bot.id}>" in content:
            data["mentions"] = [world.bot.payload]
        if stored.guild_id is not None:
            data["member"] = {
                k: v for k, v in payloads.member(person.payload, person.role_ids).items() if k != "user"
            }
        await self.gateway.dispatch("MESSAGE_CREATE", data)
        return stored

    async def delete(self, message: StoredMessage) -> None:
        """A user or moderator deletes a message (MESSAGE_DELETE); edits of it then get 404."""
        self.world.messages.pop(message.id, None)
        data = {"id": str(message.id), "channel_id": str(message.channel_id)}
        if message.guild_id is not None:
            data["guild_id"] = str(message.guild_id)
        await self.gateway.dispatch("MESSAGE_DELETE", data)
        self._notify()

    async def new_channel(self, name: str) -> int:
        """A moderator creates a text channel (CHANNEL_CREATE): its rate-limit buckets start full, so a
        test there does not wait for what the tests before it sent elsewhere."""
        world = self.world
        channel_id = world.new_id()
        world.channels[channel_id] = payloads.text_channel(
            channel_id, world.guild_id, name, len(world.channels)
        )
        await self.gateway.dispatch("CHANNEL_CREATE", world.channels[channel_id])
        return channel_id

    def revoke_access(self, channel_id: int) -> None:
        """A moderator takes the bot's access to a channel away: its requests there get 403."""
        self.world.no_access.add(channel_id)

    async def dm(
        self, content: str, *, author: str | Person = "alice", reply_to: int | None = None
    ) -> StoredMessage:
        return await self.send(
            content, author=author, channel_id=self.world.dm_channel(author), reply_to=reply_to
        )

    def _driving(self) -> None:
        """Point discord.py at this imitation before an event that makes the bot call back.
        discord.py keeps the API base in a class attribute (`Route.BASE`, bot/discord_app/client.py
        `point_at`): a test that starts a second imitation and bot in the same process moves it,
        and a module's long-running bot would then answer to a server that has gone."""
        discord.http.Route.BASE = self.api_base.rstrip("/")

    def _interaction_payload(
        self, kind: int, data: dict[str, Any], person: Person, channel_id: int
    ) -> Interaction:
        self._driving()
        world = self.world
        interaction = Interaction(
            id=world.new_id(),
            token=secrets.token_urlsafe(16),
            type=kind,
            name=data.get("name", data.get("custom_id", "")),
            user_id=person.id,
            channel_id=channel_id,
        )
        world.interactions[interaction.token] = interaction
        interaction.payload = {
            "id": str(interaction.id),
            "application_id": str(world.application_id),
            "type": kind,
            "token": interaction.token,
            "version": 1,
            "data": data,
            "channel_id": str(channel_id),
            "channel": world.channel_payload(channel_id),
            "locale": "en-US",
            "app_permissions": str((1 << 41) - 1),
            "attachment_size_limit": 26_214_400,
            "entitlements": [],
        }
        payload = interaction.payload
        if world.is_dm(channel_id):
            payload |= {
                "user": person.payload,
                "context": 1,
                "authorizing_integration_owners": {"1": str(person.id)},
            }
        else:
            member = payloads.member(person.payload, person.role_ids, permissions=world.permissions(person))
            payload |= {
                "guild_id": str(world.guild_id),
                "guild": {"id": str(world.guild_id), "locale": "en-US", "features": []},
                "guild_locale": "en-US",
                "member": member,
                "context": 0,
                "authorizing_integration_owners": {"0": str(world.guild_id)},
            }
        return interaction

    def upload(
        self, filename: str, data: bytes, *, channel_id: int | None = None, content_type: str = ""
    ) -> Upload:
        """A file a user attaches to a command: stored on the CDN, passed as an option's value."""
        channel_id = channel_id or self.world.general
        return self.world.cdn.new(self.world.new_id(), channel_id, filename, data, content_type)

    def _command_data(
        self, name: str, options: dict[str, Any], focused: str | None = None, subcommand: str | None = None
    ) -> dict[str, Any]:
        """INTERACTION_CREATE data of `/name [subcommand] options`; attachments go into `resolved`."""
        name, _, sub = name.partition(" ")  # "group subcommand" names the subcommand too
        subcommand = subcommand or sub or None
        command = self.world.commands.get(name, {})
        data: dict[str, Any] = {"id": command.get("id", str(self.world.new_id())), "name": name, "type": 1}
        given = [
            {
                "name": k,
                "type": OPTION_TYPES.get(type(v), 3),
                "value": str(v.id) if isinstance(v, Upload) else v,
                **({"focused": True} if k == focused else {}),
            }
            for k, v in options.items()
        ]
        uploads = {str(v.id): self.world.cdn.payload(v) for v in options.values() if isinstance(v, Upload)}
        if uploads:
            data["resolved"] = {"attachments": uploads}
        if subcommand is not None:
            data["options"] = [{"name": subcommand, "type": SUB_COMMAND, "options": given}]
        elif given:
            data["options"] = given
        if "guild_id" in command:
            data["guild_id"] = command["guild_id"]
        return data

    async def command(
        self,
        name: str,
        *,
        user: str | Person = "alice",
        channel_id: int | None = None,
        subcommand: str | None = None,
        **options: Any,
    ) -> Interaction:
        """Run `/name [subcommand] option=value ...` (INTERACTION_CREATE, application command); `name`
        may also be "group subcommand". An `Upload` (from `upload`) as a value is an attachment option."""
        person = self.world.person(user)
        channel_id = channel_id or self.world.general
        self._check_choices(name, options)
        data = self._command_data(name, options, subcommand=subcommand)
        interaction = self._interaction_payload(APPLICATION_COMMAND, data, person, channel_id)
        await self.gateway.dispatch("INTERACTION_CREATE", interaction.payload)
        return interaction

    def _check_choices(self, name: str, options: dict[str, Any]) -> None:
        """Discord's client offers only an option's declared choices: a test cannot send another."""
        declared = {o["name"]: o for o in self.world.commands.get(name, {}).get("options", [])}
        for key, value in options.items():
            choices = declared.get(key, {}).get("choices")
            if choices and value not in [c["value"] for c in choices]:
                raise ValueError(f"/{name} {key}: Discord offers only {[c['value'] for c in choices]}")

    async def autocomplete(
        self,
        name: str,
        option: str,
        value: str,
        *,
        user: str | Person = "alice",
        channel_id: int | None = None,
        subcommand: str | None = None,
    ) -> list[dict[str, Any]]:
        """Type `value` into `option` of `/name [subcommand]`; return the choices the bot offered."""
        person = self.world.person(user)
        data = self._command_data(name, {option: value}, focused=option, subcommand=subcommand)
        interaction = self._interaction_payload(AUTOCOMPLETE, data, person, channel_id or self.world.general)
        await self.gateway.dispatch("INTERACTION_CREATE", interaction.payload)
        await self.wait_for(lambda: interaction.choices is not None, what=f"autocomplete choices of /{name}")
        return interaction.choices or []  # no choices at all is an answer too

    async def click(
        self,
        message: StoredMessage,
        custom_id: str,
        *,
        user: str | Person = "alice",
        values: list[str] | None = None,
    ) -> Interaction:
        """Press the button `custom_id` on a bot message, or choose `values` in its select menu
        (INTERACTION_CREATE, component)."""
        person = self.world.person(user)
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": 2}
        if values is not None:
            data |= {"component_type": 3, "values": values}
        interaction = self._interaction_payload(COMPONENT, data, person, message.channel_id)
        interaction.original_id = message.id
        interaction.payload["message"] = self.world.message_payload(message)
        await self.gateway.dispatch("INTERACTION_CREATE", interaction.payload)
        return interaction

    async def submit(
        self, opened_by: Interaction, values: dict[str, str], *, user: str | Person = "alice"
    ) -> Interaction:
        """Fill in and send the form (modal) the bot opened in answer to `opened_by` (INTERACTION_CREATE,
        modal submit): `values` maps each text input's custom id to what was typed."""
        form = opened_by.modal
        if form is None:
            raise AssertionError("the bot opened no form in answer to that interaction")
        inputs = {c["custom_id"]: c for row in form.get("components", []) for c in row.get("components", [])}
        if unknown := set(values) - set(inputs):
            raise AssertionError(f"the form has no inputs {sorted(unknown)}")
        for key, value in values.items():  # Discord's form does not let anyone type past the limit
            if len(value) > inputs[key].get("max_length", 4000):
                raise AssertionError(f"{key}: {len(value)} characters do not fit the form's input")
        rows = [
            {"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]} for k, v in values.items()
        ]
        data = {"custom_id": form["custom_id"], "components": rows}
        person = self.world.person(user)
        interaction = self._interaction_payload(MODAL_SUBMIT, data, person, opened_by.channel_id)
        await self.gateway.dispatch("INTERACTION_CREATE", interaction.payload)
        return interaction

    def response(self, interaction: Interaction) -> StoredMessage | None:
        """The interaction's original response message, once there is one."""
        return self.world.messages.get(interaction.original_id) if interaction.original_id else None

    def followups(self, interaction: Interaction) -> list[StoredMessage]:
        return [
            m
            for m in self.world.bot_messages()
            if m.interaction_token == interaction.token and m.id != interaction.original_id
        ]
