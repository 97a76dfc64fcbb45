"""The in-process llama.cpp backend: one model, several conversations decoded together.

Design (llama.cpp's own server is the model for it):

* One worker thread owns the model, the context, the batch and the samplers; llama.cpp objects are not
  thread-safe, and ctypes drops the GIL inside `llama_decode`, so the event loop (and Discord's
  heartbeats) keep running while the CPU decodes. Results go back with `loop.call_soon_threadsafe`.
* `n_slots` sequences, each with its own KV stream of `n_ctx` cells. Each step builds one
  `llama_batch` with the next token of every generating sequence plus a capped chunk of the prompts
  of newly admitted ones, so a long prompt never stalls the streams already running and nobody waits
  for another's whole answer.
* Each slot remembers the tokens in its KV cache. A request reuses the longest common token prefix:
  its conversation's slot, a state saved to RAM when that slot was taken over, or a prefix copied from
  another slot with `llama_memory_seq_cp`, so the fixed instruction prefix is evaluated once, not
  once per conversation or per slot.
* Separate streams (not llama.cpp's unified cache) keep every sequence's cells in position order, so
  an answer does not depend on what else was cached or decoded alongside it: a conversation gives
  bit-identical greedy (and seeded) answers whether it runs alone or interleaved with others.
* Greedy answers (the bot's) are chosen from the logits in place with the same repeat penalty
  (`bot.engine.sampling`); sampled ones use llama.cpp's native chain. Per-token Python work is constant
  (cached token pieces, incremental UTF-8 decoding, stop strings checked on a short tail only).
"""

from __future__ import annotations

import asyncio
import codecs
import concurrent.futures
import ctypes
import logging
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import llama_cpp as llama
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

from bot.config import Settings, usable_cores
from bot.engine.base import ChatMessage, EngineStatus, GenerationRequest, Queued, StreamEvent, Usage
from bot.engine.chat_tokens import llama_tokenizer, tokenize_chat
from bot.engine.model_file import DEFAULT_MODEL_FILENAME, resolve_model_path
from bot.engine.sampling import TokenSampler, make_sampler
from bot.engine.scheduler import FairQueue
from bot.engine.throughput import Throughput
from bot.errors import BackendError, ModelFileError

BACKEND_NAME = "llama.cpp"
# Prompt tokens evaluated per step across all newly admitted requests: big enough for good prompt
# throughput, small enough that the running streams get a token every step.
PROMPT_CHUNK_TOKENS = 256
# Wait for another slot to finish evaluating a shared prefix (then copy it) only when it saves this many.
MIN_SHARED_PREFIX_GAIN = 32
RECENT_WINDOW_S = 30.0
# Generated text goes to the event loop at most this often per answer (the first piece at once).
# Waking the loop for every token costs more than the Python around it: on a machine whose cores
# all decode, the woken loop thread takes a core from llama.cpp's threads mid-graph and they wait for
# it at their barriers. Nobody sees a 40 ms grouping; Discord edits come far less often.
EMIT_INTERVAL_S = 0.04
ALL_GPU_LAYERS = 0x7FFFFFFF
PIECE_BUFFER_BYTES = 64
# Used when the GGUF carries no chat template; llama.cpp falls back to ChatML as well.
CHATML_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + "
    "'<|im_end|>' + '\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

log = logging.getLogger(__name__)

FinishReason = Literal["stop", "length", "cancelled"]

# The C side keeps a pointer to the log callback: it must live as long as the process.
_log_callbacks: dict[bool, Any] = {}


def set_llama_logging(verbose: bool) -> None:
    """Route llama.cpp's log lines to stderr when `verbose`, else drop them (it is chatty on load).

    The setting is process-wide in llama.cpp, so the last engine started decides.
    """
    callback = _log_callbacks.get(verbose)
    if callback is None:

        def _log(level: int, text: bytes | None, _user_data: object) -> None:
            if verbose and text:
                sys.stderr.write(text.decode("utf-8", errors="replace"))

        callback = _log_callbacks[verbose] = llama.llama_log_callback(_log)
    llama.llama_log_set(callback, ctypes.c_void_p(0))


def load_model(path: Path, n_gpu_layers: int) -> Any:
    """Load a GGUF model (llama_model pointer). A file llama.cpp rejects becomes a ModelFileError."""
    params = llama.llama_model_default_params()
    params.n_gpu_layers = ALL_GPU_LAYERS if n_gpu_layers < 0 else n_gpu_layers
    model = llama.llama_model_load_from_file(str(path).encode(), params)
    if not model:
        raise ModelFileError(
            f"llama.cpp could not load the model file {path}: it is corrupt, truncated or of an "
            "unsupported architecture. Download the .gguf again or set MODEL_PATH to another one."
        )
    return model


def generation_threads(n_threads: int, cores: int) -> int:
    """Threads for a one-token step: one fewer than `n_threads` when those would take every core.

    llama.cpp's threads meet at a barrier after every graph node, so a single token (a few hundred
    tiny nodes) is only as fast as the slowest thread. When they fill all cores, the event loop and
    the engine's own Python, waking every token, take a core from one of them and the others wait
    for it: on 2 cores the engine decoded at 0.66 of the raw loop with 2 threads and above it with 1.
    Batches of several tokens (prompts, several users) keep every thread: their nodes are big enough.
    """
    return n_threads - 1 if n_threads > 1 and n_threads >= cores else n_threads


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


@dataclass(eq=False)
class _Job:
    """A request as the event loop sees it; events reach it through its own loop."""

    request: GenerationRequest
    prompt: list[int]
    loop: asyncio.AbstractEventLoop
    started: float
    events: asyncio.Queue[StreamEvent | BaseException] = field(default_factory=asyncio.Queue)
    cancelled: bool = False

    def emit(self, event: StreamEvent | BaseException) -> None:
        try:
            self.loop.call_soon_threadsafe(self.events.put_nowait, event)
        except RuntimeError:  # the consumer's loop is closed: nobody is listening any more
            self.cancelled = True


@dataclass(eq=False)
class _Slot:
    """One llama.cpp sequence and the tokens its KV cache holds (kept after a run for reuse)."""

    seq_id: int
    tokens: list[int] = field(default_factory=list)
    conversation_id: str | None = None
    last_used: float = 0.0
    run: _Run | None = None


@dataclass(eq=False)
class _Run:
    """A request being answered in a slot (worker thread only)."""

    job: _Job
    slot: _Slot
    sampler: TokenSampler
    max_new: int
    stops: StopFilter
    prompt_pos: int = 0
    cached: int = 0
    admitted_at: float = 0.0
    first_token_at: float = 0.0
    emitted_at: float = 0.0  # when text last went to the event loop (0: none yet)
    generated: int = 0
    next_token: int = -1  # >= 0 once generating: the sampled token the next step decodes
    wait_for: tuple[_Slot, _Run, int] | None = None  # (slot, run, length) of a prefix being evaluated
    batch_index: int = -1
    out: list[str] = field(default_factory=list)
    decoder: codecs.IncrementalDecoder = field(
        default_factory=lambda: codecs.getincrementaldecoder("utf-8")(errors="replace")
    )

    @property
    def prompt(self) -> list[int]:
        return self.job.prompt


class LlamaEngine:
    """The `Engine` on llama.cpp in this process. Create, `await start()`, share, `await aclose()`."""

    def __init__(
        self,
        settings: Settings,
        *,
        verbose: bool = False,
        prompt_chunk: int = PROMPT_CHUNK_TOKENS,
        emit_interval: float = EMIT_INTERVAL_S,
    ) -> None:
        self._settings = settings
        self._verbose = verbose
        self._n_ctx = settings.n_ctx
        self._n_slots = settings.n_slots
        self._prompt_chunk = max(1, prompt_chunk)
        self._emit_interval = emit_interval
        self._path: Path | None = settings.model_path
        self._queue: FairQueue[_Job] = FairQueue(settings.max_queue)
        self._cv = threading.Condition()
        self._closing = False
        self._thread: threading.Thread | None = None
        self._recent = Throughput(RECENT_WINDOW_S)  # bounded, thread-safe
        # Set in the worker thread by _load; the vocab and formatter are also read by count_tokens.
        self._model: Any = None
        self._ctx: Any = None
        self._mem: Any = None
        self._vocab: Any = None
        self._n_vocab = 0
        self._batch: Any = None
        self._seq_ptrs: list[Any] = []
        self._formatter: Jinja2ChatFormatter | None = None
        self._bos_text = ""
        self._add_bos = False
        self._slots: list[_Slot] = []
        self._runs: list[_Run] = []
        self._saved = SavedStates(settings.kv_cache_mib * 1024 * 1024)
        self._pieces: dict[int, bytes] = {}
        self._positions_version = -1
        # Cross-stream copies run at the start of the next llama_decode; until then the source's data
        # must not be overwritten (by a restore) nor the target's read (by a save).
        self._copy_sources: set[int] = set()
        self._copy_targets: set[int] = set()

    # --- Engine protocol ------------------------------------------------------------------------

    @property
    def model_name(self) -> str:
        return self._path.name if self._path is not None else DEFAULT_MODEL_FILENAME

    @property
    def context_size(self) -> int:
        return self._n_ctx

    async def start(self) -> None:
        """Check the model file, then load it in the worker thread (the event loop stays free)."""
        if self._thread is not None:
            return
        path = resolve_model_path(self._settings.model_path)
        self._path = path
        self._closing = False
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        thread = threading.Thread(
            target=self._worker_main, args=(path, ready), name="llama-engine", daemon=True
        )
        thread.start()
        try:
            await asyncio.wrap_future(ready)
        except BaseException:
            await asyncio.to_thread(thread.join)
            raise
        self._thread = thread

    async def aclose(self) -> None:
        """Stop the worker (active answers end with finish_reason "cancelled") and free llama.cpp."""
        thread = self._thread
        if thread is None:
            return
        with self._cv:
            self._closing = True
            self._cv.notify()
        await asyncio.to_thread(thread.join)
        self._thread = None

    def count_tokens(self, messages: Sequence[ChatMessage]) -> int:
        """Tokens of the rendered chat prompt, assistant header included.

        Thread-safe: rendering uses an immutable Jinja template and tokenizing only reads the vocab
        (llama.cpp's server tokenizes in its HTTP threads while the main loop decodes).
        """
        return len(self._render_and_tokenize(messages))

    def status(self) -> EngineStatus:
        return EngineStatus(
            backend=BACKEND_NAME,
            model=self.model_name,
            n_gpu_layers=self._settings.n_gpu_layers,
            n_ctx=self._n_ctx,
            queue_length=len(self._queue),
            active=len(self._runs),
            recent_tokens_per_s=self._recent_rate(),
        )

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        """Queue the request, then yield `Queued` while it waits, text pieces, and one `Usage`.

        Raises BackendError (prompt too long, engine not running) or QueueFullError before the first
        event. Leaving the loop early cancels the request: it leaves the queue or frees its slot.
        """
        if self._thread is None or self._closing:
            raise BackendError("The language model is not running: it was not started or has been shut down.")
        started = time.perf_counter()
        prompt = await asyncio.to_thread(self._render_and_tokenize, request.messages)  # CPU: off the loop
        if len(prompt) >= self._n_ctx:
            raise BackendError(
                f"This conversation is too long for the model: its prompt takes {len(prompt)} tokens and "
                f"the limit is {self._n_ctx - 1}. Start a new conversation or ask a shorter question."
            )
        job = _Job(request=request, prompt=prompt, loop=asyncio.get_running_loop(), started=started)
        self._queue.push(request.user_id, job)
        self._wake()
        finished = False
        try:
            while True:
                event = await job.events.get()
                if isinstance(event, BaseException):
                    finished = True
                    raise event
                finished = isinstance(event, Usage)
                yield event
                if finished:
                    return
        finally:
            if not finished:
                job.cancelled = True
                self._queue.remove(job)
                self._wake()

    # --- prompt rendering -------------------------------------------------------------------------

    def _render_and_tokenize(self, messages: Sequence[ChatMessage]) -> list[int]:
        formatter, vocab = self._formatter, self._vocab
        if formatter is None or vocab is None:
            raise BackendError("The language model is not loaded yet: start the engine first.")
        # Message text is tokenized with parse_special=False: it can never become a control token.
        return tokenize_chat(
            lambda rendered: formatter(messages=rendered).prompt,
            llama_tokenizer(vocab),
            messages,
            add_bos=self._add_bos,
            bos_text=self._bos_text,
        )

    def _token_text(self, token: int, special: bool) -> bytes:
        buffer = ctypes.create_string_buffer(PIECE_BUFFER_BYTES)
        count = llama.llama_token_to_piece(self._vocab, token, buffer, PIECE_BUFFER_BYTES, 0, special)
        if count < 0:
            buffer = ctypes.create_string_buffer(-count)
            count = llama.llama_token_to_piece(self._vocab, token, buffer, -count, 0, special)
        return buffer.raw[:count]

    def _piece(self, token: int) -> bytes:
        piece = self._pieces.get(token)
        if piece is None:
            piece = self._pieces[token] = self._token_text(token, False)
        return piece

    # --- worker thread: lifecycle -------------------------------------------------------------------

    def _wake(self) -> None:
        with self._cv:
            self._cv.notify()

    def _worker_main(self, path: Path, ready: concurrent.futures.Future[None]) -> None:
        try:
            self._load(path)
        except BaseException as exc:
            self._free()
            ready.set_exception(exc)
            return
        ready.set_result(None)
        try:
            self._serve()
        finally:
            self._shutdown()

    def _load(self, path: Path) -> None:
        set_llama_logging(self._verbose)
        llama.llama_backend_init()
        self._model = load_model(path, self._settings.n_gpu_layers)
        params = llama.llama_context_default_params()
        # n_ctx is per conversation: without a unified cache llama.cpp gives each of the n_seq_max
        # sequences its own stream of n_ctx / n_seq_max cells.
        params.n_ctx = self._n_ctx * self._n_slots
        params.n_seq_max = self._n_slots
        params.kv_unified = False
        params.n_batch = params.n_ubatch = self._prompt_chunk + self._n_slots
        params.n_threads = generation_threads(self._settings.n_threads, usable_cores())
        params.n_threads_batch = self._settings.n_threads
        # Flash attention's CPU kernel gives the same numbers however tokens are grouped into batches.
        params.flash_attn_type = llama.LLAMA_FLASH_ATTN_TYPE_AUTO
        params.no_perf = True
        self._ctx = llama.llama_init_from_model(self._model, params)
        if not self._ctx:
            raise BackendError(
                f"llama.cpp could not create a context of {params.n_ctx} tokens ({self._n_slots} slots of "
                f"{self._n_ctx}): lower N_CTX or N_SLOTS."
            )
        if llama.llama_n_ctx_seq(self._ctx) < self._n_ctx:
            raise BackendError(
                f"llama.cpp gave each conversation {llama.llama_n_ctx_seq(self._ctx)} tokens of context "
                f"instead of {self._n_ctx}: lower N_CTX."
            )
        self._mem = llama.llama_get_memory(self._ctx)
        self._batch = llama.llama_batch_init(params.n_batch, 0, 1)
        self._seq_ptrs = [self._batch.seq_id[i] for i in range(params.n_batch)]
        vocab = llama.llama_model_get_vocab(self._model)
        self._vocab = vocab
        self._n_vocab = llama.llama_vocab_n_tokens(vocab)
        bos = llama.llama_vocab_bos(vocab)
        eos = llama.llama_vocab_eos(vocab)
        self._bos_text = self._token_text(bos, True).decode("utf-8", "replace") if bos >= 0 else ""
        eos_text = self._token_text(eos, True).decode("utf-8", "replace") if eos >= 0 else ""
        self._add_bos = bool(llama.llama_vocab_get_add_bos(vocab))
        template = llama.llama_model_chat_template(self._model, None)
        self._formatter = Jinja2ChatFormatter(
            template=template.decode("utf-8") if template else CHATML_TEMPLATE,
            eos_token=eos_text,
            bos_token=self._bos_text,
            add_generation_prompt=True,
        )
        self._slots = [_Slot(seq_id=i) for i in range(self._n_slots)]

    def _free(self) -> None:
        self._formatter = None
        self._vocab = None
        if self._batch is not None:
            llama.llama_batch_free(self._batch)
            self._batch = None
        if self._ctx:
            llama.llama_free(self._ctx)
        self._ctx = self._mem = None
        if self._model:
            llama.llama_model_free(self._model)
        self._model = None
        self._saved = SavedStates(self._saved.budget_bytes)

    def _shutdown(self) -> None:
        closing = BackendError("The language model was shut down before answering: please ask again.")
        for run in list(self._runs):
            self._finish(run, "cancelled")
        while (job := self._queue.pop()) is not None:
            job.emit(closing)
        self._free()

    def _serve(self) -> None:
        while True:
            with self._cv:
                while not (
                    self._closing
                    or self._runs
                    or len(self._queue)
                    or self._queue.version != self._positions_version
                ):
                    self._cv.wait()
                if self._closing:
                    return
            try:
                self._reap_cancelled()
                self._admit()
                self._report_positions()
                if self._runs:
                    self._step()
            except Exception as exc:  # a bug or a llama.cpp failure: fail the work in hand, keep serving
                log.exception("llama engine step failed")
                self._fail_runs(list(self._runs), f"The language model failed ({exc}). Please try again.")
                for slot in self._slots:  # the bookkeeping may be off: start from clean sequences
                    self._forget(slot)

    # --- worker thread: admission and prefix reuse ----------------------------------------------------

    def _reap_cancelled(self) -> None:
        for run in [run for run in self._runs if run.job.cancelled]:
            self._release(run)

    def _admit(self) -> None:
        while len(self._runs) < self._n_slots:
            job = self._queue.pop()
            if job is None:
                return
            if job.cancelled:
                continue
            slot = self._choose_slot(job)
            self._start_run(job, slot)

    def _report_positions(self) -> None:
        version = self._queue.version
        if version == self._positions_version:
            return
        self._positions_version = version
        for job, position in self._queue.position_changes():
            job.emit(Queued(position))

    def _choose_slot(self, job: _Job) -> _Slot:
        """The free slot to answer in: the conversation's own, else the one whose loss costs least.

        The prefix itself can come from any slot (`_reuse_prefix` copies it), so the choice here only
        decides which cached content is given up: preferably none (an empty slot, or one holding only
        a prefix of this prompt), then an anonymous request's leftovers, then the least recently used
        conversation, whose state `_start_run` saves to RAM first.
        """
        free = [slot for slot in self._slots if slot.run is None]
        conversation = job.request.conversation_id
        if conversation is not None:
            for slot in free:
                if slot.conversation_id == conversation:
                    return slot

        def keep_value(slot: _Slot) -> tuple[bool, bool, float]:
            loses_nothing = common_prefix_length(slot.tokens, job.prompt) == len(slot.tokens)
            return (loses_nothing, slot.conversation_id is None, -slot.last_used)

        return max(free, key=keep_value)

    def _start_run(self, job: _Job, slot: _Slot) -> None:
        request = job.request
        conversation = request.conversation_id
        if slot.tokens and slot.conversation_id is not None and slot.conversation_id != conversation:
            self._save_state(slot)
        run = _Run(
            job=job,
            slot=slot,
            sampler=make_sampler(self._n_vocab, request.sampling, job.prompt),
            max_new=max(1, min(request.sampling.max_tokens, self._n_ctx - len(job.prompt))),
            stops=StopFilter(request.sampling.stop),
            admitted_at=time.perf_counter(),
        )
        slot.run = run
        slot.conversation_id = conversation
        slot.last_used = time.monotonic()
        self._runs.append(run)
        self._reuse_prefix(run)

    def _reuse_prefix(self, run: _Run) -> None:
        """Put the longest available prefix of the prompt into the run's sequence without evaluating it."""
        slot, prompt = run.slot, run.prompt
        limit = len(prompt) - 1  # at least one token must be evaluated to get logits
        own = min(common_prefix_length(slot.tokens, prompt), limit)
        saved = self._saved.pop(run.job.request.conversation_id)  # superseded by this run either way
        if saved is not None and slot.seq_id in self._copy_sources:
            saved = None
        saved_length = min(common_prefix_length(saved.tokens, prompt), limit) if saved else 0
        donor, donor_length = None, 0
        pending, pending_length = None, 0
        for other in self._slots:
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

    def _resolve_wait(self, run: _Run) -> bool:
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

    def _truncate(self, slot: _Slot, length: int) -> None:
        if length < len(slot.tokens):
            if not llama.llama_memory_seq_rm(self._mem, slot.seq_id, length, -1):
                llama.llama_memory_seq_rm(self._mem, slot.seq_id, -1, -1)
                length = 0
            del slot.tokens[length:]

    def _copy_prefix(self, donor: _Slot, slot: _Slot, length: int) -> None:
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

    def _save_state(self, slot: _Slot) -> None:
        """Keep an evicted conversation's KV state in RAM so its follow-up skips re-evaluation."""
        key = slot.conversation_id
        if key is None or self._saved.budget_bytes <= 0 or slot.seq_id in self._copy_targets:
            return
        size = llama.llama_state_seq_get_size(self._ctx, slot.seq_id)
        if not self._saved.fits(size):
            return
        data = (ctypes.c_uint8 * size)()
        written = llama.llama_state_seq_get_data(self._ctx, data, size, slot.seq_id)
        if written == size:
            self._saved.put(key, list(slot.tokens), data)

    def _restore(self, slot: _Slot, saved: _SavedState) -> bool:
        loaded = llama.llama_state_seq_set_data(self._ctx, saved.data, len(saved.data), slot.seq_id)
        if loaded and llama.llama_memory_seq_pos_max(self._mem, slot.seq_id) == len(saved.tokens) - 1:
            slot.tokens = list(saved.tokens)
            return True
        llama.llama_memory_seq_rm(self._mem, slot.seq_id, -1, -1)
        slot.tokens = []
        return False

    # --- worker thread: one decode step ---------------------------------------------------------------

    def _step(self) -> None:
        """Decode one batch: a token for every generating run plus a capped share of pending prompts."""
        budget = self._prompt_chunk
        takes: dict[_Run, int] = {}
        for run in self._runs:  # admission order: the earliest admitted prompt is evaluated first
            if budget == 0:
                break
            if run.next_token >= 0 or (run.wait_for is not None and not self._resolve_wait(run)):
                continue
            takes[run] = take = min(budget, len(run.prompt) - run.prompt_pos)
            budget -= take
        batch = self._batch
        tokens, positions, n_seq, logits = batch.token, batch.pos, batch.n_seq_id, batch.logits
        seq_ptrs = self._seq_ptrs
        planned: list[tuple[_Run, int]] = []  # (run, prompt tokens in this batch; -1 = one generated token)
        n = 0
        # In sequence order: llama.cpp puts consecutive sequence ids into one micro-batch.
        for slot in self._slots:
            run = slot.run
            if run is None:
                continue
            seq_id = slot.seq_id
            if run.next_token >= 0:
                tokens[n], positions[n], n_seq[n], logits[n] = run.next_token, len(slot.tokens), 1, 1
                seq_ptrs[n][0] = seq_id
                run.batch_index = n
                planned.append((run, -1))
                n += 1
            elif take := takes.get(run, 0):
                prompt, start = run.prompt, run.prompt_pos
                for offset in range(take):
                    tokens[n], positions[n], n_seq[n], logits[n] = (
                        prompt[start + offset],
                        start + offset,
                        1,
                        0,
                    )
                    seq_ptrs[n][0] = seq_id
                    n += 1
                if start + take == len(prompt):
                    logits[n - 1] = 1
                    run.batch_index = n - 1
                planned.append((run, take))
        if n == 0:
            return
        batch.n_tokens = n
        status = llama.llama_decode(self._ctx, batch)
        if status != 0:
            self._decode_failed(status, [run for run, _ in planned])
            return
        self._copy_sources.clear()
        self._copy_targets.clear()
        generated = 0
        for run, take in planned:
            slot = run.slot
            if take < 0:
                slot.tokens.append(run.next_token)
            else:
                slot.tokens.extend(run.prompt[run.prompt_pos : run.prompt_pos + take])
                run.prompt_pos += take
                if run.prompt_pos < len(run.prompt):
                    continue
            token = run.sampler.sample(self._ctx, run.batch_index)
            generated += 1
            self._on_token(run, token)
        self._flush_output()
        if generated:
            self._recent.add(generated)

    def _on_token(self, run: _Run, token: int) -> None:
        if not run.first_token_at:
            run.first_token_at = time.perf_counter()
        if llama.llama_vocab_is_eog(self._vocab, token):
            self._finish(run, "stop")
            return
        run.generated += 1
        text = run.decoder.decode(self._piece(token))
        if text:
            shown, stopped = run.stops.feed(text)
            if shown:
                run.out.append(shown)
            if stopped:
                self._finish(run, "stop", flush=False)
                return
        if run.generated >= run.max_new:
            self._finish(run, "length")
        else:
            run.next_token = token

    def _flush_output(self) -> None:
        """Hand each run's new text to its loop: the first piece at once, then in EMIT_INTERVAL_S groups."""
        now = time.perf_counter()
        for run in self._runs:
            if run.out and now - run.emitted_at >= self._emit_interval:
                run.job.emit("".join(run.out))
                run.out.clear()
                run.emitted_at = now

    def _finish(self, run: _Run, reason: FinishReason, *, flush: bool = True) -> None:
        if flush:
            tail = run.decoder.decode(b"", final=True)
            shown, _ = run.stops.feed(tail) if tail else ("", False)
            run.out.append(shown + run.stops.flush())
        text = "".join(run.out)
        run.out.clear()
        now = time.perf_counter()
        started = run.job.started
        usage = Usage(
            prompt_tokens=len(run.prompt),
            completion_tokens=run.generated,
            cached_tokens=run.cached,
            queue_ms=(run.admitted_at - started) * 1000,
            first_token_ms=((run.first_token_at or now) - started) * 1000,
            total_ms=(now - started) * 1000,
            finish_reason=reason,
        )
        self._release(run)  # before the Usage goes out, so status() agrees with what the caller saw
        if text:
            run.job.emit(text)
        run.job.emit(usage)

    def _release(self, run: _Run) -> None:
        """Free the run's slot; its KV content stays cached for the next request that shares it."""
        run.sampler.free()
        run.slot.run = None
        run.slot.last_used = time.monotonic()
        self._runs.remove(run)

    def _decode_failed(self, status: int, runs: list[_Run]) -> None:
        # Whatever part of the batch llama.cpp kept is dropped so every slot's token list stays exact;
        # a prefix copy that may not have happened empties its target.
        for run in runs:
            llama.llama_memory_seq_rm(self._mem, run.slot.seq_id, len(run.slot.tokens), -1)
        uncertain = [slot for slot in self._slots if slot.seq_id in self._copy_targets]
        for slot in uncertain:
            self._forget(slot)
        self._copy_sources.clear()
        self._copy_targets.clear()
        failed = runs + [slot.run for slot in uncertain if slot.run is not None and slot.run not in runs]
        reason = "no room left in the KV cache" if status == 1 else f"llama_decode returned {status}"
        self._fail_runs(failed, f"The language model could not continue ({reason}). Please try again.")

    def _forget(self, slot: _Slot) -> None:
        """Empty a slot's sequence when its content can no longer be trusted."""
        llama.llama_memory_seq_rm(self._mem, slot.seq_id, -1, -1)
        slot.tokens = []
        slot.conversation_id = None

    def _fail_runs(self, runs: list[_Run], message: str) -> None:
        for run in runs:
            if run in self._runs:
                run.job.emit(BackendError(message))
                self._release(run)

    def _recent_rate(self) -> float:
        return self._recent.per_second()


__all__ = ["LlamaEngine", "SavedStates", "StopFilter", "common_prefix_length", "load_model"]
