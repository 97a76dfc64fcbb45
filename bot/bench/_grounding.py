"""Grounded prompts built the way the bot builds them (retrieval, persona, history, fitting), and
the conversations' histories kept as the bot keeps them."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.bench._timing import Timed, timed
from bot.bench._workload import BENCH_USER
from bot.briefing.prompting import SOURCES_META, fit_question
from bot.briefing.retrieval import retrieve
from bot.engine.base import Engine, GenerationRequest, Sampling
from bot.index import SourceIndex
from bot.promptset import PromptSet
from bot.store import Turn


@dataclass(slots=True)
class Grounding:
    """Builds grounded prompts the way the bot does (retrieval, persona, history, fitting)."""

    engine: Engine
    prompts: PromptSet
    index: SourceIndex
    passages: int = 3
    histories: dict[str, list[Turn]] = field(default_factory=dict)
    listed: dict[str, list[tuple[int, str]]] = field(default_factory=dict)  # the last prompt's new sources

    async def request(self, conversation: str, question: str, max_tokens: int) -> GenerationRequest:
        history = self.histories.get(conversation, [])
        passages = await retrieve(self.index, question, history, k=self.passages)
        if not passages:
            passages = await self.index.search(question, k=self.passages)
        prompt = fit_question(self.engine, self.prompts, self.index, passages, history, question, max_tokens)
        self.listed[conversation] = prompt.listed
        sampling = Sampling(
            max_tokens=max_tokens, temperature=0.0, repeat_penalty=1.1, stop=self.prompts.stop_strings
        )
        return GenerationRequest(
            messages=prompt.messages,
            sampling=sampling,
            user_id=f"{BENCH_USER}:{conversation}",
            conversation_id=conversation,
        )

    def remember(self, conversation: str, request: GenerationRequest, question: str, answer: str) -> None:
        """Store the exchange as the bot does: the prompt's user turn and the stripped answer."""
        self.histories.setdefault(conversation, []).extend(
            [
                Turn(
                    role="user",
                    content=request.messages[-1].content,
                    display=question,
                    meta={SOURCES_META: self.listed.get(conversation, [])},
                ),
                Turn(role="assistant", content=answer.strip(), display=answer.strip(), meta={}),
            ]
        )

    async def ask(self, conversation: str, question: str, max_tokens: int) -> Timed:
        request = await self.request(conversation, question, max_tokens)
        result = await timed(self.engine, request)
        self.remember(conversation, request, question, result.text)
        return result
