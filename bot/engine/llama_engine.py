"""The in-process llama.cpp backend: one model, several conversations decoded together.

Design (llama.cpp's own server is the model for it):

* One worker thread owns the model, the context, the batch and the samplers; llama.cpp objects are not
  thread-safe, and ctypes drops the GIL inside `llama_decode`, so the event loop (and Discord's
  heartbeats) keep running while the CPU decodes. Results go back with `loop.call_soon_threadsafe`.
* `n_slots` sequences, each with its own KV stream of `n_ctx` cells. Each step builds one
  `llama_batch` with the next token of every generating sequence plus a capped chunk of the prompts
  of newly admitted ones, so a long prompt never stalls the streams already running and nobody waits
  for another's whole answer.
* Each slot remembers the tokens in its KV cache and a request reuses the longest common prefix
  available (`bot.engine._kv_slots`), so the fixed instruction prefix is evaluated once, not once per
  conversation or per slot.
* Separate streams (not llama.cpp's unified cache) keep every sequence's cells in position order, so
  a decode step does not depend on what else is cached or decoded alongside it. (A prompt cut into
  different chunks, as when several arrive together, can still round differently.)
* Greedy answers (the bot's) are chosen from the logits in place with the same repeat penalty
  (`bot.engine._sampling`); sampled ones use llama.cpp's native chain. Per-token Python work is constant
  (cached token pieces, incremental UTF-8 decoding, stop strings checked on a short tail only).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any, cast

import llama_cpp as llama
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

from bot.config import Settings, usable_cores
from bot.engine._admission import Admission
from bot.engine._chat_tokens import llama_tokenizer, tokenize_chat
from bot.engine._kv_slots import KvSlots, SavedStates, common_prefix_length
from bot.engine._llama_native import generation_threads, load_model, set_llama_logging, token_text
from bot.engine._llama_runs import Job, Run, Slot
from bot.engine._sampling import make_sampler
from bot.engine._stop_filter import StopFilter
from bot.engine.base import ChatMessage, EngineStatus, FinishReason, GenerationRequest, StreamEvent, Usage
from bot.engine.model_file import DEFAULT_MODEL_FILENAME, resolve_model_path
from bot.errors import BackendError

BACKEND_NAME = "llama.cpp"
# Prompt tokens evaluated per step across all newly admitted requests: big enough for good prompt
# throughput, small enough that the running streams get a token every step.
PROMPT_CHUNK_TOKENS = 256
# Generated text goes to the event loop at most this often per answer (the first piece at once).
# Waking the loop for every token costs more than the Python around it: on a machine whose cores
# all decode, the woken loop thread takes a core from llama.cpp's threads mid-graph and they wait for
# it at their barriers. Nobody sees a 40 ms grouping; Discord edits come far less often.
EMIT_INTERVAL_S = 0.04
# Used when the GGUF carries no chat template; llama.cpp falls back to ChatML as well.
CHATML_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + "
    "'<|im_end|>' + '\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

log = logging.getLogger(__name__)


class LlamaEngine:
    """The `Engine` on llama.cpp in this process. Create, `await start()`, share, `await aclose()`."""

    def __init__(
        self,
        settings: Settings,
        *,
        verbose: bool = False,
        prompt_chunk: int = PROMPT_CHUNK_TOKENS,
        emit_interval: float = EMIT_INTERVAL_S,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._settings = settings
        self._verbose = verbose
        self._n_ctx = settings.n_ctx
        self._n_slots = settings.n_slots
        self._prompt_chunk = max(1, prompt_chunk)
        self._emit_interval = emit_interval
        self._clock = clock  # paces the hand-over of text (tests pass a clock they control)
        self._path: Path | None = settings.model_path
        self._cv = threading.Condition()
        # The shared line and books; the worker thread admits (llama.cpp decides when a slot is free).
        self.admission: Admission[Job] = Admission(settings.n_slots, settings.max_queue, wake=self._wake)
        self._closing = False
        self._thread: threading.Thread | None = None
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
        self._kv: KvSlots | None = None  # the sequences, set by _load
        self._runs: list[Run] = []
        self._pieces: dict[int, bytes] = {}

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
        return self.admission.status(
            backend=BACKEND_NAME,
            model=self.model_name,
            n_gpu_layers=self._settings.n_gpu_layers,
            n_ctx=self._n_ctx,
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
        job = Job(request=request, prompt=prompt, started=started)
        async with contextlib.aclosing(self.admission.stream(job)) as events:  # the worker answers
            async for event in events:
                yield event

    # --- prompt rendering -------------------------------------------------------------------------

    def _render_and_tokenize(self, messages: Sequence[ChatMessage]) -> list[int]:
        formatter, vocab = self._formatter, self._vocab
        if formatter is None or vocab is None:
            raise BackendError("The language model is not loaded yet: start the engine first.")
        # Message text is tokenized with parse_special=False: it can never become a control token.
        return tokenize_chat(
            lambda rendered: formatter(messages=cast(Any, rendered)).prompt,  # OpenAI-style TypedDicts
            llama_tokenizer(vocab),
            messages,
            add_bos=self._add_bos,
            bos_text=self._bos_text,
        )

    def _piece(self, token: int) -> bytes:
        piece = self._pieces.get(token)
        if piece is None:
            piece = self._pieces[token] = token_text(self._vocab, token, False)
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
        self._bos_text = token_text(vocab, bos, True).decode("utf-8", "replace") if bos >= 0 else ""
        eos_text = token_text(vocab, eos, True).decode("utf-8", "replace") if eos >= 0 else ""
        self._add_bos = bool(llama.llama_vocab_get_add_bos(vocab))
        template = llama.llama_model_chat_template(self._model, None)
        self._formatter = Jinja2ChatFormatter(
            template=template.decode("utf-8") if template else CHATML_TEMPLATE,
            eos_token=eos_text,
            bos_token=self._bos_text,
            add_generation_prompt=True,
        )
        self._kv = KvSlots(self._ctx, self._n_slots, self._settings.kv_cache_mib * 1024 * 1024)

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
        self._kv = None

    def _shutdown(self) -> None:
        closing = BackendError("The language model was shut down before answering: please ask again.")
        for run in list(self._runs):
            self._finish(run, "cancelled")
        self.admission.refuse_waiting(closing)
        self._free()

    def _serve(self) -> None:
        while True:
            with self._cv:
                while not (
                    self._closing
                    or self._runs
                    or self.admission.queue_length
                    or self.admission.positions_pending
                ):
                    self._cv.wait()
                if self._closing:
                    return
            try:
                self._reap_cancelled()
                self._admit()
                self.admission.report_positions()
                if self._runs:
                    self._step()
            except Exception as exc:  # a bug or a llama.cpp failure: fail the work in hand, keep serving
                log.exception("llama engine step failed")
                self._fail_runs(list(self._runs), f"The language model failed ({exc}). Please try again.")
                for slot in self._kv_slots.slots:  # the bookkeeping may be off: start from clean sequences
                    self._kv_slots.forget(slot)

    # --- worker thread: admission and prefix reuse ----------------------------------------------------

    def _reap_cancelled(self) -> None:
        for run in [run for run in self._runs if run.job.cancelled]:
            self._release(run)

    def _admit(self) -> None:
        while (job := self.admission.admit_next()) is not None:  # only while a slot is free
            try:
                self._start_run(job, self._kv_slots.choose(job.prompt, job.request.conversation_id))
            except BaseException:
                self.admission.release()
                job.emit(BackendError("The language model could not start this answer. Please try again."))
                raise

    def _start_run(self, job: Job, slot: Slot) -> None:
        request = job.request
        run = Run(
            job=job,
            slot=slot,
            sampler=make_sampler(self._n_vocab, request.sampling, job.prompt),
            max_new=max(1, min(request.sampling.max_tokens, self._n_ctx - len(job.prompt))),
            stops=StopFilter(request.sampling.stop),
        )
        self._kv_slots.claim(slot, run)
        self._runs.append(run)
        self._kv_slots.reuse_prefix(run)

    # --- worker thread: one decode step ---------------------------------------------------------------

    def _step(self) -> None:
        """Decode one batch: a token for every generating run plus a capped share of pending prompts.
        The batch is filled here, in one loop (the hot path: no per-token call); planning the prompts'
        shares and sampling after the decode are one call each per batch."""
        takes = self._prompt_takes()
        run: Run | None
        batch = self._batch
        tokens, positions, n_seq, logits = batch.token, batch.pos, batch.n_seq_id, batch.logits
        seq_ptrs = self._seq_ptrs
        planned: list[tuple[Run, int]] = []  # (run, prompt tokens in this batch; -1 = one generated token)
        n = 0
        # In sequence order: llama.cpp puts consecutive sequence ids into one micro-batch.
        for slot in self._kv_slots.slots:
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
        self._kv_slots.decoded()
        self._sample(planned)

    def _prompt_takes(self) -> dict[Run, int]:
        """How many prompt tokens each run still reading its prompt gets in the next batch: at most
        `_prompt_chunk` in all, in admission order (the earliest admitted prompt is evaluated first),
        none for a run waiting on a shared prefix another run is still computing."""
        budget = self._prompt_chunk
        takes: dict[Run, int] = {}
        for run in self._runs:
            if budget == 0:
                break
            if run.next_token >= 0 or (run.wait_for is not None and not self._kv_slots.resolve_wait(run)):
                continue
            takes[run] = take = min(budget, len(run.prompt) - run.prompt_pos)
            budget -= take
        return takes

    def _sample(self, planned: list[tuple[Run, int]]) -> None:
        """After a decode: each slot now holds what was decoded for it; a run whose prompt is done (or
        which generated a token) samples its next token, and the output goes out."""
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
            self.admission.throughput.add(generated)

    def _on_token(self, run: Run, token: int) -> None:
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
        """Hand each run's new text to its loop: the first piece at once, then in EMIT_INTERVAL_S groups.
        "At once" whatever the clock reads: a clock may start anywhere (perf_counter counts from boot)."""
        now = self._clock()
        for run in self._runs:
            if run.out and (run.emitted_at is None or now - run.emitted_at >= self._emit_interval):
                run.job.emit("".join(run.out))
                run.out.clear()
                run.emitted_at = now

    def _finish(self, run: Run, reason: FinishReason, *, flush: bool = True) -> None:
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
            queue_ms=run.job.queue_ms,
            first_token_ms=((run.first_token_at or now) - started) * 1000,
            total_ms=(now - started) * 1000,
            finish_reason=reason,
        )
        self._release(run)  # before the Usage goes out, so status() agrees with what the caller saw
        if text:
            run.job.emit(text)
        run.job.emit(usage)

    def _release(self, run: Run) -> None:
        """Free the run's slot; its KV content stays cached for the next request that shares it."""
        run.sampler.free()
        run.slot.run = None
        run.slot.last_used = time.monotonic()
        self._runs.remove(run)
        self.admission.release()

    def _decode_failed(self, status: int, runs: list[Run]) -> None:
        uncertain = self._kv_slots.decode_failed(runs)
        failed = runs + [slot.run for slot in uncertain if slot.run is not None and slot.run not in runs]
        reason = "no room left in the KV cache" if status == 1 else f"llama_decode returned {status}"
        self._fail_runs(failed, f"The language model could not continue ({reason}). Please try again.")

    def _fail_runs(self, runs: list[Run], message: str) -> None:
        for run in runs:
            if run in self._runs:
                run.job.emit(BackendError(message))
                self._release(run)

    @property
    def _kv_slots(self) -> KvSlots:
        assert self._kv is not None, "the model is not loaded"
        return self._kv


__all__ = [
    "LlamaEngine",
    "SavedStates",
    "StopFilter",
    "common_prefix_length",
    "generation_threads",
    "load_model",
    "set_llama_logging",
]
