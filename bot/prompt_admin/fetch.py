"""Fetching an uploaded file (a Discord attachment on Discord's CDN) with a size cap and a time limit.

Why not discord.py's `Attachment.read()`: it has neither. A moderator's upload is read here in
chunks, refused as soon as it passes the cap (whatever size the upload claimed), and the whole fetch,
connection included, must finish within the time limit, so a slow or endless answer cannot hold the
command (or memory) hostage.
"""

from __future__ import annotations

import aiohttp

from bot.errors import InputError

CHUNK = 16 * 1024


async def fetch_capped(url: str, *, max_bytes: int, timeout_s: float, what: str) -> bytes:
    """The body at `url`, at most `max_bytes`; InputError (naming `what`) on any failure."""
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(url, allow_redirects=False) as response,
        ):
            if response.status != 200:
                raise InputError(f"Could not fetch {what}: the server answered {response.status}.")
            body = bytearray()
            async for chunk in response.content.iter_chunked(CHUNK):
                body += chunk
                if len(body) > max_bytes:
                    raise InputError(f"{what} is over the limit of {max_bytes} bytes; nothing was changed.")
            return bytes(body)
    except TimeoutError:
        raise InputError(f"Fetching {what} took longer than {timeout_s:g} s; nothing was changed.") from None
    except aiohttp.ClientError as exc:
        raise InputError(f"Could not fetch {what} ({type(exc).__name__}); nothing was changed.") from None
