"""The fair waiting line: round robin between users, FIFO within one, bounded, with positions."""

from __future__ import annotations

import threading

import pytest

from bot.engine._scheduler import FairQueue
from bot.errors import QueueFullError


class Item:
    """Hashable by identity, like the engines' jobs; the label makes failures readable."""

    def __init__(self, label: str) -> None:
        self.label = label

    def __repr__(self) -> str:
        return self.label


def drain(queue: FairQueue[Item]) -> list[str]:
    order = []
    while (item := queue.pop()) is not None:
        order.append(item.label)
    return order


def test_a_user_with_many_questions_does_not_block_another() -> None:
    queue: FairQueue[Item] = FairQueue(max_size=10)
    for i in range(4):
        queue.push("alice", Item(f"a{i}"))
    queue.push("bob", Item("b0"))
    queue.push("carol", Item("c0"))
    queue.push("bob", Item("b1"))
    assert drain(queue) == ["a0", "b0", "c0", "a1", "b1", "a2", "a3"]


def test_a_served_user_goes_to_the_back_of_the_round() -> None:
    queue: FairQueue[Item] = FairQueue(max_size=10)
    queue.push("alice", Item("a0"))
    queue.push("alice", Item("a1"))
    assert queue.pop().label == "a0"  # type: ignore[union-attr]
    queue.push("bob", Item("b0"))  # bob arrives after alice's first turn
    queue.push("alice", Item("a2"))
    assert drain(queue) == ["a1", "b0", "a2"]


def test_positions_follow_serving_order() -> None:
    queue: FairQueue[Item] = FairQueue(max_size=10)
    a0, a1, b0 = Item("a0"), Item("a1"), Item("b0")
    queue.push("alice", a0)
    queue.push("alice", a1)
    queue.push("bob", b0)
    assert queue.positions() == {a0: 1, b0: 2, a1: 3}
    assert queue.position(a1) == 3
    assert queue.position(Item("stranger")) is None
    assert len(queue) == 3


def test_position_changes_report_only_what_moved() -> None:
    queue: FairQueue[Item] = FairQueue(max_size=10)
    a0, a1, b0 = Item("a0"), Item("a1"), Item("b0")
    queue.push("alice", a0)
    queue.push("alice", a1)
    assert queue.position_changes() == [(a0, 1), (a1, 2)]
    assert queue.position_changes() == []
    queue.push("bob", b0)  # bob's one question jumps ahead of alice's second
    assert sorted(queue.position_changes(), key=lambda change: change[1]) == [(b0, 2), (a1, 3)]
    queue.pop()
    assert sorted(queue.position_changes(), key=lambda change: change[1]) == [(b0, 1), (a1, 2)]


def test_bounded_queue_refuses_with_a_clear_message() -> None:
    queue: FairQueue[Item] = FairQueue(max_size=2)
    queue.push("alice", Item("a0"))
    queue.push("bob", Item("b0"))
    with pytest.raises(QueueFullError) as info:
        queue.push("carol", Item("c0"))
    assert "try again" in info.value.user_message
    assert len(queue) == 2
    queue.pop()
    queue.push("carol", Item("c0"))  # room again once one is served


def test_remove_takes_a_cancelled_request_out() -> None:
    queue: FairQueue[Item] = FairQueue(max_size=10)
    a0, a1, b0 = Item("a0"), Item("a1"), Item("b0")
    for user, item in (("alice", a0), ("alice", a1), ("bob", b0)):
        queue.push(user, item)
    version = queue.version
    assert queue.remove(a0) is True
    assert queue.version > version
    assert queue.remove(a0) is False
    assert queue.remove(b0) is True  # bob's only item: bob leaves the ring
    assert queue.positions() == {a1: 1}
    assert drain(queue) == ["a1"]
    assert queue.pop() is None


def test_the_same_item_cannot_wait_twice() -> None:
    queue: FairQueue[Item] = FairQueue(max_size=10)
    item = Item("a0")
    queue.push("alice", item)
    with pytest.raises(ValueError, match="already queued"):
        queue.push("alice", item)
    with pytest.raises(ValueError):
        FairQueue(max_size=0)


def test_concurrent_pushes_and_pops_lose_nothing() -> None:
    queue: FairQueue[Item] = FairQueue(max_size=10_000)
    popped: list[Item] = []

    def producer(user: str) -> None:
        for i in range(500):
            queue.push(user, Item(f"{user}{i}"))

    def consumer() -> None:
        for _ in range(800):
            item = queue.pop()
            if item is not None:
                popped.append(item)

    threads = [threading.Thread(target=producer, args=(f"u{n}",)) for n in range(4)]
    threads += [threading.Thread(target=consumer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rest = []
    while (item := queue.pop()) is not None:
        rest.append(item)
    labels = [item.label for item in popped + rest]
    assert len(labels) == 2000 == len(set(labels))
