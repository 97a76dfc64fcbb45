"""Stop strings on streamed text, with constant work per token."""

from __future__ import annotations

from collections.abc import Sequence


class StopFilter:
    """Holds back text that might be the start of a stop string; reports when one appears.

    Only the unreleased tail is searched, so the work per token does not grow with the answer.
    """

    def __init__(self, stops: Sequence[str]) -> None:
        self.stops = tuple(stop for stop in stops if stop)
        self._pending = ""

    def feed(self, text: str) -> tuple[str, bool]:
        """Add generated text; return (text safe to show, whether a stop string was reached)."""
        if not self.stops:
            return text, False
        pending = self._pending + text
        hits = [index for index in (pending.find(stop) for stop in self.stops) if index >= 0]
        if hits:
            self._pending = ""
            return pending[: min(hits)], True
        hold = self._partial_stop_length(pending)
        self._pending = pending[len(pending) - hold :] if hold else ""
        return pending[: len(pending) - hold], False

    def flush(self) -> str:
        """The held-back text, released when generation ends without a stop string."""
        pending, self._pending = self._pending, ""
        return pending

    def _partial_stop_length(self, text: str) -> int:
        best = 0
        for stop in self.stops:
            for length in range(min(len(stop) - 1, len(text)), best, -1):
                if text.endswith(stop[:length]):
                    best = length
                    break
        return best
