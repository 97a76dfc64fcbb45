"""Quick briefings: a fixed five-part structure, fast and reliable on a 135M model.

Why most of a briefing is *selected*, not generated: a tiny model writing 150 words drifts, repeats
and invents. So the model writes only the bottom line (template `brief`, two sentences, verified like
every answer), while the key facts, the race and cooperation framings and what is uncertain are
sentences cut verbatim from retrieved passages (framing-filtered retrieval for the two framings,
uncertainty cues for the last part), each with its citation. Everything cited is therefore checkable,
and a briefing still has all five parts when the model's output is weak.

Briefings are cached in the database per prompt-set version and normalised topic: a reload changes
the version, so edited sources or prompts are never served from a stale cache, and the cache outlives
the process. Every briefing, fresh or cached, is also stored in the conversation like an `ask`
exchange, so follow-up questions in the same conversation have it as context.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from bot.briefing.answer import canned_answer
from bot.briefing.checked import SentenceGate
from bot.briefing.code_version import briefing_code_version
from bot.briefing.context import BriefingContext, stream_generation
from bot.briefing.first_mention import Introductions, full_names
from bot.briefing.grounding import (
    MIN_UNCERTAINTY,
    NO_UNCERTAINTY,
    Numbering,
    Picks,
    model_messages,
    passage_labels,
)
from bot.briefing.models import Answer, Answered, Citation
from bot.briefing.progress import Stage, checking_at_first_text, found_in
from bot.briefing.prompting import clean_user_text, fit_to_context
from bot.briefing.retrieval import is_on_topic, retrieve
from bot.briefing.sentences import Part, Sentence, Shown, own_words, render, render_sentences, renumbered
from bot.briefing.topics import normalise_topic
from bot.engine.base import GenerationRequest, Queued, Usage
from bot.index import ScoredPassage
from bot.measures import elapsed_ms
from bot.store import Turn
from bot.terms import content_terms
from bot.words.vocabulary import vocabulary

BRIEF_MAX_TOKENS = 70  # two sentences of bottom line; the rest of the briefing is selected
GENERAL_K = 3  # passages behind the bottom line and the key facts
FRAMING_K = 8  # passages searched per framing: enough to reach passages of that framing alone
UNCERTAIN_K = 4
KEY_FACTS = 2
MAX_TOPIC_CHARS = 300
SECTION_TITLES = {
    "bottom_line": "Bottom line",
    "key_facts": "Key facts",
    "race": "The race framing",
    "cooperation": "The cooperation framing",
    "uncertain": "What is uncertain",
}
BOTTOM_LINE_LEAD = f"**{SECTION_TITLES['bottom_line']}:**"
NO_FRAMING = "The sources do not set out the {framing} framing on this topic."


# --- result types ------------------------------------------------------------------------------


def citation_payload(citation: Citation) -> dict[str, Any]:
    """A citation with its number and framing, for JSON that must round-trip (cache, debate)."""
    return {
        **citation.to_json(with_framing=True),
        "number": citation.number,
        "framing": list(citation.framing),
        "by": citation.by,
    }


def citation_from_payload(data: dict[str, Any]) -> Citation:
    return Citation(
        number=int(data["number"]),
        id=data["id"],
        source=data["source"],
        title=data["title"],
        quote=data["quote"],
        framing=tuple(data.get("framing", ())),
        by=str(data.get("by", "")),
        page=str(data.get("page", "")),
    )


@dataclass(slots=True)
class Briefing:
    """A structured quick briefing: five sections (parts of cited sentences, by name), or, when it
    declines, only the bot's `message`. `text` is the sections rendered as Markdown."""

    topic: str
    sections: dict[str, Part]
    citations: list[Citation]
    passage_ids: list[str]
    model: str
    cached: bool = False
    total_ms: float = 0.0
    grounded: float = 1.0
    unsupported: list[str] = field(default_factory=list)
    kind: str = "brief"  # "brief", "off_topic", "no_sources"
    message: str = ""  # the reply when it declines (then there are no sections)

    @property
    def parts(self) -> list[Part]:
        return list(self.sections.values()) if self.sections else [Part((own_words(self.message),))]

    @property
    def text(self) -> str:
        return render(self.parts)

    def section_texts(self) -> dict[str, str]:
        """Each section's sentences rendered without its title (key facts one a line)."""
        return {
            name: render_sentences(part.sentences, "\n" if part.layout == "list" else " ")
            for name, part in self.sections.items()
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "text": self.text,
            "sections": self.section_texts(),
            "citations": [c.to_json(with_framing=True) for c in self.citations],
            "cached": self.cached,
            "total_ms": self.total_ms,
            "grounded": round(self.grounded, 3),
            "unsupported": list(self.unsupported),
            "model": self.model,
            "kind": self.kind,
        }

    def payload(self) -> dict[str, Any]:
        """What the cache keeps (everything but timing and the cached flag)."""
        return {
            "topic": self.topic,
            "sections": {name: part.to_payload() for name, part in self.sections.items()},
            "message": self.message,
            "citations": [citation_payload(c) for c in self.citations],
            "passage_ids": self.passage_ids,
            "model": self.model,
            "grounded": self.grounded,
            "unsupported": self.unsupported,
        }

    @classmethod
    def from_payload(cls, data: dict[str, Any], *, total_ms: float) -> Briefing:
        citations = [citation_from_payload(c) for c in data["citations"]]
        by_number = {c.number: c for c in citations}
        return cls(
            topic=data["topic"],
            sections={name: Part.from_payload(part, by_number) for name, part in data["sections"].items()},
            message=data.get("message", ""),
            citations=citations,
            passage_ids=list(data["passage_ids"]),
            model=data["model"],
            cached=True,
            total_ms=total_ms,
            grounded=float(data["grounded"]),
            unsupported=list(data.get("unsupported", [])),
        )


@dataclass(frozen=True, slots=True)
class Briefed:
    """Sent just before `Answered` in a briefing stream: the structured briefing."""

    briefing: Briefing


BriefEvent = Queued | Stage | Part | Briefed | Answered


class BottomLine:
    """The briefing's one generated part, streamed sentence by sentence once each is checked
    (`SentenceGate`: supported by a passage it was given, and not
    contradicting it) and on the topic: a supported sentence about something else ("track-two
    diplomacy" answered with the Sputnik moment) is no bottom line.

    The streamed text opens the briefing ("**Bottom line:** ...") and its citation numbers are given
    in order of first appearance, as `Picks.renumbered` numbers the finished briefing, so the
    briefing's text starts with exactly what was streamed."""

    def __init__(
        self, ctx: BriefingContext, passages: list[ScoredPassage], picks: Picks, about: set[str]
    ) -> None:
        self.introductions = _introductions(ctx)  # carried on to the selected parts
        self.gate = SentenceGate.reading(passages, ctx.index, labels=passage_labels(passages))
        self.engine = ctx.engine
        self.picks = picks
        self.about = about
        self.kept: list[Sentence] = []  # in the prompt's numbering (renumbered with the whole briefing)
        self.shown = Shown()
        self.usage: Usage | None = None
        self._order: dict[int, int] = {}

    async def stream(self, request: GenerationRequest) -> AsyncIterator[Queued | Stage | Part]:
        async for event in checking_at_first_text(stream_generation(self.engine, request, [])):
            if isinstance(event, Usage):
                self.usage = event
            elif isinstance(event, Queued | Stage):
                yield event
            else:
                for sentence in await self.gate.afeed(event):
                    if part := self._take(sentence):
                        yield part
        for sentence in await self.gate.afinish():
            if part := self._take(sentence):
                yield part

    def _take(self, sentence: Sentence) -> Part | None:
        if self.about and not content_terms(sentence.text) & self.about:
            return None
        sentence = self.introductions.introduce(sentence)
        self.kept.append(sentence)
        for number in sentence.numbers:
            self.picks.citations.setdefault(number, self.gate.citations[number])
        self.picks.used.add(normalise_topic(sentence.text))  # not repeated as a fact or a framing
        shown = renumbered(sentence, self._order, self.picks.citations)
        return self.shown.add(Part((shown,), "" if self.shown.parts else BOTTOM_LINE_LEAD))


def _introductions(ctx: BriefingContext) -> Introductions:
    """Who the briefing has named so far, from the sources' full names (see `first_mention`)."""
    index = ctx.index
    passages = {p.id: p for p in index.passages}
    return Introductions(full_names(index.passages), passages, index.models)


# --- the briefing -------------------------------------------------------------------------------


def _to_answer(briefing: Briefing, passages: list[ScoredPassage], timings: dict[str, float]) -> Answer:
    return Answer(
        question=briefing.topic,
        parts=briefing.parts,
        citations=briefing.citations,
        passages=passages,
        model=briefing.model,
        timings=timings,
        grounded=briefing.grounded,
        unsupported=briefing.unsupported,
        kind=briefing.kind,
    )


async def _remember(ctx: BriefingContext, conversation_id: str, briefing: Briefing) -> None:
    """Store the briefing as an exchange so DM follow-ups (`ask`) see it; rendered without markers
    for the model, since a follow-up numbers its own sources."""
    await ctx.store.add_turns(
        conversation_id,
        [
            Turn(
                role="user", content=f"Quick briefing on: {briefing.topic}", display=briefing.topic, meta={}
            ),
            Turn(
                role="assistant",
                content=render(briefing.parts, numbers=False).replace("**", ""),
                display=briefing.text,
                meta={"kind": "brief", "citations": [c.id for c in briefing.citations]},
            ),
        ],
    )


def _declined(ctx: BriefingContext, topic: str, kind: str, started: float) -> tuple[Briefing, Answer]:
    answer = canned_answer(ctx, topic, kind)
    briefing = Briefing(
        topic=topic,
        sections={},
        message=answer.text,
        citations=[],
        passage_ids=[],
        model=ctx.engine.model_name,
        total_ms=elapsed_ms(started),
        kind=kind,
    )
    answer.timings = {"total_ms": briefing.total_ms}
    return briefing, answer


@dataclass(frozen=True, slots=True)
class _Found:
    """The passages a briefing is selected from: on the topic, per framing, and on uncertainty."""

    general: list[ScoredPassage]
    race: list[ScoredPassage]
    cooperation: list[ScoredPassage]
    uncertain: list[ScoredPassage]


async def brief(
    ctx: BriefingContext, topic: str, *, conversation_id: str, user_id: str
) -> AsyncIterator[BriefEvent]:
    """Stream a quick briefing on `topic`: `Queued` and the bottom line's checked `Part`s while it is
    written, then `Briefed` (the structure) and, last, `Answered` (the full text as an answer of kind
    "brief")."""
    started = time.perf_counter()
    topic = clean_user_text(topic, max_chars=min(ctx.max_input_chars, MAX_TOPIC_CHARS), what="topic")
    key = normalise_topic(topic)
    cache_version = f"{ctx.prompts.version}:{briefing_code_version()}:{ctx.engine.model_name}"
    payload = await ctx.store.cached_briefing(cache_version, key)
    if payload is not None:
        for cached in await _from_cache(ctx, payload, conversation_id, started):
            yield cached
        return

    general = await retrieve(ctx.index, topic, k=GENERAL_K)
    for kind, declined in (("off_topic", not is_on_topic(topic, general)), ("no_sources", not general)):
        if declined:
            briefing, answer = _declined(ctx, topic, kind, started)
            yield Briefed(briefing)
            yield Answered(answer)
            return
    found = _Found(
        general,
        race=await ctx.index.search(topic, k=FRAMING_K, framing="race"),
        cooperation=await ctx.index.search(topic, k=FRAMING_K, framing="cooperation"),
        uncertain=await ctx.index.search(f"{topic} {vocabulary().queries['uncertainty']}", k=UNCERTAIN_K),
    )
    retrieve_ms = elapsed_ms(started)
    yield found_in(general)

    # 1. The bottom line: the only generated part; each sentence is streamed once it is checked.
    line, request = _bottom_line(ctx, topic, general, user_id)
    async for event in line.stream(request):
        yield event
    # 2. The selected, verbatim parts around it.
    briefing, passages = _assemble(ctx, topic, line, found)
    await ctx.store.cache_briefing(cache_version, key, briefing.payload())
    await _remember(ctx, conversation_id, briefing)
    briefing.total_ms = elapsed_ms(started)
    timings = {
        "retrieve_ms": retrieve_ms,
        "prompt_tokens": float(line.usage.prompt_tokens if line.usage else 0),
        "completion_tokens": float(line.usage.completion_tokens if line.usage else 0),
        "total_ms": briefing.total_ms,
    }
    yield Briefed(briefing)
    yield Answered(_to_answer(briefing, passages, timings))


async def _from_cache(
    ctx: BriefingContext, payload: dict[str, Any], conversation_id: str, started: float
) -> tuple[Briefed, Answered]:
    briefing = Briefing.from_payload(payload, total_ms=elapsed_ms(started))
    passages = [ScoredPassage(p, 0.0) for pid in briefing.passage_ids if (p := ctx.index.get(pid))]
    await _remember(ctx, conversation_id, briefing)
    briefing.total_ms = elapsed_ms(started)
    timings = {"total_ms": briefing.total_ms, "cached": 1.0}
    return Briefed(briefing), Answered(_to_answer(briefing, passages, timings))


def _bottom_line(
    ctx: BriefingContext, topic: str, general: list[ScoredPassage], user_id: str
) -> tuple[BottomLine, GenerationRequest]:
    """The bottom line's writer and the request that feeds it (the prompt fitted to the context)."""
    sampling = ctx.sampling(max_tokens=BRIEF_MAX_TOKENS)
    messages, prompt_passages, _ = fit_to_context(
        ctx.engine,
        lambda ps, _hs: model_messages(ctx.prompts, "briefer", "brief", ps, topic=topic),
        general,
        [],
        sampling.max_tokens,
    )
    picks = Picks(Numbering(prompt_passages))  # the bottom line's [n] keep their meaning
    line = BottomLine(ctx, prompt_passages, picks, content_terms(topic))
    request = GenerationRequest(messages=messages, sampling=sampling, user_id=user_id, conversation_id=None)
    return line, request


def _assemble(
    ctx: BriefingContext, topic: str, line: BottomLine, found: _Found
) -> tuple[Briefing, list[ScoredPassage]]:
    """The five sections around the bottom line as written, numbered as one text."""
    picks, about, cues = line.picks, line.about, vocabulary().cues
    bottom_line = line.kept or _fallback_line(picks, about, found.general)
    # What is uncertain first: it is the most constrained part (it needs an uncertainty cue), and a
    # sentence such as "whether a global pause is feasible is still unclear" would otherwise be taken
    # as a key fact and leave this section empty.
    # From the topic's own sources: the search for uncertainty words alone drifts to another
    # source's open question (a port's brief quoting an essay's "the AI threat remains unclear").
    topic_sources = {scored.passage.source for scored in found.general}
    uncertain_line = picks.best(
        [*(s for s in found.uncertain if s.passage.source in topic_sources), *found.general],
        about,
        cues=cues["uncertainty"],
        min_cue=MIN_UNCERTAINTY,
        cue_cap=MIN_UNCERTAINTY,
    ) or own_words(NO_UNCERTAINTY)
    facts = _key_facts(picks, about, found.general)
    framings = {
        # One strong cue qualifies; beyond that the topic and the passage's own framing decide, so a
        # sentence that merely says "AI arms race" twice does not win every topic.
        name: picks.best(
            framed, about, cues=cues[name], min_cue=1, cue_cap=MIN_UNCERTAINTY, prefer_framing=name
        )
        or picks.best(framed, about, cues=cues[name], prefer_framing=name)
        or own_words(NO_FRAMING.format(framing=name))
        for name, framed in (("race", found.race), ("cooperation", found.cooperation))
    }
    groups = {
        "bottom_line": bottom_line,
        "key_facts": facts,
        "race": [framings["race"]],
        "cooperation": [framings["cooperation"]],
        "uncertain": [uncertain_line],
    }
    if not line.kept:  # the streamed bottom line was introduced as it was taken
        groups["bottom_line"] = [line.introductions.introduce(s) for s in bottom_line]
    for name in ("key_facts", "race", "cooperation", "uncertain"):
        groups[name] = [line.introductions.introduce(s) for s in groups[name]]
    numbered, citations, passages = picks.renumbered(list(groups.values()))
    selected = len(facts) + sum(1 for s in (*framings.values(), uncertain_line) if s.citations)
    checked = len(line.gate.checked)
    supported = len(line.kept)
    briefing = Briefing(
        topic=topic,
        sections={name: _section(name, sentences) for name, sentences in zip(groups, numbered, strict=True)},
        citations=citations,
        passage_ids=[p.passage.id for p in passages],
        model=ctx.engine.model_name,
        grounded=(supported + selected) / (checked + selected) if checked + selected else 1.0,
        unsupported=[c.text for c in line.gate.checked if c not in line.kept],
    )
    return briefing, passages


def _fallback_line(picks: Picks, about: set[str], general: list[ScoredPassage]) -> list[Sentence]:
    """The bottom line when none of the model's sentences stood: the best source sentence on the
    topic. Picked only then, since a pick is used up (not repeated as a key fact)."""
    picked = picks.best(general[:1], about) or picks.best(general, about)
    return [picked] if picked else []


def _section(name: str, sentences: list[Sentence]) -> Part:
    """A section under its bold title, on a line of its own (the key facts as a list)."""
    lead = f"**{SECTION_TITLES[name]}:**"
    separator = "" if name == "bottom_line" else "\n"
    return Part(tuple(sentences), lead, "list" if name == "key_facts" else "prose", separator)


def _key_facts(picks: Picks, about: set[str], general: list[ScoredPassage]) -> list[Sentence]:
    """KEY_FACTS sentences, one from each passage on the topic first, then any."""
    facts: list[Sentence] = []
    for scored in general:
        if len(facts) < KEY_FACTS and (fact := picks.best([scored], about)):
            facts.append(fact)
    while len(facts) < KEY_FACTS and (fact := picks.best(general, about)):
        facts.append(fact)
    return facts
