"""Conversations in messages: mentions, replies to the bot, the bot's threads, and DMs.

In a server the bot speaks only when spoken to (a mention, a reply to one of its messages, or a
message in a thread it opened), so it never interrupts a channel. In DMs every message is for it:
a topic gets a quick structured briefing; a question ending in "?" once a conversation exists (or a
reply to the bot) is a follow-up answered with the conversation's memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import discord
from discord.ext import commands

from bot.discord_app.conversations import dm_conversation, message_conversation, thread_conversation
from bot.discord_app.courier import NO_MENTIONS, RESTARTING
from bot.discord_app.feedback_ui import answer_feedback, stop_view
from bot.discord_app.limits import check_length, rate_limit_message
from bot.discord_app.mentions import strip_mentions
from bot.discord_app.streaming import MessageReply, StreamingReply, stream_answer

if TYPE_CHECKING:
    from bot.discord_app.client import BriefingBot

HINT = (
    "Ask me about the US-China AI debate - the race framing versus the cooperation framing. "
    "For example: *What is the case for US-China AI safety talks?*"
)


@dataclass(frozen=True, slots=True)
class Route:
    mode: Literal["ask", "brief"]
    conversation_id: str
    text: str


class Chat(commands.Cog):
    def __init__(self, bot: BriefingBot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Ignore bots (itself included) and everything not addressed to the bot; answer the rest."""
        if message.author.bot or self.bot.user is None:
            return
        route = await self.route(message)
        if route is None:
            return
        if not route.text:
            await message.reply(HINT, allowed_mentions=NO_MENTIONS, mention_author=False)
            return
        if self.bot.courier.draining:
            await message.reply(RESTARTING, allowed_mentions=NO_MENTIONS, mention_author=False)
            return
        wait = self.bot.limiter.hit(str(message.author.id))
        if wait:
            await message.reply(rate_limit_message(wait), allowed_mentions=NO_MENTIONS, mention_author=False)
            return
        await self.answer(message, route)

    def allowed(self, channel: object) -> bool:
        """ALLOWED_CHANNEL_IDS (empty = everywhere); a thread counts as its parent channel."""
        allowed = self.bot.settings.allowed_channel_ids
        ids = {getattr(channel, "id", None), getattr(channel, "parent_id", None)}
        return not allowed or bool(ids & set(allowed))

    async def route(self, message: discord.Message) -> Route | None:
        """Decide whether and how to answer, and which conversation the message continues."""
        bot_id = self.bot.bot_id
        text = strip_mentions(message.content)
        conversations = self.bot.conversations
        reference = message.reference.message_id if message.reference else None
        if message.guild is None:
            conversation = dm_conversation(message.channel.id)
            follow_up = reference is not None or (
                text.endswith("?") and await conversations.has_history(conversation)
            )
            return Route("ask" if follow_up else "brief", conversation, text)
        if not self.allowed(message.channel):
            return None
        if await conversations.is_bot_thread(message.channel, bot_id):
            return Route("ask", thread_conversation(message.channel.id), text)
        if reference is not None:
            linked = await conversations.of_message(reference)
            resolved = message.reference.resolved if message.reference else None
            if linked is None and isinstance(resolved, discord.Message) and resolved.author.id == bot_id:
                linked = message_conversation(reference)
            if linked is not None:
                return Route("ask", linked, text)
        if bot_id in message.raw_mentions:
            return Route("ask", message_conversation(message.id), text)
        return None

    async def answer(self, message: discord.Message, route: Route) -> None:
        """Stream the answer (or briefing) as a reply and link the reply to the conversation."""
        service = self.bot.service
        user_id = str(message.author.id)

        def events() -> AsyncIterator[object]:
            check_length(route.text, self.bot.settings.max_input_chars)
            if route.mode == "brief":
                return service.brief(route.text, conversation_id=route.conversation_id, user_id=user_id)
            return service.ask(route.text, conversation_id=route.conversation_id, user_id=user_id)

        target = MessageReply(message)
        target.on_message = self.bot.conversations.linker(route.conversation_id)
        asker = message.author.id
        reply = StreamingReply(
            target, courier=self.bot.courier, typing=message.channel, controls=stop_view(asker)
        )
        feedback = answer_feedback(
            self.bot, mode="answer" if route.mode == "ask" else "brief", guild=message.guild, asker_id=asker
        )
        await stream_answer(reply, events, doing=f"answering message {message.id}", on_answer=feedback)


async def setup(bot: BriefingBot) -> None:
    await bot.add_cog(Chat(bot))
