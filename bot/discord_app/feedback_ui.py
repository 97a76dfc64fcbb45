"""The buttons under the bot's replies: 👍/👎 (with "what was wrong?") and "More from the sources" on
a final reply, and Stop on a reply being written.

Every control is a `DynamicItem`: its custom id carries what it acts on (the shown answer's id, the
asker's id), so a click is understood after a restart without any state in memory. The answers and
votes themselves live in the database, reached through `BriefingService`; this module only turns
clicks into calls and results into short private messages.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import discord

from bot.briefing.models import Answer
from bot.discord_app.cogs.moderation import is_moderator
from bot.discord_app.courier import NO_MENTIONS
from bot.discord_app.failures import user_message
from bot.discord_app.formatting import MORE_LABEL, answer_text, more_text
from bot.feedback import MAX_NOTE_CHARS, REASONS, shown_answer

if TYPE_CHECKING:
    from bot.discord_app.client import BriefingBot

log = logging.getLogger(__name__)

THANKS_UP = "Thanks - noted 👍. You can change your vote at any time."
WHAT_WRONG = (
    "Thanks - noted 👎. What was wrong? (optional: pick a reason, and add a note if you like; "
    "only the server's moderators see it)"
)
REASON_SAVED = "Thanks - noted 👎 · **{label}**. You can still add a note or pick another reason."
NOTE_SAVED = "Thanks - your note was saved for the moderators."
NOT_DOWN = "Your vote on that answer is no longer 👎, so there is nothing to add a reason to."
ANSWER_GONE = "That answer is no longer on record (old answers are deleted after a while)."
STOPPED = "-# ⏹️ Stopped by {who}."
STOP_DONE = "This reply has already finished (or I restarted since), so there is nothing to stop."
STOP_NOT_YOURS = "Only the member who asked, or a moderator, can stop this reply."


def _bot(interaction: discord.Interaction) -> BriefingBot:
    return interaction.client  # type: ignore[return-value]


async def _tell(interaction: discord.Interaction, text: str) -> None:
    await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)


async def reporting(interaction: discord.Interaction, doing: str, work: Awaitable[None]) -> None:
    """Run a click's work; a failure (the database down) becomes a private sentence. discord.py only
    logs a component's exceptions, and the member would see "This interaction failed"."""
    try:
        await work
    except Exception as exc:
        text = user_message(exc, doing=doing)
        try:
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
            else:
                await _tell(interaction, text)
        except discord.HTTPException:
            log.warning("could not report a failed click", exc_info=True)


class VoteButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"fb:(?P<vote>up|down):(?P<answer>\d+)"
):
    def __init__(self, vote: str, answer_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                emoji="👍" if vote == "up" else "👎",
                style=discord.ButtonStyle.secondary,
                custom_id=f"fb:{vote}:{answer_id}",
            )
        )
        self.vote, self.answer_id = vote, answer_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> VoteButton:
        return cls(match["vote"], int(match["answer"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await reporting(interaction, "recording a vote", self._vote(interaction))

    async def _vote(self, interaction: discord.Interaction) -> None:
        service = _bot(interaction).service
        user = str(interaction.user.id)
        if not await service.vote(self.answer_id, user_id=user, vote=self.vote):  # type: ignore[arg-type]
            await _tell(interaction, ANSWER_GONE)
        elif self.vote == "up":
            await _tell(interaction, THANKS_UP)
        else:
            await interaction.response.send_message(
                WHAT_WRONG, view=reason_view(self.answer_id), ephemeral=True, allowed_mentions=NO_MENTIONS
            )


class ReasonSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"fb:reason:(?P<answer>\d+)"):
    def __init__(self, answer_id: int) -> None:
        options = [discord.SelectOption(label=label, value=value) for value, label in REASONS.items()]
        super().__init__(
            discord.ui.Select(
                custom_id=f"fb:reason:{answer_id}", placeholder="What was wrong?", options=options
            )
        )
        self.answer_id = answer_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ReasonSelect:
        return cls(int(match["answer"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await reporting(interaction, "recording a reason", self._choose(interaction))

    async def _choose(self, interaction: discord.Interaction) -> None:
        reason = self.item.values[0] if self.item.values else ""
        service = _bot(interaction).service
        if not await service.explain_vote(self.answer_id, user_id=str(interaction.user.id), reason=reason):
            await interaction.response.edit_message(content=NOT_DOWN, view=None)
            return
        await interaction.response.edit_message(
            content=REASON_SAVED.format(label=REASONS[reason]), view=reason_view(self.answer_id)
        )


class NoteButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"fb:note:(?P<answer>\d+)"):
    def __init__(self, answer_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Add a note", style=discord.ButtonStyle.secondary, custom_id=f"fb:note:{answer_id}"
            )
        )
        self.answer_id = answer_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> NoteButton:
        return cls(int(match["answer"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(NoteModal(self.answer_id))


class NoteModal(discord.ui.Modal, title="What was wrong with the answer?"):
    note: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Note for the moderators (optional)",
        style=discord.TextStyle.paragraph,
        max_length=MAX_NOTE_CHARS,
        required=False,
        custom_id="note",
    )

    def __init__(self, answer_id: int) -> None:
        super().__init__(custom_id=f"fb:note-form:{answer_id}")
        self.answer_id = answer_id

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await reporting(interaction, "saving a note", self._save(interaction))

    async def _save(self, interaction: discord.Interaction) -> None:
        service = _bot(interaction).service
        saved = await service.explain_vote(
            self.answer_id, user_id=str(interaction.user.id), note=self.note.value or ""
        )
        await _tell(interaction, NOTE_SAVED if saved else NOT_DOWN)


class StopButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"reply:stop:(?P<asker>\d+)"):
    """Stops the reply the button is on; the reply is found among those in progress by message id."""

    def __init__(self, asker_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Stop",
                emoji="⏹️",
                style=discord.ButtonStyle.secondary,
                custom_id=f"reply:stop:{asker_id}",
            )
        )
        self.asker_id = asker_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> StopButton:
        return cls(int(match["asker"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        bot = _bot(interaction)
        message_id = interaction.message.id if interaction.message else 0
        replies = [r for r in bot.courier.replying_to(message_id) if not r.stopped.is_set()]
        if not replies:
            await _tell(interaction, STOP_DONE)
            return
        if interaction.user.id != self.asker_id and not is_moderator(
            interaction, bot.settings.moderator_role_ids
        ):
            await _tell(interaction, STOP_NOT_YOURS)
            return
        for reply in replies:
            reply.stop(STOPPED.format(who=interaction.user.mention))
        await interaction.response.defer()  # the reply's own edit says it was stopped


class MoreButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"fb:more:(?P<answer>\d+)"):
    """Shows, privately, the passages an answer rested on but did not quote: the answer stays short,
    and a reader who wants the rest gets it without asking again."""

    def __init__(self, answer_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label=MORE_LABEL, style=discord.ButtonStyle.secondary, custom_id=f"fb:more:{answer_id}"
            )
        )
        self.answer_id = answer_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> MoreButton:
        return cls(int(match["answer"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await reporting(interaction, "looking up the sources", self._show(interaction))

    async def _show(self, interaction: discord.Interaction) -> None:
        passages = await _bot(interaction).service.more_from_sources(self.answer_id)
        await _tell(interaction, ANSWER_GONE if passages is None else more_text(passages))


DYNAMIC_ITEMS = (VoteButton, ReasonSelect, NoteButton, StopButton, MoreButton)


def feedback_view(answer_id: int, *, more: bool = False) -> discord.ui.View:
    """👍/👎 under a final reply, and "More from the sources" when it rested on passages it did not
    quote."""
    view = discord.ui.View(timeout=None)
    view.add_item(VoteButton("up", answer_id))
    view.add_item(VoteButton("down", answer_id))
    if more:
        view.add_item(MoreButton(answer_id))
    return view


def reason_view(answer_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ReasonSelect(answer_id))
    view.add_item(NoteButton(answer_id))
    return view


def stop_view(asker_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(StopButton(asker_id))
    return view


def guild_key(guild: discord.abc.Snowflake | None) -> str:
    """Feedback is kept per server; '' for direct messages."""
    return str(guild.id) if guild is not None else ""


async def feedback_for(
    bot: BriefingBot,
    record: dict[str, Any],
    *,
    guild: discord.abc.Snowflake | None,
    asker_id: int,
    more: bool = False,
) -> discord.ui.View | None:
    """Record what is about to be shown and return its buttons (see `feedback_view`); None (no
    buttons) when the database cannot take it: a missing button must never cost the user the answer."""
    try:
        answer_id = await bot.service.record_shown(record, guild_id=guild_key(guild), asker_id=str(asker_id))
    except Exception:
        log.warning("could not record a shown answer for feedback", exc_info=True)
        return None
    return feedback_view(answer_id, more=more)


def answer_feedback(
    bot: BriefingBot, *, mode: str, guild: discord.abc.Snowflake | None, asker_id: int
) -> Callable[[Answer], Awaitable[discord.ui.View | None]]:
    """For `stream_answer`: record the final answer (or brief), return its buttons."""

    async def record(answer: Answer) -> discord.ui.View | None:
        shown = shown_answer(answer, mode=mode, prompt_version=bot.service.prompt_version)
        shown["answer"] = answer_text(answer)  # as the member saw it (quotes a line each)
        cited = {c.id for c in answer.citations}
        more = answer.kind == "answer" and any(p.passage.id not in cited for p in answer.passages)
        return await feedback_for(bot, shown, guild=guild, asker_id=asker_id, more=more)

    return record
