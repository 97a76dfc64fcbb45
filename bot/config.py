"""Settings, read once from the environment and `.env` (pydantic-settings).

Every setting is listed with its default and meaning in `.env.example`; the names are part of the
operator-facing contract, so they are fixed. Invalid values are reported by `load_settings` as one
sentence naming the setting instead of a pydantic traceback.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.errors import ConfigError


def usable_cores() -> int:
    """Cores this process may run on (respects CPU affinity/cgroups, unlike os.cpu_count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _int_list(value: object) -> object:
    """Accept "1,2,3" (as written in .env) as well as a real list."""
    if isinstance(value, str):
        return [int(part) for part in value.replace(" ", "").split(",") if part]
    return value


class Settings(BaseSettings):
    """All operator settings. Field names are the environment variable names (case-insensitive)."""

    # env_ignore_empty: `N_THREADS=` in .env means "use the default", as .env.example shows.
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    # --- Discord -------------------------------------------------------------------------------
    discord_token: str = ""
    discord_api_base: str = ""
    discord_gateway_url: str = ""
    sync_commands: bool = True
    dev_guild_id: int | None = None
    allowed_channel_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    moderator_role_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    rate_limit_per_minute: int = Field(default=6, ge=1)
    max_input_chars: int = Field(default=2000, ge=50, le=100_000)
    shutdown_grace_s: float = Field(default=20.0, ge=0, le=600)
    # How long the audience may vote after a debate's judge, before the room's swing is reported.
    debate_vote_s: float = Field(default=300.0, ge=0, le=24 * 3600)

    # --- Model (in-process llama.cpp) ------------------------------------------------------------
    model_path: Path | None = None
    n_ctx: int = Field(default=4096, ge=512, le=131_072)
    n_threads: int = Field(default_factory=usable_cores, ge=1)
    n_gpu_layers: int = Field(default=0, ge=-1)
    n_slots: int = Field(default=4, ge=1, le=64)
    kv_cache_mib: int = Field(default=256, ge=0)
    max_queue: int = Field(default=32, ge=1)
    max_answer_tokens: int = Field(default=120, ge=16, le=4096)

    # spaCy's English pipeline and the all-MiniLM-L6-v2 sentence encoder (both installed packages):
    # off, the bot reads text by its words alone.
    language_models: bool = True

    # --- Remote OpenAI-compatible backend (scale-out) ------------------------------------------
    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: str = ""
    llm_timeout_s: float = Field(default=300.0, ge=1, le=3600)

    # --- Several bot processes (sharding) ------------------------------------------------------
    shard_count: int | None = Field(default=None, ge=1, le=65_536)
    shard_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    prompts_poll_s: float = Field(default=30.0, ge=0)

    # --- Files ---------------------------------------------------------------------------------
    prompts_dir: Path = Path("prompts")
    # A file a moderator uploads with /prompts put must be fetched within this many seconds.
    prompt_upload_timeout_s: float = Field(default=10.0, gt=0, le=120)
    database_path: Path = Path("data/briefing-bot.sqlite3")
    loop_stats_path: Path | None = None
    # Conversations untouched for this many days are deleted (at start-up, then hourly); 0 keeps all.
    conversation_retention_days: float = Field(default=0, ge=0)

    @field_validator("allowed_channel_ids", "moderator_role_ids", "shard_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        return _int_list(value)

    @model_validator(mode="after")
    def _shards_fit(self) -> Settings:
        """SHARD_IDS names shards of a known total, each once (Discord refuses anything else)."""
        if not self.shard_ids:
            return self
        if self.shard_count is None:
            raise ValueError("SHARD_IDS needs SHARD_COUNT (the total number of shards over all processes)")
        outside = [i for i in self.shard_ids if not 0 <= i < self.shard_count]
        if outside:
            raise ValueError(f"SHARD_IDS {outside} are outside 0..{self.shard_count - 1} (SHARD_COUNT)")
        if len(set(self.shard_ids)) != len(self.shard_ids):
            raise ValueError("SHARD_IDS names a shard twice")
        return self

    @field_validator("model_path", "loop_stats_path", mode="before")
    @classmethod
    def _empty_path_is_default(cls, value: object) -> object:
        return None if value in ("", None) else value


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning validation errors into one ConfigError naming the setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]  # fields (and _env_file) by keyword, checked below
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"]).upper()
            if name:
                problems.append(f"{name}: {error['msg']} (got {error.get('input')!r})")
            else:  # a check across settings: its message names them; the input is every setting
                problems.append(str(error["msg"]).removeprefix("Value error, "))
        raise ConfigError("Invalid setting " + "; ".join(problems)) from None
