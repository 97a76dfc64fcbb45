"""Slash commands: /ask, /brief, /factcheck, /sources, /reset, /status (/debate and /reload have
their own cogs).

Commands that use the model are deferred at once (Discord wants an answer within 3 seconds) and then
stream into the deferred response; failures reach `BriefingTree.on_error`, the one place that turns
them into a message.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_app.courier import NO_MENTIONS
from bot.discord_app.feedback_ui import answer_feedback, feedback_for, stop_view
from bot.discord_app.formatting import factcheck_message, search_embed, source_list_embed, status_embed
from bot.discord_app.limits import check_length, refuse_if_limited
from bot.discord_app.mentions import strip_mentions
from bot.discord_app.streaming import InteractionReply, StreamingReply, stream_answer
from bot.feedback import shown_factcheck

if TYPE_CHECKING:
    from bot.discord_app.client import BriefingBot

SEARCH_K = 5
RESET_DONE = "Done - I've forgotten this conversation. The next message starts fresh."
RESET_CHANNEL = (
    "In a channel every mention starts a new conversation, so there is nothing to reset here. "
    "/reset clears our DM conversation or the conversation of a thread I opened."
)


class SlashCommands(commands.Cog):
    def __init__(self, bot: BriefingBot) -> None:
        self.bot = bot

    async def _stream(
        self,
        interaction: discord.Interaction,
        text: str,
        make: Callable[[str, str], AsyncIterator[object]],
        mode: str,
    ) -> None:
        """Shared by /ask and /brief: limit, defer, stream, link the response to its conversation."""
        if await refuse_if_limited(interaction, self.bot.limiter):
            return
        check_length(text, self.bot.settings.max_input_chars)
        await interaction.response.defer(thinking=True)
        conversation = await self.bot.conversations.of_interaction(interaction, self.bot.bot_id)
        target = InteractionReply(interaction)
        target.on_message = self.bot.conversations.linker(conversation)
        asker = interaction.user.id
        reply = StreamingReply(target, courier=self.bot.courier, controls=stop_view(asker))
        await stream_answer(
            reply,
            lambda: make(conversation, str(asker)),
            doing=f"/{interaction.command}",
            on_answer=answer_feedback(self.bot, mode=mode, guild=interaction.guild, asker_id=asker),
        )

    @app_commands.command(name="ask", description="Ask a question; the answer cites the briefing sources.")
    @app_commands.describe(question="Your question about the US-China AI race/cooperation debate")
    async def ask(self, interaction: discord.Interaction, question: str) -> None:
        service = self.bot.service
        question = strip_mentions(question)
        await self._stream(
            interaction,
            question,
            lambda conversation, user: service.ask(question, conversation_id=conversation, user_id=user),
            "answer",
        )

    @app_commands.command(name="brief", description="A quick structured briefing on a topic.")
    @app_commands.describe(topic="What to brief on (suggestions come from the sources)")
    async def brief(self, interaction: discord.Interaction, topic: str) -> None:
        service = self.bot.service
        topic = strip_mentions(topic)
        await self._stream(
            interaction,
            topic,
            lambda conversation, user: service.brief(topic, conversation_id=conversation, user_id=user),
            "brief",
        )

    @brief.autocomplete("topic")
    async def brief_topics(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """Topics of the live prompt set (source titles and headings) matching what is typed. Off the
        event loop: matching by meaning embeds what is typed (and, once per prompt set, the menu)."""
        topics = await asyncio.to_thread(self.bot.service.topics_matching, current)
        return [app_commands.Choice(name=t, value=t) for t in topics]

    @app_commands.command(name="factcheck", description="Check a claim against the briefing sources.")
    @app_commands.describe(claim="The claim to check")
    async def factcheck(self, interaction: discord.Interaction, claim: str) -> None:
        if await refuse_if_limited(interaction, self.bot.limiter):
            return
        check_length(claim, self.bot.settings.max_input_chars)
        await interaction.response.defer(thinking=True)
        result = await self.bot.service.check(claim, user_id=str(interaction.user.id))
        content, embed = factcheck_message(result)
        shown = shown_factcheck(result, prompt_version=self.bot.service.prompt_version)
        view = await feedback_for(self.bot, shown, guild=interaction.guild, asker_id=interaction.user.id)
        await InteractionReply(interaction).show_split(content, embed, view)  # split at 2000 characters

    @app_commands.command(name="sources", description="Search the briefing sources (or list them).")
    @app_commands.describe(query="Words to search for; leave empty to list the sources")
    async def sources(self, interaction: discord.Interaction, query: str | None = None) -> None:
        # Deferred first: Discord drops an interaction not answered within 3 seconds, and a search
        # waits behind whatever else the machine is doing.
        await interaction.response.defer(thinking=True)
        service = self.bot.service
        if not query:
            listing = service.sources()
            embed = source_list_embed(listing.sources, listing.version)
            await interaction.edit_original_response(embed=embed, allowed_mentions=NO_MENTIONS)
            return
        results = await service.search(query, k=SEARCH_K)
        if not results:
            await interaction.edit_original_response(
                content=f"No passage matches {query!r}.", allowed_mentions=NO_MENTIONS
            )
            return
        embed = search_embed(results, title=f"Passages matching: {query}"[:256])
        await interaction.edit_original_response(embed=embed, allowed_mentions=NO_MENTIONS)

    @app_commands.command(name="reset", description="Forget the conversation of this DM or of my thread.")
    async def reset(self, interaction: discord.Interaction) -> None:
        # Deferred first: finding and forgetting the conversation waits for the database, which
        # may be busy for longer than Discord's 3 seconds.
        await interaction.response.defer(ephemeral=True, thinking=True)
        conversation = await self.bot.conversations.continued_by(interaction, self.bot.bot_id)
        if conversation is not None:
            await self.bot.service.reset(conversation)
        await interaction.edit_original_response(
            content=RESET_CHANNEL if conversation is None else RESET_DONE, allowed_mentions=NO_MENTIONS
        )

    @app_commands.command(name="status", description="Model, backend, queue, speed and prompt-set version.")
    async def status(self, interaction: discord.Interaction) -> None:
        embed = status_embed(self.bot.service.status())
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)


async def setup(bot: BriefingBot) -> None:
    await bot.add_cog(SlashCommands(bot))
