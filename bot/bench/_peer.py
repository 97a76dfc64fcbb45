"""The peer, llama.cpp's own `llama-server`, measured through the same phases as the engine
(`bench --peer DIR`), and the engine's figures as ratios to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.bench._grounding import Grounding
from bot.bench._phases import measure_engine
from bot.bench._report import progress
from bot.bench._workload import BenchSizes
from bot.config import Settings
from bot.engine.base import Engine
from bot.library import Snapshot

# Figures compared with the peer: one stream, users at once (chat and grounded), follow-ups among
# interleaved conversations, and the single-question TTFTs. Each `<key>_vs_peer` is engine ÷ peer:
# above 1 is better for tokens/s, below 1 is better for times.
PEER_COMPARED = (
    "decode_tok_s",
    "concurrent4_total_tok_s",
    "concurrent4_ttft_max_s",
    "concurrent4_grounded_total_tok_s",
    "concurrent4_grounded_ttft_max_s",
    "ttft_interleaved_max_s",
    "ttft_interleaved_mean_s",
    "ttft_cold_s",
    "ttft_new_question_s",
    "ttft_followup_s",
)


async def measure_peer(
    peer_dir: Path, settings: Settings, engine: Engine, snapshot: Snapshot, sizes: BenchSizes
) -> dict[str, Any]:
    """The same phases through `llama-server` (started from `peer_dir`, stopped at the end) and its
    OpenAI API, on the prompts the engine's tokenizer fitted."""
    from bot.bench._peer_server import PeerClient, peer_server

    progress(f"peer: starting llama-server from {peer_dir}")
    async with peer_server(peer_dir, settings) as url:
        client = PeerClient(url, counter=engine)
        await client.start()
        try:
            grounding = Grounding(client, snapshot.prompts, snapshot.index, sizes.passages)
            figures = await measure_engine(client, grounding, sizes, label="peer")
        finally:
            await client.aclose()
    return figures


def peer_ratios(engine: dict[str, Any], peer: dict[str, Any]) -> dict[str, Any]:
    """`peer_<key>` for each of the peer's figures, then `<key>_vs_peer` = engine ÷ peer."""
    out: dict[str, Any] = {f"peer_{key}": value for key, value in peer.items()}
    for key in PEER_COMPARED:
        mine, theirs = engine.get(key), peer.get(key)
        if isinstance(mine, int | float) and isinstance(theirs, int | float) and theirs > 0:
            out[f"{key.removesuffix('_s').removesuffix('_tok')}_vs_peer"] = mine / theirs
    return out
