"""A Discord imitation on loopback: REST API and gateway served by aiohttp on 127.0.0.1, enough for
a real discord.py client to log in, sync commands, receive messages and interactions, reply, edit,
type, open threads and run native polls. Everything the bot sends is recorded in
`DiscordImitation.world`.

Modules: `payloads` (JSON shapes), `world` (state and records), `polls` (native polls and what
Discord refuses in them), `gateway`, `rest`, `server` (the `DiscordImitation` a test drives),
`harness` (starting a bot against it).
"""

from discord_imitation.server import DiscordImitation
from discord_imitation.world import StoredMessage, World

__all__ = ["DiscordImitation", "StoredMessage", "World"]
