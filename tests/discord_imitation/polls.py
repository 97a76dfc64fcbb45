"""Native polls as Discord keeps them: created with a message, voted on by members, ended by their
author or by time, and read back with the message (`poll.results`).

What Discord enforces and the imitation refuses (400, 50035 "Invalid Form Body" unless noted):
- a question of at most 300 characters, 1 to 10 answers of at most 55 characters each;
- a duration of 1 to 768 whole hours (32 days);
- a poll cannot be added to, or changed in, an existing message (520003 "Cannot edit a poll");
- only the poll's author may end it early, and only once (520001 "Poll expired" afterwards, 520006
  for a message without a poll); votes on an ended poll are refused;
- one answer per member unless the poll allows several.

Results are exact once the poll is finalized, as on Discord.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass, field
from typing import Any

MAX_QUESTION = 300
MAX_ANSWERS = 10
MAX_ANSWER = 55
MAX_HOURS = 768


class PollRefused(Exception):
    """A poll request Discord would refuse: the HTTP status, the message and the JSON error code."""

    def __init__(self, status: int, message: str, code: int) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


def _invalid(why: str) -> PollRefused:
    return PollRefused(400, f"Invalid Form Body: poll: {why}", 50035)


@dataclass
class Poll:
    question: str
    answers: list[str]  # answer i has answer_id i + 1
    hours: int
    multiselect: bool
    created: float = field(default_factory=time.time)
    ended_at: float | None = None
    votes: dict[int, set[int]] = field(default_factory=dict)  # user id -> answer ids

    @classmethod
    def create(cls, body: dict[str, Any]) -> Poll:
        """The poll of a create-message body, or PollRefused as Discord refuses it."""
        question = str((body.get("question") or {}).get("text") or "")
        answers = [str((a.get("poll_media") or {}).get("text") or "") for a in body.get("answers") or []]
        duration = body.get("duration", 24)
        if not question or len(question) > MAX_QUESTION:
            raise _invalid(f"question.text must be 1 to {MAX_QUESTION} characters")
        if not 1 <= len(answers) <= MAX_ANSWERS:
            raise _invalid(f"answers must hold 1 to {MAX_ANSWERS} items")
        if any(not a or len(a) > MAX_ANSWER for a in answers):
            raise _invalid(f"answers[].poll_media.text must be 1 to {MAX_ANSWER} characters")
        if (
            not isinstance(duration, int | float)
            or duration != int(duration)
            or not 1 <= duration <= MAX_HOURS
        ):
            raise _invalid(f"duration must be a whole number of hours from 1 to {MAX_HOURS}")
        return cls(question, answers, int(duration), bool(body.get("allow_multiselect", False)))

    @property
    def expiry(self) -> float:
        return self.created + self.hours * 3600

    @property
    def finalized(self) -> bool:
        return self.ended_at is not None or time.time() >= self.expiry

    def vote(self, user_id: int, answer_ids: list[int]) -> None:
        if self.finalized:
            raise PollRefused(400, "Poll expired", 520001)
        if not answer_ids or any(not 1 <= a <= len(self.answers) for a in answer_ids):
            raise _invalid("unknown answer")
        if len(answer_ids) > 1 and not self.multiselect:
            raise _invalid("this poll allows one answer")
        self.votes[user_id] = set(answer_ids)

    def end(self) -> None:
        if self.finalized:
            raise PollRefused(400, "Poll expired", 520001)
        self.ended_at = time.time()

    def count(self, answer_id: int) -> int:
        return sum(answer_id in chosen for chosen in self.votes.values())

    def payload(self, viewer_id: int) -> dict[str, Any]:
        expiry = datetime.datetime.fromtimestamp(self.expiry, datetime.UTC).isoformat()
        return {
            "question": {"text": self.question},
            "answers": [{"answer_id": i + 1, "poll_media": {"text": t}} for i, t in enumerate(self.answers)],
            "expiry": expiry,
            "allow_multiselect": self.multiselect,
            "layout_type": 1,
            "results": {
                "is_finalized": self.finalized,
                "answer_counts": [
                    {
                        "id": i + 1,
                        "count": self.count(i + 1),
                        "me_voted": i + 1 in self.votes.get(viewer_id, set()),
                    }
                    for i in range(len(self.answers))
                ],
            },
        }


__all__ = ["Poll", "PollRefused"]
