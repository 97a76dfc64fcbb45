"""`eval`: the shipped question file parses, a run reports every documented metric, and a malformed
file fails with a message naming the line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.briefing.evaluate import load_questions, parse_questions
from bot.config import load_settings
from bot.engine.base import Engine
from bot.errors import InputError
from bot.service import BriefingService

REPO = Path(__file__).resolve().parent.parent
QUESTIONS = REPO / "tests" / "data" / "eval_questions.jsonl"
METRICS = {
    "model",
    "questions",
    "retrieval_hit_rate",
    "keyword_coverage",
    "citation_validity",
    "grounded",
    "latency_mean_ms",
    "latency_p95_ms",
}


def test_shipped_question_file_parses() -> None:
    questions = load_questions(QUESTIONS)
    assert len(questions) >= 20
    assert all(q.question and q.expect and all(q.expect) for q in questions)


async def test_eval_reports_the_documented_metrics(tmp_path: Path, llama_engine: Engine) -> None:
    questions = [q for q in load_questions(QUESTIONS) if q.line in (1, 11, 18)]  # a short, quick subset
    settings = load_settings(
        _env_file=None,
        prompts_dir=REPO / "prompts",
        database_path=tmp_path / "eval.sqlite3",
        max_answer_tokens=32,
    )
    service = await BriefingService.open(settings, engine=llama_engine)
    try:
        seen: list[int] = []
        report = await service.evaluate(questions, on_item=lambda n, _item: seen.append(n))
    finally:
        await service.aclose()
    assert seen == [1, 2, 3]
    summary = json.loads(json.dumps(report.to_json()))
    assert set(summary) >= METRICS and summary["questions"] == 3
    assert summary["model"] == llama_engine.model_name
    assert summary["retrieval_hit_rate"] == 1.0, "these three questions are answered by the sources"
    assert summary["citation_validity"] == 1.0, "every citation shown is verbatim in a given passage"
    for key in ("keyword_coverage", "grounded"):
        assert 0.0 <= summary[key] <= 1.0
    assert 0 < summary["latency_mean_ms"] <= summary["latency_p95_ms"]
    assert [item["question"] for item in summary["items"]] == [q.question for q in questions]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"expect": [["a"]]}', '"question"'),
        ('{"question": "Who is Yi-Ling Liu?"}', '"expect"'),
        ('{"question": "Who is Yi-Ling Liu?", "expect": [[]]}', '"expect" group'),
        ('{"question": "Who is Yi-Ling Liu?", "expect": [[1, 2]]}', '"expect" group'),
    ],
)
def test_malformed_line_is_named(line: str, message: str) -> None:
    text = '# comment\n\n{"question": "What is a Chernobyl moment?", "expect": ["chernobyl"]}\n' + line + "\n"
    with pytest.raises(InputError) as failed:
        parse_questions(text, "questions.jsonl")
    assert failed.value.user_message.startswith("questions.jsonl:4: ")
    assert message in failed.value.user_message


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
