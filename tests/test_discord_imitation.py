"""The Discord imitation enforces what Discord enforces, so that tests of the bot can fail: per-route
buckets with `X-RateLimit-*` headers, 429 with `retry_after` and `Via`, the global limit, the
3-second deadline of an interaction, expiring interaction tokens, 403 and 404."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from discord_imitation import DiscordImitation
from discord_imitation.server import APPLICATION_COMMAND


@pytest.fixture
async def im() -> AsyncIterator[DiscordImitation]:
    imitation = await DiscordImitation().start()
    yield imitation
    await imitation.stop()


@pytest.fixture
async def http(im: DiscordImitation) -> AsyncIterator[aiohttp.ClientSession]:
    headers = {"Authorization": f"Bot {im.world.token}"}
    async with aiohttp.ClientSession(f"http://127.0.0.1:{im.port}", headers=headers) as session:
        yield session


async def test_a_channel_takes_five_messages_per_five_seconds(
    im: DiscordImitation, http: aiohttp.ClientSession
) -> None:
    path = f"/api/v10/channels/{im.world.general}/messages"
    answers = []
    for i in range(6):
        async with http.post(path, json={"content": f"m{i}"}) as response:
            answers.append((response.status, dict(response.headers), await response.json()))
    assert [status for status, *_ in answers] == [200] * 5 + [429]
    assert [h["X-RateLimit-Remaining"] for _, h, _ in answers[:5]] == ["4", "3", "2", "1", "0"]
    assert 4.0 < float(answers[4][1]["X-RateLimit-Reset-After"]) <= 5.0
    _, headers, body = answers[5]
    assert headers["Via"] == "1.1 google" and headers["X-RateLimit-Bucket"]
    assert body["global"] is False and 4.0 < body["retry_after"] <= 5.0
    assert len(im.refused) == 1 and len(im.world.bot_messages()) == 5
    async with http.post(f"/api/v10/channels/{im.world.other_channel}/messages", json={"content": "x"}) as r:
        assert r.status == 200, "another channel is another bucket"
    edit = f"{path}/{im.world.bot_messages()[0].id}"
    async with http.patch(edit, json={"content": "edited"}) as r:
        assert r.status == 200, "edits have a bucket of their own"


async def test_the_global_limit(im: DiscordImitation, http: aiohttp.ClientSession) -> None:
    statuses = []
    for _ in range(55):
        async with http.get("/api/v10/users/@me") as response:
            statuses.append(response.status)
            if response.status == 429:
                assert (await response.json())["global"] is True
                assert response.headers["X-RateLimit-Global"] == "true"
    assert statuses.count(200) == 50 and statuses.count(429) == 5
    assert all(r.is_global for r in im.refused)


async def test_interactions_have_a_deadline_and_their_tokens_expire(
    im: DiscordImitation, http: aiohttp.ClientSession
) -> None:
    person = im.world.person("alice")
    late = im._interaction_payload(APPLICATION_COMMAND, {"name": "ask"}, person, im.world.general)
    late.created -= 3.5
    async with http.post(f"/api/v10/interactions/{late.id}/{late.token}/callback", json={"type": 5}) as r:
        assert r.status == 404 and (await r.json())["code"] == 10062
    assert im.world.late_interactions == [late]

    on_time = im._interaction_payload(APPLICATION_COMMAND, {"name": "ask"}, person, im.world.general)
    async with http.post(
        f"/api/v10/interactions/{on_time.id}/{on_time.token}/callback", json={"type": 5}
    ) as r:
        assert r.status == 204
    im.world.token_ttl_s = 0.0
    app = im.world.application_id
    async with http.patch(
        f"/api/v10/webhooks/{app}/{on_time.token}/messages/@original", json={"content": "x"}
    ) as r:
        assert r.status == 401 and (await r.json())["code"] == 50027


async def test_deleted_messages_and_lost_access(im: DiscordImitation, http: aiohttp.ClientSession) -> None:
    path = f"/api/v10/channels/{im.world.general}/messages"
    async with http.post(path, json={"content": "placeholder"}) as r:
        message = im.world.messages[int((await r.json())["id"])]
    question = await im.send("a question")
    await im.delete(message)
    async with http.patch(f"{path}/{message.id}", json={"content": "x"}) as r:
        assert r.status == 404 and (await r.json())["code"] == 10008
    await im.delete(question)
    reply = {"content": "answer", "message_reference": {"message_id": str(question.id)}}
    async with http.post(path, json=reply) as r:
        assert r.status == 400, "a reply to a deleted message"
    im.revoke_access(im.world.general)
    async with http.post(path, json={"content": "x"}) as r:
        assert r.status == 403 and (await r.json())["code"] == 50001
