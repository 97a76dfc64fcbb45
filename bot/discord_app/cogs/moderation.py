"""/reload: moderators swap in edited prompt files without a restart.

A moderator has a role listed in MODERATOR_ROLE_IDS or the Manage Server permission. The check is
done here rather than only with Discord's command permissions: a server can give the command to
anyone in its settings, and a role-based moderator need not have Manage Server. The answer is
ephemeral (it lists file names and problems, which is moderators' business).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_app.chunks import split_message
from bot.discord_app.courier import NO_MENTIONS
from bot.discord_app.streaming import tell

if TYPE_CHECKING:
    from bot.discord_app.client import BriefingBot

NOT_IN_DMS = "/reload works only in a server, where I can check that you are a moderator."
NOT_A_MODERATOR = (
    "Only moderators can reload the prompt files (a moderator role or the Manage Server permission)."
)


def is_moderator(interaction: discord.Interaction, moderator_role_ids: list[int]) -> bool:
    user = interaction.user
    if not isinstance(user, discord.Member):
        return False
    if interaction.permissions.manage_guild or user.guild_permissions.manage_guild:
        return True
    return bool({role.id for role in user.roles} & set(moderator_role_ids))


class Moderation(commands.Cog):
    def __init__(self, bot: BriefingBot) -> None:
        self.bot = bot

    @app_commands.command(name="reload", description="Moderators: re-read and validate the prompt files.")
    async def reload(self, interaction: discord.Interaction) -> None:
        if interaction.guild is None:
            await tell(interaction, NOT_IN_DMS)
            return
        if not is_moderator(interaction, self.bot.settings.moderator_role_ids):
            await tell(interaction, NOT_A_MODERATOR)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        user = interaction.user
        report = await self.bot.service.reload(actor=f"discord:{user.id} ({user.name})")
        first, *rest = split_message(report.summary())
        await interaction.edit_original_response(content=first, allowed_mentions=NO_MENTIONS)
        for chunk in rest:
            await interaction.followup.send(chunk, ephemeral=True, allowed_mentions=NO_MENTIONS)


async def setup(bot: BriefingBot) -> None:
    await bot.add_cog(Moderation(bot))
