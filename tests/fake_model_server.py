"""A scripted OpenAI-compatible server (aiohttp, loopback) for the failures a real model server will
not produce on demand: HTTP errors, a malformed, stalled, endless or interrupted stream, a server
that is busy or drops the connection before answering.
"""

from __future__ import annotations

import asyncio
import collections
import json

from aiohttp import web
from model_servers import free_port

# What the midstream-error scenario sends before failing: one whole sentence a source supports (the
# bot shows a sentence only once it is complete and checked), then the start of another.
SHOWN = "The race narrative can speed up AI development at the cost of safety and regulatory safeguards."
PARTIAL = f"{SHOWN} Liu calls"


def sse(data: object) -> bytes:
    return f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n".encode()


def piece(text: str, finish: str | None = None) -> dict[str, object]:
    delta = {"content": text} if text else {}
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


class FakeServer:
    """`/{scenario}/v1/...`: each scenario is one behaviour of a misbehaving or slow server.

    `hits` counts the chat requests per scenario, so a scenario can fail its first requests only.
    """

    def __init__(self) -> None:
        self.disconnected = asyncio.Event()
        self.bodies: list[dict[str, object]] = []
        self.hits: collections.Counter[str] = collections.Counter()
        self.url = ""
        self._runner: web.AppRunner | None = None

    def base(self, scenario: str) -> str:
        return f"{self.url}/{scenario}/v1"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/{scenario}/v1/models", self.models)
        app.router.add_post("/{scenario}/v1/chat/completions", self.chat)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def models(self, req: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "/srv/models/fake-model.gguf"}]})

    async def chat(self, req: web.Request) -> web.StreamResponse:
        scenario = req.match_info["scenario"]
        self.hits[scenario] += 1
        self.bodies.append(await req.json())
        refusal = self.refusal(scenario, self.hits[scenario], req)
        if refusal is not None:
            return refusal
        reply = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await reply.prepare(req)
        if scenario in ("usage", "busy-twice", "drop-first"):
            await reply.write(
                b": ping\n\n" + sse(piece("Hello")) + sse(piece(" there")) + sse(piece("", "stop"))
            )
            usage = {
                "prompt_tokens": 77,
                "completion_tokens": 2,
                "prompt_tokens_details": {"cached_tokens": 70},
            }
            await reply.write(sse({"choices": [], "usage": usage}) + sse("[DONE]"))
        elif scenario == "malformed":
            await reply.write(b"data: {not json\n\n")
        elif scenario == "midstream-error":
            await reply.write(sse(piece(PARTIAL)) + sse({"error": {"message": "context overflow"}}))
        elif scenario == "flood":
            for _ in range(100):
                await reply.write(sse(piece("x" * 1000)))
        elif scenario == "stall":
            await asyncio.sleep(3)
        elif scenario == "slow":
            await self.slow(req, reply)
        return reply

    def refusal(self, scenario: str, hit: int, req: web.Request) -> web.StreamResponse | None:
        """The scenarios that answer with an error status, or drop the connection, before any byte."""
        if scenario == "error500":
            return web.json_response(
                {"error": {"message": "model exploded at /srv/llama/server.cpp:42", "type": "server_error"}},
                status=500,
            )
        if scenario == "error401":
            return web.json_response({"detail": "bad key"}, status=401)
        if (scenario == "busy-twice" and hit <= 2) or scenario == "busy-long":
            retry_after = "0.2" if scenario == "busy-twice" else "600"
            return web.json_response(
                {"error": {"message": "Loading model"}}, status=503, headers={"Retry-After": retry_after}
            )
        if (scenario == "drop-first" and hit == 1) or scenario == "drop-always":
            assert req.transport is not None
            req.transport.close()  # as a server closing an idle keep-alive connection would
            raise web.HTTPBadRequest  # never sent: the connection is gone
        return None

    async def slow(self, req: web.Request, reply: web.StreamResponse) -> None:
        try:
            for _ in range(200):
                await reply.write(sse(piece(" word")))
                await asyncio.sleep(0.05)
        except (ConnectionResetError, ConnectionError):
            self.disconnected.set()
            raise
        finally:
            if req.transport is None or req.transport.is_closing():
                self.disconnected.set()
