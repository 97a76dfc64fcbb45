"""`BriefingService`: the one object front ends talk to.

It owns the engine, the database and the live prompt library, opens them in order and closes them
in reverse. The console and the Discord cogs call its methods and format what comes back; they never
reach into the store, the library or the engine. All briefing logic lives in `bot/briefing/`; the
conversation memory (which message continues which conversation, what a conversation remembers,
which replies are unfinished) is kept here, so a front end only names conversations.

Commands that need no model (search, the topic list, checking a prompt folder) have class-level
versions that read the prompt folder alone: `BriefingService.search_prompts` and friends.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.briefing.answer import answer
from bot.briefing.brief import BriefEvent, brief
from bot.briefing.context import BriefingContext
from bot.briefing.debate import DEFAULT_ROUNDS, DebateEvent, DebateSession, debate
from bot.briefing.evaluate import (
    ClaimItem,
    ClaimReport,
    EvalClaim,
    EvalItem,
    EvalQuestion,
    EvalReport,
    ablate_claims,
    evaluate,
    evaluate_claims,
)
from bot.briefing.factcheck import FactCheck, check_claim
from bot.briefing.models import AnswerEvent
from bot.briefing.progress import reading_first
from bot.briefing.prompting import clean_user_text
from bot.briefing.topics import MAX_CHOICES, NamedTopic, normalise_topic, topic_choices, topic_menu
from bot.briefing.why import Explanation, explain
from bot.config import Settings
from bot.engine import build_engine
from bot.engine.base import Engine, EngineStatus
from bot.feedback import (
    FeedbackPage,
    Vote,
    check_note,
    check_reason,
    export_jsonl,
    feedback_page,
    parse_facts,
)
from bot.index import ScoredPassage, SourceIndex
from bot.language import LanguageModels
from bot.library import Library, ReloadReport, build_snapshot
from bot.prompt_admin import Actor, FileInfo, PromptAdmin, Proposal
from bot.promptset import load_prompt_set, tree_hash
from bot.reload_signal import publish
from bot.retention import forget_old_conversations, keep_forgetting
from bot.sources import Passage, Source
from bot.store import AudiencePolls as AudiencePolls  # the front ends read it from here
from bot.store import PromptChange, Store

MAX_SEARCH_K = 20


@dataclass(frozen=True, slots=True)
class SourceList:
    """The live prompt set's sources and its version (for a source listing)."""

    sources: tuple[Source, ...]
    version: str


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    engine: EngineStatus
    prompt_version: str
    passages: int
    sources: int
    # One sentence per language model that is not loaded (answers then rest on word overlap alone).
    language: list[str] = field(default_factory=list)


class BriefingService:
    """Domain facade. Create with `await BriefingService.open(settings)`; close with `aclose()`."""

    def __init__(
        self, settings: Settings, engine: Engine, store: Store, library: Library, *, owns_engine: bool = True
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.store = store
        self.library = library
        self._owns_engine = owns_engine  # an engine passed in (tests, shared) is closed by its owner
        self._topics: tuple[str, list[str]] = ("", [])  # (prompt version, menu)
        self._retention: asyncio.Task[None] | None = None  # CONVERSATION_RETENTION_DAYS, hourly
        self._prompt_admin = PromptAdmin(
            library.root,
            store,
            self._swap,
            lambda: self.library.current.prompts.sources,
            fetch_timeout_s=settings.prompt_upload_timeout_s,
        )

    @classmethod
    async def open(cls, settings: Settings, *, engine: Engine | None = None) -> BriefingService:
        """Load the prompts and their word lists first (cheap, most likely to be broken), then the
        database, then the model. A malformed file stops start-up with its file and line."""
        language = await asyncio.to_thread(LanguageModels.shared) if settings.language_models else None
        library = await Library.open(settings.prompts_dir, language)
        store: Store | None = None
        owns_engine = engine is None
        try:
            store = await Store.open(settings.database_path)
            await forget_old_conversations(store, settings.conversation_retention_days)
            if engine is None:
                engine = build_engine(settings)
                await engine.start()
        except BaseException:
            if store is not None:
                await store.aclose()
            await library.aclose()
            raise
        service = cls(settings, engine, store, library, owns_engine=owns_engine)
        await service._prompt_admin.record_start(library.current.prompts.version)
        if settings.conversation_retention_days > 0:
            service._retention = asyncio.create_task(
                keep_forgetting(store, settings.conversation_retention_days)
            )
        return service

    async def aclose(self) -> None:
        if self._retention is not None:
            self._retention.cancel()
            await asyncio.gather(self._retention, return_exceptions=True)
            self._retention = None
        if self._owns_engine:
            await self.engine.aclose()
        await self.store.aclose()
        await self.library.aclose()

    def context(self) -> BriefingContext:
        """A consistent snapshot for one request, its word lists pinned for the calling task."""
        snapshot = self.library.current
        ctx = BriefingContext(
            engine=self.engine,
            store=self.store,
            prompts=snapshot.prompts,
            index=snapshot.index,
            max_answer_tokens=self.settings.max_answer_tokens,
            max_input_chars=self.settings.max_input_chars,
        )
        ctx.pin_words()
        return ctx

    @property
    def prompt_version(self) -> str:
        return self.library.current.prompts.version

    @property
    def model_name(self) -> str:
        return self.engine.model_name

    def sources(self) -> SourceList:
        prompts = self.library.current.prompts
        return SourceList(tuple(prompts.sources), prompts.version)

    # --- modes ---------------------------------------------------------------------------------

    def ask(self, question: str, *, conversation_id: str, user_id: str) -> AsyncIterator[AnswerEvent]:
        """Stream a grounded answer; the exchange is remembered under `conversation_id`. The stream
        opens with the `reading` stage before any work, so a front end can show progress at once."""
        events = answer(self.context(), question, conversation_id=conversation_id, user_id=user_id)
        return reading_first(events)

    def brief(self, topic: str, *, conversation_id: str, user_id: str) -> AsyncIterator[BriefEvent]:
        """Stream a quick briefing (cached per prompt version); ends with `Briefed`, then `Answered`.
        The exchange is remembered under `conversation_id`, so follow-up `ask`s see it. Like `ask`,
        it opens with the `reading` stage."""
        return reading_first(brief(self.context(), topic, conversation_id=conversation_id, user_id=user_id))

    def topics(self) -> list[str]:
        """The briefing topic menu of the live prompt set: the moderators' named topics, then the
        sources' titles and section headings."""
        return _menu(self.library.current.prompts.topics, self._sections())

    def _sections(self) -> list[str]:
        version = self.prompt_version
        if self._topics[0] != version:
            self._topics = (version, topic_menu(self.library.current.prompts.sources))
        return self._topics[1]

    def topics_matching(self, prefix: str, limit: int = MAX_CHOICES) -> list[str]:
        """Autocomplete choices: at most 25, each at most 100 characters; the named topics spelled
        like `prefix` or close to it in meaning first, then the sections that are."""
        named = self.library.current.prompts.topics
        return topic_choices(named, self._sections(), prefix, self.library.language, limit)

    def debate(
        self,
        motion: str,
        *,
        rounds: int = DEFAULT_ROUNDS,
        conversation_id: str,
        user_id: str,
        favours: str | None = None,
    ) -> AsyncIterator[DebateEvent]:
        """The whole debate as one event stream (rounds, judge, `DebateFinished`); `favours`: the
        side the user says the motion favours (None: read from the motion)."""
        return debate(
            self.context(),
            motion,
            rounds=rounds,
            conversation_id=conversation_id,
            user_id=user_id,
            favours=favours,
        )

    async def debate_session(
        self,
        motion: str,
        *,
        rounds: int = DEFAULT_ROUNDS,
        conversation_id: str,
        user_id: str,
        favours: str | None = None,
    ) -> DebateSession:
        """A debate driven step by step (`next_round()`, `judge()`, `result()`), e.g. by buttons.
        Raises InputError for an off-subject motion, a bad number of rounds or an unknown side."""
        return await DebateSession.open(
            self.context(),
            motion,
            rounds=rounds,
            conversation_id=conversation_id,
            user_id=user_id,
            favours=favours,
        )

    async def check(self, claim: str, *, user_id: str) -> FactCheck:
        """Fact-check a claim: supported, contradicted or not in the sources, with the evidence."""
        return await check_claim(self.context(), claim, user_id=user_id)

    async def evaluate(
        self, questions: Sequence[EvalQuestion], *, on_item: Callable[[int, EvalItem], None] | None = None
    ) -> EvalReport:
        """Answer and score a list of evaluation questions (see bot/briefing/evaluate.py)."""
        return await evaluate(self.context(), questions, on_item=on_item)

    async def evaluate_claims(
        self, claims: Sequence[EvalClaim], *, on_item: Callable[[int, ClaimItem], None] | None = None
    ) -> ClaimReport:
        """Fact-check a list of claims and score the verdicts (see bot/briefing/evaluate.py)."""
        return await evaluate_claims(self.context(), claims, on_item=on_item)

    async def ablate_claims(self, claims: Sequence[EvalClaim]) -> dict[str, dict[str, object]]:
        """Verdict accuracy with each meaning check left out in turn (bot/briefing/evaluate.py)."""
        return await ablate_claims(self.library.current.index, claims)

    async def search(self, query: str, k: int = 5) -> list[ScoredPassage]:
        """The passages that best match `query` (at most MAX_SEARCH_K)."""
        return await _search(self.library.current.index, self.settings, query, k)

    # --- conversations -----------------------------------------------------------------------

    async def reset(self, conversation_id: str) -> None:
        """Forget a conversation: its turns and its record (message links stay, harmlessly)."""
        await self.store.reset(conversation_id)

    async def has_history(self, conversation_id: str) -> bool:
        """Whether the conversation remembers at least one complete exchange."""
        return bool(await self.store.history(conversation_id, limit=1))

    async def link(self, key: str, conversation_id: str) -> None:
        """Remember that `key` (a front end's message, thread...) belongs to `conversation_id`, so
        a reply to it continues that conversation, after a restart too."""
        await self.store.link_message(key, conversation_id)

    async def conversation_of(self, key: str) -> str | None:
        """The conversation `key` was linked to, or None."""
        return await self.store.conversation_for_message(key)

    # --- replies in progress (a restart tells their readers they were cut off) ------------------

    async def reply_opened(self, channel_id: int, message_id: int) -> None:
        await self.store.track_reply(channel_id, message_id)

    async def reply_closed(self, channel_id: int, message_id: int) -> None:
        await self.store.untrack_reply(channel_id, message_id)

    async def open_replies(self) -> list[tuple[int, int]]:
        """(channel id, message id) of every reply left unfinished, oldest first."""
        return await self.store.open_replies()

    # --- a debate's audience polls (the votes are the front end's; where they are is kept here) ----

    async def audience_polls_opened(self, debate: str, channel_id: int, motion: str, before_id: int) -> None:
        await self.store.polls_opened(debate, channel_id, motion, before_id)

    async def audience_second_poll(self, debate: str, after_id: int, closes_at: float) -> None:
        await self.store.second_poll_opened(debate, after_id, closes_at)

    async def audience_polls_done(self, debate: str) -> None:
        await self.store.polls_done(debate)

    async def open_audience_polls(self) -> list[AudiencePolls]:
        """Debates whose audience polls were not yet reported, oldest first (after a restart too)."""
        return await self.store.open_audience_polls()

    async def reload(self, *, actor: str) -> ReloadReport:
        """Re-read prompts/; swap only if everything is valid. Every attempt is recorded, and a
        successful one is announced to other bot processes sharing the folder; a set that host
        edits changed becomes a version in the prompt history (rollback can return to it)."""
        report = await self._swap(actor)
        if report.ok:
            await self._prompt_admin.record_reload(actor, report.version)
        return report

    async def _swap(self, actor: str) -> ReloadReport:
        content_hash = await asyncio.to_thread(tree_hash, self.library.root)
        report = await self.library.reload()
        if report.ok:  # other bot processes sharing PROMPTS_DIR follow (bot/reload_signal.py)
            await asyncio.to_thread(publish, self.library.root, report.version)
        await self.store.record_reload(
            actor=actor,
            ok=report.ok,
            version=report.version,
            content_hash=content_hash,
            summary={
                "added": report.added,
                "changed": report.changed,
                "removed": report.removed,
                "passages": report.passages,
                "problems": report.problems,
            },
        )
        return report

    # --- prompt files managed from a front end (bot/prompt_admin) --------------------------------

    def prompt_file_names(self) -> list[str]:
        """Every prompt file as `folder/name` (for autocomplete; reveals names only)."""
        return self._prompt_admin.file_names()

    async def prompt_files(self, actor: Actor) -> list[FileInfo]:
        return await self._prompt_admin.list_files(actor)

    async def prompt_file(self, actor: Actor, name: str) -> tuple[str, bytes]:
        return await self._prompt_admin.file(actor, name)

    async def prompt_history(self, actor: Actor, name: str | None) -> list[PromptChange]:
        return await self._prompt_admin.history(actor, name)

    async def propose_prompt_upload(
        self, actor: Actor, name: str | None, filename: str, *, url: str, size: int
    ) -> Proposal:
        """Fetch, check and validate an upload; the returned preview waits for `confirm_prompt_change`."""
        return await self._prompt_admin.propose_upload(actor, name, filename, url=url, size=size)

    async def propose_prompt_delete(self, actor: Actor, name: str) -> Proposal:
        return await self._prompt_admin.propose_delete(actor, name)

    async def propose_prompt_rollback(self, actor: Actor, version: str) -> Proposal:
        return await self._prompt_admin.propose_rollback(actor, version)

    def prompt_change_owner(self, key: int) -> str | None:
        """The actor id that may confirm or cancel preview `key`; None if it is not pending."""
        return self._prompt_admin.owner_of(key)

    async def confirm_prompt_change(self, actor: Actor, key: int) -> ReloadReport:
        return await self._prompt_admin.confirm(actor, key)

    async def cancel_prompt_change(self, actor: Actor, key: int) -> Proposal:
        return await self._prompt_admin.cancel(actor, key)

    # --- feedback and /why (moderators; see bot/feedback.py and bot/briefing/why.py) -----------------

    async def record_shown(self, record: dict[str, Any], *, guild_id: str, asker_id: str) -> int:
        """Keep what was shown (a `bot.feedback.shown_*` record) so votes on it keep their context;
        returns the id the feedback buttons carry."""
        return await self.store.record_shown(guild_id, asker_id, record)

    async def more_from_sources(self, answer_id: int) -> list[Passage] | None:
        """The passages a shown answer rested on that it did not cite, best first, as the sources
        read now (a passage a reload removed is left out); None once the answer is off record."""
        record = await self.store.shown_record(answer_id)
        if record is None:
            return None
        cited = set(record.get("cited", []))
        index = self.library.current.index
        found = (index.get(str(p["id"])) for p in record.get("passages", []) if p["id"] not in cited)
        return [passage for passage in found if passage is not None]

    async def vote(self, answer_id: int, *, user_id: str, vote: Vote) -> bool:
        """One vote per user per answer, changeable; False if the answer is no longer on record."""
        return await self.store.set_vote(answer_id, user_id, vote)

    async def explain_vote(
        self, answer_id: int, *, user_id: str, reason: str | None = None, note: str | None = None
    ) -> bool:
        """What was wrong with an answer the user voted down; InputError for an unknown reason or a
        note over the limit. False if the user has no 👎 on it (any more)."""
        return await self.store.explain_vote(
            answer_id,
            user_id,
            reason=None if reason is None else check_reason(reason),
            note=None if note is None else check_note(note),
        )

    async def feedback_page(self, guild_id: str | None, *, reason: str = "", page: int = 1) -> FeedbackPage:
        return await feedback_page(self.store, guild_id, reason=reason, page=page)

    async def set_expected(self, answer_id: int, *, guild_id: str, facts: str) -> list[list[str]] | None:
        """Record the facts a right answer to a kept answer's question holds ("a; b | c": groups and
        alternatives); InputError for no keywords, None when the server keeps no such answer."""
        groups = parse_facts(facts)
        return groups if await self.store.set_expected(answer_id, guild_id, groups) else None

    async def export_feedback(self, guild_id: str | None, *, reason: str = "") -> tuple[int, str]:
        """(how many questions, JSONL text `python -m bot eval` reads) of a server's 👎."""
        return await export_jsonl(self.store, guild_id, reason=reason)

    async def why(self, question: str, *, user_id: str) -> Explanation:
        """The passages, the answerability decision and a checked draft for `question`; nothing is
        stored or posted (see bot/briefing/why.py)."""
        return await explain(self.context(), question, user_id=user_id)

    # --- without a model: the prompt folder alone ---------------------------------------------

    @staticmethod
    async def search_prompts(settings: Settings, query: str, k: int = 5) -> list[ScoredPassage]:
        """`search` without opening the model or the database."""
        language = await asyncio.to_thread(LanguageModels.shared) if settings.language_models else None
        snapshot = await build_snapshot(settings.prompts_dir, language)
        try:
            return await _search(snapshot.index, settings, query, k)
        finally:
            await snapshot.index.aclose()

    @staticmethod
    async def topics_of_prompts(settings: Settings) -> list[str]:
        """`topics` without opening the model or the database."""
        snapshot = await build_snapshot(settings.prompts_dir)
        try:
            return _menu(snapshot.prompts.topics, topic_menu(snapshot.prompts.sources))
        finally:
            await snapshot.index.aclose()

    @staticmethod
    async def export_feedback_offline(
        settings: Settings, guild_id: str | None, *, reason: str = ""
    ) -> tuple[int, str]:
        """`export_feedback` reading the database alone: an export must not wait for a model to load."""
        store = await Store.open(settings.database_path)
        try:
            return await export_jsonl(store, guild_id, reason=reason)
        finally:
            await store.aclose()

    @staticmethod
    def check_prompts(root: Path) -> tuple[str | None, list[str]]:
        """Validate a prompt folder: (a one-line summary, []) or (None, problems as file:line)."""
        prompts, problems = load_prompt_set(root)
        if prompts is None:
            return None, problems
        passages = sum(len(s.passages) for s in prompts.sources)
        return f"prompt set {prompts.version}: {len(prompts.sources)} sources, {passages} passages", []

    def status(self) -> ServiceStatus:
        snapshot = self.library.current
        return ServiceStatus(
            engine=self.engine.status(),
            prompt_version=snapshot.prompts.version,
            passages=len(snapshot.index.passages),
            sources=len(snapshot.prompts.sources),
            language=self._language_problems(),
        )

    def _language_problems(self) -> list[str]:
        language = self.library.language
        if language is None:
            return [
                "The language models are off (LANGUAGE_MODELS=false): answers rest on word overlap alone."
            ]
        return list(language.problems)


def _menu(named: Sequence[NamedTopic], sections: Sequence[str]) -> list[str]:
    """Named topics first, then the sections not already named (case and punctuation aside)."""
    names = [t.name for t in named]
    taken = {normalise_topic(n) for n in names}
    return names + [s for s in sections if normalise_topic(s) not in taken]


async def _search(index: SourceIndex, settings: Settings, query: str, k: int) -> list[ScoredPassage]:
    query = clean_user_text(query, max_chars=settings.max_input_chars, what="search")
    return await index.search(query, k=max(1, min(k, MAX_SEARCH_K)))
