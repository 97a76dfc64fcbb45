"""`eval`: the shipped data files are well formed and point at real passages, scoring counts what the
user reads (not what the answer cites), declines and premise corrections are scored as documented, a
follow-up is asked after its previous question, and a malformed file fails naming the line."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.briefing import evaluate as evaluate_module
from bot.briefing.answer import answer
from bot.briefing.context import BriefingContext
from bot.briefing.eval_files import QUESTION_CLASSES, load_claims
from bot.briefing.evaluate import (
    EvalQuestion,
    EvalReport,
    load_questions,
    parse_claims,
    parse_questions,
    recall_at,
    score,
)
from bot.briefing.models import Answer, Citation
from bot.briefing.sentences import Part, Sentence
from bot.config import Settings, load_settings
from bot.engine.base import Engine
from bot.engine.scripted import ScriptedEngine
from bot.errors import InputError
from bot.index import ScoredPassage
from bot.service import BriefingService
from bot.sources import Passage, load_sources

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"
QUESTIONS = DATA / "eval_questions.jsonl"
HELDOUT = DATA / "eval_heldout.jsonl"
CLAIMS = DATA / "factcheck_claims.jsonl"
METRICS = {
    "model",
    "questions",
    "coverage",
    "recall_at_3",
    "decline_precision",
    "decline_recall",
    "in_scope_declined",
    "premise_corrected",
    "retrieval_hit_rate",
    "keyword_coverage",
    "citation_validity",
    "grounded",
    "latency_mean_ms",
    "latency_p95_ms",
}
CLAIM_VERDICTS = {
    "misreading": "contradicted",
    "unknown_attribute": "not_in_sources",
    "paraphrased_contradiction": "contradicted",
    "supported": "supported",
    "plain_contradiction": "contradicted",
    "not_in_sources": "not_in_sources",
}


# --- the shipped data files --------------------------------------------------------------------


def _passages(folder: Path) -> dict[str, str]:
    sources, problems = load_sources(folder)
    assert not problems
    return {p.id: p.text.lower() for source in sources for p in source.passages}


@pytest.mark.parametrize(
    ("path", "sources", "least", "per_class", "lacking"),
    [
        (QUESTIONS, REPO / "prompts" / "sources", 90, 11, set()),
        (HELDOUT, REPO / "prompts" / "sources", 30, 3, set()),
        (DATA / "other_questions.jsonl", DATA / "other_sources", 20, 2, set()),
        # written by a helper that read no code, with its one source: no question spans two articles
        (DATA / "tram_questions.jsonl", DATA / "tram_sources", 20, 2, {"multi_hop"}),
        (DATA / "hospital_questions.jsonl", DATA / "hospital_sources", 20, 2, {"multi_hop"}),
        # a journalist's article on the subject, by a helper that read no code (docs/language.md)
        (DATA / "summit_questions.jsonl", DATA / "summit_sources", 20, 2, set()),
    ],
)
def test_question_files_are_tagged_and_point_at_real_passages(
    path: Path, sources: Path, least: int, per_class: int, lacking: set[str]
) -> None:
    questions = load_questions(path)
    passages = _passages(sources)
    assert len(questions) >= least
    counts = Counter(q.cls for q in questions)
    assert set(counts) == set(QUESTION_CLASSES) - lacking and min(counts.values()) >= per_class, counts
    for q in questions:
        assert bool(q.passages) == bool(q.expect) == q.in_scope, q.question
        assert (q.cls == "follow_up") == bool(q.previous), q.question
        unknown = [p for p in q.passages if p not in passages]
        assert not unknown, f"{path.name}:{q.line}: no such passage {unknown}"
        gold = " ".join(passages[p] for p in q.passages)
        for group in q.expect:  # the facts a correct answer states are in its gold passages
            assert any(a in gold for a in group), f"{path.name}:{q.line}: {group} not in its passages"


def test_held_out_questions_are_not_the_tuning_questions() -> None:
    tuning = {q.question.lower() for q in load_questions(QUESTIONS)}
    assert not tuning & {q.question.lower() for q in load_questions(HELDOUT)}


def test_claim_file_covers_every_class_with_its_verdict() -> None:
    claims = load_claims(CLAIMS)
    assert len(claims) >= 45
    counts = Counter(c.cls for c in claims)
    assert set(counts) == set(CLAIM_VERDICTS) and min(counts.values()) >= 6, counts
    assert all(c.verdict == CLAIM_VERDICTS[c.cls] for c in claims)


@pytest.mark.parametrize(
    "path", sorted({*DATA.glob("*claims*.jsonl"), *DATA.glob("factcheck_*.jsonl")}), ids=lambda p: p.name
)
def test_every_claim_file_parses_with_known_verdicts(path: Path) -> None:
    """The held-out and negative-claim files feed scripts/factcheck_verdicts.py: each must parse,
    and each class must stand for one verdict throughout the file."""
    claims = load_claims(path)
    assert claims, path.name
    verdict_of: dict[str, str] = {}
    for claim in claims:
        assert claim.verdict in {"supported", "contradicted", "not_in_sources"}, claim
        assert verdict_of.setdefault(claim.cls, claim.verdict) == claim.verdict, claim


def test_other_source_is_a_valid_source_file() -> None:
    sources, problems = load_sources(DATA / "other_sources")
    assert not problems and len(sources) == 1
    assert 8 <= len(sources[0].passages) <= 12


# --- scoring, without a model ----------------------------------------------------------------


def _scored(pid: str, text: str) -> ScoredPassage:
    source = pid.split("#")[0]
    return ScoredPassage(Passage(pid, source, "Title", "Heading", text, ()), 1.0)


def _answer(text: str, ids: list[str], *, kind: str = "answer", corrected: bool = False) -> Answer:
    passages = [_scored(pid, f"passage {pid} mentions sputnik and 1986.") for pid in ids]
    citations = [Citation(1, ids[0], "s", "t", f"passage {ids[0]} mentions sputnik and 1986.")] if ids else []
    return Answer(
        question="q",
        parts=[Part((Sentence(text),))],
        citations=citations,
        passages=passages,
        model="m",
        timings={"total_ms": 100.0},
        kind=kind,
        corrected_premise=corrected,
    )


def _question(cls: str, expect: list[list[str]], passages: list[str], previous: str = "") -> EvalQuestion:
    line = {"question": "q?", "class": cls, "expect": expect, "passages": passages}
    if previous:
        line["previous"] = previous
    return parse_questions(json.dumps(line), "f.jsonl")[0]


def test_coverage_counts_the_answer_text_not_the_cited_passages() -> None:
    question = _question("direct", [["sputnik"], ["1986"]], ["a#x"])
    item = score(question, _answer("It was called a Sputnik moment [1].", ["a#x"]))
    assert item.coverage == 0.5 and item.missing == [["1986"]]
    assert item.cited_coverage == 1.0, "the older measure still counts the cited passage"
    assert item.hit


def test_a_declined_answer_covers_nothing_even_when_its_closest_topics_hold_the_words() -> None:
    question = _question("follow_up", [["sputnik"]], ["a#x"], previous="What did Liu call it?")
    declined = _answer("Not covered. Closest topics: The Sputnik moment.", ["a#x"], kind="not_covered")
    item = score(question, declined)
    assert item.declined and item.coverage == 0.0 and item.missing == [["sputnik"]]
    assert score(question, _answer("Liu called it a Sputnik moment [1].", ["a#x"])).coverage == 1.0


def test_citation_validity_counts_quotes_not_found_in_their_passage() -> None:
    """The bot builds citations from its passages, so on real answers the figure is 1.0 by
    construction: this is the check that it would notice a citation whose quote is not there."""
    question = _question("direct", [["sputnik"]], ["a#x"])
    good = _answer("Sputnik [1].", ["a#x"])
    forged = replace(good, citations=[replace(good.citations[0], quote="a sentence no passage holds")])
    elsewhere = replace(good, citations=[replace(good.citations[0], id="b#y")])  # not a given passage
    items = [score(question, a) for a in (good, forged, elsewhere)]
    assert [item.valid_citations for item in items] == [1, 0, 0]
    summary = EvalReport(model="m", prompt_version="v", items=items).summary()
    assert summary["citation_validity"] == round(1 / 3, 3)


def test_recall_at_3_needs_a_gold_passage_among_the_first_three() -> None:
    assert recall_at(["a#gold"], ["a#1", "a#2", "a#gold"]) is True
    assert recall_at(["a#gold"], ["a#1", "a#2", "a#3", "a#gold"]) is False
    assert recall_at([], ["a#1"]) is None
    question = _question("paraphrase", [["sputnik"]], ["a#gold", "b#gold"])
    assert score(question, _answer("Sputnik.", ["a#1", "b#gold"])).recall_at_3 is True
    declined = score(question, _answer("Not covered.", [], kind="not_covered"))
    assert declined.recall_at_3 is False and declined.declined


def test_premise_counts_as_corrected_only_with_the_flag_and_the_correction() -> None:
    question = _question("false_premise", [["1986"]], ["a#x"])
    assert score(question, _answer("No: it happened in 1986.", ["a#x"], corrected=True)).premise_corrected
    assert not score(question, _answer("It happened in 1986.", ["a#x"])).premise_corrected
    assert not score(question, _answer("That premise is wrong.", ["a#x"], corrected=True)).premise_corrected


def test_report_figures_per_class_and_declines() -> None:
    off = _question("off_topic", [], [])
    absent = _question("not_in_sources", [], [])
    direct = _question("direct", [["sputnik"]], ["a#x"])
    items = [
        score(off, _answer("Off topic.", [], kind="off_topic")),  # right decline
        score(absent, _answer("Sputnik!", ["a#x"])),  # missed decline
        score(direct, _answer("Sputnik [1].", ["a#x"])),
        score(direct, _answer("Not covered.", [], kind="not_covered")),  # wrong decline
    ]
    report = EvalReport(model="m", prompt_version="v", items=items)
    summary = report.summary()
    assert (summary["decline_precision"], summary["decline_recall"]) == (0.5, 0.5)
    assert summary["in_scope_declined"] == 0.5
    assert summary["coverage"] == 0.5 and summary["recall_at_3"] == 0.5
    assert summary["premise_corrected"] is None, "no false-premise question was asked"
    classes = report.by_class()
    assert classes["direct"]["questions"] == 2 and classes["direct"]["coverage"] == 0.5
    assert classes["off_topic"]["declined"] == 1.0 and classes["off_topic"]["coverage"] is None
    assert classes["not_in_sources"]["declined"] == 0.0
    assert set(json.loads(json.dumps(report.to_json()))) >= METRICS | {"classes", "items"}


# --- running --------------------------------------------------------------------------------


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    return load_settings(prompts_dir=REPO / "prompts", database_path=tmp_path / "eval.sqlite3", **overrides)


async def test_follow_up_is_asked_after_its_previous_question_in_one_conversation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, str, int]] = []  # (question, conversation, turns already in it)

    async def recording(ctx: BriefingContext, question: str, *, conversation_id: str, user_id: str):
        calls.append((question, conversation_id, len(await ctx.store.history(conversation_id))))
        async for event in answer(ctx, question, conversation_id=conversation_id, user_id=user_id):
            yield event

    monkeypatch.setattr(evaluate_module, "answer", recording)
    engine = ScriptedEngine(["Yi-Ling Liu is a journalist and the author of The Wall Dancers [1]."])
    service = await BriefingService.open(_settings(tmp_path), engine=engine)
    try:
        question = _question(
            "follow_up", [["wall dancers"]], ["liu-race-narrative#author"], "Who is Yi-Ling Liu?"
        )
        question = replace(question, question="What book did she write?")
        report = await service.evaluate([question])
        (first, conversation, before), (second, same, after) = calls
        assert (first, before, second, same) == (
            "Who is Yi-Ling Liu?",
            0,
            "What book did she write?",
            conversation,
        )
        assert after > 0, "the follow-up sees the previous exchange"
        assert not await service.store.history(conversation), "the conversation is deleted afterwards"
    finally:
        await service.aclose()
    assert [item.question for item in report.items] == ["What book did she write?"]
    assert report.items[0].previous == "Who is Yi-Ling Liu?"


async def test_eval_reports_the_documented_metrics(tmp_path: Path, llama_engine: Engine) -> None:
    questions = [q for q in load_questions(QUESTIONS) if q.line in (1, 11, 18)]  # a short, quick subset
    service = await BriefingService.open(_settings(tmp_path, max_answer_tokens=32), engine=llama_engine)
    try:
        seen: list[int] = []
        report = await service.evaluate(questions, on_item=lambda n, _item: seen.append(n))
        report.claims = await service.evaluate_claims(load_claims(CLAIMS)[:2])
    finally:
        await service.aclose()
    assert seen == [1, 2, 3]
    summary = json.loads(json.dumps(report.to_json()))
    assert set(summary) >= METRICS and summary["questions"] == 3
    assert summary["model"] == llama_engine.model_name
    assert summary["retrieval_hit_rate"] == 1.0, "these three questions are answered by the sources"
    assert summary["recall_at_3"] == 1.0, "each finds one of its gold passages in the first three"
    assert summary["decline_recall"] is None, "no out-of-scope question was asked"
    assert 0 < summary["latency_mean_ms"] <= summary["latency_p95_ms"]
    assert [item["question"] for item in summary["items"]] == [q.question for q in questions]
    assert summary["classes"]["direct"]["questions"] == 3
    claims = summary["claims"]
    assert claims["claims"] == 2 and [i["expected"] for i in claims["items"]] == ["contradicted"] * 2


# --- malformed files --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "one JSON object"),
        ('{"expect": [["a"]]}', '"question"'),
        ('{"question": "Who is Yi-Ling Liu?"}', '"expect"'),
        ('{"question": "Who is Yi-Ling Liu?", "expect": []}', '"expect"'),
        ('{"question": "Who is Yi-Ling Liu?", "expect": [[]]}', '"expect" group'),
        ('{"question": "Who is Yi-Ling Liu?", "expect": [[1, 2]]}', '"expect" group'),
        ('{"question": "Who?", "class": "trivia", "expect": ["a"]}', 'unknown class "trivia"'),
        ('{"question": "Who?", "class": "follow_up", "expect": ["a"]}', '"previous"'),
        ('{"question": "Who?", "expect": ["a"], "passages": ["no-slug"]}', '"passages"'),
        ('{"question": "Who?", "expect": ["a"], "previous": 3}', '"previous"'),
    ],
)
def test_malformed_line_is_named(line: str, message: str) -> None:
    text = '# comment\n\n{"question": "What is a Chernobyl moment?", "expect": ["chernobyl"]}\n' + line + "\n"
    with pytest.raises(InputError) as failed:
        parse_questions(text, "questions.jsonl")
    assert failed.value.user_message.startswith("questions.jsonl:4: ")
    assert message in failed.value.user_message


def test_out_of_scope_questions_may_expect_nothing_and_old_lines_still_parse() -> None:
    text = (
        '{"question": "What is the capital of Australia?", "class": "off_topic", "expect": []}\n'
        '{"question": "What is a Chernobyl moment?", "expect": ["chernobyl"]}\n'
    )
    off, old = parse_questions(text, "f.jsonl")
    assert (off.cls, off.expect, off.in_scope) == ("off_topic", (), False)
    assert (old.cls, old.expect, old.passages, old.in_scope) == ("untagged", (("chernobyl",),), (), True)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"claim": "Liu wrote a book.", "verdict": "true"}', '"verdict" must be one of'),
        ('{"verdict": "supported"}', '"claim"'),
    ],
)
def test_malformed_claim_is_named(line: str, message: str) -> None:
    with pytest.raises(InputError) as failed:
        parse_claims('{"claim": "Liu wrote a book.", "verdict": "supported"}\n' + line, "claims.jsonl")
    assert failed.value.user_message.startswith("claims.jsonl:2: ") and message in failed.value.user_message


def test_cli_eval_bad_file_fails_before_loading_the_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODEL_PATH", str(tmp_path / "absent.gguf"))  # never loaded
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "Who is Yi-Ling Liu?", "expect": [["author"]]}\n{"question": 3}\n')
    assert main(["eval", str(bad), "--json"]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:2:" in err and "Traceback" not in err
    assert main(["eval", str(tmp_path / "missing.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["eval", str(QUESTIONS), "--claims", str(bad)]) == 2, "claims are read before the model too"
    assert f"{bad}:1:" in capsys.readouterr().err
