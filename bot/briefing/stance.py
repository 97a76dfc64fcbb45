"""For or against: how a claim that says what *ought* to be is read against the sources.

Why a module of its own: "Liu says the US should not treat the competition as zero-sum" holds a
"not" that the source's "Liu warns that treating US-China AI competition as a zero-sum contest
risks becoming a self-fulfilling prophecy" lacks, so a word-by-word reading of negations calls it
contradicted, when the two agree. A prescription is compared with the source's stance on the same
thing (a warning is against it, a recommendation for it), and a sentence that only describes the
thing ("the race gives labs an incentive to put speed ahead of safety") says nothing for or against
what should be done. The words are data (prompts/lexicon/factcheck.toml's [stance]).
"""

from __future__ import annotations

from bot.briefing.negation import is_negation
from bot.terms import words
from bot.words.lexicon import lexicon

FOR, AGAINST = 1, -1
_CALL = frozenset({"call", "calls", "called", "calling"})


def prescribes(claim: str) -> bool:
    """Whether `claim` says what ought to be ("should", "ought", "must", "shouldn't")."""
    return any(w in lexicon().modal or _negated_modal(w) for w in words(claim))


def stance_of(sentence: str, at: int | None = None) -> int:
    """`FOR` or `AGAINST` what `sentence` says at its word number `at` (the first word it shares
    with the claim), or 0 when it only describes it.

    A modal of its own decides ("Experts warn that labs must slow down" is for slowing down; "should
    not" is against). Else the stance word nearest before that word does, or the first one after it:
    a warning ("the biggest risk is this rolling back of regulation") is against, a recommendation
    ("calls for establishing baseline standards ... to monitor emerging risks") for."""
    tokens = words(sentence)
    lex = lexicon()
    for n, word in enumerate(tokens):
        if word in lex.modal:  # "should not", "must never"
            return AGAINST if n + 1 < len(tokens) and is_negation(tokens[n + 1]) else FOR
        if _negated_modal(word):
            return AGAINST
    marks = [(n, mark) for n in range(len(tokens)) if (mark := _mark(tokens, n))]
    if not marks:
        return 0
    before = [stance for n, stance in marks if at is not None and n < at]
    return before[-1] if before else marks[0][1]


def _negated_modal(word: str) -> bool:
    """ "shouldn't", "mustn't": a modal with its "not" in one word."""
    return word.endswith("n't") and word[:-3] in lexicon().modal


def calls_for(tokens: list[str]) -> bool:
    """Whether the words hold "calls for" (or "call/called/calling for"): "calls for X" recommends X."""
    return any(_calls_for(tokens, n) for n in range(len(tokens)))


def _calls_for(tokens: list[str], n: int) -> bool:
    return tokens[n] in _CALL and n + 1 < len(tokens) and tokens[n + 1] == "for"


def _mark(tokens: list[str], n: int) -> int:
    """The stance word `tokens[n]` marks, or 0."""
    lex = lexicon()
    if tokens[n] in lex.warning:
        return AGAINST
    return FOR if tokens[n] in lex.endorsing or _calls_for(tokens, n) else 0
