"""The two measurements every report shares: elapsed milliseconds and nearest-rank percentiles.

One definition of each, so that the benchmark, the evaluation and the answer timings agree on what
"p95" and "total_ms" mean.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence


def elapsed_ms(since: float) -> float:
    """Milliseconds since a `time.perf_counter()` reading, rounded for reports."""
    return round((time.perf_counter() - since) * 1000, 1)


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile, `fraction` in 0..1 (p95 of 25 values is the 24th smallest). No
    interpolation: every reported value was observed. 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]
