"""/prompts: moderators view, download, upload, delete and roll back prompt files from Discord.

Thin on purpose: who the user is (moderator or not, in a server or a DM) is read here, everything
else - name rules, fetching the upload with a cap and a time limit, validating the whole set, the
diff, the history and the audit log - happens behind `BriefingService` (bot/prompt_admin). Every
answer is ephemeral: file contents and problems are moderators' business.

An upload, delete or rollback first shows a preview (diff and index changes) with Confirm and Cancel
buttons. The buttons are `DynamicItem`s whose custom id carries the preview's key; only the
moderator who asked may press them (anyone else is refused, and the refusal is audited).
"""

from __future__ import annotations

import io
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_app.chunks import split_message
from bot.discord_app.cogs.moderation import is_moderator
from bot.discord_app.courier import NO_MENTIONS
from bot.discord_app.formatting import shorten_lines
from bot.discord_app.streaming import tell
from bot.errors import BriefingError
from bot.prompt_admin import Actor, FileInfo, PromptChange, Proposal

if TYPE_CHECKING:
    from bot.discord_app.client import BriefingBot

MAX_CHOICES = 25
NAME_CHARS = 36  # a longer file name pushes its own row's columns, not everyone's
TABLE_CHARS = 2000  # one message
OUTSIDE = "✎ edited outside Discord"
WORKING = "Writing the change and reloading..."


def when(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M UTC") if at else "unknown"


def _size(size: int) -> str:
    return f"{size} B" if size < 1024 else f"{size / 1024:.1f} KB"


def _who(info: FileInfo) -> str:
    """Who made the file what it is: a note only for a file edited outside Discord."""
    if info.outside:
        return OUTSIDE
    name = re.search(r"\((.+?)\)", info.changed_by)  # "discord:123 (mod), put" -> "mod, put"
    return f"{name[1]}, {info.changed_by.rsplit(', ', 1)[-1]}" if name else info.changed_by


def files_table(found: list[FileInfo]) -> str:
    """Every prompt file, grouped by folder, one aligned row each (name, size, hash, when, who), in
    a code block so the columns line up; cut with a count, never over Discord's 2000 characters."""
    width = min(NAME_CHARS, max((len(i.path.partition("/")[2]) for i in found), default=0))
    rows: list[str] = []
    for folder in dict.fromkeys(i.path.partition("/")[0] for i in found):
        rows.append(f"{folder}/")
        for info in (i for i in found if i.path.partition("/")[0] == folder):
            name = info.path.partition("/")[2]
            rows.append(
                f"  {name:<{width}} {_size(info.size):>8}  {info.hash[:8]}  "
                f"{when(info.changed_at).removesuffix(' UTC')}  {_who(info)}"
            )
    head = f"**{len(found)} prompt files** (times UTC)\n```\n"
    return head + shorten_lines(rows, TABLE_CHARS - len(head) - 4) + "\n```"


def change_line(change: PromptChange) -> str:
    files = ", ".join(
        f"{path} ({'added' if old is None else 'removed' if new is None else 'changed'})"
        for path, old, new in change.files[:6]
    )
    more = f" +{len(change.files) - 6} more" if len(change.files) > 6 else ""
    return (
        f"**#{change.id}** `{change.set_hash}` {when(change.at)} {change.actor}: "
        f"{change.action}; {files}{more}"
    )


class PromptButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"prompts:(?P<action>confirm|cancel):(?P<key>\d+)",
):
    def __init__(self, action: str, key: int) -> None:
        style = discord.ButtonStyle.success if action == "confirm" else discord.ButtonStyle.secondary
        super().__init__(
            discord.ui.Button(label=action.capitalize(), style=style, custom_id=f"prompts:{action}:{key}")
        )
        self.action = action
        self.key = key

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PromptButton:
        return cls(match["action"], int(match["key"]))

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Only the moderator who asked may press; anyone else is refused (and audited) here."""
        cog = interaction.client.get_cog("Prompts")  # type: ignore[attr-defined]
        return bool(await cog.may_press(interaction, self.action, self.key))

    async def callback(self, interaction: discord.Interaction) -> None:
        cog = interaction.client.get_cog("Prompts")  # type: ignore[attr-defined]
        await cog.on_button(interaction, self.action, self.key)


def preview_view(proposal: Proposal) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(PromptButton("confirm", proposal.key))
    view.add_item(PromptButton("cancel", proposal.key))
    return view


class Prompts(
    commands.GroupCog,
    group_name="prompts",
    group_description="Moderators: view, upload, diff and roll back the prompt files.",
):
    def __init__(self, bot: BriefingBot) -> None:
        self.bot = bot
        super().__init__()

    def _actor(self, interaction: discord.Interaction) -> Actor:
        user = interaction.user
        return Actor(
            id=f"discord:{user.id}",
            name=user.name,
            moderator=is_moderator(interaction, self.bot.settings.moderator_role_ids),
            in_server=interaction.guild is not None,
        )

    async def _answer(self, interaction: discord.Interaction, text: str, **extra: Any) -> None:
        """Fill the deferred (ephemeral) response; what does not fit goes into follow-ups."""
        first, *rest = split_message(text)
        await interaction.edit_original_response(content=first, allowed_mentions=NO_MENTIONS, **extra)
        for chunk in rest:
            await interaction.followup.send(chunk, ephemeral=True, allowed_mentions=NO_MENTIONS)

    async def _file_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        if not self._actor(interaction).moderator:
            return []  # file names are moderators' business too
        wanted = current.lower()
        names = [n for n in self.bot.service.prompt_file_names() if wanted in n.lower()]
        return [app_commands.Choice(name=n, value=n) for n in names[:MAX_CHOICES]]

    @app_commands.command(name="list", description="Every prompt file: kind, size, hash, last change.")
    async def list_files(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            found = await self.bot.service.prompt_files(self._actor(interaction))
        except BriefingError as exc:
            await self._answer(interaction, exc.user_message)
            return
        await self._answer(interaction, files_table(found))

    @app_commands.command(name="get", description="Download a prompt file to edit it.")
    @app_commands.describe(file="The file, e.g. sources/liu-race-narrative.md")
    async def get(self, interaction: discord.Interaction, file: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            rel, data = await self.bot.service.prompt_file(self._actor(interaction), file)
        except BriefingError as exc:
            await self._answer(interaction, exc.user_message)
            return
        attachment = discord.File(io.BytesIO(data), filename=rel.partition("/")[2])
        text = f"`{rel}` ({len(data)} bytes). Edit it and send it back with `/prompts put`."
        await self._answer(interaction, text, attachments=[attachment])

    @app_commands.command(
        name="put", description="Upload a prompt file (.md, .txt, .toml) or a document (.pdf, .html, .docx)."
    )
    @app_commands.describe(
        file="The file or document to upload", target="Where it goes, e.g. sources/new.md (default: its name)"
    )
    async def put(
        self, interaction: discord.Interaction, file: discord.Attachment, target: str | None = None
    ) -> None:
        service = self.bot.service
        await self._propose(
            interaction,
            lambda actor: service.propose_prompt_upload(
                actor, target, file.filename, url=file.url, size=file.size
            ),
        )

    @app_commands.command(name="delete", description="Delete a source file (after a preview).")
    async def delete(self, interaction: discord.Interaction, file: str) -> None:
        await self._propose(interaction, lambda actor: self.bot.service.propose_prompt_delete(actor, file))

    @app_commands.command(name="history", description="Accepted versions of the prompt set (or of one file).")
    async def history(self, interaction: discord.Interaction, file: str | None = None) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            changes = await self.bot.service.prompt_history(self._actor(interaction), file)
        except BriefingError as exc:
            await self._answer(interaction, exc.user_message)
            return
        if not changes:
            await self._answer(interaction, "No recorded versions yet: the files are as installed.")
            return
        lines = "\n".join(map(change_line, changes))
        await self._answer(
            interaction, f"Versions, newest first (roll back with `/prompts rollback #N`):\n{lines}"
        )

    @app_commands.command(name="rollback", description="Restore a whole earlier version (after a preview).")
    @app_commands.describe(version="#N from /prompts history, or its hash")
    async def rollback(self, interaction: discord.Interaction, version: str) -> None:
        await self._propose(
            interaction, lambda actor: self.bot.service.propose_prompt_rollback(actor, version)
        )

    get.autocomplete("file")(_file_choices)
    delete.autocomplete("file")(_file_choices)
    history.autocomplete("file")(_file_choices)

    async def _propose(
        self, interaction: discord.Interaction, propose: Callable[[Actor], Awaitable[Proposal]]
    ) -> None:
        """Defer, then show the preview with its buttons, or why nothing will change."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            proposal = await propose(self._actor(interaction))
        except BriefingError as exc:
            await self._answer(interaction, exc.user_message)
            return
        extra: dict[str, Any] = {}
        if proposal.converted is not None:  # a converted document: the moderator reads the whole file
            name, data = proposal.converted
            extra["attachments"] = [discord.File(io.BytesIO(data), filename=name)]
        await interaction.edit_original_response(
            content=proposal.preview(), view=preview_view(proposal), allowed_mentions=NO_MENTIONS, **extra
        )

    async def may_press(self, interaction: discord.Interaction, action: str, key: int) -> bool:
        """True for the preview's owner. Otherwise (someone else's, or no longer pending) the service
        is asked anyway, so the refusal is audited, and its sentence is the private answer."""
        service, actor = self.bot.service, self._actor(interaction)
        if service.prompt_change_owner(key) == actor.id:
            return True
        decide = service.confirm_prompt_change if action == "confirm" else service.cancel_prompt_change
        try:
            await decide(actor, key)
        except BriefingError as exc:
            await tell(interaction, exc.user_message)
        return False

    async def on_button(self, interaction: discord.Interaction, action: str, key: int) -> None:
        service, actor = self.bot.service, self._actor(interaction)
        if action == "cancel":
            proposal = await service.cancel_prompt_change(actor, key)
            await interaction.response.edit_message(
                content=f"Cancelled: nothing was changed ({proposal.target}).", view=None
            )
            return
        await interaction.response.edit_message(content=WORKING, view=None)  # the buttons are used up
        try:
            text = (await service.confirm_prompt_change(actor, key)).summary()
        except BriefingError as exc:
            text = exc.user_message
        await self._answer(interaction, text)


async def setup(bot: BriefingBot) -> None:
    bot.add_dynamic_items(PromptButton)
    await bot.add_cog(Prompts(bot))
