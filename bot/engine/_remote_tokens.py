"""Counting a prompt's tokens for a model server whose chat template and tokenizer the client
cannot see.

Prompts are trimmed to fit the context by this count, so it must not under-count: it estimates
from characters, with a ratio fitted once (at start-up) to the server's own tokenizer when the
server offers a tokenize endpoint, and `exact` asks that endpoint when a caller needs the real
figure.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from bot.engine._remote_http import ServerProblem
from bot.engine.base import ChatMessage

# Token estimate when the server cannot tokenize: English prose runs about 4 characters a token
# with the tokenizers in use; 3.5 over-counts a little, which only trims context a bit early.
DEFAULT_CHARS_PER_TOKEN = 3.5
# Chat-template tokens around each message (ChatML: <|im_start|>role\n ... <|im_end|>\n) and
# before the reply (<|im_start|>assistant\n), rounded up to cover other templates and a BOS token.
MESSAGE_OVERHEAD_TOKENS = 6
REPLY_OVERHEAD_TOKENS = 4
# Calibrating the estimate against the server's tokenizer: a sample written like the bot's prompts
# (names, a quote, numbers, hyphens, a short question) and a margin, because the estimate must not
# under-count - prompts are trimmed to fit the context by it. Briefing prose runs 3.3-7 characters
# a token paragraph by paragraph with SmolLM2's tokenizer (median 5).
CALIBRATION_MARGIN = 1.15
MIN_CHARS_PER_TOKEN, MAX_CHARS_PER_TOKEN = 2.0, 6.0  # an odd tokenize answer cannot skew the estimate
CALIBRATION_TEXT = (
    'Yi-Ling Liu, author of "The Wall Dancers", warns that calling DeepSeek-R1 a "Sputnik moment" '
    "feeds a zero-sum race. In 2026, researchers in Beijing, Shenzhen and Washington proposed "
    "track-two dialogues on AI safety norms. [1] Export controls (chips, compute) - what changed? "
    "Who warned about a Chernobyl moment?"
)

PostJson = Callable[[str, dict[str, Any]], Awaitable[Any]]


class TokenCounter:
    """Estimates (and, where the server allows, counts exactly) the tokens of a prompt."""

    def __init__(self, post_json: PostJson) -> None:
        self._post_json = post_json
        self.chars_per_token = DEFAULT_CHARS_PER_TOKEN
        self.tokenize_url: str | None = None

    def estimate(self, messages: Sequence[ChatMessage]) -> int:
        """Estimated prompt tokens, rounded up (chat templates live on the server)."""
        total = REPLY_OVERHEAD_TOKENS
        for message in messages:
            total += MESSAGE_OVERHEAD_TOKENS + math.ceil(len(message.content) / self.chars_per_token)
        return total

    async def calibrate(self, root: str, model: str) -> None:
        """Find a tokenize endpoint (llama-cpp-python: /extras/tokenize, llama.cpp and vLLM:
        /tokenize) and fit the estimate to the real tokenizer; keep the default if there is none."""
        for url in (f"{root}/extras/tokenize", f"{root}/tokenize"):
            try:
                count = await self.count(url, CALIBRATION_TEXT, model)
            except ServerProblem:
                continue
            if count:
                self.tokenize_url = url
                ratio = len(CALIBRATION_TEXT) / count
                self.chars_per_token = (
                    min(max(ratio, MIN_CHARS_PER_TOKEN), MAX_CHARS_PER_TOKEN) / CALIBRATION_MARGIN
                )
                return

    async def count(self, url: str, text: str, model: str) -> int | None:
        """Tokens of `text` by the tokenizer at `url`; None when its answer holds no count."""
        # One body that each server reads its own field from: llama-cpp-python "input",
        # llama.cpp "content", vLLM "prompt" (+ "model").
        body: dict[str, Any] = {"input": text, "content": text, "prompt": text}
        if model:
            body["model"] = model
        data = await self._post_json(url, body)
        if isinstance(data, dict):
            if isinstance(data.get("tokens"), list):
                return len(data["tokens"])
            if isinstance(data.get("count"), int):
                return int(data["count"])
        return None
