"""The engine's phases, in an order that makes each measurement mean what its name says: single
questions first (nothing cached yet but the instructions), a decode, conversations interleaved, users
at once, and the decode again (best of two, like the reference)."""

from __future__ import annotations

import statistics
from typing import Any

from bot.bench._grounding import Grounding
from bot.bench._report import progress
from bot.bench._timing import decode_rate, together
from bot.bench._workload import (
    BENCH_USER,
    CHAT_SYSTEM,
    COLD_QUESTION,
    CONCURRENT_QUESTIONS,
    CONVERSATIONS,
    NEW_QUESTION,
    BenchSizes,
)
from bot.engine.base import ChatMessage, Engine, GenerationRequest, Sampling


async def measure_engine(
    engine: Engine, grounding: Grounding, sizes: BenchSizes, *, label: str = "engine"
) -> dict[str, Any]:
    """Every engine phase (see the module docstring), its figures by name."""
    out = await single_questions(grounding, sizes, label)
    progress(f"{label}: single-stream decode, {sizes.decode_tokens} tokens")
    first_decode = await decode_rate(engine, sizes)
    out.update(await interleaved(grounding, sizes, label))
    out.update(await users_at_once(engine, grounding, sizes, label))
    progress(f"{label}: single-stream decode again (best of two, like the reference)")
    second_decode = await decode_rate(engine, sizes)
    rate, tokens = max(first_decode, second_decode)
    out["decode_tok_s"], out["decode_tokens"] = rate or None, tokens
    return out


async def single_questions(grounding: Grounding, sizes: BenchSizes, label: str) -> dict[str, Any]:
    """Time to first token: cold, for a follow-up in the same conversation, and for a new question
    once the instructions are cached."""
    out: dict[str, Any] = {}
    first_q, first_follow = COLD_QUESTION

    progress(f"{label}: cold grounded question")
    cold = await grounding.ask("bench:cold", first_q, sizes.answer_tokens)
    out["ttft_cold_s"] = cold.ttft_s
    out["cold_prompt_tokens"] = cold.usage.prompt_tokens

    progress(f"{label}: follow-up in the same conversation")
    follow = await grounding.ask("bench:cold", first_follow, sizes.answer_tokens)
    out["ttft_followup_s"] = follow.ttft_s
    out["followup_prompt_tokens"] = follow.usage.prompt_tokens
    out["followup_cached_tokens"] = follow.usage.cached_tokens

    progress(f"{label}: new question, instructions cached")
    fresh = await grounding.ask("bench:new", NEW_QUESTION, sizes.answer_tokens)
    out["ttft_new_question_s"] = fresh.ttft_s
    out["new_question_prompt_tokens"] = fresh.usage.prompt_tokens
    out["new_question_cached_tokens"] = fresh.usage.cached_tokens
    return out


async def interleaved(grounding: Grounding, sizes: BenchSizes, label: str) -> dict[str, Any]:
    """A question in each of several conversations, then a follow-up in each: what a follow-up costs
    when other conversations came in between."""
    progress(f"{label}: {sizes.conversations} interleaved conversations, then a follow-up in each")
    names = [f"bench:conv{i}" for i in range(sizes.conversations)]
    for name, (question, _) in zip(names, CONVERSATIONS, strict=False):
        await grounding.ask(name, question, sizes.answer_tokens)
    follow_ttfts, follow_new_tokens = [], []
    for name, (_, follow_up) in zip(names, CONVERSATIONS, strict=False):
        result = await grounding.ask(name, follow_up, sizes.answer_tokens)
        follow_ttfts.append(result.ttft_s)
        follow_new_tokens.append(result.usage.prompt_tokens - result.usage.cached_tokens)
    return {
        "ttft_interleaved_s": follow_ttfts,
        "interleaved_new_prompt_tokens": follow_new_tokens,  # what each follow-up had to process
        "ttft_interleaved_max_s": max(follow_ttfts),
        "ttft_interleaved_mean_s": statistics.fmean(follow_ttfts),
    }


# The "users at once" phase is measured twice: with short chat prompts, the load llama.cpp's server
# is usually benchmarked with (so `concurrent4_*` compares side by side with it), and with the bot's
# grounded prompts (~450 tokens each, `concurrent4_grounded_*`), where prompt processing dominates
# on a CPU.
async def users_at_once(
    engine: Engine, grounding: Grounding, sizes: BenchSizes, label: str
) -> dict[str, Any]:
    """Several users at once, with the bot's grounded prompts, then with short chat prompts."""
    users = sizes.concurrent_users
    progress(f"{label}: {users} users at once, {sizes.concurrent_tokens} tokens each")
    requests = [
        await grounding.request(f"bench:together{i}", question, sizes.concurrent_tokens)
        for i, question in enumerate(CONCURRENT_QUESTIONS[:users])
    ]
    out: dict[str, Any] = {"concurrent_users": users}
    out.update(await together(engine, requests, "concurrent4_grounded"))

    progress(f"{label}: {users} users at once, short chat prompts (as a server test sends)")
    chats = [
        GenerationRequest(
            messages=(CHAT_SYSTEM, ChatMessage(role="user", content=question)),
            sampling=Sampling(max_tokens=sizes.concurrent_tokens, temperature=0.0, repeat_penalty=1.1),
            user_id=f"{BENCH_USER}:chat{i}",
            conversation_id=f"bench:chat{i}",
        )
        for i, question in enumerate(CONCURRENT_QUESTIONS[:users])
    ]
    out.update(await together(engine, chats, "concurrent4"))
    return out
