"""Choosing the passages a request is grounded in, and deciding whether it is on the subject.

Follow-ups ("why?", "what did she propose instead?") carry little vocabulary of their own, so the
previous question of the conversation is added to the search. The topic gate uses two signals: the
question names the subject (AI, China, the US, safety, competition, governance...) or it shares
most of its content words with the best passage (e.g. "Who wrote The Wall Dancers?").
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.briefing.answerability import FOLLOW_UP_MAX_WORDS, names_what_passages_name
from bot.briefing.prompting import conversation_numbers
from bot.index import ScoredPassage, SourceIndex
from bot.names import people_in
from bot.store import Turn
from bot.terms import content_terms, overlap, stem, words
from bot.words.vocabulary import vocabulary

DEFAULT_K = 3
GATE_OVERLAP = 0.5
FOLLOW_UP_MAX_OWN_TERMS = 2  # ...and a longer one that points back with no more content words than this
FOLLOW_UP_POOL = 30  # a follow-up looks this deep for passages the conversation has already seen


def previous_question(history: Sequence[Turn]) -> str:
    """The conversation's last question, as the user asked it."""
    return next((t.display for t in reversed(history) if t.role == "user"), "")


def previous_answer(history: Sequence[Turn]) -> str:
    """The conversation's last answer, as it was shown."""
    return next((t.display for t in reversed(history) if t.role == "assistant"), "")


def retrieval_query(question: str, history: Sequence[Turn]) -> str:
    """The question, plus the previous question of the conversation for context."""
    return f"{question} {previous_question(history)}".strip()


async def retrieve(
    index: SourceIndex,
    question: str,
    history: Sequence[Turn] = (),
    *,
    k: int = DEFAULT_K,
    framing: str | None = None,
) -> list[ScoredPassage]:
    query = retrieval_query(question, history)
    if not is_follow_up(question, history):
        return await index.search(query, k=k, framing=framing)
    # A short follow-up ("who said that?") is mostly about what the conversation already read: its
    # best match, then the passages already shown that still match. Those are in the KV cache, so
    # the follow-up costs only its own few tokens, and the answer stays on the thread.
    known = conversation_numbers(history)
    found = await index.search(query, k=FOLLOW_UP_POOL, framing=framing)
    if not found:
        return []
    shown = [scored for scored in found[1:] if scored.passage.id in known]
    fresh = [scored for scored in found[1:] if scored.passage.id not in known]
    return [found[0], *shown, *fresh][:k]


def is_follow_up(question: str, history: Sequence[Turn]) -> bool:
    """A question in a conversation that is short ("why?", "and the other side?"), or that points
    back at it ("What did those earlier technologies go through?": lexicon/words.toml's
    `pointing_words`) and picks up a word of the previous question, or says too little of its own to
    stand alone ("What can happen if one of them is broken?"). A long question that only says
    "it" is not a follow-up ("Which stock should I buy if I want it to double?"), nor one that names
    a person of its own for the pointing word to mean ("What does Yi-Ling Liu say about her book and
    the technologies it describes?"). A follow-up is read with the previous question; one that is
    long and mostly words no source uses is still declined (`evidence._mostly_unknown`)."""
    if not history:
        return False
    asked = words(question)
    if len(asked) <= FOLLOW_UP_MAX_WORDS:
        return True
    if not set(asked) & vocabulary().pointing_words or people_in(question):
        return False
    own = content_terms(question)
    # "What can happen if one of them is broken?" says too little of its own to stand alone
    return len(own) <= FOLLOW_UP_MAX_OWN_TERMS or bool(own & content_terms(previous_question(history)))


def names_the_subject(text: str) -> bool:
    lowered = text.lower()
    if "united states" in lowered or "u.s." in lowered:
        return True
    topic_words = vocabulary().topic_words  # prompts/lexicon/words.toml
    return any(stem(w) in topic_words for w in words(text))


def is_on_topic(question: str, passages: Sequence[ScoredPassage], history: Sequence[Turn] = ()) -> bool:
    """True if the request is about what the bot briefs on (see module docstring)."""
    if names_the_subject(question) or is_follow_up(question, history):
        return True
    if not passages:
        return False
    if names_what_passages_name(question, passages):
        return True
    terms = content_terms(question)
    best = max(overlap(terms, content_terms(p.passage.full_text)) for p in passages)
    return best >= GATE_OVERLAP
