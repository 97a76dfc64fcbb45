"""The gateway: HELLO, heartbeats, IDENTIFY -> READY + GUILD_CREATE, then dispatches; RESUME.

Frames go out as plain text JSON (discord.py inflates only binary frames). Like Discord, the
gateway keeps the session's events while its connection is down: `drop()` closes the connection
with a resumable close code, events dispatched meanwhile are kept, and a RESUME with the session id
and the last sequence number the client saw replays every later event, then sends RESUMED. A
RESUME of an unknown session is answered with INVALID_SESSION (identify afresh). (One session is
kept for RESUME: the last to identify; the resume tests run one shard.)

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
# Heartbeats are acknowledged after a network's delay, not at once: discord.py notes the time of a
# heartbeat only after its sending thread wakes up, so an instant loopback ACK can arrive "before"
# the heartbeat and be logged as "Can't keep up, websocket is 41 s behind" (a false alarm).
ACK_DELAY_S = 0.05
CLOSE_UNKNOWN_ERROR = 4000  # "something went wrong: reconnect" - clients resume after it
SESSION_ID = "imitation-session"


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
        self._log: list[dict[str, Any]] = []  # every dispatch of the session, for RESUME
        self.session_id = ""
        self._session_shard: tuple[int, int] = (0, 1)
        self.resumes: list[dict[str, Any]] = []
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
            await asyncio.sleep(ACK_DELAY_S)
            await self._send(ws, {"op": OP_HEARTBEAT_ACK})
        elif op == OP_IDENTIFY:
            await self._identify(ws, frame["d"])
        elif op == OP_PRESENCE:
            self.world.presences.append(frame["d"])
            self._on_change()
        elif op == OP_RESUME:
            await self._resume(ws, frame["d"])

    async def _resume(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        """Replay what the client missed, in order, then RESUMED; later events flow as usual."""
        self.resumes.append(data)
        if (
            data.get("token") != self.world.token
            or not self.session_id
            or data.get("session_id") != self.session_id
        ):
            await self._send(ws, {"op": OP_INVALID_SESSION, "d": False})
            return
        seen = int(data.get("seq") or 0)
        for frame in [f for f in self._log if f["s"] > seen]:
            await self._send(ws, frame)
        self._sockets.add(ws)
        self._shard[ws] = self._session_shard
        await self._dispatch_to(ws, "RESUMED", {})
        self.ready.set()
        self._on_change()

    async def drop(self) -> None:
        """Close every connection as a network failure would look to the client: it resumes."""
        for ws in list(self._all):
            await ws.close(code=CLOSE_UNKNOWN_ERROR, message=b"imitated connection loss")
        self._sockets.clear()
        self.ready.clear()

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
        self._shard[ws] = self._session_shard = (shard_id, shard_count)
        self._log.clear()
        self.session_id = f"{SESSION_ID}-{len(self.world.identifies)}"
        world = self.world
        on_shard = world.shard_of(world.guild_id, shard_count) == shard_id
        ready = {
            "v": 10,
            "user": world.bot.payload,
            "shard": [shard_id, shard_count],
            "guilds": [{"id": str(world.guild_id), "unavailable": True}] if on_shard else [],
            "session_id": self.session_id,
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
        """Send an event to the connection whose shard holds its guild (shard 0 for DMs); while the
        session's connection is down the event waits in its log for the RESUME."""
        frame = self._frame(event, data)
        self._log.append(frame)
        guild = data.get("guild_id")
        for ws in list(self._sockets):
            shard_id, shard_count = self._shard.get(ws, (0, 1))
            if self.world.shard_of(int(guild) if guild else None, shard_count) == shard_id:
                await self._send(ws, frame)

    def shards(self) -> list[tuple[int, int]]:
        """(id, count) of every identified connection."""
        return sorted(self._shard.values())

    def _frame(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        self._seq += 1
        return {"op": OP_DISPATCH, "t": event, "s": self._seq, "d": data}

    async def _dispatch_to(self, ws: web.WebSocketResponse, event: str, data: dict[str, Any]) -> None:
        frame = self._frame(event, data)
        self._log.append(frame)
        await self._send(ws, frame)

    async def _send(self, ws: web.WebSocketResponse, frame: dict[str, Any]) -> None:
        if not ws.closed:
            await ws.send_str(json.dumps(frame))

    async def close_all(self) -> None:
        for ws in list(self._all):
            await ws.close()
        self._sockets.clear()
