"""Which words a "not" reaches, for the fact-check's comparison (verdicts.py).

Why a module of its own: a negation is read the same way in a claim and in a source sentence, and
how far it reaches decides most contradictions; the rules are easier to test and to change here than
among the comparison's other checks. The negation words are data (prompts/lexicon/factcheck.toml).
"""

from __future__ import annotations

from bot.terms import PART_RE, stem, stopwords, words
from bot.words.lexicon import lexicon

WIDE_NEGATION_SCOPE = 10
NEGATION_SCOPE = 4  # a negation applies to a claim word among the next few words ("little evidence that AGI")


def negated_terms(text: str, about: set[str]) -> set[str]:
    """The terms of `about` that `text` negates: each negation word negates the first of them among
    the next few words; two negations of the same term cancel.

    Scoped, because long source sentences often hold an unrelated "no" ("no single operator could
    have foreseen") that says nothing about the claim. Targeted, because "experts worry about systems
    rolled out without adequate safety testing" negates the testing, not the worry: it does not
    support "experts are not worried about safety". Counted, because "they cannot call for a slowdown
    without being seen as unpatriotic" is the opposite of "they can call for a slowdown without being
    seen as unpatriotic". "Not only" / "not just" add, they do not negate.
    """
    lex = lexicon()
    parts = _parts(text)
    tokens = [w for _, w in parts]
    found: set[str] = set()
    for i, word in enumerate(tokens):
        if not _negates(tokens, i):
            continue
        if word == "without" and any(is_negation(t) for t in tokens[:i]):
            continue  # "cannot call for X without being seen as weak": calling is seen as weak
        # "little evidence that X is a priority": the negation reaches over the whole clause.
        wide = i + 1 < len(tokens) and tokens[i + 1] in lex.wide_scope_next
        # Counted in content words: "does not identify any of the researchers" reaches "researchers".
        reach = [
            t for n, t in _until_but(parts[i + 1 :]) if t not in stopwords() and (wide or n == parts[i][0])
        ]
        for following in reach[: WIDE_NEGATION_SCOPE if wide else NEGATION_SCOPE]:
            term = comparable(following)
            if term in about:
                found ^= {term}
                break
            if following in lex.wanting:
                break  # "neither wants to fall behind" denies the wanting, not the falling behind
    return found


def comparable(word: str) -> str:
    """A word as the fact-check compares it: stemmed, synonyms merged (factcheck.toml)."""
    return lexicon().synonyms.get(stem(word), stem(word))


def negated_words(text: str) -> set[str]:
    """The words of `text` that a negation a few words before them reaches ("not mean abandoning")."""
    parts = _parts(text)
    tokens = [w for _, w in parts]
    found: set[str] = set()
    for i in range(len(tokens)):
        if _negates(tokens, i):
            found.update(w for n, w in _until_but(parts[i + 1 : i + 1 + NEGATION_SCOPE]) if n == parts[i][0])
    return found


def _until_but(parts: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """The words a negation may reach, up to a "but": "the real race is not between nations but
    between humanity's ability to innovate and to govern" denies the nations, not the ability."""
    words_ = [w for _, w in parts]
    return parts[: words_.index("but")] if "but" in words_ else parts


def _parts(text: str) -> list[tuple[int, str]]:
    """Each word of `text`, lowercased, with the number of its comma-separated part: a negation does
    not reach past its part ("whose author is not named, is written by someone who spent time ..."
    does not deny the time spent)."""
    return [(n, w) for n, part in enumerate(PART_RE.split(text)) for w in words(part)]


def is_negation(word: str) -> bool:
    """ "not", "never", "cannot", "isn't" (factcheck.toml's [negation] words, or an -n't)."""
    return word in lexicon().negations or word.endswith("n't")


def _negates(tokens: list[str], i: int) -> bool:
    """Whether word `i` negates what follows: a negation, but not "not only"."""
    following = tokens[i + 1] if i + 1 < len(tokens) else ""
    return is_negation(tokens[i]) and following not in lexicon().not_negating_next


def denied_report(text: str) -> str:
    """What follows a negated reporting verb ("Singh does not think [the real race is between
    nations]"), or "": such a claim denies that clause as a whole, not its first word."""
    tokens = words(text)
    for i in range(len(tokens) - 1):
        if _negates(tokens, i) and tokens[i + 1] in lexicon().reporting:
            return " ".join(tokens[i + 2 :])
    return ""
