"""A transcript of a real Discord exchange, for the README: the bot with the bundled model against the
loopback Discord imitation (tests/discord_imitation), a member asking by mention and then following
up in a reply, printed as a member sees it (message, sources embed, buttons).

    .venv/bin/python scripts/discord_transcript.py "QUESTION" ["FOLLOW-UP"]

Nothing leaves the machine: the imitation serves Discord's API on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from discord_imitation import DiscordImitation, StoredMessage
from discord_imitation.harness import bot_settings, final_reply, running_bot

from bot.engine import build_engine

MENTION = re.compile(r"<@\d+>")
LABELS = {"fb:up": "👍", "fb:down": "👎", "fb:more": "[More from the sources]"}


def shown(message: StoredMessage, bot_name: str) -> str:
    """The message as a member reads it: text, the embed's title and lines, the buttons."""
    lines = [f"{bot_name}:", *(f"  {line}" for line in message.content.splitlines())]
    for embed in message.embeds:
        lines.append(f"  ┃ {embed.get('title', '')}")
        lines += [f"  ┃ {line}" for line in embed.get("description", "").splitlines()]
    buttons = [LABELS.get(c.rsplit(":", 1)[0], "") for c in message.custom_ids()]
    if any(buttons):
        lines.append("  " + " ".join(b for b in buttons if b))
    return "\n".join(lines)


async def main(questions: list[str]) -> None:
    imitation = await DiscordImitation().start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            settings = bot_settings(imitation, Path(folder))
            engine = build_engine(settings)
            await engine.start()
            try:
                async with running_bot(settings, engine):
                    reply_to: int | None = None
                    for i, question in enumerate(questions):
                        asked = await imitation.send(question, mention_bot=i == 0, reply_to=reply_to)
                        print("alice:", MENTION.sub("@briefing-bot", asked.content))
                        reply = await final_reply(imitation, asked, within=300)
                        print(shown(reply, imitation.world.bot.name), end="\n\n")
                        reply_to = reply.id
            finally:
                await engine.aclose()
    finally:
        await imitation.stop()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:] or ["What is track-two dialogue?"]))
