"""Choosing the passages a request is grounded in, and deciding whether it is on the subject.

Follow-ups ("why?", "what did she propose instead?") carry little vocabulary of their own, so the
previous question of the conversation is added to the search. The topic gate uses two signals: the
question names the subject (AI, China, the US, safety, competition, governance...) or it shares
most of its content words with the best passage (e.g. "Who wrote The Wall Dancers?").
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.index import ScoredPassage, SourceIndex
from bot.store import Turn
from bot.terms import content_terms, overlap, stem, words

DEFAULT_K = 3
TOPIC_WORDS = frozenset(
    stem(w)
    for w in """
    ai agi artificial intelligence machine learning llm llms model models chatbot chatbots algorithm
    algorithms china chinese beijing prc shenzhen chengdu taiwan u.s usa america american americans
    washington united states silicon valley san francisco california race racing arms
    competition compete competitive rival rivals rivalry geopolitics geopolitical deterrence leadership
    dominance sputnik superpower zero-sum cooperation cooperate collaboration collaborate
    dialogue diplomacy diplomatic track-two treaty norms safety safe risk risks catastrophe catastrophic
    chernobyl accident disaster alignment guardrails governance govern regulation regulate regulators
    regulatory policy policymakers standards audit oversight export chips compute semiconductors
    deepseek tiktok rednote bytedance openai technology tech liu yi-ling singh tanwar
    """.split()
)
GATE_OVERLAP = 0.5
FOLLOW_UP_MAX_WORDS = 8  # "why?", "and the other side?": judged by the conversation, not on their own


def retrieval_query(question: str, history: Sequence[Turn]) -> str:
    """The question, plus the previous question of the conversation for context."""
    previous = next((t.display for t in reversed(history) if t.role == "user"), "")
    return f"{question} {previous}".strip()


async def retrieve(
    index: SourceIndex,
    question: str,
    history: Sequence[Turn] = (),
    *,
    k: int = DEFAULT_K,
    framing: str | None = None,
) -> list[ScoredPassage]:
    return await index.search(retrieval_query(question, history), k=k, framing=framing)


def names_the_subject(text: str) -> bool:
    lowered = text.lower()
    if "united states" in lowered or "u.s." in lowered:
        return True
    return any(stem(w) in TOPIC_WORDS for w in words(text))


def is_on_topic(question: str, passages: Sequence[ScoredPassage], history: Sequence[Turn] = ()) -> bool:
    """True if the request is about what the bot briefs on (see module docstring)."""
    if names_the_subject(question) or (history and len(words(question)) <= FOLLOW_UP_MAX_WORDS):
        return True
    if not passages:
        return False
    terms = content_terms(question)
    best = max(overlap(terms, content_terms(p.passage.heading + " " + p.passage.text)) for p in passages)
    return best >= GATE_OVERLAP
