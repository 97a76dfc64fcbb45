"""Attachments, served the way Discord's CDN serves them: each file has a signed, expiring URL
(`/attachments/{channel}/{id}/{filename}?ex=..&is=..&hm=..`), fetched without the bot token; a URL
whose signature is wrong or whose expiry has passed gets 404 ("This content is no longer
available."), as on Discord. `World.cdn_delay_s` holds the body back after the headers, for tests of
a bot's fetch time limit.

Both directions use it: a user's upload (`DiscordImitation.upload`, then a slash command's
attachment option) and the files the bot sends (kept on the message, with CDN URLs in its payload).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import mimetypes
import secrets
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

URL_TTL_S = 24 * 3600.0  # Discord's signed attachment URLs last about a day
ROUTE = "/attachments/{channel}/{attachment}/{filename}"


@dataclass
class Upload:
    """One attachment: its bytes, and the size Discord reports for it (`size` may be set to lie,
    to test a bot that trusts the claim)."""

    id: int
    channel_id: int
    filename: str
    data: bytes
    content_type: str
    size: int
    expires: int  # unix time


class Cdn:
    """Signs URLs for uploads and serves them. `base` is the server's `http://127.0.0.1:PORT`."""

    def __init__(self) -> None:
        self.secret = secrets.token_bytes(16)
        self.uploads: dict[int, Upload] = {}
        self.base = ""
        self.delay_s = 0.0
        self.fetches: list[tuple[int, int]] = []  # (attachment id, HTTP status)

    def add(self, upload: Upload) -> Upload:
        self.uploads[upload.id] = upload
        return upload

    def new(
        self, upload_id: int, channel_id: int, filename: str, data: bytes, content_type: str = ""
    ) -> Upload:
        kind = content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        expires = int(time.time() + URL_TTL_S)
        return self.add(Upload(upload_id, channel_id, filename, data, kind, len(data), expires))

    def _signature(self, upload: Upload, expires: int) -> str:
        message = f"{upload.channel_id}/{upload.id}/{upload.filename}:{expires:x}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def url(self, upload: Upload) -> str:
        path = f"/attachments/{upload.channel_id}/{upload.id}/{upload.filename}"
        query = f"ex={upload.expires:x}&is={int(time.time()):x}&hm={self._signature(upload, upload.expires)}"
        return f"{self.base}{path}?{query}"

    def payload(self, upload: Upload) -> dict[str, Any]:
        url = self.url(upload)
        return {
            "id": str(upload.id),
            "filename": upload.filename,
            "size": upload.size,
            "url": url,
            "proxy_url": url,  # Discord's media proxy is another host; here both are this server
            "content_type": upload.content_type,
            "ephemeral": True,
        }

    async def serve(self, request: web.Request) -> web.StreamResponse:
        upload = self.uploads.get(int(request.match_info["attachment"]))
        status = self._check(request, upload)
        self.fetches.append((int(request.match_info["attachment"]), status))
        if upload is None or status != 200:
            return web.Response(status=404, text="This content is no longer available.")
        response = web.StreamResponse(
            headers={"Content-Type": upload.content_type, "Content-Length": str(len(upload.data))}
        )
        await response.prepare(request)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)  # headers sent, body held back: a slow CDN edge
        with contextlib.suppress(ConnectionResetError):  # the client gave up waiting
            await response.write(upload.data)
            await response.write_eof()
        return response

    def _check(self, request: web.Request, upload: Upload | None) -> int:
        if upload is None or str(upload.channel_id) != request.match_info["channel"]:
            return 404
        if request.match_info["filename"] != upload.filename:
            return 404
        try:
            expires = int(request.query.get("ex", ""), 16)
        except ValueError:
            return 404
        good = hmac.compare_digest(request.query.get("hm", ""), self._signature(upload, expires))
        return 200 if good and expires > time.time() else 404
