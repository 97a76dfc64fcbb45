"""Quick briefings: the five sections, verified citations, the database cache and its invalidation.

The structure and citations are checked on the real bundled model with a topic it was not tuned on;
the cache rules (hit, invalidation by a reload that changes a file, survival across processes) do
not depend on the model and use `ScriptedEngine`, so they run in milliseconds.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.briefing.brief import BOTTOM_LINE_LEAD, SECTION_TITLES, Briefed, Briefing
from bot.briefing.sentences import Part, render_part
from bot.config import Settings, load_settings
from bot.engine import ScriptedEngine
from bot.engine.base import Engine, GenerationRequest, StreamEvent
from bot.service import BriefingService

REPO = Path(__file__).resolve().parent.parent
SECTIONS = {"bottom_line", "key_facts", "race", "cooperation", "uncertain"}
MARKER = re.compile(r"\[\d+\]")
INVENTED = "Martians invented quantum bananas in Paris yesterday."


def settings_for(prompts: Path, database: Path, **overrides: object) -> Settings:
    return load_settings(prompts_dir=prompts, database_path=database, **overrides)


def parrot(request: GenerationRequest) -> str:
    """Source [1]'s first sentence, cited: an obedient bottom line."""
    match = re.search(r"^\[1\] (.+?[.!?])(?:\s|$)", request.messages[-1].content, re.MULTILINE)
    return f"{match.group(1)[:-1]} [1]." if match else "Nothing."


async def briefing_of(service: BriefingService, topic: str, conversation: str = "c") -> Briefing:
    """The briefing, after checking that it extends what was streamed (nothing shown is withdrawn)."""
    result = None
    streamed = ""
    async for event in service.brief(topic, conversation_id=conversation, user_id="u"):
        if isinstance(event, Part):
            streamed += render_part(event)
        elif isinstance(event, Briefed):
            result = event.briefing
    assert result is not None
    assert result.text.startswith(streamed), f"streamed {streamed!r}, then {result.text!r}"
    if streamed:
        assert streamed.startswith(BOTTOM_LINE_LEAD) and MARKER.search(streamed), "a cited bottom line"
    return result


def _shows(shown: str, quote: str) -> bool:
    """Whether a shown sentence is `quote` word for word, but for the editor's insertions in square
    brackets that name a person ("[Ana] Ruiz says", "is [Ruiz's] plan" for "is her plan")."""
    parts = re.split(r"\[[^\]\d][^\]]*\] ?", shown.strip().rstrip(".!?"))
    pattern = r"(?:\S+ )?".join(re.escape(part) for part in parts)
    return re.search(pattern, quote) is not None


def assert_structured(briefing: Briefing, texts: dict[str, str]) -> None:
    assert briefing.kind == "brief"
    assert set(briefing.sections) == SECTIONS
    sections = briefing.section_texts()
    for name, text in sections.items():
        assert text.strip(), f"section {name} is empty"
        assert not re.search(r"(?i)\bsources?\s*:", text), f"a copied label in {name}: {text!r}"
    for title in SECTION_TITLES.values():
        assert f"**{title}:**" in briefing.text
    assert len(sections["key_facts"].splitlines()) >= 2
    assert all(MARKER.search(fact) for fact in sections["key_facts"].splitlines())
    numbers = {c.number for c in briefing.citations}
    assert {int(n) for n in re.findall(r"\[(\d+)\]", briefing.text)} <= numbers, "every marker is a citation"
    # What the model's bottom line cites quotes its passage's closest sentence; a picked sentence is
    # cited where it is shown, and nowhere else (a pick that is not shown is not cited either).
    written = {
        c.number for s in briefing.sections["bottom_line"].sentences if not s.verbatim for c in s.citations
    }
    for citation in briefing.citations:
        assert citation.quote in texts[citation.id], "quotes are verbatim in their passage"
        if citation.number not in written:
            assert any(_shows(s.text, citation.quote) for p in briefing.parts for s in p.sentences), (
                f"[{citation.number}] cites what is not shown"
            )
    assert (briefing.grounded < 1.0) == bool(briefing.unsupported), "the share counts what was left out"


@pytest.fixture(scope="module")
async def real_service(
    tmp_path_factory: pytest.TempPathFactory, llama_engine: Engine
) -> AsyncIterator[BriefingService]:
    database = tmp_path_factory.mktemp("brief") / "brief.sqlite3"
    service = await BriefingService.open(settings_for(REPO / "prompts", database), engine=llama_engine)
    yield service
    await service.aclose()


async def test_real_model_briefing_has_five_verified_sections_then_comes_from_cache(
    real_service: BriefingService,
    shipped_passages: dict[str, str],
    llama_engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[GenerationRequest] = []
    generate = llama_engine.stream

    def counted(request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        asked.append(request)
        return generate(request)

    monkeypatch.setattr(llama_engine, "stream", counted)
    topic = "warning signs before an AI disaster"
    fresh = await briefing_of(real_service, topic)
    assert asked, "a fresh briefing is written by the model"
    assert not fresh.cached
    assert_structured(fresh, shipped_passages)
    assert 50 <= len(fresh.text.split()) <= 260, "about 150 words"
    data = json.loads(json.dumps(fresh.to_json()))
    assert {"topic", "text", "sections", "citations", "cached", "total_ms", "grounded"} <= set(data)

    asked.clear()
    again = await briefing_of(real_service, "  Warning signs before an AI disaster? ")
    assert again.cached and again.text == fresh.text
    # What makes a cached briefing quick is that the model is not asked (a wall-clock bound would
    # fail on a busy machine and pass on a slow cache).
    assert not asked, "a cached briefing asks the model nothing"


async def test_off_subject_topic_is_redirected(real_service: BriefingService) -> None:
    briefing = await briefing_of(real_service, "sourdough starter feeding schedule")
    assert briefing.kind == "off_topic" and briefing.sections == {} and "AI" in briefing.text


async def test_reload_that_changes_a_file_invalidates_the_cache_which_outlives_the_process(
    tmp_path: Path, shipped_passages: dict[str, str]
) -> None:
    prompts = tmp_path / "prompts"
    shutil.copytree(REPO / "prompts", prompts)
    database = tmp_path / "cache.sqlite3"
    engine = ScriptedEngine(parrot)
    topic = "track-two dialogue"

    service = await BriefingService.open(settings_for(prompts, database), engine=engine)
    try:
        first = await briefing_of(service, topic)
        assert not first.cached
        assert_structured(first, shipped_passages)
        calls = len(engine.requests)
        assert (await briefing_of(service, topic.upper())).cached, "case does not matter"
        assert len(engine.requests) == calls, "a cache hit does not call the model"

        report = await service.reload(actor="tester")  # nothing changed: the same version
        assert report.ok and (await briefing_of(service, topic)).cached

        persona = prompts / "personas" / "briefer.md"
        persona.write_text(persona.read_text() + "\nKeep it short.\n")
        report = await service.reload(actor="tester")
        assert report.ok and report.changed
        after = await briefing_of(service, topic)
        assert not after.cached, "a reload that changes a file invalidates cached briefings"
        assert len(engine.requests) == calls + 1
    finally:
        await service.aclose()

    reopened = await BriefingService.open(settings_for(prompts, database), engine=engine)
    try:
        survivor = await briefing_of(reopened, topic)
        assert survivor.cached and survivor.text == after.text, "the cache lives in the database"
    finally:
        await reopened.aclose()


async def test_topic_menu_is_drawn_from_the_sources(tmp_path: Path) -> None:
    service = await BriefingService.open(
        settings_for(REPO / "prompts", tmp_path / "m.sqlite3"), engine=ScriptedEngine(parrot)
    )
    try:
        menu = service.topics()
        assert len(menu) >= 10 and all(0 < len(topic) <= 100 for topic in menu)
        assert len({t.lower() for t in menu}) == len(menu), "no repeats"
        titles = {source.title for source in service.library.current.prompts.sources}
        assert any(topic in titles or topic.endswith("…") for topic in menu)
        matches = service.topics_matching("track")
        assert matches and len(matches) <= 25 and "track" in matches[0].lower()
        assert len(service.topics_matching("")) == min(25, len(menu))
    finally:
        await service.aclose()


def test_cli_brief_list(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMPTS_DIR", str(REPO / "prompts"))
    assert main(["brief", "--list", "--json"]) == 0
    menu = json.loads(capsys.readouterr().out)
    assert menu and all(isinstance(t, str) and len(t) <= 100 for t in menu)


async def test_bottom_line_streams_only_checked_sentences(tmp_path: Path) -> None:
    """An invented sentence before a true one: only the true one is streamed, and the briefing goes
    on from it (briefing_of checks the prefix)."""

    def script(request: GenerationRequest) -> str:
        return f"{INVENTED} {parrot(request)}"

    engine = ScriptedEngine(script)
    settings = settings_for(REPO / "prompts", tmp_path / "b.sqlite3")
    service = await BriefingService.open(settings, engine=engine)
    try:
        streamed = [e async for e in service.brief("track-two dialogue", conversation_id="s", user_id="u")]
        pieces = [render_part(e) for e in streamed if isinstance(e, Part)]
        briefing = next(e.briefing for e in streamed if isinstance(e, Briefed))
    finally:
        await service.aclose()
    assert pieces and all("Martians" not in piece for piece in pieces)
    assert "Martians" not in briefing.text and INVENTED.split(".")[0] in briefing.unsupported[0]
    assert briefing.text.startswith("".join(pieces))
    assert briefing.section_texts()["bottom_line"] == "".join(pieces).removeprefix(BOTTOM_LINE_LEAD).strip()


async def test_a_bottom_line_the_model_wrote_uses_up_no_source_sentence(tmp_path: Path) -> None:
    """The source sentence that stands in for a failed bottom line is picked only when it is needed:
    a pick is used up, so one picked behind a bottom line that stands would be missing from the
    key facts. Here the model either writes nothing checkable (the stand-in is the bottom line) or
    repeats a sentence of the source it lists first (the stand-in is then a key fact)."""

    briefings: dict[str, list[Briefing]] = {}
    for name, script in (("silent", lambda _request: "Nothing."), ("writes", parrot)):
        engine = ScriptedEngine(script)
        service = await BriefingService.open(
            settings_for(REPO / "prompts", tmp_path / f"{name}.sqlite3"), engine=engine
        )
        try:
            for topic in ("track-two dialogue", "export controls on chips", "the race to the bottom"):
                briefings.setdefault(topic, []).append(await briefing_of(service, topic))
        finally:
            await service.aclose()
    for topic, (silent, writes) in briefings.items():
        stand_in = silent.sections["bottom_line"].sentences[0]
        assert stand_in.verbatim and writes.sections["bottom_line"].sentences[0].check == "supported", topic
        shown = [s.text for part in writes.sections.values() for s in part.sentences]
        assert stand_in.text in shown, f"{topic}: {stand_in.text!r} was used up unseen"


def test_cli_brief_prints_the_streamed_bottom_line_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from contextlib import asynccontextmanager

    from bot.console import commands

    @asynccontextmanager
    async def scripted_service(settings: Settings) -> AsyncIterator[BriefingService]:
        own = settings_for(REPO / "prompts", tmp_path / "cli.sqlite3")
        service = await BriefingService.open(own, engine=ScriptedEngine(parrot))
        try:
            yield service
        finally:
            await service.aclose()

    monkeypatch.setattr(commands, "open_service", scripted_service)
    monkeypatch.setenv("PROMPTS_DIR", str(REPO / "prompts"))
    assert main(["brief", "track-two dialogue"]) == 0
    out = capsys.readouterr().out
    assert out.count(BOTTOM_LINE_LEAD) == 1 and out.count("**Key facts:**") == 1
    bottom = out.split(BOTTOM_LINE_LEAD, 1)[1].split("\n", 1)[0]
    assert MARKER.search(bottom) and out.count(bottom.strip()) == 1


FJORD = """+++
title = "Quiet Engines on the Fjord"
framing = ["race", "cooperation"]
+++

The ferry operator Nordlys Lines will retire its three diesel boats by 2028 and replace them with
battery-electric ferries that charge at the quay while passengers board.

## The first quiet crossing
The first electric ferry made its maiden crossing to Brekke on a grey morning in March. On board
were 212 passengers, a record for a winter sailing.
"""


async def test_what_is_uncertain_comes_from_the_topic_or_says_there_is_none(tmp_path: Path) -> None:
    """A topic whose own source names nothing open does not borrow another source's open question:
    the section says the sources name none, or quotes a sentence on the topic."""
    prompts = tmp_path / "prompts"
    shutil.copytree(REPO / "prompts", prompts)
    (prompts / "sources" / "fjord.md").write_text(FJORD, encoding="utf-8")
    service = await BriefingService.open(
        settings_for(prompts, tmp_path / "b.sqlite3"), engine=ScriptedEngine(parrot)
    )
    try:
        briefing = await briefing_of(service, "electric ferries crossing to Brekke")
    finally:
        await service.aclose()
    uncertain = briefing.sections["uncertain"].sentences[0]
    assert all(c.id.startswith("fjord#") for c in uncertain.citations), uncertain.text
