"""The bench's output: progress on stderr (stdout stays clean for `--json`), figures rounded to a
sensible precision, and the table for people."""

from __future__ import annotations

import sys
import time
from typing import Any


def rounded(key: str, value: Any) -> Any:
    """Figures to a sensible precision (ratios finer: they are compared against 0.95)."""
    if isinstance(value, list):
        return [rounded(key, v) for v in value]
    if not isinstance(value, float):
        return value
    if key.endswith("_tok_s"):
        return round(value, 2)
    return round(value, 4 if key.endswith(("_ratio", "_s", "_vs_peer")) else 2)


UNITS = (("_tok_s", "tokens/s"), ("_ms", "ms"), ("_mib", "MiB"), ("_s", "s"))


def format_table(result: dict[str, Any]) -> str:
    """Aligned `name  value unit` lines for people."""
    width = max(len(key) for key in result)
    lines = []
    for key, value in result.items():
        unit = next((u for suffix, u in UNITS if key.endswith(suffix)), "")
        shown = "n/a" if value is None else ", ".join(map(str, value)) if isinstance(value, list) else value
        lines.append(f"{key:<{width}}  {shown} {unit}".rstrip())
    return "\n".join(lines)


def progress(message: str) -> None:
    """Progress on stderr, with the clock so slow phases stand out; stdout stays clean for --json."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
