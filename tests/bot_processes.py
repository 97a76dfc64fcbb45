"""Starting `python -m bot run` processes as an operator would, for the sharding test and the
scale-out measurement (`tests/measure_shards.py`): each with its own database and log file, all
pointed at one Discord imitation, one model server and one shared prompt folder."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from discord_imitation import DiscordImitation

REPO = Path(__file__).resolve().parent.parent
READY_LINE = b"logged in as"


def shard_env(
    folder: Path, imitation: DiscordImitation, llm_url: str, shards: list[int], shard_count: int
) -> dict[str, str]:
    """A clean environment for one process running `shards` of `shard_count`."""
    keep = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TMPDIR", "SYSTEMROOT"}}
    name = "-".join(map(str, shards))
    return {
        **keep,
        **imitation.env(),
        "PYTHONPATH": str(REPO),
        "LLM_BASE_URL": llm_url,
        "SHARD_COUNT": str(shard_count),
        "SHARD_IDS": ",".join(map(str, shards)),
        "PROMPTS_DIR": str(folder / "prompts"),  # shared by every process
        "PROMPTS_POLL_S": "0.2",
        "DATABASE_PATH": str(folder / f"shards{name}.sqlite3"),  # one per process
        "MODERATOR_ROLE_IDS": str(imitation.world.moderator_role_id),
        "RATE_LIMIT_PER_MINUTE": "1000",
        "N_CTX": "2048",
        "MAX_ANSWER_TOKENS": "40",
    }


class BotProcess:
    """One `python -m bot run`; its stdout and stderr go to `log`."""

    def __init__(self, env: dict[str, str], cwd: Path, log: Path) -> None:
        self.env, self.cwd, self.log = env, cwd, log
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> BotProcess:
        with self.log.open("wb") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", cwd=self.cwd, stdout=out, stderr=out, env=self.env
            )
        return self

    def logged(self, text: bytes) -> bool:
        return text in self.log.read_bytes()

    def ready(self) -> bool:
        """Logged in to the gateway; raises with the log's end if the process has exited instead."""
        if self.process is not None and self.process.returncode is not None:
            tail = self.log.read_text(errors="replace")[-1500:]
            raise AssertionError(f"the bot exited with {self.process.returncode}: {tail}")
        return self.logged(READY_LINE)

    async def stop(self) -> int | None:
        """SIGTERM, as an operator stops it; the exit status."""
        if self.process is None:
            return None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), 60)


async def wait_until(condition: Callable[[], bool], within: float, what: str) -> None:
    for _ in range(int(within / 0.1)):
        if condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
