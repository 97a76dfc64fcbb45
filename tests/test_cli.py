"""Console commands through the real entry point: --json shapes, exit codes, clear errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.__main__ import main

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMPTS_DIR", str(REPO / "prompts"))
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "cli.sqlite3"))
    monkeypatch.setenv("N_SLOTS", "1")


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_search_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    results = run_json(capsys, "search", "track-two dialogue between scientists", "-k", "3", "--json")
    assert isinstance(results, list) and len(results) == 3
    assert set(results[0]) == {"id", "source", "title", "text", "score"}
    assert results[0]["score"] >= results[-1]["score"]


def test_ask_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "ask", "Who warned about a Chernobyl moment for AI?", "--json")
    assert {"question", "answer", "citations", "passages", "model", "timings"} <= set(data)
    assert set(data["timings"]) >= {
        "retrieve_ms",
        "prompt_tokens",
        "completion_tokens",
        "first_token_ms",
        "total_ms",
    }
    passages = {p["id"]: p["text"] for p in data["passages"]}
    assert data["citations"]
    for citation in data["citations"]:
        assert set(citation) == {"id", "source", "title", "quote"}
        assert citation["quote"] in passages[citation["id"]]


def test_bad_input_exits_2_with_a_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "   "]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err


def test_missing_model_is_one_sentence(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODEL_PATH", "/nonexistent/model.gguf")
    assert main(["ask", "What is track-two diplomacy?"]) == 2
    err = capsys.readouterr().err
    assert "/nonexistent/model.gguf" in err and "MODEL_PATH" in err


def test_check_prompts(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["check-prompts"]) == 0
    assert capsys.readouterr().out.startswith("OK: prompt set")
    broken = tmp_path / "prompts"
    shutil.copytree(REPO / "prompts", broken)
    (broken / "templates" / "judge.md").write_text("+++\n+++\n{motion} {verdict}\n")
    assert main(["check-prompts", "--dir", str(broken)]) == 1
    assert "templates/judge.md:3: unknown placeholder {verdict}" in capsys.readouterr().out
