"""Debate mode: turn order, equal budgets, balance figures, the regenerate-then-mark rule, the judge.

The model's behaviour is forced with `ScriptedEngine` where a rule must be exercised for certain (a
speech that cites nothing of its own framing); the real bundled model debates two motions it was not
tuned on, once per module, and every real-model test reads that shared result.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.briefing.debate import (
    DebateFinished,
    DebateResult,
    Judged,
    Judgement,
    JudgeStarted,
    MotionNote,
    TurnFinished,
    TurnStarted,
)
from bot.briefing.debate.compose import reason_point
from bot.briefing.debate.core import choose_core, kept_back, motion_terms
from bot.briefing.debate.quality import (
    answers,
    argues_own_side,
    ceiling,
    judge_points_sound,
    own_checked,
    speech_quality,
)
from bot.briefing.debate.results import SIDES, other_side
from bot.briefing.debate.stance import StanceReader
from bot.briefing.evidence import focus_of
from bot.briefing.pick import Pick
from bot.briefing.sentences import QUOTE_LEAD, Citation, Part, Sentence, from_source, render_part
from bot.config import Settings, load_settings
from bot.engine import ScriptedEngine
from bot.engine.base import Engine, GenerationRequest
from bot.errors import InputError
from bot.index import ScoredPassage
from bot.language import LanguageModels
from bot.service import BriefingService
from bot.sources import Passage
from bot.terms import is_question, match_terms, sentences_of

REPO = Path(__file__).resolve().parent.parent
JUDGE_LABELS = (  # "**Where they agree:**" is left out when the sides' sentences do not agree
    "**Strongest race point:**",
    "**Strongest cooperation point:**",
    "**What the sources leave open:**",
    "**Verdict:**",
)
INVENTED = "Martians invented quantum bananas in Paris yesterday. Penguins ruled the moon for decades."
REAL_MOTIONS = (
    "Washington should slow frontier AI development to make room for safety testing",
    "Independent auditors should inspect frontier AI models in both countries",
)


def settings_for(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "prompts_dir": REPO / "prompts",
        "database_path": tmp_path / "debate.sqlite3",
        **overrides,
    }
    return load_settings(**values)


def first_source_sentence(request: GenerationRequest) -> str:
    """The first statement of source [1] in the prompt, cited: what a perfectly obedient model says."""
    match = re.search(r"^\[1\] (.+)$", request.messages[-1].content, re.MULTILINE)
    if not match:
        return "Nothing to say."
    first = next((s for s in sentences_of(match.group(1)) if not is_question(s)), "Nothing to say.")
    return f"{first[:-1]} [1]." if first.endswith(".") else f"{first} [1]"


def streamed_parts(events: list[object]) -> list[tuple[str, object]]:
    """(text streamed, final result) for each speech and the judge, in order."""
    parts: list[tuple[str, object]] = []
    pieces: list[str] = []
    for event in events:
        if isinstance(event, TurnStarted | JudgeStarted):
            pieces = []
        elif isinstance(event, Part):
            pieces.append(render_part(event))
        elif isinstance(event, TurnFinished):
            parts.append(("".join(pieces), event.turn))
        elif isinstance(event, Judged):
            parts.append(("".join(pieces), event.judge))
    return parts


def assert_nothing_withdrawn(events: list[object]) -> None:
    """Every speech's text is exactly what was streamed; the judgement extends what it streamed."""
    for streamed, final in streamed_parts(events):
        if isinstance(final, Judgement):
            assert final.text.startswith(streamed), "the judgement takes back what it streamed"
        else:
            assert streamed == final.text, "a speech takes back what it streamed"  # type: ignore[attr-defined]


def side_of(request: GenerationRequest) -> str:
    return (request.conversation_id or "").rsplit(":", 1)[-1]


async def run_debate(
    service: BriefingService, motion: str, rounds: int, favours: str | None = None
) -> tuple[DebateResult, list[object]]:
    events: list[object] = []
    result = None
    async for event in service.debate(
        motion, rounds=rounds, conversation_id="t", user_id="u", favours=favours
    ):
        events.append(event)
        if isinstance(event, DebateFinished):
            result = event.result
    assert result is not None
    return result, events


@pytest.fixture
async def scripted(tmp_path: Path) -> AsyncIterator[Callable[..., object]]:
    """Open a service on a ScriptedEngine built from a reply function; closed after the test."""
    opened: list[BriefingService] = []

    async def open_with(script: Callable[[GenerationRequest], str]) -> tuple[BriefingService, ScriptedEngine]:
        engine = ScriptedEngine(script)
        service = await BriefingService.open(settings_for(tmp_path), engine=engine)
        opened.append(service)
        return service, engine

    yield open_with
    for service in opened:
        await service.aclose()


# --- rules, with a scripted model -----------------------------------------------------------------


async def test_turn_order_budgets_and_balance_over_three_rounds(scripted: Callable[..., object]) -> None:
    service, engine = await scripted(first_source_sentence)  # type: ignore[misc]
    result, events = await run_debate(service, "The US must win the AI race against China", rounds=3)

    assert [(t.side, t.round) for t in result.turns] == [
        (side, n) for n in (1, 2, 3) for side in ("race", "cooperation")
    ]
    starts = [(e.side, e.round) for e in events if isinstance(e, TurnStarted)]
    assert starts == [(t.side, t.round) for t in result.turns], "each speech starts once, in order"
    kinds = [type(e).__name__ for e in events if not isinstance(e, Part)]
    assert kinds[-3:] == ["JudgeStarted", "Judged", "DebateFinished"], "the judge speaks last"

    speeches = [r for r in engine.requests if side_of(r) in ("race", "cooperation")]
    # The model's sentence is heard only when it argues the speaker's side (stance.py); a speech
    # whose first attempt gave nothing of its side is asked once more.
    assert 6 <= len(speeches) <= 12
    assert len({r.sampling.max_tokens for r in speeches}) == 1, "equal token budgets for every speech"
    # The second speaker of a round answers the first: its prompt quotes what the race speech argued
    # (its sentences, not the position the bot composed).
    race_words = result.turns[0].argued[:40]
    assert race_words and not race_words.startswith("The race side argues")
    first_answer = next(r for r in speeches if side_of(r) == "cooperation")
    assert race_words in first_answer.messages[-1].content

    balance = result.balance()
    for side in ("race", "cooperation"):
        turns = [t for t in result.turns if t.side == side]
        assert balance[side]["words"] == sum(t.words for t in turns) > 0
        assert balance[side]["citations"] == sum(len(t.citations) for t in turns) >= 3
        assert balance[side]["unsupported"] == sum(len(t.unsupported) for t in turns) == 0
        assert balance[side]["turns"] == 3 and balance[side]["own_framing_cited"] <= 3
        assert balance["race"]["max_tokens"] == balance["cooperation"]["max_tokens"]
        for turn in turns:
            assert turn.supported <= 1, "at most the model's one checked sentence is shown"
            assert turn.quoted, "its own sources complete a one-sentence speech"
            assert all(side in c.framing for c in turn.citations), "each side argues from its own framing"
            assert turn.text.startswith(f"The {side} side argues"), "its position comes first"
    assert_nothing_withdrawn(events)


async def test_a_side_showing_nothing_is_regenerated_once_then_built_from_its_own_sources(
    scripted: Callable[..., object],
) -> None:
    def script(request: GenerationRequest) -> str:
        if side_of(request) == "cooperation":
            return INVENTED  # cites nothing, supports nothing, every time
        return first_source_sentence(request)

    service, engine = await scripted(script)  # type: ignore[misc]
    result, events = await run_debate(service, "AI safety needs cooperation between rivals", rounds=1)

    race, cooperation = result.turns
    assert race.supported <= 1
    assert cooperation.regenerated and not cooperation.own_framing_cited and cooperation.quoted
    # The retry adds to the speech's opening (its position), so it starts no new speech.
    attempts = [(e.side, e.round) for e in events if isinstance(e, TurnStarted)]
    assert attempts == [("race", 1), ("cooperation", 1)]
    retry = [r for r in engine.requests if side_of(r) == "cooperation"][-1]
    assert "Cite [1]." in retry.messages[-1].content, "the retry carries the harder nudge"
    assert len({r.sampling.max_tokens for r in engine.requests if side_of(r) != "judge"}) == 1

    # Marked, and still argued from its own sources: verbatim sentences of its own framing that bear
    # on the motion, at least one from a passage of that framing alone.
    assert "Martians" not in cooperation.text and cooperation.text.startswith("The cooperation side argues")
    assert own_checked(cooperation) >= 2, cooperation.text
    assert_nothing_withdrawn(events)
    assert cooperation.citations and all("cooperation" in c.framing for c in cooperation.citations)
    assert len(cooperation.unsupported) == 2, "the invented sentences are counted"
    data = cooperation.to_json()
    assert data["own_framing_cited"] is False and data["regenerated"] is True and data["quoted"] is True
    assert result.balance()["cooperation"]["own_framing_cited"] == 0
    assert result.balance()["cooperation"]["unsupported"] == 2


async def test_judge_has_every_section_even_when_the_model_says_nothing_useful(
    scripted: Callable[..., object],
) -> None:
    def script(request: GenerationRequest) -> str:
        return "Source:" if side_of(request) == "judge" else first_source_sentence(request)

    service, _ = await scripted(script)  # type: ignore[misc]
    result, events = await run_debate(service, "Track-two dialogue beats an AI arms race", rounds=1)
    assert sum(isinstance(e, JudgeStarted) for e in events) == 1
    assert sum(isinstance(e, Judged) for e in events) == 1
    judge = result.judge
    assert judge is not None
    for label in JUDGE_LABELS:
        assert label in judge.text
    assert set(judge.strongest) == {"race", "cooperation"}
    assert all(point[-1].citations for point in judge.strongest.values()), "points are cited"
    assert judge.open_question and len(judge.verdict) == 2
    assert "Source:" not in judge.text, "a copied label is not a summary"
    assert judge.citations


async def test_speeches_stream_only_checked_sentences_and_the_core_follows(
    scripted: Callable[..., object],
) -> None:
    """The model says something invented, then a source sentence with a changed figure, then a true
    one: only the true one is streamed, the side's own sentences follow, nothing is taken back."""

    def script(request: GenerationRequest) -> str:
        if side_of(request) == "judge":
            return "Nothing."
        true = first_source_sentence(request)
        changed = re.sub(r"\b(\d+)\b", lambda m: str(int(m.group(1)) + 7), true)
        changed = changed if changed != true else ""
        return f"{INVENTED} {changed} {true}".replace("  ", " ")

    service, _ = await scripted(script)  # type: ignore[misc]
    motion = "Washington should slow frontier AI development to make room for safety testing"
    result, events = await run_debate(service, motion, rounds=1)
    assert_nothing_withdrawn(events)
    streamed = "".join(render_part(e) for e in events if isinstance(e, Part))
    assert "Martians" not in streamed and "Penguins" not in streamed
    for turn in result.turns:
        assert len(turn.unsupported) >= 2, turn.text
        assert own_checked(turn) >= 1 and turn.citations, turn.text
    spoken = [s for t in result.turns for s, _ in t.points]
    assert len(spoken) == len(set(spoken)), "no sentence is said twice in a debate"


async def test_a_motion_the_sources_barely_touch_is_said_to_be_so(scripted: Callable[..., object]) -> None:
    service, _ = await scripted(first_source_sentence)  # type: ignore[misc]
    result, events = await run_debate(
        service, "The G7 Hiroshima process should set the rules for the AI race", 1
    )
    notes = [e for e in events if isinstance(e, MotionNote)]
    assert len(notes) == 1 and events[0] is notes[0], "said first"
    assert "barely touch" in notes[0].text and "never mention G7, Hiroshima" in notes[0].text
    assert result.note == notes[0].text and result.to_json()["note"] == notes[0].text
    assert len(result.turns) == 2, "the debate still argues from what the sources cover"
    covered, events = await run_debate(service, "Export controls on AI chips make the world safer", 1)
    assert covered.note == "" and not any(isinstance(e, MotionNote) for e in events)


async def test_judge_streams_checked_summary_sentences_only(scripted: Callable[..., object]) -> None:
    """The issue's garbled judge line is left out; a checked sentence is streamed and opens the text.

    The judge repeats the first sentence the race side argued with, as its transcript gives it: the
    transcript holds the sentences each side argued with, not the position and reasons the bot
    composes around them (those open every speech and would fill the transcript's cut)."""
    garbled = "In 2017, a Chinese AI defeated the top US AI model DeepMind at the 2023 AI World Championship."

    def script(request: GenerationRequest) -> str:
        if side_of(request) != "judge":
            return first_source_sentence(request)
        content = request.messages[-1].content
        said = re.search(r"^Race side \(round 1\): (.+?)$", content, re.M)
        first = sentences_of(said.group(1))[0] if said else ""
        return f"{garbled} {first}"

    service, _ = await scripted(script)  # type: ignore[misc]
    result, events = await run_debate(service, "Track-two dialogue beats an AI arms race", rounds=1)
    judge = result.judge
    assert judge is not None and "DeepMind" not in judge.text and judge.unsupported
    ((streamed, _),) = [
        (text, final) for text, final in streamed_parts(events) if isinstance(final, Judgement)
    ]
    assert judge.to_json()["summary"] == streamed
    assert judge.text.startswith(streamed)
    assert streamed and judge.summary, "the race side's own sentence, repeated, is checked and shown"
    assert re.search(r"\[1\]", streamed), "numbered as the finished judgement numbers it"
    race_said = result.turns[0].points[0][0].rstrip(".")
    assert race_said[:40] in streamed, streamed


async def test_off_subject_motion_and_bad_rounds_are_declined(scripted: Callable[..., object]) -> None:
    service, engine = await scripted(first_source_sentence)  # type: ignore[misc]
    with pytest.raises(InputError) as declined:
        await run_debate(service, "Banana bread is better with walnuts than with raisins", rounds=1)
    reason = declined.value.user_message
    assert reason and "\n" not in reason.strip(), "declined with a one-line reason"
    assert "AI" in reason
    with pytest.raises(InputError):
        await service.debate_session(
            "The US must win the AI race", rounds=0, conversation_id="t", user_id="u"
        )
    assert engine.requests == [], "nothing reaches the model"


async def test_the_user_may_say_which_side_a_motion_favours(scripted: Callable[..., object]) -> None:
    """The side that argues for a motion is read from its meaning, which sees its topic better than
    its direction; a user who says which side the motion favours is followed, and a side that does
    not exist is declined before anything reaches the model."""
    service, engine = await scripted(first_source_sentence)  # type: ignore[misc]
    motion = "Winning the AI race matters more than shared safety rules"
    for favours, race_position in (("race", "argues for"), ("cooperation", "argues against")):
        result, _ = await run_debate(service, motion, rounds=1, favours=favours)
        race = next(turn for turn in result.turns if turn.side == "race")
        assert race.text.startswith(f"The race side {race_position} the motion"), race.text[:80]
    asked = len(engine.requests)
    with pytest.raises(InputError):
        await service.debate_session(motion, conversation_id="t", user_id="u", favours="neither")
    assert len(engine.requests) == asked


# --- the real bundled model ---------------------------------------------------------------------


@dataclass(frozen=True)
class RealDebate:
    result: DebateResult
    events: list[object]
    about: frozenset[str]  # the motion's own terms
    reader: StanceReader  # which side a sentence argues for, from the shipped framings


@pytest.fixture(scope="module")
async def real_debates(
    tmp_path_factory: pytest.TempPathFactory, llama_engine: Engine
) -> AsyncIterator[list[RealDebate]]:
    """One-round debates on two unseen motions, short speeches: shared by the real-model tests."""
    settings = settings_for(tmp_path_factory.mktemp("debate"), max_answer_tokens=48)
    service = await BriefingService.open(settings, engine=llama_engine)
    index = service.library.current.index
    try:
        debates = []
        for motion in REAL_MOTIONS:
            result, events = await run_debate(service, motion, rounds=1)
            about = motion_terms(focus_of(motion), index)
            debates.append(RealDebate(result, events, about, stance_reader(service)))
        yield debates
    finally:
        await service.aclose()


async def test_real_model_speeches_argue_their_own_side_with_sentences_of_their_own(
    real_debates: list[RealDebate],
) -> None:
    """Issue 28's targets on the bundled model: every cited sentence of a speech argues its own side
    (stance.py), and a speech has two or more checked sentences of its own besides its quotes. Nothing
    streamed is taken back."""
    argue, own = [], []
    for debate in real_debates:
        assert_nothing_withdrawn(debate.events)
        for turn in debate.result.turns:
            argue.append(argues_own_side(turn, debate.reader))
            own.append(own_checked(turn))
    texts = [t.text for d in real_debates for t in d.result.turns]
    assert all(argue), [t for t, a in zip(texts, argue, strict=True) if not a]
    assert sum(n >= 2 for n in own) >= len(own) - 1, (own, texts)


async def test_real_model_both_sides_cite_their_own_framing(
    real_debates: list[RealDebate], shipped_passages: dict[str, str]
) -> None:
    for result in (debate.result for debate in real_debates):
        assert [t.side for t in result.turns] == ["race", "cooperation"]
        for turn in result.turns:
            assert turn.citations, f"{turn.side} cites nothing on {result.motion!r}"
            assert all(turn.side in c.framing for c in turn.citations), "only passages of its own framing"
            for citation in turn.citations:
                assert citation.quote in shipped_passages[citation.id], "quotes are verbatim"
            assert not re.search(r"(?i)\b(?:motion|your side|sources?)\s*:", turn.text), "no label echoes"
            assert turn.words > 0


async def test_real_model_judge_and_json_shape(real_debates: list[RealDebate]) -> None:
    for result in (debate.result for debate in real_debates):
        data = json.loads(json.dumps(result.to_json()))
        assert {"motion", "turns", "judge", "balance"} <= set(data)
        for turn in data["turns"]:
            assert {"side", "round", "text", "citations", "unsupported"} <= set(turn)
            for citation in turn["citations"]:
                assert set(citation) == {"id", "source", "title", "quote", "framing"}
                assert citation["framing"] in (turn["side"], "both")
        assert {"text", "citations"} <= set(data["judge"])
        for label in JUDGE_LABELS:
            assert label in data["judge"]["text"]
        for side in ("race", "cooperation"):
            assert {"words", "citations", "unsupported"} <= set(data["balance"][side])
            assert data["balance"][side]["citations"] == sum(
                len(t["citations"]) for t in data["turns"] if t["side"] == side
            )
        parts = [*(t["grounded"] for t in data["turns"]), data["judge"]["grounded"]]
        assert min(parts) <= data["grounded"] <= max(parts), "the whole is a share of its parts"


def test_cli_debate_json(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMPTS_DIR", str(REPO / "prompts"))
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "cli.sqlite3"))
    monkeypatch.setenv("N_SLOTS", "1")
    monkeypatch.setenv("MAX_ANSWER_TOKENS", "24")
    motion = "China and the US should agree on shared AI safety norms"
    assert main(["debate", motion, "--rounds", "1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["motion"] == motion
    assert [(t["side"], t["round"]) for t in data["turns"]] == [("race", 1), ("cooperation", 1)]
    assert data["judge"]["text"] and set(data["balance"]) == {"race", "cooperation"}
    assert main(["debate", "What is the best pizza topping?", "--json"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_cli_debate_prints_each_checked_speech_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The console prints the streamed (checked) text as it comes and only what the final text adds:
    no invented sentence, no speech printed twice."""
    from contextlib import asynccontextmanager

    from bot.console import commands

    def script(request: GenerationRequest) -> str:
        return f"{INVENTED} {first_source_sentence(request)}"

    @asynccontextmanager
    async def scripted_service(settings: Settings) -> AsyncIterator[BriefingService]:
        service = await BriefingService.open(settings_for(tmp_path), engine=ScriptedEngine(script))
        try:
            yield service
        finally:
            await service.aclose()

    monkeypatch.setattr(commands, "open_service", scripted_service)
    monkeypatch.setenv("PROMPTS_DIR", str(REPO / "prompts"))
    assert main(["debate", "Washington should slow frontier AI development", "--rounds", "1"]) == 0
    out = capsys.readouterr().out
    assert "Martians" not in out and "Penguins" not in out
    for header in ("== Race side, round 1 ==", "== Cooperation side, round 1 ==", "== Judge =="):
        assert out.count(header) == 1
    speeches = re.findall(r"==\n(.+?)\n  \[cites", out, re.DOTALL)
    assert len(speeches) == 2 and all(out.count(speech) == 1 for speech in speeches)
    assert all(QUOTE_LEAD in speech or re.search(r"\[\d\]", speech) for speech in speeches)


def test_a_speech_sentence_with_a_figure_its_source_does_not_give_is_not_heard() -> None:
    from bot.briefing.debate.speech import worth_hearing
    from bot.index import ScoredPassage
    from bot.sources import load_sources

    sources, _ = load_sources(REPO / "prompts" / "sources")
    passage = next(p for s in sources for p in s.passages if p.id == "chernobyl-moment#chernobyl-1986")
    given = [ScoredPassage(passage, 1.0)]
    motion = "An AI disaster in one country would harm the whole world"

    cited = Citation(1, passage.id, passage.source, passage.title, passage.text)

    def check(text: str) -> Sentence:
        return Sentence(text, (cited,), "supported")

    assert worth_hearing(
        check("The Chernobyl meltdown of 1986 came from disabled safety overrides."), motion, given
    )
    assert not worth_hearing(
        check("The Chernobyl meltdown of 1988 came from disabled safety overrides."), motion, given
    )
    assert not worth_hearing(
        check("An AI disaster in one country would harm the whole world."), motion, given
    )


def test_speech_quality_counts_checked_sentences_on_the_motion() -> None:
    from bot.briefing.debate.results import DebateTurn

    def cite(number: int, framing: tuple[str, ...]) -> Citation:
        return Citation(number=number, id=f"p{number}", source="s", title="t", quote="q", framing=framing)

    def speech(race: Citation, both: Citation) -> list[Part]:
        said = (
            Sentence("Export rules shape the chip trade.", (race,), "supported"),
            Sentence("Nothing here bears on it.", (both,), "supported"),
            Sentence("Chips matter, unchecked.", (), "too_short"),
        )
        quotes = (
            from_source("Chip exports fell.", both),
            from_source("Is the chip export ban working?", race),
        )
        return [Part(said), Part(quotes, QUOTE_LEAD, "quotes", "\n")]

    about = frozenset({"chip", "export"})
    turn = DebateTurn(
        "race", 1, speech(cite(1, ("race",)), cite(2, ("race", "cooperation"))), [], [], True, False, []
    )
    quality = speech_quality(turn, about)
    assert (quality.checked_on_motion, quality.own_alone_on_motion) == (2, 1) and quality.meets_target
    turn.parts = speech(cite(1, ("race", "cooperation")), cite(2, ("race", "cooperation")))
    assert not speech_quality(turn, about).meets_target, "nothing from its framing alone"
    turn.parts = [Part((Sentence("Export rules shape the chip trade.", (cite(1, ("race",)),), "supported"),))]
    assert not speech_quality(turn, about).meets_target, "one sentence is not a speech"


def test_a_copied_sentence_hidden_behind_a_closing_quote_is_a_repeat() -> None:
    from bot.briefing.debate.speech import repeats
    from bot.terms import match_terms

    heard = [match_terms("The scientists at China's AI frontier are alarmed rather than triumphant.")]
    merged = (
        'Governments must encourage transparency; in their words, "They\'re freaking out." '
        "The scientists at China's AI frontier are alarmed rather than triumphant [3]."
    )
    assert repeats(merged, heard)
    assert not repeats(
        'Governments must encourage transparency; in their words, "They\'re freaking out."', heard
    )


async def test_a_side_finds_its_own_sentences_that_share_one_rarer_motion_word(
    scripted: Callable[..., object],
) -> None:
    # The cooperation framing has sentences of its own on this motion only through "use"; words every
    # passage says ("China") fill a pool searched with the whole motion, so the motion's own words
    # are searched alone too. The model says nothing: the speech is its extractive core.
    service, _ = await scripted(lambda request: "Nothing to say.")  # type: ignore[misc]
    motion = "Tech companies use the China threat to escape regulation"
    result, _ = await run_debate(service, motion, rounds=1)
    about = motion_terms(focus_of(motion), service.library.current.index)
    cooperation = next(t for t in result.turns if t.side == "cooperation")
    assert speech_quality(cooperation, about).meets_target, cooperation.text


async def test_a_checked_sentence_that_argues_the_other_side_is_not_heard(
    scripted: Callable[..., object],
) -> None:
    """The race model repeats, cited, every sentence of its sources that the stance classifier reads
    as the cooperation side's: each is checked and supported, and none is heard; the speech still
    states its position, gives reasons from its own side's sentences and closes with its ask."""
    from bot.briefing.debate.stance import StanceReader
    from bot.language import LanguageModels

    service, _ = await scripted(lambda request: "Nothing to say.")  # type: ignore[misc]
    prompts = service.library.current.prompts
    reader = StanceReader.of(
        LanguageModels.shared(), {s: prompts.framing(s) for s in ("race", "cooperation")}
    )
    assert reader is not None

    def script(request: GenerationRequest) -> str:
        if side_of(request) != "race":
            return first_source_sentence(request)
        said = [
            f"{sentence.rstrip('.')} [{number}]."
            for number, text in re.findall(r"^\[(\d+)\] (.+)$", request.messages[-1].content, re.MULTILINE)
            for sentence in sentences_of(text)
            if reader.stance(sentence).side == "cooperation"
        ]
        return " ".join(said) or "Nothing to say."

    service, _ = await scripted(script)  # type: ignore[misc]
    result, events = await run_debate(service, "Export controls make the world safer", rounds=1)
    race = result.turns[0]
    assert race.supported == 0, race.text
    assert race.text.startswith("The race side argues for the motion") and race.quoted, race.text
    assert race.text.rstrip().endswith("We ask you to support the motion."), race.text
    assert own_checked(race) >= 1
    assert_nothing_withdrawn(events)


def _kite_pick(pid: str, framing: tuple[str, ...], sentence: str, score: float) -> Pick:
    """A pick from a made-up source on kite festivals (nothing to do with the seeds)."""
    passage = Passage(f"kites#{pid}", "kites", "Kites", pid, sentence, framing)
    return Pick(sentence, ScoredPassage(passage, 1.0), score, match_terms(sentence))


def test_a_side_with_few_sentences_of_its_own_keeps_one_for_each_later_speech() -> None:
    """Two race-only sentences on the motion, two race speeches: the first speech takes one and a
    shared passage's sentence, and leaves the other race-only passage (and its sentence) for the
    second speech; with three of its own, it may take two now."""
    about = frozenset(match_terms("kite festivals noise"))
    own1 = _kite_pick("a", ("race",), "Kite festivals draw the biggest crowds of the summer.", 0.9)
    own2 = _kite_pick("b", ("race",), "The noise of kite festivals carries across the bay.", 0.8)
    shared = _kite_pick("c", ("race", "cooperation"), "Neighbours complain about festival noise.", 0.5)
    picks = [own1, own2, shared]
    core = choose_core(picks, "race", about, later=1)
    assert core == [own1, shared]
    assert kept_back(picks, core, "race", about, later=1) == {"kites#b"}
    assert choose_core(picks, "race", about, later=0) == [own1, own2], "the last speech takes its best"
    assert not kept_back(picks, core, "race", about, later=0)
    own3 = _kite_pick("d", ("race",), "Festival kites fly higher every year.", 0.7)
    assert choose_core([*picks, own3], "race", about, later=1) == [own1, own2], "enough to go round"
    alone = [own1, own2]
    assert choose_core(alone, "race", about, later=1) == [own1, own2], "nothing else bears: both now"


def test_the_ceiling_counts_what_each_framing_can_say_on_the_motion() -> None:
    about = frozenset(match_terms("kite festivals"))

    def passage(pid: str, framing: tuple[str, ...], text: str) -> Passage:
        return Passage(f"kites#{pid}", "kites", "Kites", pid, text, framing)

    passages = [
        passage("a", ("race",), "Kite festivals draw crowds. Paper is cheap."),
        passage("b", ("race", "cooperation"), "Festivals need permits. Kite festivals end at dusk."),
        passage("c", ("cooperation",), "Kite festivals raise money. Kite makers share designs."),
    ]
    # race: one sentence of its own, three in all -> one speech; cooperation: two of its own
    # ("festivals", "kite"), four in all -> two speeches.
    assert ceiling(passages, about, ("race", "cooperation"), rounds=2) == 3
    assert ceiling(passages, about, ("race", "cooperation"), rounds=1) == 2


async def test_a_scarce_own_framing_lasts_both_rounds(scripted: Callable[..., object]) -> None:
    """On slowing down frontier AI, the cooperation framing alone has two sentences: the model
    says nothing, so each of its two speeches is its core, and each states its own case."""
    service, _ = await scripted(lambda request: "Nothing to say.")  # type: ignore[misc]
    motion = "The US should slow down frontier AI"
    result, _ = await run_debate(service, motion, rounds=2)
    speeches = [t for t in result.turns if t.side == "cooperation"]
    assert all(t.quoted and t.citations for t in speeches), result.turns
    assert len({c.quote for t in speeches for c in t.citations}) >= 2, "no sentence is said twice"


async def test_a_side_whose_framing_says_nothing_on_the_motion_is_named(
    scripted: Callable[..., object],
) -> None:
    """No race-only passage says anything on tech companies escaping regulation: the debate says so
    first, so nobody mistakes a race side quoting shared passages for the race framing's own case.
    A motion both framings speak to gets no such note."""
    service, _ = await scripted(lambda request: "Nothing to say.")  # type: ignore[misc]
    _, events = await run_debate(service, "Tech companies use the China threat to escape regulation", 1)
    notes = [e.text for e in events if isinstance(e, MotionNote)]
    assert notes and "race framing alone" in notes[0], notes
    _, events = await run_debate(service, "Export controls on AI chips make the world safer", 1)
    assert not [e for e in events if isinstance(e, MotionNote)]


def stance_reader(service: BriefingService) -> StanceReader:
    prompts = service.library.current.prompts
    reader = StanceReader.of(LanguageModels.shared(), {s: prompts.framing(s) for s in SIDES})
    assert reader is not None
    return reader


def spoken_by_side(result: DebateResult) -> dict[str, set[str]]:
    return {side: {s.strip() for t in result.turns if t.side == side for s, _ in t.points} for side in SIDES}


@pytest.mark.parametrize(
    "motion", ["Export controls make the world safer", "Track-two dialogue beats an AI arms race"]
)
async def test_the_judges_strongest_points_are_each_sides_own_and_different(
    scripted: Callable[..., object], motion: str
) -> None:
    """The issue's judge named a cooperation sentence as the race side's strongest point and said the
    same sentence again: each point must be said by its own side and read as its own."""
    service, _ = await scripted(first_source_sentence)  # type: ignore[misc]
    result, _ = await run_debate(service, motion, rounds=2)
    judge = result.judge
    assert judge is not None
    points = {side: judge.strongest[side][-1].text.strip() for side in SIDES}
    assert points["race"] != points["cooperation"], points
    spoken = spoken_by_side(result)
    reader = stance_reader(service)
    for side, point in points.items():
        assert point in spoken[side], f"{side}'s strongest point was not said by it: {point}"
        assert reader.stance(point).side == side, point
    assert judge_points_sound(judge.strongest, spoken, reader)


async def test_a_round_two_speech_answers_the_other_sides_point_by_name(
    scripted: Callable[..., object],
) -> None:
    service, _ = await scripted(first_source_sentence)  # type: ignore[misc]
    result, events = await run_debate(
        service, "The US and China should agree shared safety norms for frontier AI", 2
    )
    reader = stance_reader(service)
    for turn in (t for t in result.turns if t.round == 2):
        other = other_side(turn.side)
        before = [t for t in result.turns[: result.turns.index(turn)] if t.side == other][-1]
        named = [
            s.text for s in turn.sentences if s.text.startswith(f"The {other} side's strongest point was")
        ]
        assert len(named) == 1, turn.text
        assert answers(turn, [s for s, _ in before.points]), turn.text
        point = next(s for s, _ in before.points if s.rstrip(".")[1:60].lower() in named[0].lower())
        assert reader.stance(point).side == other, "it answers a point that argues the other side's case"
        assert turn.sentences[0].text.startswith(f"The {turn.side} side argues"), (
            "its position still comes first"
        )
    assert not any("strongest point was" in t.text for t in result.turns if t.round == 1)
    assert_nothing_withdrawn(events)


async def test_a_side_with_nothing_on_the_motion_says_so_once_and_borrows_nothing(
    scripted: Callable[..., object],
) -> None:
    """No race sentence bears on track-two dialogue: the race speech says so in one sentence of its
    own and argues from its own side's sentences only, none of the cooperation side's."""
    service, _ = await scripted(first_source_sentence)  # type: ignore[misc]
    result, _ = await run_debate(service, "Track-two dialogue beats an AI arms race", rounds=1)
    race, cooperation = result.turns
    said = [s.text for s in race.sentences if "nothing on this motion" in s.text]
    assert len(said) == 1 and len(sentences_of(said[0])) == 1 and not race.sentences[1].citations, race.text
    assert "nothing on this motion" not in cooperation.text
    assert race.citations and all("race" in c.framing for c in race.citations), race.citations
    assert argues_own_side(race, stance_reader(service)), race.text
    assert not {s.strip() for s, _ in race.points} & spoken_by_side(result)["cooperation"]


@pytest.mark.parametrize(
    ("heading", "reason"),
    [
        ("Dredging will double the harbour's traffic", "that dredging will double the harbour's traffic"),
        ("Tariffs on the northern crossing", "about tariffs on the northern crossing"),
        ("The ferry that never sailed", "about the ferry that never sailed"),
        ("Why the pilots walked out", "about why the pilots walked out"),
        ("Key findings: tolls rise, ferries run late", "about key findings: tolls rise, ferries run late"),
    ],
)
def test_a_reason_states_its_heading_or_says_what_it_is_about(heading: str, reason: str) -> None:
    """ "Our first reason is tariffs on the northern crossing" reads as a label: a heading that names
    a topic is what the reason is about, and only one that states something is the reason."""
    passage = Passage("port#p", "port", "Harbour news", heading, "The harbour board met on Monday.", ())
    pick = Pick("The harbour board met on Monday.", ScoredPassage(passage, 1.0), 1.0, frozenset())
    assert reason_point(pick, "race", None, LanguageModels.shared()) == reason


def test_an_articles_opening_gives_its_quote_without_a_reason_line() -> None:
    """The lede's heading is the article's title: "Our first reason is about <headline>" says nothing."""
    passage = Passage("port#opening", "port", "Harbour news", "Harbour news", "The board met on Monday.", ())
    pick = Pick("The board met on Monday.", ScoredPassage(passage, 1.0), 1.0, frozenset())
    assert reason_point(pick, "race", None, LanguageModels.shared()) == ""
