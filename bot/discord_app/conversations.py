"""Which conversation a Discord message belongs to. The memory is the service's (it links keys to
conversations and keeps their turns); what is Discord's here is only how ids become keys:

- a DM channel is one conversation; so is a thread the bot opened;
- in a channel, a mention starts a conversation, and replying to any of the bot's messages in it
  continues that conversation: every message the bot sends is linked to its conversation in the
  `message_links` table, so the chain survives a restart;
- a thread the bot opened is recorded under the key `thread:<id>` in the same table, so the bot
  still knows it is "its" thread after a restart, even when Discord's cache does not list it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import discord

from bot.service import BriefingService

PREFIX = "discord"


def dm_conversation(channel_id: int) -> str:
    return f"{PREFIX}:dm:{channel_id}"


def thread_conversation(thread_id: int) -> str:
    return f"{PREFIX}:thread:{thread_id}"


def message_conversation(message_id: int) -> str:
    """A conversation started by one message (a mention, a slash command)."""
    return f"{PREFIX}:msg:{message_id}"


def _thread_key(thread_id: int) -> str:
    return f"thread:{thread_id}"


class Conversations:
    """One per bot (made in `setup_hook`): Discord's ids to the service's conversations."""

    def __init__(self, service: BriefingService) -> None:
        self.service = service

    def linker(self, conversation_id: str) -> Callable[[int], Awaitable[None]]:
        """For `ReplyTarget.on_message`: link each new bot message to `conversation_id`, so a reply
        to any of them continues the conversation."""

        async def link(message_id: int) -> None:
            await self.service.link(str(message_id), conversation_id)

        return link

    async def of_message(self, message_id: int) -> str | None:
        return await self.service.conversation_of(str(message_id))

    async def add_thread(self, thread_id: int) -> None:
        await self.service.link(_thread_key(thread_id), thread_conversation(thread_id))

    async def is_bot_thread(self, channel: object, bot_id: int) -> bool:
        """A thread the bot created (from Discord's cache or, after a restart, from the store)."""
        if isinstance(channel, discord.Thread) and channel.owner_id == bot_id:
            return True
        channel_id = getattr(channel, "id", None)
        if channel_id is None or isinstance(channel, discord.DMChannel | discord.TextChannel):
            return False
        return await self.service.conversation_of(_thread_key(channel_id)) is not None

    async def has_history(self, conversation_id: str) -> bool:
        return await self.service.has_history(conversation_id)

    async def continued_by(self, interaction: discord.Interaction, bot_id: int) -> str | None:
        """The conversation a slash command continues: its DM's, or that of the bot's thread it is
        used in; None elsewhere (in a channel every command starts a conversation of its own)."""
        channel = interaction.channel
        if interaction.guild is None and channel is not None:
            return dm_conversation(channel.id)
        if channel is not None and await self.is_bot_thread(channel, bot_id):
            return thread_conversation(channel.id)
        return None

    async def of_interaction(self, interaction: discord.Interaction, bot_id: int) -> str:
        """The conversation a slash command continues, else a new one of its own (which replies to
        its response continue)."""
        continued = await self.continued_by(interaction, bot_id)
        return continued or message_conversation(interaction.id)
