"""Measure 1 or 2 bot processes sharing one model server, for the README's "Serving a big community".

    .venv/bin/python tests/measure_shards.py --processes 2 [--questions 8] [--llm-url URL]

Starts the Discord imitation, `--processes` `python -m bot run` processes splitting 2 shards
(1: one process runs both; 2: one shard each) and, without `--llm-url`, llama.cpp's llama-server
(LLAMA_SERVER_DIR) on the bundled model. Then `--questions` users mention the bot in the guild
(shard 1) and as many ask by DM (shard 0), all at once. Prints one JSON object: the wall time until
every reply was final, each reply's time, and the CPU time and peak memory of the bot processes.
Not a test: pytest does not collect it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bot_processes import REPO, BotProcess, shard_env, wait_until
from discord_imitation import DiscordImitation
from discord_imitation.harness import final_reply, finished
from model_servers import peer_server, require_peer

from bot.bench import CONCURRENT_QUESTIONS, CONVERSATIONS


def cpu_and_peak(pid: int) -> tuple[float, float]:
    """(user + system CPU seconds, peak RSS MiB) of a live process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    peak = next(
        int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if line.startswith("VmHWM:")
    )  # fmt: skip
    return ticks / 100, peak / 1024


async def ask_everyone(imitation: DiscordImitation, questions: int) -> list[float]:
    """Every question at once; the seconds until each reply was final."""
    people = [p for p in imitation.world.people.values() if not p.bot]

    async def one(i: int) -> float:
        began = time.perf_counter()
        person = people[i % len(people)]
        if i % 2:
            asked = await imitation.send(CONCURRENT_QUESTIONS[i // 2 % 8], author=person, mention_bot=True)
        else:
            asked = await imitation.dm(CONVERSATIONS[i // 2 % 8][0], author=person)
        reply = await final_reply(imitation, asked, within=600)
        assert finished(reply), reply.content
        return time.perf_counter() - began

    return list(await asyncio.gather(*(one(i) for i in range(2 * questions))))


async def measure(processes: int, questions: int, llm_url: str | None, folder: Path) -> dict[str, object]:
    shutil.copytree(REPO / "prompts", folder / "prompts")
    server = None if llm_url else peer_server(require_peer(), folder).start()
    url = llm_url or server.url  # type: ignore[union-attr]
    imitation = await DiscordImitation().start()
    split = [[0, 1]] if processes == 1 else [[0], [1]]
    bots = [
        BotProcess(shard_env(folder, imitation, url, shards, 2), folder, folder / f"bot{i}.log")
        for i, shards in enumerate(split)
    ]
    try:
        for bot in bots:
            await bot.start()
        await wait_until(lambda: all(bot.ready() for bot in bots), 120, "the bots to be ready")
        began = time.perf_counter()
        times = await ask_everyone(imitation, questions)
        wall = time.perf_counter() - began
        usage = [cpu_and_peak(bot.process.pid) for bot in bots if bot.process]  # type: ignore[union-attr]
    finally:
        for bot in bots:
            await bot.stop()
        await imitation.stop()
        if server is not None:
            server.stop()
    return {
        "processes": processes,
        "replies": len(times),
        "wall_s": round(wall, 2),
        "replies_per_min": round(len(times) / wall * 60, 1),
        "reply_p50_s": round(statistics.median(times), 2),
        "reply_max_s": round(max(times), 2),
        "bot_cpu_s": [round(cpu, 1) for cpu, _ in usage],
        "bot_peak_rss_mib": [round(peak) for _, peak in usage],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, choices=(1, 2), default=2)
    parser.add_argument("--questions", type=int, default=8, help="guild mentions, and as many DMs")
    parser.add_argument("--llm-url", default=None, help="an already running server (default: start one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        result = asyncio.run(measure(args.processes, args.questions, args.llm_url, Path(folder)))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
