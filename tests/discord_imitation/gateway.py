"""The gateway: HELLO, heartbeats, IDENTIFY -> READY + GUILD_CREATE, then dispatches.

Frames go out as plain text JSON (discord.py inflates only binary frames). Resuming is not
imitated: a RESUME is answered with INVALID_SESSION, which makes discord.py identify afresh.

Shards, as Discord does them: IDENTIFY carries `shard: [id, count]`; a connection gets READY and
GUILD_CREATE for the guilds of its shard only, each event of a guild goes to the connection whose
shard holds the guild (`(guild_id >> 22) % count`), and DMs go to shard 0. A shard id outside the
count is closed with 4010, as Discord does.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web

from discord_imitation.world import World

log = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_MS = 41_250
OP_DISPATCH, OP_HEARTBEAT, OP_IDENTIFY, OP_PRESENCE, OP_RESUME = 0, 1, 2, 3, 6
OP_INVALID_SESSION, OP_HELLO, OP_HEARTBEAT_ACK = 9, 10, 11
CLOSE_AUTHENTICATION_FAILED, CLOSE_INVALID_SHARD = 4004, 4010


class Gateway:
    """Serves `/gateway`; `dispatch` sends an event to every identified connection."""

    def __init__(self, world: World, url: Callable[[], str], on_change: Callable[[], None]) -> None:
        self.world = world
        self._url = url
        self._on_change = on_change
        self._sockets: set[web.WebSocketResponse] = set()  # identified connections
        self._all: set[web.WebSocketResponse] = set()
        self._shard: dict[web.WebSocketResponse, tuple[int, int]] = {}  # connection -> (id, count)
        self._seq = 0
        self.ready = asyncio.Event()

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._all.add(ws)
        await self._send(ws, {"op": OP_HELLO, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}})
        try:
            async for frame in ws:
                if frame.type != WSMsgType.TEXT:
                    continue
                await self._on_frame(ws, json.loads(frame.data))
        finally:
            self._sockets.discard(ws)
            self._all.discard(ws)
            self._shard.pop(ws, None)
            if not self._sockets:
                self.ready.clear()
        return ws

    async def _on_frame(self, ws: web.WebSocketResponse, frame: dict[str, Any]) -> None:
        op = frame.get("op")
        if op == OP_HEARTBEAT:
            await self._send(ws, {"op": OP_HEARTBEAT_ACK})
        elif op == OP_IDENTIFY:
            await self._identify(ws, frame["d"])
        elif op == OP_PRESENCE:
            self.world.presences.append(frame["d"])
            self._on_change()
        elif op == OP_RESUME:
            await self._send(ws, {"op": OP_INVALID_SESSION, "d": False})

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        self.world.identifies.append(data)
        if data.get("token") != self.world.token:
            await ws.close(code=CLOSE_AUTHENTICATION_FAILED, message=b"Authentication failed.")
            return
        shard_id, shard_count = data.get("shard") or (0, 1)
        if not 0 <= shard_id < shard_count:
            await ws.close(code=CLOSE_INVALID_SHARD, message=b"Invalid shard.")
            return
        self._sockets.add(ws)
        self._shard[ws] = (shard_id, shard_count)
        world = self.world
        on_shard = world.shard_of(world.guild_id, shard_count) == shard_id
        ready = {
            "v": 10,
            "user": world.bot.payload,
            "shard": [shard_id, shard_count],
            "guilds": [{"id": str(world.guild_id), "unavailable": True}] if on_shard else [],
            "session_id": "imitation-session",
            "resume_gateway_url": self._url(),
            "application": {"id": str(world.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
        }
        await self._dispatch_to(ws, "READY", ready)
        if on_shard:
            await self._dispatch_to(ws, "GUILD_CREATE", world.guild_payload())
        self.ready.set()
        self._on_change()

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send an event to the connection whose shard holds its guild (shard 0 for DMs)."""
        guild = data.get("guild_id")
        for ws in list(self._sockets):
            shard_id, shard_count = self._shard[ws]
            if self.world.shard_of(int(guild) if guild else None, shard_count) == shard_id:
                await self._dispatch_to(ws, event, data)

    def shards(self) -> list[tuple[int, int]]:
        """(id, count) of every identified connection."""
        return sorted(self._shard.values())

    async def _dispatch_to(self, ws: web.WebSocketResponse, event: str, data: dict[str, Any]) -> None:
        self._seq += 1
        await self._send(ws, {"op": OP_DISPATCH, "t": event, "s": self._seq, "d": data})

    async def _send(self, ws: web.WebSocketResponse, frame: dict[str, Any]) -> None:
        if not ws.closed:
            await ws.send_str(json.dumps(frame))

    async def close_all(self) -> None:
        for ws in list(self._all):
            await ws.close()
        self._sockets.clear()
