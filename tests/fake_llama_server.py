"""A stand-in for llama.cpp's `llama-server` executable, for testing `bench --peer` without building it.

Takes the real server's command line, serves /health, /v1/models, /tokenize and streaming
/v1/chat/completions on 127.0.0.1 (`max_tokens` pieces of " word"), writes its pid and arguments to
`$FAKE_PEER_LOG` so a test can check how it was started and that it was stopped, and exits when
`$FAKE_PEER_FAIL` is set, as a server that cannot load its model does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys

from aiohttp import web

# Long enough that times rounded to 0.1 ms still give ratios to within a fraction of a percent.
FIRST_TOKEN_S = 0.05


async def models(request: web.Request) -> web.Response:
    return web.json_response({"data": [{"id": "fake-llama-server"}]})


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def tokenize(request: web.Request) -> web.Response:
    body = await request.json()
    return web.json_response({"tokens": list(range(len(body.get("content", "")) // 4))})


async def chat(request: web.Request) -> web.StreamResponse:
    body = await request.json()
    reply = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await reply.prepare(request)
    await asyncio.sleep(FIRST_TOKEN_S)
    for _ in range(body["max_tokens"]):
        chunk = {"choices": [{"index": 0, "delta": {"content": " word"}, "finish_reason": None}]}
        await reply.write(f"data: {json.dumps(chunk)}\n\n".encode())
        await asyncio.sleep(0.001)
    usage = {"prompt_tokens": 100, "completion_tokens": body["max_tokens"]}
    await reply.write(f"data: {json.dumps({'choices': [], 'usage': usage})}\n\n".encode())
    await reply.write(b"data: [DONE]\n\n")
    return reply


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    _, _rest = parser.parse_known_args()
    log = os.environ.get("FAKE_PEER_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as out:
            out.write(json.dumps({"pid": os.getpid(), "argv": sys.argv[1:]}) + "\n")
    if os.environ.get("FAKE_PEER_FAIL"):
        print("error: failed to load model", file=sys.stderr)
        sys.exit(1)
    app = web.Application()
    app.router.add_get("/health", health)
    app.router.add_get("/v1/models", models)
    app.router.add_post("/tokenize", tokenize)
    app.router.add_post("/v1/chat/completions", chat)
    web.run_app(app, host="127.0.0.1", port=parser.parse_known_args()[0].port, print=None)


if __name__ == "__main__":
    main()
