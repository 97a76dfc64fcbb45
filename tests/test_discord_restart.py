"""A restart continues conversations: a new bot on the same database file knows which conversation
a reply to an old bot message belongs to, and that the debate thread it opened is its own."""

from __future__ import annotations

from pathlib import Path

from discord_imitation import DiscordImitation
from discord_imitation.harness import bot_settings, final_reply, final_response, finished, running_bot

from bot.discord_app.cogs.debate import RESTARTED
from bot.engine.base import GenerationRequest
from bot.engine.scripted import ScriptedEngine

FIRST = "What does the race framing say about the Chernobyl moment?"
FOLLOW_UP = "And what does the cooperation framing say?"


def echo(request: GenerationRequest) -> str:
    """Answer with a cited sentence; the prompt (with any history) is what the test inspects."""
    return "Researchers fear a Chernobyl moment for AI [1]."


async def test_restart_continues_a_reply_chain_and_a_thread(tmp_path: Path) -> None:
    imitation = await DiscordImitation().start()
    settings = bot_settings(imitation, tmp_path)
    try:
        async with running_bot(settings, ScriptedEngine(echo)):
            question = await imitation.send(FIRST, mention_bot=True)
            answer = await final_reply(imitation, question)
            debate = await imitation.command("debate", motion="The US should race China to AGI", rounds=1)
            await final_response(imitation, debate)
            thread_id = await imitation.wait_for(lambda: next(iter(imitation.world.threads), None))
            await imitation.wait_for(
                lambda: any("What next?" in m.content for m in imitation.world.bot_messages(thread_id))
            )
        imitation.world.threads[thread_id]["owner_id"] = (
            "1"  # not in the cache as the bot's: the store must know
        )

        engine = ScriptedEngine(echo)
        async with running_bot(settings, engine) as bot:
            follow_up = await imitation.send(FOLLOW_UP, reply_to=answer.id)
            assert finished(await final_reply(imitation, follow_up))
            history = "\n".join(m.content for m in engine.requests[-1].messages)
            assert FIRST in history  # the first exchange, from before the restart, is in the prompt
            conversation = f"discord:msg:{question.id}"
            assert [t.display for t in await bot.service.store.history(conversation)][::2] == [
                FIRST,
                FOLLOW_UP,
            ]

            controls = next(m for m in imitation.world.bot_messages(thread_id) if "What next?" in m.content)
            click = await imitation.click(controls, controls.custom_ids()[0])
            ended = await imitation.wait_for(
                lambda: click.callbacks and imitation.response(click), what="the old button's answer"
            )
            assert ended.content == RESTARTED and ended.ephemeral

            in_thread = await imitation.send("What is the cooperation framing?", channel_id=thread_id)
            assert finished(await final_reply(imitation, in_thread))
            assert await bot.service.store.history(f"discord:thread:{thread_id}")
    finally:
        await imitation.stop()
