"""The files `eval` reads: questions (JSON lines) and, with `--claims`, fact-check claims.

A question line is `{"question", "expect", "class"?, "passages"?, "previous"?}`:
- `expect`: keyword groups (a list of lists of lowercase alternatives; a plain string is a group of
  one) that the answer text must contain. Out-of-scope classes (`off_topic`, `not_in_sources`)
  expect nothing (`[]`); every other question needs at least one group, or `"unknown"`: a question
  exported from a 👎 before anyone said what a right answer holds. It is asked and reported, but
  unscored: nothing it says can count as covered.
- `class`: one of `QUESTION_CLASSES`; a line without one is scored as `untagged`, in scope, so
  files written before classes existed still work.
- `passages`: the ids (`<source file stem>#<slug>`) of the passages that hold the answer.
- `previous`: for a follow-up, the question asked just before it in the same conversation.

A claim line is `{"claim", "verdict", "class"?}` with a verdict of `VERDICTS`.

Blank lines and lines starting with `#` are skipped. Every problem is reported as
`file:line: message`, before any model is loaded, so a typo costs seconds, not a whole run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from bot.errors import InputError

MAX_LINES = 1000
MAX_FILE_BYTES = 2 * 1024 * 1024
UNTAGGED = "untagged"
UNKNOWN = "unknown"  # an `expect` nobody has given yet (feedback exports)
OUT_OF_SCOPE = frozenset({"off_topic", "not_in_sources"})
QUESTION_CLASSES = (
    "direct",
    "paraphrase",
    "list",
    "multi_hop",
    "false_premise",
    "follow_up",
    "not_in_sources",
    "off_topic",
)
VERDICTS = ("supported", "contradicted", "not_in_sources")

Item = TypeVar("Item")


@dataclass(frozen=True, slots=True)
class EvalQuestion:
    question: str
    expect: tuple[tuple[str, ...], ...]
    line: int
    cls: str = UNTAGGED
    passages: tuple[str, ...] = ()
    previous: str = ""
    scored: bool = True  # False for `"expect": "unknown"`: replayed, never counted as covered

    @property
    def in_scope(self) -> bool:
        """Whether the sources answer it (everything but off-topic and not-in-sources)."""
        return self.cls not in OUT_OF_SCOPE


@dataclass(frozen=True, slots=True)
class EvalClaim:
    claim: str
    verdict: str
    line: int
    cls: str = UNTAGGED


def _text(data: dict[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = data.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise InputError(f'{where}: each line needs a "{key}" string')
    return value.strip()


def _groups(value: object, where: str, *, allow_empty: bool) -> tuple[tuple[str, ...], ...]:
    if not isinstance(value, list) or (not value and not allow_empty):
        raise InputError(f'{where}: "expect" must be a non-empty list of keyword groups')
    groups = []
    for group in value:
        alternatives = [group] if isinstance(group, str) else group
        if (
            not isinstance(alternatives, list)
            or not alternatives
            or not all(isinstance(a, str) and a.strip() for a in alternatives)
        ):
            raise InputError(f'{where}: each "expect" group must be a keyword or a list of keywords')
        groups.append(tuple(a.strip().lower() for a in alternatives))
    return tuple(groups)


def _passage_ids(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and "#" in v for v in value):
        raise InputError(f'{where}: "passages" must be a list of passage ids like "source#slug"')
    return tuple(v.strip() for v in value)


def _question(data: dict[str, Any], number: int, where: str) -> EvalQuestion:
    cls = _text(data, "class", where, required=False) or UNTAGGED
    if cls != UNTAGGED and cls not in QUESTION_CLASSES:
        raise InputError(f'{where}: unknown class "{cls}" (one of: {", ".join(QUESTION_CLASSES)})')
    previous = _text(data, "previous", where, required=False)
    if cls == "follow_up" and not previous:
        raise InputError(f'{where}: a follow_up question needs the "previous" question')
    unknown = data.get("expect") == UNKNOWN and cls not in OUT_OF_SCOPE
    return EvalQuestion(
        question=_text(data, "question", where),
        expect=() if unknown else _groups(data.get("expect"), where, allow_empty=cls in OUT_OF_SCOPE),
        line=number,
        cls=cls,
        passages=_passage_ids(data.get("passages", []), where),
        previous=previous,
        scored=not unknown,
    )


def _claim(data: dict[str, Any], number: int, where: str) -> EvalClaim:
    verdict = _text(data, "verdict", where)
    if verdict not in VERDICTS:
        raise InputError(f'{where}: "verdict" must be one of: {", ".join(VERDICTS)}')
    cls = _text(data, "class", where, required=False) or UNTAGGED
    return EvalClaim(claim=_text(data, "claim", where), verdict=verdict, line=number, cls=cls)


def _parse_lines(text: str, name: str, build: Callable[[dict[str, Any], int, str], Item]) -> list[Item]:
    items: list[Item] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{name}:{number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: not valid JSON ({exc.msg})") from None
        if not isinstance(data, dict):
            raise InputError(f"{where}: each line must be one JSON object")
        items.append(build(data, number, where))
        if len(items) > MAX_LINES:
            raise InputError(f"{name}: more than {MAX_LINES} lines; split the file")
    if not items:
        raise InputError(f"{name}: nothing found (one JSON object per line)")
    return items


def parse_questions(text: str, name: str) -> list[EvalQuestion]:
    """Parse a question file's text; every problem is reported as `name:line: message`."""
    return _parse_lines(text, name, _question)


def parse_claims(text: str, name: str) -> list[EvalClaim]:
    """Parse a claim file's text; every problem is reported as `name:line: message`."""
    return _parse_lines(text, name, _claim)


def read_text(path: Path) -> str:
    """A file's text, with clear messages for a missing, huge, binary or unreadable file."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(f"{path}: the file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}")
        return path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a .jsonl file") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the file ({exc.strerror})") from None


def load_questions(path: Path) -> list[EvalQuestion]:
    return parse_questions(read_text(path), str(path))


def load_claims(path: Path) -> list[EvalClaim]:
    return parse_claims(read_text(path), str(path))
