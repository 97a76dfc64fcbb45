"""Slash commands, debates, threads, mention safety, the rate limit, the queue and failures, with a
real discord.py client against the Discord imitation. The model is a `ScriptedEngine`: these tests
are about what the bot does on Discord with the model's output, so the output is chosen (an
`@everyone`, a slow stream, a crash) rather than generated. One bot serves the whole module.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from discord_imitation import DiscordImitation
from discord_imitation.harness import bot_settings, final_reply, final_response, finished, running_bot

from bot.briefing.sentences import QUOTE_LEAD
from bot.discord_app import formatting
from bot.discord_app.client import BriefingBot
from bot.discord_app.cogs.commands import RESET_CHANNEL, RESET_DONE
from bot.discord_app.cogs.debate import GONE
from bot.discord_app.failures import UNEXPECTED
from bot.discord_app.limits import RateLimiter
from bot.engine.base import GenerationRequest
from bot.engine.scripted import ScriptedEngine

QUESTION = "What does the race framing say about speed and safety?"
ANSWER = "The race framing puts speed ahead of safety [1]. Researchers fear a Chernobyl moment [2]."
# Put before a source sentence, which the check lets through. Role and user mentions ("<@&123>")
# carry figures no source gives, so the check drops a sentence holding one; "@everyone" gets through.
PING = "@everyone @here"
MOTION = "The US should race China to build more powerful AI as fast as possible"


def quote_everything(prompt: str) -> str:
    """Every sentence of every passage in the prompt, cited once: a long answer that survives
    citation checking (a sentence repeated would be shown once, so repeats make nothing longer)."""
    cited = [
        f"{sentence.rstrip('.')} [{number}]."
        for number, text in re.findall(r"^\[(\d+)\] [^:\n]*: (.*)$", prompt, re.M)
        for sentence in re.split(r"(?<=[.!?])\s+", text)
    ]
    return " ".join(cited)


def script(request: GenerationRequest) -> str:
    """Replies chosen by marker words in the question (the last message of the prompt)."""
    asked = request.messages[-1].content
    if "longtest" in asked:
        return quote_everything(asked)
    if "pingtest" in asked:
        return f"{PING} {quote_everything(asked).split('. ')[0]}."
    if "crashtest" in asked:
        raise RuntimeError("simulated bug in the model backend")
    return ANSWER


@pytest.fixture(scope="module")
def engine() -> ScriptedEngine:
    return ScriptedEngine(script, n_slots=1)


@pytest.fixture(scope="module")
async def discord_bot(
    engine: ScriptedEngine, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[DiscordImitation, BriefingBot]]:
    imitation = await DiscordImitation().start()
    # A large answer budget: the scripted answers are short, except the one that tests splitting.
    settings = bot_settings(imitation, tmp_path_factory.mktemp("discord-commands"), max_answer_tokens=2000)
    try:
        async with running_bot(settings, engine) as bot:
            yield imitation, bot
    finally:
        await imitation.stop()


@pytest.fixture
def im(discord_bot: tuple[DiscordImitation, BriefingBot]) -> DiscordImitation:
    return discord_bot[0]


@pytest.fixture
def bot(discord_bot: tuple[DiscordImitation, BriefingBot]) -> BriefingBot:
    return discord_bot[1]


# --- login and sync ---------------------------------------------------------------------------


async def test_login_identifies_with_message_content_and_syncs_every_command(im: DiscordImitation) -> None:
    world = im.world
    assert world.identifies and world.identifies[0]["intents"] & (1 << 15)  # message content
    assert world.synced and world.synced[0][0] is None  # global sync (no DEV_GUILD_ID)
    names = {c["name"] for c in world.synced[0][1]}
    assert names == set("ask brief debate factcheck sources reset status reload prompts feedback why".split())
    brief = world.commands["brief"]
    assert brief["options"][0]["autocomplete"] is True


# --- slash commands ---------------------------------------------------------------------------


async def test_ask_streams_into_the_response_with_sources(im: DiscordImitation) -> None:
    interaction = await im.command("ask", question=QUESTION)
    response = await final_response(im, interaction)
    assert interaction.callbacks[0]["type"] == 5  # deferred ("thinking") at once
    assert finished(response) and "speed ahead of safety" in response.content
    assert response.embeds and response.embeds[0]["title"] == "Sources"
    assert "`" in response.embeds[0]["description"]  # citation ids


async def test_reply_to_an_ask_response_continues_its_conversation(
    im: DiscordImitation, engine: ScriptedEngine
) -> None:
    interaction = await im.command("ask", question=QUESTION)
    response = await final_response(im, interaction)
    follow_up = await im.send("And what about the cooperation framing?", reply_to=response.id)
    await final_reply(im, follow_up)
    prompt = "\n".join(m.content for m in engine.requests[-1].messages)
    assert "speed ahead of safety" in prompt  # the earlier answer is part of the conversation


async def test_brief_autocomplete_offers_topics_from_the_sources(im: DiscordImitation) -> None:
    choices = await im.autocomplete("brief", "topic", "chern")
    assert 1 <= len(choices) <= 25
    assert all("chern" in c["name"].lower() and len(c["name"]) <= 100 for c in choices)


async def test_brief_gives_a_structured_briefing(im: DiscordImitation) -> None:
    interaction = await im.command("brief", topic="Chernobyl moment for AI")
    response = await final_response(im, interaction)
    assert "Bottom line" in response.content and "Key facts" in response.content
    assert response.embeds and response.embeds[0]["title"] == "Sources"


async def test_brief_works_in_dms_too(im: DiscordImitation) -> None:
    dm = im.world.dm_channel("alice")
    interaction = await im.command("brief", channel_id=dm, topic="Chernobyl moment for AI")
    response = await final_response(im, interaction)
    assert response.channel_id == dm and "Bottom line" in response.content


async def test_factcheck_gives_a_verdict_with_evidence(im: DiscordImitation) -> None:
    interaction = await im.command("factcheck", claim="The Chernobyl nuclear meltdown happened in 1986.")
    response = await final_response(im, interaction)
    assert any(verdict in response.content for verdict in formatting.VERDICTS.values())
    assert response.embeds


async def test_sources_searches_and_lists(im: DiscordImitation) -> None:
    search = await im.command("sources", query="Chernobyl meltdown")
    found = await final_response(im, search)
    assert "Chernobyl" in found.text and "`" in found.embeds[0]["description"]
    listing = await im.command("sources")
    listed = await final_response(im, listing)
    assert listed.embeds[0]["title"] == "Briefing sources" and "liu-race-narrative" in listed.text


async def test_status_reports_model_queue_speed_and_prompt_version(
    im: DiscordImitation, bot: BriefingBot
) -> None:
    interaction = await im.command("status")
    response = await final_response(im, interaction)
    assert response.ephemeral
    for expected in ("scripted", "Queue", "tokens/s", bot.service.prompt_version):
        assert expected in response.text


async def test_reset_forgets_the_dm_conversation(im: DiscordImitation, bot: BriefingBot) -> None:
    dm = im.world.dm_channel("carol")
    question = await im.dm("Chernobyl moment", author="carol")
    await final_reply(im, question)
    conversation = f"discord:dm:{dm}"
    assert await bot.service.store.history(conversation)
    interaction = await im.command("reset", user="carol", channel_id=dm)
    assert RESET_DONE in (await final_response(im, interaction)).content
    assert not await bot.service.store.history(conversation)
    in_channel = await im.command("reset")
    assert RESET_CHANNEL in (await final_response(im, in_channel)).content


# --- debate, threads -----------------------------------------------------------------------------


def thread_messages(im: DiscordImitation, thread_id: int) -> list[Any]:
    return im.world.bot_messages(thread_id)


async def controls(im: DiscordImitation, thread_id: int, count: int) -> Any:
    """Wait for the `count`-th control message (the one with buttons) in the thread."""
    return await im.wait_for(
        lambda: [m for m in thread_messages(im, thread_id) if "What next?" in m.content][count - 1 : count],
        what=f"debate controls #{count}",
    )


async def new_debate_thread(im: DiscordImitation, rounds: int) -> int:
    """Start a debate on MOTION and return its thread (a new one: other tests may have made theirs)."""
    before = set(im.world.threads)
    await im.command("debate", motion=MOTION, rounds=rounds)
    return await im.wait_for(lambda: next(iter(set(im.world.threads) - before), None), what="the thread")


async def test_debate_in_a_thread_with_buttons(im: DiscordImitation) -> None:
    before = set(im.world.threads)
    interaction = await im.command("debate", motion=MOTION, rounds=2)
    response = await final_response(im, interaction)
    thread_id = await im.wait_for(
        lambda: next(iter(set(im.world.threads) - before), None), what="the debate thread"
    )
    assert im.world.threads[thread_id]["name"].startswith("Debate:")
    assert f"<#{thread_id}>" in response.content
    [first] = await controls(im, thread_id, 1)
    speeches = [m for m in thread_messages(im, thread_id) if finished(m)]
    assert [("Race side" in m.content, "Cooperation side" in m.content) for m in speeches] == [
        (True, False),
        (False, True),
    ]  # one message per turn, race first: a model's second try adds to its speech's one message
    assert all("side argues" in m.content for m in speeches), "each opens with its position"
    assert {"debate:next", "debate:judge", "debate:stop"} == {c.rsplit(":", 1)[0] for c in first.custom_ids()}

    await im.click(first, next(c for c in first.custom_ids() if c.startswith("debate:next")))
    [second] = await controls(im, thread_id, 2)
    assert not first.components  # used buttons are removed
    assert len([m for m in thread_messages(im, thread_id) if finished(m)]) == 4
    next_button = second.components[0]["components"][0]
    assert next_button["disabled"] is True  # both planned rounds played

    await im.click(second, next(c for c in second.custom_ids() if c.startswith("debate:judge")))
    judge = await im.wait_message(
        lambda m: m.channel_id == thread_id and formatting.JUDGE_HEADER in m.content
    )
    await im.wait_for(lambda: finished(judge), what="the judge's summary")
    assert "Strongest race point" in judge.content and "Verdict" in judge.content


async def test_debate_takes_the_side_the_user_says_the_motion_favours(im: DiscordImitation) -> None:
    """The motion below reads as favouring the race side; a member who says it favours the
    cooperation side has the race side argue against it."""
    before = set(im.world.threads)
    await im.command("debate", motion=MOTION, rounds=1, favours="cooperation")
    thread_id = await im.wait_for(lambda: next(iter(set(im.world.threads) - before), None), what="the thread")
    await controls(im, thread_id, 1)
    race = next(m for m in thread_messages(im, thread_id) if finished(m) and "Race side" in m.content)
    assert "The race side argues against the motion" in race.content, race.content[:200]
    with pytest.raises(ValueError, match="Discord offers only"):
        await im.command("debate", motion=MOTION, rounds=1, favours="neither")


async def test_debate_stop_button_and_a_debate_the_bot_no_longer_holds(
    im: DiscordImitation, bot: BriefingBot
) -> None:
    thread_id = await new_debate_thread(im, rounds=3)
    [control] = await controls(im, thread_id, 1)
    cog: Any = bot.get_cog("Debates")
    held = dict(cog.debates)
    cog.debates.clear()  # as after a restart: the buttons are still there, the debate is not
    stale = await im.click(control, next(c for c in control.custom_ids() if c.startswith("debate:next")))
    answer = await im.wait_for(
        lambda: stale.callbacks and im.response(stale), what="the stale click's answer"
    )
    assert GONE in answer.content and answer.ephemeral
    cog.debates.update(held)
    await im.click(control, next(c for c in control.custom_ids() if c.startswith("debate:stop")))
    await im.wait_message(lambda m: m.channel_id == thread_id and "Debate stopped" in m.content)


async def test_messages_in_the_bots_thread_are_answered_without_a_mention(
    im: DiscordImitation, bot: BriefingBot
) -> None:
    thread_id = await new_debate_thread(im, rounds=1)
    await controls(im, thread_id, 1)  # the first round is over: the thread is quiet
    question = await im.send(QUESTION, channel_id=thread_id)
    reply = await final_reply(im, question)
    assert "speed ahead of safety" in reply.content
    assert await bot.service.store.history(f"discord:thread:{thread_id}")


async def test_debate_refuses_an_off_subject_motion(im: DiscordImitation) -> None:
    interaction = await im.command("debate", motion="Pineapple belongs on pizza", rounds=1)
    response = await final_response(im, interaction)
    assert not finished(response) and response.content  # the off-topic message, not a debate


# --- safety, limits, failures ------------------------------------------------------------------


async def test_model_output_with_everyone_pings_nobody(im: DiscordImitation) -> None:
    question = await im.send(f"{QUESTION} pingtest", mention_bot=True)
    reply = await final_reply(im, question)
    assert any("@everyone" in v.content for v in reply.versions)
    for version in reply.versions:
        assert version.allowed_mentions is not None and version.allowed_mentions["parse"] == []
        assert not version.allowed_mentions.get("users") and not version.allowed_mentions.get("roles")


async def test_a_long_answer_is_split_over_messages_without_losing_words(
    im: DiscordImitation, bot: BriefingBot
) -> None:
    question = await im.send("Which warning signs do researchers watch for? longtest", mention_bot=True)
    first = await final_reply(im, question)
    last = await im.wait_message(
        lambda m: m.channel_id == question.channel_id and finished(m) and m.id > first.id
    )
    parts = [m for m in im.world.bot_messages(question.channel_id) if first.id <= m.id <= last.id]
    assert len(parts) >= 2 and all(len(m.content) <= 2000 for m in parts)
    shown = " ".join(m.content for m in parts).split(formatting.FINISHED)[0]
    [_, answer] = await bot.service.store.history(f"discord:msg:{question.id}")
    assert len(answer.display) > 2000
    # every word of the model's text, in order (the supporting quotes after it are a line each on
    # Discord, whole in the sources embed)
    assert shown.split(QUOTE_LEAD)[0].split() == answer.display.split(QUOTE_LEAD)[0].split()
    assert parts[-1].embeds and parts[-1].embeds[0]["title"] == "Sources"


async def test_other_bots_and_unaddressed_messages_are_ignored(im: DiscordImitation) -> None:
    from_bot = await im.send(QUESTION, author="otherbot", mention_bot=True)
    unaddressed = await im.send(QUESTION)
    await asyncio.sleep(0.5)
    assert not im.replies_to(from_bot.id) and not im.replies_to(unaddressed.id)


async def test_allowed_channels(
    im: DiscordImitation, bot: BriefingBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.settings, "allowed_channel_ids", [im.world.general])
    elsewhere = await im.send(QUESTION, channel_id=im.world.other_channel, mention_bot=True)
    here = await im.send(QUESTION, mention_bot=True)
    await final_reply(im, here)
    assert not im.replies_to(elsewhere.id)


async def test_rate_limit_answers_with_a_wait_message(im: DiscordImitation, bot: BriefingBot) -> None:
    original = bot.limiter
    bot.limiter = RateLimiter(2)
    try:
        replies = []
        for _ in range(3):
            question = await im.send(QUESTION, author="bob", mention_bot=True)
            replies.append(await final_reply(im, question))
        assert [finished(r) for r in replies] == [True, True, False]
        assert "please wait" in replies[2].content
        limited = await im.command("ask", user="bob", question=QUESTION)
        response = await final_response(im, limited)
        assert response.ephemeral and "please wait" in response.content
    finally:
        bot.limiter = original


async def test_input_length_limit(im: DiscordImitation, bot: BriefingBot) -> None:
    question = await im.send("x " * bot.settings.max_input_chars, mention_bot=True)
    reply = await final_reply(im, question)
    assert "characters" in reply.content and not finished(reply)


async def test_a_failure_edits_the_reply_into_an_error_and_the_bot_keeps_going(im: DiscordImitation) -> None:
    question = await im.send(f"{QUESTION} crashtest", mention_bot=True)
    assert (await final_reply(im, question)).content == UNEXPECTED
    again = await im.send(QUESTION, mention_bot=True)
    assert finished(await final_reply(im, again))


async def test_queue_position_shown_and_updated_with_two_users(
    im: DiscordImitation, engine: ScriptedEngine
) -> None:
    # A channel of its own: its message buckets (5 creates per 5 s, enforced by the imitation and
    # kept by the bot) start full whatever other tests sent, so the replies wait for the model only.
    channel = await im.new_channel("queue")
    # ~3 s per answer on the single slot: long enough for a waiting reply's position to get a share
    # of the channel's edit budget past the three replies' stage edits
    engine.delay = 0.2
    try:
        questions = [
            await im.send(QUESTION, author=who, channel_id=channel, mention_bot=True)
            for who in ("alice", "bob", "carol")
        ]
        replies = await asyncio.gather(*(final_reply(im, q) for q in questions))
    finally:
        engine.delay = 0.0
    assert all(finished(r) for r in replies)
    # Shown and kept current; an update that was overtaken while waiting for the channel's budget is
    # skipped (coalesced), so the positions shown only go down, to "you are next". Which user is
    # served first, and which waits longest, depends on which question was weighed first (each in
    # a worker thread): one reply never waits, the other two do.
    positions = [
        [
            int(re.search(r"position (\d)", v.content).group(1))
            for v in r.versions
            if "waiting in the queue" in v.content
        ]  # type: ignore[union-attr]
        for r in replies
    ]
    shown = [p for p in positions if p]
    # Three answers on one slot: two replies wait, and at least one of them shows where it stands.
    # (Which do is timing: a position overtaken while waiting for the channel's budget is skipped.)
    assert 1 <= len(shown) <= 2, positions
    # Each reply's stages (the passages found, "checking") share the channel's edit budget with the
    # positions, so the last position a reply shows may be overtaken by its answer and coalesced
    # away: "you are next" is not always shown, a position going up never is.
    assert all(p == sorted(p, reverse=True) for p in shown), shown
    # Under load even the later one's "position 2" may be overtaken by its "you are next" before the
    # budget lets it out, so which positions show is timing; that they are real positions is not.
    assert all(1 <= x <= 2 for p in shown for x in p), shown
    gaps = [b.at - a.at for r in replies for a, b in zip(r.versions, r.versions[1:], strict=False)]
    # At most about one edit per second. A lower bound that load cannot break: the bot starts its
    # one-second wait when Discord has answered an edit, which the imitation records on arrival.
    assert all(gap >= 0.9 for gap in gaps)


async def test_typing_indicator_while_answering(im: DiscordImitation, engine: ScriptedEngine) -> None:
    """Typing shows while the model thinks (here: 0.5 s before the first word), once per channel."""
    engine.delay = 0.5
    try:
        before = len(im.world.typing)
        await final_reply(im, await im.send(QUESTION, author="bob", mention_bot=True))
    finally:
        engine.delay = 0.0
    assert [channel for channel, _ in im.world.typing[before:]] == [im.world.general]


def message_bodies(im: DiscordImitation, since: int = 0) -> list[tuple[str, dict[str, Any]]]:
    """(path, body) of every message the bot sent (created, edited, or answered an interaction with)
    from its `since`-th request on."""
    bodies = []
    for request in im.world.requests[since:]:
        body = request.body if isinstance(request.body, dict) else None
        if body and "/callback" in request.path:
            body = body.get("data")
        if body and body.get("content") is not None:
            bodies.append((request.path, body))
    return bodies


@pytest.fixture(autouse=True)
def every_message_disallows_mentions(im: DiscordImitation) -> Iterator[None]:
    """Checked after every test of the module, over what that test made the bot send (whatever ran
    before it)."""
    since = len(im.world.requests)
    yield
    for path, body in message_bodies(im, since):
        assert body.get("allowed_mentions", {}).get("parse") == [], path


async def test_every_kind_of_message_disallows_mentions(im: DiscordImitation) -> None:
    since = len(im.world.requests)
    await final_reply(im, await im.send(f"{QUESTION} pingtest", mention_bot=True))
    await final_response(im, await im.command("ask", question=f"{QUESTION} pingtest"))
    await final_reply(im, await im.dm("Chernobyl moment for AI", author="bob"))
    await final_response(im, await im.command("status"))
    bodies = message_bodies(im, since)
    assert len(bodies) >= 4
    for path, body in bodies:
        assert body.get("allowed_mentions", {}).get("parse") == [], path
