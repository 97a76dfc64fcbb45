"""Numbers written as words, read as digits by text2num (a maintained library that knows English
number words), in place of a hand-kept list: "forty", "eleven" and "twenty-three" are figures as
much as "five" is.

"one" is left out: "no one" and "one path" count nothing, and a claim's "one" is rarely a figure a
source must give. "Dozen" and "trillions" are no number words to text2num (the deleted list had
them): "a dozen" is no longer read as the figure 12.
"""

from __future__ import annotations

from functools import lru_cache

from text_to_num import text2num

_NOT_FIGURES = frozenset({"one"})


@lru_cache(maxsize=4096)
def number_value(word: str) -> str | None:
    """The digits a word spells ("forty" -> "40", "twenty-three" -> "23", "millions" -> "1000000"),
    the word itself when it is digits, and None for any other word."""
    if word.isdigit():
        return word
    lowered = word.lower()
    if not lowered.replace("-", "").isalpha() or lowered in _NOT_FIGURES:
        return None
    try:
        return str(text2num(lowered, "en"))
    except ValueError:
        return None


__all__ = ["number_value"]
