"""Building grounded prompts, and fitting them into the context window.

Layout, chosen for llama.cpp's KV-cache reuse: the persona (system message) comes first and is
byte-identical across requests, so its tokens are evaluated once and shared; earlier turns follow
exactly as the model saw and wrote them (so a follow-up only evaluates its own new tokens); the
passages and the question, which change every time, come last.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.engine.base import ChatMessage, Engine
from bot.errors import InputError
from bot.index import ScoredPassage, SourceIndex
from bot.promptset import PromptSet
from bot.sources import Passage
from bot.store import Turn
from bot.untrusted import safe_prompt_text

SOURCES_META = "sources"  # user-turn meta key: [[number, passage id], ...] first listed in that turn
ANSWER_MARGIN_TOKENS = 8
AS_ABOVE = "(as above)"  # a follow-up whose passages were all listed in earlier turns
_SOURCE_LABEL_RE = re.compile(
    r"^\[(\d{1,4})\] ", re.MULTILINE
)  # slack for template tokens the count may miss at the boundary


def format_sources(passages: Sequence[ScoredPassage], numbers: Sequence[int] | None = None) -> str:
    """Numbered passages, one per paragraph: "[1] Title - Heading: text"."""
    lines = []
    for number, scored in zip(numbers or range(1, len(passages) + 1), passages, strict=True):
        p = scored.passage
        label = f"{p.title} - {p.heading}" if p.heading else p.title
        lines.append(f"[{number}] {label}: {p.text}")
    return "\n\n".join(lines)


def history_messages(turns: Sequence[Turn]) -> list[ChatMessage]:
    return [ChatMessage(role=t.role, content=t.content) for t in turns]


@dataclass(frozen=True, slots=True)
class QuestionPrompt:
    """A grounded question ready for the engine, with the numbering its citations refer to."""

    messages: tuple[ChatMessage, ...]
    numbered: list[ScoredPassage]  # numbered[n - 1] is the passage behind "[n]", for the whole conversation
    given: list[ScoredPassage]  # the passages chosen for this question (after fitting)
    listed: list[tuple[int, str]]  # (number, id) first shown in this turn: stored in the turn's meta


def conversation_numbers(history: Sequence[Turn]) -> dict[str, int]:
    """Passage id -> number, for the passages listed in the turns still in the prompt."""
    known: dict[str, int] = {}
    for turn in history:
        for number, passage_id in turn.meta.get(SOURCES_META, []) if turn.role == "user" else []:
            known.setdefault(str(passage_id), int(number))
    return known


def question_prompt(
    prompts: PromptSet,
    index: SourceIndex,
    passages: Sequence[ScoredPassage],
    history: Sequence[Turn],
    question: str,
) -> QuestionPrompt:
    """The answer prompt, numbering passages once per conversation.

    A passage keeps its number for the whole conversation, and a follow-up lists only the passages
    the conversation has not seen yet (the others are named by number): the earlier turns stay
    byte-identical in llama.cpp's KV cache, so a follow-up evaluates a few dozen new tokens instead
    of re-reading every passage.
    """
    known = conversation_numbers(history)
    # Other modes (a brief in the same DM) number their own passages: never reuse a visible number.
    shown = [int(n) for t in history if t.role == "user" for n in _SOURCE_LABEL_RE.findall(t.content)]
    next_number = max([*known.values(), *shown], default=0) + 1
    listed: list[tuple[int, str]] = []
    fresh: list[tuple[int, ScoredPassage]] = []
    again: list[int] = []
    for scored in passages:
        if scored.passage.id in known:
            again.append(known[scored.passage.id])
        else:
            listed.append((next_number, scored.passage.id))
            fresh.append((next_number, scored))
            next_number += 1
    numbers = {**known, **{pid: n for n, pid in listed}}
    by_number = {n: pid for pid, n in numbers.items()}
    given_by_id = {s.passage.id: s for s in passages}
    numbered = [
        given_by_id.get(by_number.get(n, ""))
        or ScoredPassage(index.get(by_number.get(n, "")) or missing_passage(by_number.get(n, "")), 0.0)
        for n in range(1, next_number)
    ]
    sources = format_sources([s for _, s in fresh], numbers=[n for n, _ in fresh])
    if again and sources:
        sources += "\n\nAlso: " + ", ".join(f"[{n}]" for n in sorted(again)) + " (listed above)"
    elif again:
        # Nothing new: every token here is evaluated before the first word of the answer (a dozen
        # tokens is ~60 ms on two cores), and the model sees the numbered passages above anyway.
        sources = AS_ABOVE
    user = prompts.template("answer").render(sources=sources, question=question)
    messages = (
        ChatMessage(role="system", content=prompts.persona("briefer")),
        *history_messages(history),
        ChatMessage(role="user", content=user),
    )
    return QuestionPrompt(messages, numbered, list(passages), listed)


def missing_passage(passage_id: str) -> Passage:
    """Stands in for a passage a reload removed: citations of it fail verification and are dropped."""
    return Passage(passage_id, "", "", "", "", ())


def fit_question(
    engine: Engine,
    prompts: PromptSet,
    index: SourceIndex,
    passages: Sequence[ScoredPassage],
    history: Sequence[Turn],
    question: str,
    max_tokens: int,
) -> QuestionPrompt:
    """`question_prompt`, trimmed to fit the context (see `fit_to_context`). Used by answers and bench."""
    built: dict[int, QuestionPrompt] = {}

    def build(ps: list[ScoredPassage], hs: list[Turn]) -> tuple[ChatMessage, ...]:
        built[0] = question_prompt(prompts, index, ps, hs, question)
        return built[0].messages

    fit_to_context(engine, build, list(passages), list(history), max_tokens)
    return built[0]


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


def clean_user_text(text: str, *, max_chars: int, what: str = "question") -> str:
    """Make user text safe to put in a prompt, or raise InputError with a clear sentence.

    Normalised first (NFKC, invisible characters dropped), then chat-template token text removed
    (`safe_prompt_text`), so a zero-width or look-alike character cannot hide a token from the filter;
    the local engine also tokenizes it as plain text. Whitespace is collapsed. Braces need no
    escaping: user text is inserted as a value and never parsed as a template.
    """
    if not isinstance(text, str):
        raise InputError(f"Please send your {what} as text.")
    if len(text) > max_chars:
        raise InputError(f"That {what} is {len(text):,} characters; please keep it under {max_chars:,}.")
    text = safe_prompt_text(text)
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    if len(text) > max_chars:  # compatibility characters can expand under NFKC ("\ufdfa" is 18)
        raise InputError(f"That {what} is {len(text):,} characters; please keep it under {max_chars:,}.")
    if not text:
        raise InputError(f"Your {what} is empty - what would you like to know about the US-China AI debate?")
    return text
