"""Building grounded prompts, and fitting them into the context window.

Layout, chosen for llama.cpp's KV-cache reuse: the persona (system message) comes first and is
byte-identical across requests, so its tokens are evaluated once and shared; earlier turns follow
exactly as the model saw and wrote them (so a follow-up only evaluates its own new tokens); the
passages and the question, which change every time, come last.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from bot.engine.base import ChatMessage, Engine
from bot.errors import InputError
from bot.index import ScoredPassage
from bot.promptset import PromptSet
from bot.store import Turn

ANSWER_MARGIN_TOKENS = 8  # slack for template tokens the count may miss at the boundary


def format_sources(passages: Sequence[ScoredPassage]) -> str:
    """Numbered passages, one per paragraph: "[1] Title - Heading: text"."""
    lines = []
    for number, scored in enumerate(passages, start=1):
        p = scored.passage
        label = f"{p.title} - {p.heading}" if p.heading else p.title
        lines.append(f"[{number}] {label}: {p.text}")
    return "\n\n".join(lines)


def history_messages(turns: Sequence[Turn]) -> list[ChatMessage]:
    return [ChatMessage(role=t.role, content=t.content) for t in turns]


def grounded_messages(
    prompts: PromptSet,
    persona: str,
    template: str,
    passages: Sequence[ScoredPassage],
    history: Sequence[Turn] = (),
    **fields: str,
) -> tuple[ChatMessage, ...]:
    """System persona, then history, then the filled template as the new user turn."""
    user = prompts.template(template).render(sources=format_sources(passages), **fields)
    return (
        ChatMessage(role="system", content=prompts.persona(persona)),
        *history_messages(history),
        ChatMessage(role="user", content=user),
    )


def answer_messages(
    prompts: PromptSet, passages: Sequence[ScoredPassage], history: Sequence[Turn], question: str
) -> tuple[ChatMessage, ...]:
    """The grounded question prompt (also used by the benchmark, so it measures the real layout)."""
    return grounded_messages(prompts, "briefer", "answer", passages, history, question=question)


def fit_to_context(
    engine: Engine,
    build: Callable[[list[ScoredPassage], list[Turn]], tuple[ChatMessage, ...]],
    passages: list[ScoredPassage],
    history: list[Turn],
    max_tokens: int,
) -> tuple[tuple[ChatMessage, ...], list[ScoredPassage], list[Turn]]:
    """Trim history (oldest first), then passages (weakest first), until prompt + answer fit.

    `build(passages, history)` returns the messages. Counting is by real tokens (the engine's
    tokenizer), so llama.cpp never sees an over-long prompt.
    """
    budget = engine.context_size - max_tokens - ANSWER_MARGIN_TOKENS
    passages, history = list(passages), list(history)
    while True:
        messages = build(passages, history)
        if engine.count_tokens(messages) <= budget:
            return messages, passages, history
        if history:
            # Drop a whole exchange so the model never sees an answer without its question.
            history = history[2:] if len(history) >= 2 else []
        elif len(passages) > 1:
            passages = passages[:-1]
        else:
            raise InputError(
                "That question is too long for this model's context window - please shorten it "
                f"(context is {engine.context_size} tokens)."
            )


_TEMPLATE_TOKEN_RE = re.compile(r"<\|[^|<>]{0,40}\|>|</?s>|\[/?INST\]", re.IGNORECASE)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028-\u202e\ufeff]")


def clean_user_text(text: str, *, max_chars: int, what: str = "question") -> str:
    """Make user text safe to put in a prompt, or raise InputError with a clear sentence.

    Chat-template tokens (`<|im_start|>system` ...) are removed so a user cannot forge a system
    turn; control characters are dropped; whitespace is collapsed. Braces need no escaping: user
    text is inserted as a value and never parsed as a template.
    """
    if not isinstance(text, str):
        raise InputError(f"Please send your {what} as text.")
    if len(text) > max_chars:
        raise InputError(f"That {what} is {len(text):,} characters; please keep it under {max_chars:,}.")
    text = _TEMPLATE_TOKEN_RE.sub(" ", text)
    text = _CONTROL_RE.sub("", text)
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    if not text:
        raise InputError(f"Your {what} is empty - what would you like to know about the US-China AI debate?")
    return text
