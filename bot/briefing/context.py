"""The snapshot every briefing mode works from, and the helpers all modes share to call the engine.

Kept apart from the modes so that any of them (answers, briefs, debates, fact-checks) can use
another's machinery without importing in a circle.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from bot.engine.base import Engine, GenerationRequest, Queued, Sampling, Usage
from bot.errors import BackendError
from bot.index import SourceIndex
from bot.promptset import PromptSet
from bot.store import Store

INTERRUPTED = "The answer was interrupted because I was shutting down - please ask again."


@dataclass(frozen=True, slots=True)
class BriefingContext:
    """Everything a briefing request needs, as one consistent snapshot.

    A request keeps the prompt set, index and word lists it started with even if a moderator
    reloads halfway (`pin_words`).
    """

    engine: Engine
    store: Store
    prompts: PromptSet
    index: SourceIndex
    max_answer_tokens: int = 120
    max_input_chars: int = 2000

    def pin_words(self) -> None:
        """Make this snapshot's word lists the ones the running request reads (its asyncio task,
        and the threads it hands work to), whatever a reload installs meanwhile."""
        self.prompts.word_lists.pin()

    def sampling(self, *, max_tokens: int | None = None) -> Sampling:
        """Greedy decoding with a mild repeat penalty: the most faithful setting for a small model
        reading sources; the prompt set's stop strings end the answer when the model starts a new
        turn ("Question:", declared in the answer template's front matter). A mode that needs other
        settings `dataclasses.replace`s them."""
        return Sampling(
            max_tokens=self.max_answer_tokens if max_tokens is None else max_tokens,
            temperature=0.0,
            repeat_penalty=1.1,
            stop=self.prompts.stop_strings,
        )


async def stream_generation(
    engine: Engine, request: GenerationRequest, pieces: list[str]
) -> AsyncIterator[Queued | str | Usage]:
    """Relay engine events, collecting the text in `pieces`. An answer the engine stopped (it was
    shut down) is an error, never a short "finished" answer."""
    async for event in engine.stream(request):
        if isinstance(event, str):
            pieces.append(event)
        elif isinstance(event, Usage) and event.finish_reason == "cancelled":
            raise BackendError(INTERRUPTED)
        yield event
