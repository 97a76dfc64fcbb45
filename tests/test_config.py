"""Settings: documented names, defaults, and one clear sentence for an invalid value."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_settings
from bot.engine.model_file import check_gguf, resolve_model_path
from bot.errors import ConfigError, ModelFileError

REPO = Path(__file__).resolve().parent.parent


def test_defaults_and_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOWED_CHANNEL_IDS", "10, 20")
    monkeypatch.setenv("N_THREADS", "")  # empty means default, as in .env.example
    settings = load_settings()
    assert settings.allowed_channel_ids == [10, 20]
    assert settings.n_threads >= 1
    assert settings.n_gpu_layers == 0
    assert settings.prompts_dir == Path("prompts")


@pytest.mark.parametrize(
    ("name", "value"),
    [("N_CTX", "abc"), ("N_GPU_LAYERS", "-5"), ("N_THREADS", "0"), ("MODERATOR_ROLE_IDS", "x,y")],
)
def test_invalid_value_names_the_setting(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert name in info.value.user_message


def test_env_example_lists_every_setting() -> None:
    from bot.config import Settings

    documented = {
        line.split("=", 1)[0]
        for line in (REPO / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert documented == {name.upper() for name in Settings.model_fields}


def test_model_file_errors_name_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.gguf"
    with pytest.raises(ModelFileError, match=str(missing)):
        resolve_model_path(missing)
    corrupt = tmp_path / "corrupt.gguf"
    corrupt.write_bytes(b"not a gguf file at all")
    with pytest.raises(ModelFileError, match="not a GGUF file"):
        check_gguf(corrupt)
    with pytest.raises(ModelFileError, match="not a file"):
        check_gguf(tmp_path)
    assert resolve_model_path(None).suffix == ".gguf"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"SHARD_IDS": "0,1"}, "SHARD_IDS needs SHARD_COUNT"),
        ({"SHARD_IDS": "0,2", "SHARD_COUNT": "2"}, "outside 0..1"),
        ({"SHARD_IDS": "1,1", "SHARD_COUNT": "2"}, "names a shard twice"),
        ({"SHARD_COUNT": "0"}, "SHARD_COUNT"),
        ({"LLM_TIMEOUT_S": "0"}, "LLM_TIMEOUT_S"),
    ],
)
def test_shard_settings_are_checked_together(
    monkeypatch: pytest.MonkeyPatch, values: dict[str, str], expected: str
) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=expected):
        load_settings()


def test_shards_split_over_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHARD_COUNT", "4")
    monkeypatch.setenv("SHARD_IDS", "2, 3")
    settings = load_settings()
    assert (settings.shard_count, settings.shard_ids) == (4, [2, 3])


def test_tests_never_read_a_developers_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The session fixture `isolated_settings` (conftest.py) keeps a `.env` in the working directory
    out of every test; asked for explicitly, the same file is read, so the fixture is what stops it."""
    env = tmp_path / ".env"
    env.write_text("DISCORD_TOKEN=from-a-developers-env\nN_CTX=1234\n")
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert (settings.discord_token, settings.n_ctx) != ("from-a-developers-env", 1234)
    assert load_settings(_env_file=env).n_ctx == 1234
