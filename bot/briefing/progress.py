"""Where a request stands before its first checked sentence: the stages a front end shows.

Why events and not timers in the front ends: only the domain knows when the sources have been read,
which passages were found and when the model has started writing (and its sentences are being
checked). Streaming these as events in the same stream as the text lets the console and Discord show
the same stages, each in its own way, and keeps Discord's layer to formatting them.

The order is always `reading` (at once, before any work), then `found` with the titles of the
passages the answer is built from (not for a question the sources do not answer), then `checking`
when the model's first words arrive; the queue position (`Queued`) may come between `found` and
`checking`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

from bot.index import ScoredPassage

StageName = Literal["reading", "found", "checking"]
MAX_TITLES = 3  # a status line, not a bibliography: the sources embed lists them all at the end
Event = TypeVar("Event")


@dataclass(frozen=True, slots=True)
class Stage:
    """One step of a request done: `titles` are the found passages' titles (for `found`)."""

    name: StageName
    titles: tuple[str, ...] = ()


READING = Stage("reading")
CHECKING = Stage("checking")


def found_in(passages: Sequence[ScoredPassage]) -> Stage:
    """The `found` stage for these passages: their distinct titles, best first."""
    titles = dict.fromkeys(s.passage.title.strip() for s in passages if s.passage.title.strip())
    return Stage("found", tuple(titles)[:MAX_TITLES])


async def reading_first(events: AsyncIterator[Event]) -> AsyncIterator[Event | Stage]:
    """`events` with READING before them: yielded before the request does any work, so a front end
    can show progress at once however long retrieval and the model's queue take."""
    yield READING
    try:
        async for event in events:
            yield event
    finally:
        await _close(events)


async def checking_at_first_text(events: AsyncIterator[Event]) -> AsyncIterator[Event | Stage]:
    """An engine stream with CHECKING just before its first piece of text: from then on the model
    writes and its sentences are checked before any is shown."""
    announced = False
    try:
        async for event in events:
            if isinstance(event, str) and not announced:
                announced = True
                yield CHECKING
            yield event
    finally:
        await _close(events)


async def _close(events: AsyncIterator[object]) -> None:
    """Close a wrapped stream with its wrapper: a consumer that stops early must end the request
    (and free its place with the model) now, not whenever the generator is collected."""
    close = getattr(events, "aclose", None)
    if close is not None:
        await close()


@dataclass(slots=True)
class Progress:
    """What a waiting reply shows, folded from its stages and queue positions: every front end
    keeps one per reply and renders it its own way, so the stages read the same everywhere."""

    stage: StageName | None = None
    titles: tuple[str, ...] = ()
    position: int | None = None  # in the model's queue; None once the model writes (or before)

    def note(self, stage: Stage) -> None:
        self.stage = stage.name
        if stage.titles:
            self.titles = stage.titles
        if stage.name == "checking":
            self.position = None  # the model has the request: it waits for nobody now

    def queued(self, position: int) -> None:
        self.position = position

    def sentences(self) -> list[str]:
        """The state in plain words, most settled first: what was found, then what happens now."""
        now = {"reading": "Reading the sources…", "found": "Starting to write…", "checking": "Checking…"}
        said = [f"Found: {' · '.join(self.titles)}"] if self.titles else []
        if self.position is not None:
            ahead = f" ({self.position - 1} ahead)" if self.position > 1 else ""
            said.append(f"Waiting in the queue: position {self.position}{ahead}")
        elif self.stage is not None:
            said.append(now[self.stage])
        return said
