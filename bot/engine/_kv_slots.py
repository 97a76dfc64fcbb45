"""The engine's KV sequences ("slots"): which one a request gets and how much of its prompt is
already there.

Each slot remembers the tokens in its KV cache. A request reuses the longest common token prefix:
its conversation's slot, a state saved to RAM when that slot was taken over, or a prefix copied from
another slot with `llama_memory_seq_cp`, so the fixed instruction prefix is evaluated once, not once
per conversation or per slot. Worker thread only, like every llama.cpp call.
"""

from __future__ import annotations

import ctypes
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import llama_cpp as llama

from bot.engine._llama_runs import Run, Slot

# Wait for another slot to finish evaluating a shared prefix (then copy it) only when it saves this many.
MIN_SHARED_PREFIX_GAIN = 32


def common_prefix_length(a: Sequence[int], b: Sequence[int]) -> int:
    """Length of the longest common prefix of two token lists (slice compares run at C speed)."""
    limit = min(len(a), len(b))
    start = 0
    while start < limit:
        end = min(start + 256, limit)
        if a[start:end] != b[start:end]:
            while a[start] == b[start]:
                start += 1
            return start
        start = end
    return limit


@dataclass
class _SavedState:
    tokens: list[int]
    data: Any  # ctypes uint8 array from llama_state_seq_get_data


class SavedStates:
    """LRU of KV states of conversations whose slot was taken over, bounded by a byte budget."""

    def __init__(self, budget_bytes: int) -> None:
        self.budget_bytes = budget_bytes
        self.used_bytes = 0
        self._states: OrderedDict[str, _SavedState] = OrderedDict()

    def __len__(self) -> int:
        return len(self._states)

    def __contains__(self, key: str) -> bool:
        return key in self._states

    def fits(self, size: int) -> bool:
        return 0 < size <= self.budget_bytes

    def put(self, key: str, tokens: list[int], data: Any) -> None:
        self.pop(key)
        size = len(data)
        if not self.fits(size):
            return
        while self.used_bytes + size > self.budget_bytes:
            _, evicted = self._states.popitem(last=False)
            self.used_bytes -= len(evicted.data)
        self._states[key] = _SavedState(tokens, data)
        self.used_bytes += size

    def get(self, key: str | None) -> _SavedState | None:
        return self._states.get(key) if key is not None else None

    def pop(self, key: str | None) -> _SavedState | None:
        state = self._states.pop(key, None) if key is not None else None
        if state is not None:
            self.used_bytes -= len(state.data)
        return state


class KvSlots:
    """The `n_slots` sequences of one llama.cpp context, their cached tokens and saved states."""

    def __init__(self, ctx: Any, n_slots: int, saved_budget_bytes: int) -> None:
        self._ctx = ctx
        self._mem = llama.llama_get_memory(ctx)
        self.slots = [Slot(seq_id=i) for i in range(n_slots)]
        self.saved = SavedStates(saved_budget_bytes)
        # Cross-stream copies run at the start of the next llama_decode; until then the source's data
        # must not be overwritten (by a restore) nor the target's read (by a save).
        self._copy_sources: set[int] = set()
        self._copy_targets: set[int] = set()

    def choose(self, prompt: list[int], conversation: str | None) -> Slot:
        """The free slot to answer in: the conversation's own, else the one whose loss costs least.

        The prefix itself can come from any slot (`reuse_prefix` copies it), so the choice here only
        decides which cached content is given up: preferably none (an empty slot, or one holding only
        a prefix of this prompt), then an anonymous request's leftovers, then the least recently used
        conversation, whose state `claim` saves to RAM first.
        """
        free = [slot for slot in self.slots if slot.run is None]
        if conversation is not None:
            for slot in free:
                if slot.conversation_id == conversation:
                    return slot

        def keep_value(slot: Slot) -> tuple[bool, bool, float]:
            loses_nothing = common_prefix_length(slot.tokens, prompt) == len(slot.tokens)
            return (loses_nothing, slot.conversation_id is None, -slot.last_used)

        return max(free, key=keep_value)

    def claim(self, slot: Slot, run: Run) -> None:
        """Give `slot` to `run`, saving another conversation's state first."""
        conversation = run.job.request.conversation_id
        if slot.tokens and slot.conversation_id is not None and slot.conversation_id != conversation:
            self._save_state(slot)
        slot.run = run
        slot.conversation_id = conversation
        slot.last_used = time.monotonic()

    def reuse_prefix(self, run: Run) -> None:
        """Put the longest available prefix of the prompt into the run's sequence without evaluating it."""
        slot, prompt = run.slot, run.prompt
        limit = len(prompt) - 1  # at least one token must be evaluated to get logits
        own = min(common_prefix_length(slot.tokens, prompt), limit)
        saved = self.saved.pop(run.job.request.conversation_id)  # superseded by this run either way
        if saved is not None and slot.seq_id in self._copy_sources:
            saved = None
        saved_length = min(common_prefix_length(saved.tokens, prompt), limit) if saved else 0
        donor, donor_length = None, 0
        pending, pending_length = None, 0
        for other in self.slots:
            if other is slot:
                continue
            length = min(common_prefix_length(other.tokens, prompt), limit)
            if length > donor_length:
                donor, donor_length = other, length
            other_run = other.run
            if other_run is not None and other_run.prompt_pos < len(other_run.prompt):
                planned = min(common_prefix_length(other_run.prompt, prompt), limit)
                if planned > pending_length:
                    pending, pending_length = other, planned
        best_now = max(own, saved_length, donor_length)
        if (
            saved is not None
            and saved_length == best_now
            and saved_length > own
            and self._restore(slot, saved)
        ):
            self._truncate(slot, saved_length)
        else:
            own = min(common_prefix_length(slot.tokens, prompt), limit)  # a failed restore empties the slot
            if donor is not None and donor_length > own:
                self._copy_prefix(donor, slot, donor_length)
            else:
                self._truncate(slot, own)
        run.prompt_pos = run.cached = len(slot.tokens)
        if (
            pending is not None
            and pending.run is not None
            and pending_length >= best_now + MIN_SHARED_PREFIX_GAIN
        ):
            run.wait_for = (pending, pending.run, pending_length)

    def resolve_wait(self, run: Run) -> bool:
        """True when the run may evaluate its prompt now (the shared prefix it waited for is copied)."""
        assert run.wait_for is not None
        donor, donor_run, length = run.wait_for
        if donor.run is donor_run and len(donor.tokens) < length:
            return False
        run.wait_for = None
        # The donor may have been cancelled or reassigned meanwhile: take whatever it still shares.
        length = min(common_prefix_length(donor.tokens, run.prompt), length)
        if length > run.prompt_pos:
            self._copy_prefix(donor, run.slot, length)
            run.prompt_pos = run.cached = length
        return True

    def decoded(self) -> None:
        """A llama_decode succeeded: the pending prefix copies are done."""
        self._copy_sources.clear()
        self._copy_targets.clear()

    def decode_failed(self, runs: list[Run]) -> list[Slot]:
        """Drop whatever part of the batch llama.cpp kept, so every slot's token list stays exact;
        return the slots emptied because a prefix copy into them may not have happened."""
        for run in runs:
            self.drop_from(run.slot, len(run.slot.tokens))
        uncertain = [slot for slot in self.slots if slot.seq_id in self._copy_targets]
        for slot in uncertain:
            self.forget(slot)
        self.decoded()
        return uncertain

    def drop_from(self, slot: Slot, position: int) -> None:
        """Remove the slot's KV cells from `position` on (its token list is the caller's)."""
        llama.llama_memory_seq_rm(self._mem, slot.seq_id, position, -1)

    def forget(self, slot: Slot) -> None:
        """Empty a slot's sequence when its content can no longer be trusted."""
        llama.llama_memory_seq_rm(self._mem, slot.seq_id, -1, -1)
        slot.tokens = []
        slot.conversation_id = None

    def _truncate(self, slot: Slot, length: int) -> None:
        if length < len(slot.tokens):
            if not llama.llama_memory_seq_rm(self._mem, slot.seq_id, length, -1):
                llama.llama_memory_seq_rm(self._mem, slot.seq_id, -1, -1)
                length = 0
            del slot.tokens[length:]

    def _copy_prefix(self, donor: Slot, slot: Slot, length: int) -> None:
        """Give `slot` the donor's first `length` tokens without evaluating them.

        Between streams llama.cpp copies whole buffers (a memcpy at the next decode, far cheaper than
        evaluating the prefix), then the tail beyond the shared prefix is dropped.
        """
        llama.llama_memory_seq_rm(self._mem, slot.seq_id, -1, -1)
        llama.llama_memory_seq_cp(self._mem, donor.seq_id, slot.seq_id, -1, -1)
        llama.llama_memory_seq_rm(self._mem, slot.seq_id, length, -1)
        slot.tokens = donor.tokens[:length]
        self._copy_sources.add(donor.seq_id)
        self._copy_targets.add(slot.seq_id)

    def _save_state(self, slot: Slot) -> None:
        """Keep an evicted conversation's KV state in RAM so its follow-up skips re-evaluation."""
        key = slot.conversation_id
        if key is None or self.saved.budget_bytes <= 0 or slot.seq_id in self._copy_targets:
            return
        size = llama.llama_state_seq_get_size(self._ctx, slot.seq_id)
        if not self.saved.fits(size):
            return
        data = (ctypes.c_uint8 * size)()
        written = llama.llama_state_seq_get_data(self._ctx, data, size, slot.seq_id)
        if written == size:
            self.saved.put(key, list(slot.tokens), data)

    def _restore(self, slot: Slot, saved: _SavedState) -> bool:
        loaded = llama.llama_state_seq_set_data(self._ctx, saved.data, len(saved.data), slot.seq_id)
        if loaded and llama.llama_memory_seq_pos_max(self._mem, slot.seq_id) == len(saved.tokens) - 1:
            slot.tokens = list(saved.tokens)
            return True
        llama.llama_memory_seq_rm(self._mem, slot.seq_id, -1, -1)
        slot.tokens = []
        return False


__all__ = ["KvSlots", "SavedStates", "common_prefix_length"]
