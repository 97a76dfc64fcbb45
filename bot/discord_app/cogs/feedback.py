"""Moderators' side of feedback: `/feedback recent` (the 👎 of this server with their reasons and
notes), `/feedback export` (them as a JSONL file `python -m bot eval` reads) and `/why QUESTION`
(what an answer would rest on, without posting one).

Everything here is ephemeral and moderator-only, by the same rule as `/reload`: notes and the
server's questions are moderators' business. The work is done by `BriefingService`; this cog checks
who asks and formats what comes back. The buttons under replies are in `feedback_ui`.
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.briefing.why import Explanation
from bot.discord_app.cogs.moderation import is_moderator
from bot.discord_app.courier import NO_MENTIONS
from bot.discord_app.feedback_ui import DYNAMIC_ITEMS, guild_key, reporting
from bot.discord_app.formatting import shorten
from bot.discord_app.limits import check_length, refuse_if_limited
from bot.discord_app.streaming import tell
from bot.feedback import REASONS, FeedbackPage

if TYPE_CHECKING:
    from bot.discord_app.client import BriefingBot

MODERATORS_ONLY = (
    "Only moderators can see feedback and /why (a moderator role or the Manage Server permission), "
    "and only in a server."
)
NO_FEEDBACK = "No 👎 {what}yet in this server."
EXPORTED = (
    "{count} question{s} voted down, as lines `python -m bot eval` reads. A line that says "
    '`"expect": "unknown"` is not scored until you put in the facts a right answer holds (or set '
    "them with /feedback expect and export again)."
)
NOTHING_TO_EXPORT = "Nothing to export: no 👎 on answers or briefs {what}in this server."
EXPORT_FILE = "feedback.jsonl"
EXPECT_SAVED = "Saved: an export of #{answer}'s question will expect {groups}."
NO_SUCH_ANSWER = "No answer #{answer} is kept for this server (see /feedback recent for the numbers)."
# One page must fit Discord's 6000 characters per embed: PAGE_SIZE fields of at most
# QUESTION_CHARS + FIELD_CHARS, plus the title and description.
QUESTION_CHARS = 150
FIELD_CHARS = 1000
ANSWER_CHARS = 300
REASON_CHARS = 200
WHY_PASSAGES = 8
REASON_CHOICES = [app_commands.Choice(name=label, value=value) for value, label in REASONS.items()]


def _filter(reason: str) -> str:
    return f"with the reason “{REASONS[reason]}” " if reason else ""


def page_embed(page: FeedbackPage) -> discord.Embed:
    """One page of 👎: question, the answer as shown, reason, note, and what the answer rested on."""
    embed = discord.Embed(
        title=f"👎 feedback {_filter(page.reason)}· page {page.page} of {page.pages}",
        description=f"{page.total} in all, newest first.",
        colour=discord.Colour.orange(),
    )
    for item in page.items:
        record = item["record"]
        decision = record["decision"]
        reason = REASONS.get(item["reason"], "no reason given")
        lines = [
            f"**Answer:** {shorten(record['answer'], ANSWER_CHARS)}",
            f"**Reason:** {reason}" + (f" · **Note:** {item['note']}" if item["note"] else ""),
            f"**Decision:** {decision['kind']}"
            + (f" ({shorten(decision['reason'], REASON_CHARS)})" if decision["reason"] else ""),
            f"-# {record['mode']} · {record['model']} · prompts {record['prompt_version'][:12]} · "
            f"<t:{int(item['at'])}:R>",
        ]
        embed.add_field(
            name=shorten(f"#{item['answer_id']} {record['question']}", QUESTION_CHARS),
            value=shorten_lines("\n".join(lines), FIELD_CHARS),
            inline=False,
        )
    return embed


class PageButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"fb:page:(?P<page>\d+):(?P<reason>[a-z_]*)"
):
    """Newer / older under a page of /feedback recent; the page and the filter ride in the id."""

    def __init__(self, page: int, reason: str, label: str, *, disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                custom_id=f"fb:page:{page}:{reason}",
                disabled=disabled,
            )
        )
        self.page, self.reason = page, reason

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PageButton:
        label = item.label if isinstance(item, discord.ui.Button) else None
        return cls(int(match["page"]), match["reason"], label or "")

    async def callback(self, interaction: discord.Interaction) -> None:
        cog = interaction.client.get_cog("Feedback")  # type: ignore[attr-defined]
        await reporting(
            interaction, "turning a feedback page", cog.turn_page(interaction, self.page, self.reason)
        )


def pages_view(page: FeedbackPage) -> discord.ui.View | None:
    if page.pages <= 1:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(PageButton(max(1, page.page - 1), page.reason, "◀ Newer", disabled=page.page <= 1))
    view.add_item(
        PageButton(min(page.pages, page.page + 1), page.reason, "Older ▶", disabled=page.page >= page.pages)
    )
    return view


def why_embed(why: Explanation) -> discord.Embed:
    """Passages with scores, the decision and what it rested on, and the draft's checked sentences."""
    decided = "answer" if why.answerable else f"decline ({why.kind})"
    embed = discord.Embed(
        title=shorten(f"Why: {why.question}", 256),
        description=(
            f"**Decision:** {decided} - {why.reason or 'no reason recorded'}\n"
            f"Best coverage of the question: {why.coverage:.0%}"
            + (f" · terms no source uses: {', '.join(why.missing)}" if why.missing else "")
        ),
        colour=discord.Colour.dark_teal(),
    )
    passages = (
        "\n".join(f"`{s.score:.3f}` {s.passage.id}" for s in why.passages[:WHY_PASSAGES]) or "none found"
    )
    embed.add_field(name="Passages retrieval found (score)", value=shorten_lines(passages), inline=False)
    draft = (
        "\n".join(
            f"{'✅' if d.passed else ('❌' if d.checked else '➖')} {shorten(d.text, 180)}" for d in why.draft
        )
        or "no draft (no passages to write from)"
    )
    embed.add_field(
        name="Draft sentences (✅ would be shown, ❌ fails the check, ➖ too short to check)",
        value=shorten_lines(draft),
        inline=False,
    )
    return embed


def shorten_lines(text: str, limit: int = 1024) -> str:
    """Whole lines up to an embed field's limit (cutting mid-line would break a passage id)."""
    if len(text) <= limit:
        return text
    kept: list[str] = []
    for line in text.splitlines():
        if sum(len(k) + 1 for k in kept) + len(line) + 2 > limit:
            break
        kept.append(line)
    return "\n".join(kept) + "\n…"


async def refuse_non_moderators(interaction: discord.Interaction, bot: BriefingBot) -> bool:
    if interaction.guild is None or not is_moderator(interaction, bot.settings.moderator_role_ids):
        await tell(interaction, MODERATORS_ONLY)
        return True
    return False


class Feedback(commands.Cog):
    feedback = app_commands.Group(
        name="feedback", description="Moderators: what users flagged as bad answers."
    )

    def __init__(self, bot: BriefingBot) -> None:
        self.bot = bot

    @feedback.command(name="recent", description="Moderators: recent 👎 with their reasons (private).")
    @app_commands.describe(reason="Only this reason", page="Page number (newest first)")
    @app_commands.choices(reason=REASON_CHOICES)
    async def recent(
        self,
        interaction: discord.Interaction,
        reason: app_commands.Choice[str] | None = None,
        page: app_commands.Range[int, 1, 10_000] = 1,
    ) -> None:
        if await refuse_non_moderators(interaction, self.bot):
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        wanted = reason.value if reason else ""
        result = await self.bot.service.feedback_page(guild_key(interaction.guild), reason=wanted, page=page)
        if not result.total:
            await interaction.edit_original_response(
                content=NO_FEEDBACK.format(what=_filter(wanted)), allowed_mentions=NO_MENTIONS
            )
            return
        await interaction.edit_original_response(
            embed=page_embed(result), view=pages_view(result), allowed_mentions=NO_MENTIONS
        )

    async def turn_page(self, interaction: discord.Interaction, page: int, reason: str) -> None:
        """A Newer/Older click: the same check as the command (the message is private, but the
        check costs nothing and a moderator may have lost the role since)."""
        if await refuse_non_moderators(interaction, self.bot):
            return
        if reason and reason not in REASONS:
            reason = ""
        result = await self.bot.service.feedback_page(guild_key(interaction.guild), reason=reason, page=page)
        await interaction.response.edit_message(
            embed=page_embed(result), view=pages_view(result), allowed_mentions=NO_MENTIONS
        )

    @feedback.command(name="export", description="Moderators: 👎 as an eval question file (JSONL, private).")
    @app_commands.describe(reason="Only this reason")
    @app_commands.choices(reason=REASON_CHOICES)
    async def export(
        self, interaction: discord.Interaction, reason: app_commands.Choice[str] | None = None
    ) -> None:
        if await refuse_non_moderators(interaction, self.bot):
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        wanted = reason.value if reason else ""
        count, text = await self.bot.service.export_feedback(guild_key(interaction.guild), reason=wanted)
        if not count:
            await interaction.edit_original_response(
                content=NOTHING_TO_EXPORT.format(what=_filter(wanted)), allowed_mentions=NO_MENTIONS
            )
            return
        file = discord.File(io.BytesIO(text.encode()), filename=EXPORT_FILE)
        await interaction.edit_original_response(
            content=EXPORTED.format(count=count, s="s" if count != 1 else ""),
            attachments=[file],
            allowed_mentions=NO_MENTIONS,
        )

    @feedback.command(name="expect", description="Moderators: the facts a right answer holds (for export).")
    @app_commands.describe(
        answer="The answer's number (#N in /feedback recent)",
        facts='Keywords: groups separated by ";", alternatives by "|"',
    )
    async def expect(
        self, interaction: discord.Interaction, answer: app_commands.Range[int, 1], facts: str
    ) -> None:
        if await refuse_non_moderators(interaction, self.bot):
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        groups = await self.bot.service.set_expected(
            answer, guild_id=guild_key(interaction.guild), facts=facts
        )
        text = (
            EXPECT_SAVED.format(answer=answer, groups=groups)
            if groups
            else NO_SUCH_ANSWER.format(answer=answer)
        )
        await interaction.edit_original_response(content=text, allowed_mentions=NO_MENTIONS)

    @app_commands.command(
        name="why", description="Moderators: why the bot would answer or decline (private)."
    )
    @app_commands.describe(question="The question to explain")
    async def why(self, interaction: discord.Interaction, question: str) -> None:
        if await refuse_non_moderators(interaction, self.bot):
            return
        if await refuse_if_limited(interaction, self.bot.limiter):  # it runs the model
            return
        check_length(question, self.bot.settings.max_input_chars)
        await interaction.response.defer(ephemeral=True, thinking=True)
        explanation = await self.bot.service.why(question, user_id=str(interaction.user.id))
        await interaction.edit_original_response(embed=why_embed(explanation), allowed_mentions=NO_MENTIONS)


async def setup(bot: BriefingBot) -> None:
    bot.add_dynamic_items(*DYNAMIC_ITEMS, PageButton)
    await bot.add_cog(Feedback(bot))
