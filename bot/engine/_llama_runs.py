"""What the llama.cpp engine tracks per request (`Job`, `Run`) and per KV sequence (`Slot`)."""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field

from bot.engine._admission import Ticket
from bot.engine._sampling import TokenSampler
from bot.engine._stop_filter import StopFilter


@dataclass(eq=False, kw_only=True)
class Job(Ticket):
    """A request's place in the shared line (`Ticket`) plus its prompt, tokenized on the loop side."""

    prompt: list[int]


@dataclass(eq=False)
class Slot:
    """One llama.cpp sequence and the tokens its KV cache holds (kept after a run for reuse)."""

    seq_id: int
    tokens: list[int] = field(default_factory=list)
    conversation_id: str | None = None
    last_used: float = 0.0
    run: Run | None = None


@dataclass(eq=False)
class Run:
    """A request being answered in a slot (worker thread only)."""

    job: Job
    slot: Slot
    sampler: TokenSampler
    max_new: int
    stops: StopFilter
    prompt_pos: int = 0
    cached: int = 0
    first_token_at: float = 0.0
    emitted_at: float | None = None  # when text last went to the event loop (None: none yet)
    generated: int = 0
    next_token: int = -1  # >= 0 once generating: the sampled token the next step decodes
    wait_for: tuple[Slot, Run, int] | None = None  # (slot, run, length) of a prefix being evaluated
    batch_index: int = -1
    out: list[str] = field(default_factory=list)
    decoder: codecs.IncrementalDecoder = field(
        default_factory=lambda: codecs.getincrementaldecoder("utf-8")(errors="replace")
    )

    @property
    def prompt(self) -> list[int]:
        return self.job.prompt
