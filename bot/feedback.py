"""Feedback on what the bot showed: 👍/👎 with a reason and a note, read back by moderators and
turned into `eval` questions.

Why keep the answer *as shown* with each vote: a 👎 is only useful to a moderator who can see what
the bot said, which passages it rested on (with their scores), whether it decided to answer or to
decline and why, and which model and prompt-set version produced it. Conversations move on and
prompts are reloaded; the record does not.

Privacy: records are per server (`guild_id`, '' in DMs) and listed only for the server asking; notes
appear only in moderator commands and exports. Retention follows CONVERSATION_RETENTION_DAYS
(bot/retention.py).

A 👎 becomes an eval line (`bot/briefing/eval_files.py` format) in one step: "should have declined"
becomes a `not_in_sources` question; every other reason an in-scope question whose `expect` is the
facts a moderator gave for it (`/feedback expect`), or else "unknown". Not the question's own key
terms: a wrong answer usually repeats them, so `eval` scored the very answer voted down as right.
An unknown line is replayed and reported as unscored until a moderator gives its facts.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from bot.briefing.debate import DebateTurn, Judgement
from bot.briefing.eval_files import UNKNOWN
from bot.briefing.factcheck import FactCheck
from bot.briefing.models import Answer, Citation
from bot.errors import InputError
from bot.index import ScoredPassage
from bot.store import Store

Vote = Literal["up", "down"]
# The answers to "what was wrong?" (value -> label shown on Discord).
REASONS = {
    "wrong": "Wrong",
    "off_topic": "Off topic",
    "should_answer": "Should have answered",
    "should_decline": "Should have declined",
    "other": "Other",
}
MAX_NOTE_CHARS = 300
PAGE_SIZE = 5


def _passages(passages: Sequence[ScoredPassage]) -> list[dict[str, Any]]:
    return [{"id": s.passage.id, "score": round(s.score, 4)} for s in passages]


def _cited(citations: Sequence[Citation]) -> list[dict[str, Any]]:
    return [{"id": c.id, "score": None} for c in citations]


def shown_answer(answer: Answer, *, mode: str, prompt_version: str) -> dict[str, Any]:
    """The record of an answer or a brief as shown (`mode` "answer" or "brief")."""
    return {
        "mode": mode,
        "question": answer.question,
        "answer": answer.text,
        "passages": _passages(answer.passages),
        "cited": [c.id for c in answer.citations],
        "decision": {"kind": answer.kind, "reason": answer.reason},
        "model": answer.model,
        "prompt_version": prompt_version,
    }


def shown_factcheck(check: FactCheck, *, prompt_version: str) -> dict[str, Any]:
    return {
        "mode": "factcheck",
        "question": check.claim,
        "answer": f"{check.verdict}: {check.explanation}",
        "passages": _passages(check.evidence),
        "decision": {"kind": check.verdict, "reason": "; ".join(check.reasons)},
        "model": check.model,
        "prompt_version": prompt_version,
    }


def shown_speech(
    motion: str, speech: DebateTurn | Judgement, *, model: str, prompt_version: str
) -> dict[str, Any]:
    """A debate speech or the judge's summary (the passages are the ones it cited)."""
    side = speech.side if isinstance(speech, DebateTurn) else "judge"
    return {
        "mode": "debate",
        "question": motion,
        "answer": speech.text,
        "passages": _cited(speech.citations),
        "decision": {"kind": side, "reason": ""},
        "model": model,
        "prompt_version": prompt_version,
    }


def check_reason(reason: str) -> str:
    if reason not in REASONS:
        raise InputError(f"Unknown reason {reason!r}: one of {', '.join(REASONS)}.")
    return reason


def parse_facts(text: str) -> list[list[str]]:
    """ "chernobyl; catastroph | disaster" -> [["chernobyl"], ["catastroph", "disaster"]]: groups the
    answer must all hold, each met by any of its alternatives (the `expect` of eval files)."""
    groups = [[a.strip().lower() for a in group.split("|") if a.strip()] for group in text.split(";")]
    groups = [g for g in groups if g]
    if not groups:
        raise InputError(
            'Give the facts as keywords: groups separated by ";", alternatives by "|" '
            '(e.g. "chernobyl; catastrophe | disaster").'
        )
    return groups


def check_note(note: str) -> str:
    note = " ".join(note.split())
    if len(note) > MAX_NOTE_CHARS:
        raise InputError(f"The note is {len(note)} characters; at most {MAX_NOTE_CHARS} fit.")
    return note


@dataclass(frozen=True, slots=True)
class FeedbackPage:
    """One page of 👎 for a server, newest first."""

    items: list[dict[str, Any]]
    total: int
    page: int  # 1-based
    pages: int
    reason: str = ""


async def feedback_page(
    store: Store, guild_id: str | None, *, reason: str = "", page: int = 1
) -> FeedbackPage:
    """Page `page` (clamped to the pages there are) of the 👎 given in a server (None: all)."""
    if reason:
        check_reason(reason)
    total, _ = await store.feedback_rows(guild_id, reason=reason, limit=0)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    _, items = await store.feedback_rows(
        guild_id, reason=reason, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    return FeedbackPage(items=items, total=total, page=page, pages=pages, reason=reason)


def eval_line(votes: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The 👎 on one question (newest first) as an `eval` question line; the newest vote that gives
    a reason decides the class, and `feedback` carries what a moderator needs to edit the line."""
    item = next((v for v in votes if v["reason"]), votes[0])
    record = item["record"]
    line: dict[str, Any] = {"question": record["question"]}
    if item["reason"] == "should_decline":
        line |= {"class": "not_in_sources", "expect": []}
    else:
        line["expect"] = record.get("expect") or UNKNOWN
    line["feedback"] = {
        "reason": item["reason"],
        "votes": len(votes),
        "notes": [v["note"] for v in votes if v["note"]],
        "mode": record["mode"],
        "answer": record["answer"],
        "decision": record["decision"],
        "passages": [p["id"] for p in record["passages"]],
        "model": record["model"],
        "prompt_version": record["prompt_version"],
    }
    return line


async def export_jsonl(store: Store, guild_id: str | None, *, reason: str = "") -> tuple[int, str]:
    """(how many, the JSONL text) of the questions voted down that `eval` can replay (answers and
    briefs), one line per question however many people voted it down."""
    if reason:
        check_reason(reason)
    _, items = await store.feedback_rows(guild_id, reason=reason, limit=-1)
    by_question: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        if item["record"]["mode"] in ("answer", "brief") and item["record"]["question"].strip():
            by_question.setdefault(item["record"]["question"], []).append(item)
    lines = [eval_line(votes) for votes in by_question.values()]
    return len(lines), "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
