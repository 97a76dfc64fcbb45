"""What the bench asks: the questions of each phase, the long-essay prompt of the decode phases, and
how much work each phase does (`BenchSizes`).

Every grounded question is asked once, so no phase finds another phase's prompt already cached
(which would flatter its time to first token).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.engine.base import ChatMessage

# Phrased the way users ask; follow-ups are short on purpose (the bot adds the previous question to
# the search, the prompt carries the previous turn).
COLD_QUESTION = ("What is the 'Chernobyl moment' that AI experts fear?", "Who warned about it?")
NEW_QUESTION = "Why does Yi-Ling Liu think the AI race narrative is dangerous?"
CONVERSATIONS: tuple[tuple[str, str], ...] = (
    ("Was DeepSeek-R1 really a Sputnik moment for the United States?", "Why was it overhyped?"),
    ("What are track-two dialogues between American and Chinese scientists?", "Who takes part?"),
    ("What does 'China envy' mean in the tech industry?", "Why does that matter?"),
    ("Do Chinese AI researchers worry about AI safety too?", "What worries them most?"),
    ("How do export controls on chips shape US-China AI competition?", "Do they slow China down?"),
    ("Could the US and China agree on shared AI safety standards?", "What would that look like?"),
    ("Why is the Space Race a misleading analogy for AI?", "Is there a better analogy?"),
    ("What warning signs suggest AI is being deployed without enough testing?", "Which one is worst?"),
)
CONCURRENT_QUESTIONS: tuple[str, ...] = (
    "What role could independent auditors play in AI safety?",
    "How does the race to deploy models quickly affect alignment research?",
    "Why would a catastrophic AI failure not respect national borders?",
    "What risks come from global dependence on Chinese apps and hardware?",
    "Which cities in China are mentioned as AI research hubs?",
    "How could joint task forces monitor emerging AI risks?",
    "What does Yi-Ling Liu recommend to policymakers in Washington?",
    "Is the fear of an AI accident shared by researchers on both sides?",
)
DECODE_PROMPT = (
    ChatMessage(role="system", content="You are a thorough policy analyst who writes long, detailed essays."),
    ChatMessage(
        role="user",
        content=(
            "Write a long essay, at least 800 words in ten numbered sections, on the debate over whether "
            "the United States and China are in an AI race or should cooperate on AI safety."
        ),
    ),
)
CHAT_SYSTEM = ChatMessage(role="system", content="You are a helpful policy analyst.")
BENCH_USER = "bench"


@dataclass(frozen=True, slots=True)
class BenchSizes:
    """How much work each phase does. The defaults keep the run under ~2 minutes on 2 cores with
    the bundled 135M model; tests shrink them."""

    reference_decode_tokens: int = 128
    reference_prompt_tokens: int = 256
    decode_tokens: int = 128
    answer_tokens: int = 24  # answers in the TTFT phases (their text becomes the next turn's history)
    passages: int = 3  # retrieved per question, as the bot does; fewer make shorter prompts (tests)
    conversations: int = 8
    concurrent_users: int = 4
    concurrent_tokens: int = 96
    tick_ms: float = 10.0

    def __post_init__(self) -> None:
        if self.passages < 1:
            raise ValueError("passages must be at least 1")
        if not 1 <= self.conversations <= len(CONVERSATIONS):
            raise ValueError(f"conversations must be 1..{len(CONVERSATIONS)}")
        if not 1 <= self.concurrent_users <= len(CONCURRENT_QUESTIONS):
            raise ValueError(f"concurrent_users must be 1..{len(CONCURRENT_QUESTIONS)}")


QUICK_SIZES = BenchSizes(
    reference_decode_tokens=32,
    reference_prompt_tokens=128,
    decode_tokens=32,
    answer_tokens=8,
    conversations=3,
    concurrent_users=2,
    concurrent_tokens=16,
)
