"""A bounded waiting line that is fair between users.

Requests wait here until the engine has a free slot. Serving strictly first-come-first-served would
let one user who fires ten questions push everybody else back by ten answers, so the line is served
round robin across users (FIFO within one user): every user with something waiting gets one turn per
round. The line is bounded so that a flood is refused at once (`QueueFullError`) instead of growing
into minutes of waiting.

Pure Python and thread-safe (one lock). Engines reach it through `admission.Admission`: with the
llama.cpp engine its worker thread pops while the event loop pushes and removes; the remote and
scripted engines use it from the loop alone.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Hashable
from typing import Generic, TypeVar

from bot.errors import QueueFullError

T = TypeVar("T", bound=Hashable)


class FairQueue(Generic[T]):
    """Round robin across `user_id`s, FIFO within a user, at most `max_size` items waiting.

    Items must be hashable by identity (plain objects or `eq=False` dataclasses): they are tracked
    individually for removal and position reports.
    """

    def __init__(self, max_size: int) -> None:
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self.max_size = max_size
        self._lock = threading.Lock()
        # Users in serving order: the first user is served next. Each keeps its own FIFO.
        self._users: OrderedDict[str, deque[T]] = OrderedDict()
        self._owner: dict[T, str] = {}
        self._reported: dict[T, int] = {}
        self._version = 0

    def __len__(self) -> int:
        return len(self._owner)

    @property
    def version(self) -> int:
        """Increases on every change, so a poller can tell cheaply whether positions may have moved."""
        return self._version

    def push(self, user_id: str, item: T) -> None:
        """Add `item` at the end of `user_id`'s line. Raises QueueFullError when `max_size` wait."""
        with self._lock:
            if len(self._owner) >= self.max_size:
                raise QueueFullError()
            if item in self._owner:
                raise ValueError("item is already queued")
            self._users.setdefault(user_id, deque()).append(item)
            self._owner[item] = user_id
            self._version += 1

    def pop(self) -> T | None:
        """Take the next item (round robin), or None when nothing waits."""
        with self._lock:
            if not self._users:
                return None
            user_id, line = next(iter(self._users.items()))
            item = line.popleft()
            del self._owner[item]
            self._reported.pop(item, None)
            # The user goes to the back of the round; a user with nothing left leaves the ring.
            del self._users[user_id]
            if line:
                self._users[user_id] = line
            self._version += 1
            return item

    def remove(self, item: T) -> bool:
        """Take `item` out of the line (its requester gave up). False if it was not waiting."""
        with self._lock:
            user_id = self._owner.pop(item, None)
            if user_id is None:
                return False
            line = self._users[user_id]
            line.remove(item)
            if not line:
                del self._users[user_id]
            self._reported.pop(item, None)
            self._version += 1
            return True

    def position(self, item: T) -> int | None:
        """1-based place of `item` in serving order (1 = next), or None if it is not waiting."""
        with self._lock:
            return self._positions_locked().get(item)

    def positions(self) -> dict[T, int]:
        """Every waiting item's 1-based place, assuming nobody else arrives."""
        with self._lock:
            return self._positions_locked()

    def position_changes(self) -> list[tuple[T, int]]:
        """Items whose place differs from the last report (new items included), and their new place.

        Lets the engine send a `Queued` event only when something a user would see has changed.
        """
        with self._lock:
            current = self._positions_locked()
            changes = [(item, pos) for item, pos in current.items() if self._reported.get(item) != pos]
            self._reported = current
            return changes

    def _positions_locked(self) -> dict[T, int]:
        # Round r serves the r-th waiting item of every user, users in ring order.
        positions: dict[T, int] = {}
        lines = list(self._users.values())
        depth = max((len(line) for line in lines), default=0)
        for round_index in range(depth):
            for line in lines:
                if round_index < len(line):
                    positions[line[round_index]] = len(positions) + 1
        return positions
