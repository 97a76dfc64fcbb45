"""Splitting long text into Discord messages (2000 characters each) without losing anything.

Why not a plain slice: a cut in the middle of a word reads as a typo, and a cut inside a code fence
turns the rest of the answer into code (and the next message's code into prose). So text is split
at line breaks, a line longer than a message at spaces, and a fenced code block is kept whole when it
fits; a block too long for one message is closed at the end of each piece and reopened (with its
language) at the start of the next. Only a single "word" longer than a message is cut mid-way.
"""

from __future__ import annotations

import re

MESSAGE_LIMIT = 2000
MAX_FENCE_SHARE = 4  # a fence line repeated in every piece may take at most a quarter of a message
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_WORDS = re.compile(r"\S+\s*|\s+")


def _units(text: str) -> list[tuple[list[str], str | None]]:
    """Lines grouped into units: a fenced block (with its opening line as the fence) or one line."""
    lines = text.split("\n")
    units: list[tuple[list[str], str | None]] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            units.append(([lines[i]], None))
            i += 1
            continue
        marker = match.group(1)
        end = i + 1
        while end < len(lines) and not lines[end].strip().startswith(marker):
            end += 1
        units.append((lines[i : end + 1], lines[i].strip()))
        i = end + 1
    return units


def _split_line(line: str, limit: int) -> list[str]:
    """A line longer than `limit`, cut after whole words (a word longer than `limit` is sliced)."""
    if limit < 1:  # a slice of nothing would never shorten the word: refuse rather than loop forever
        raise ValueError(f"cannot split text into pieces of {limit} characters")
    pieces: list[str] = []
    current = ""
    for word in _WORDS.findall(line):
        while len(word) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(word[:limit])
            word = word[limit:]
        if len(current) + len(word.rstrip()) > limit:
            pieces.append(current)
            current = ""
        current += word
    if current:
        pieces.append(current)
    return [p.rstrip() for p in pieces if p.strip()] or [""]


def _fit_lines(lines: list[str], limit: int) -> list[str]:
    """The lines, each longer than `limit` cut after whole words."""
    return [part for line in lines for part in (_split_line(line, limit) if len(line) > limit else [line])]


def _split_block(lines: list[str], fence: str, limit: int) -> list[str]:
    """A code block too long for one message: pieces that each open and close the fence."""
    marker = _FENCE.match(fence)
    closer = marker.group(1) if marker else "```"
    body = lines[1:-1] if len(lines) > 1 and lines[-1].strip().startswith(closer) else lines[1:]
    budget = limit - len(fence) - len(closer) - 2
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for line in _fit_lines(body, budget):
        if current and size + len(line) + 1 > budget:
            pieces.append("\n".join([fence, *current, closer]))
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    pieces.append("\n".join([fence, *current, closer]))
    return pieces


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Pieces of at most `limit` characters that together say everything `text` says."""
    if len(text) <= limit:
        return [text]
    pieces: list[str] = []
    for lines, fence in _units(text):
        joined = "\n".join(lines)
        if len(joined) <= limit:
            pieces.append(joined)
        elif fence is not None and len(fence) <= limit // MAX_FENCE_SHARE:
            pieces += _split_block(lines, fence, limit)
        else:
            # A plain line, or a block whose opening line is too long to repeat in every piece (a
            # ~2,000-character fence line left no room for code, and the splitter looped forever):
            # its lines are split like prose, losing the fence's formatting but no text.
            pieces += _fit_lines(lines, limit)
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        if current and len(current) + 1 + len(piece) > limit:
            chunks.append(current)
            current = piece
        else:
            current = f"{current}\n{piece}" if current else piece
    chunks.append(current)
    return [c for c in chunks if c.strip()] or [text[:limit]]
