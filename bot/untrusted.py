"""Text from users and prompt files, made safe to place inside a chat prompt.

Two layers, because there are two kinds of backend:

* The in-process engine tokenizes message text with llama.cpp's `parse_special=False`
  (bot/engine/_chat_tokens.py): whatever bytes a user sends, they can only become ordinary text
  tokens, never `<|im_start|>` or any other control token of any template.
* A remote OpenAI-compatible server renders and tokenizes the prompt itself, usually with special
  tokens parsed. So the *text* of every chat template's control tokens must never reach it inside user
  or source text: `safe_prompt_text` removes it.

Normalisation comes first (NFKC, then format and control characters dropped), so look-alike or
zero-width tricks (`<\\u200b|im_start|>`, full-width `＜｜`) cannot hide a token from the filter and
reappear after it. Every pattern here is linear: bounded repetition, no nested quantifiers.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from typing import Any

# Control-token text of common chat templates. Generic `<|...|>` covers ChatML, Llama 3 headers,
# Phi, Granite, Command-R; the full-width bar covers DeepSeek's `<｜User｜>`; the named ones cover
# Gemma, Llama 2 / Mistral, Qwen's reasoning and tool tags, and sentencepiece's BOS/EOS.
_TEMPLATE_TOKEN_RE = re.compile(
    r"<[|｜][^|｜<>\n]{0,64}[|｜]>"
    r"|</?(?:s|bos|eos|pad|unk|sop|eop|start_of_turn|end_of_turn|start_of_image|end_of_image"
    r"|think|tool_call|tool_response|im_start|im_end)>"
    r"|<</?SYS>>"
    r"|\[/?(?:INST|SYSTEM_PROMPT|AVAILABLE_TOOLS|TOOL_CALLS|TOOL_RESULTS|gMASK)\]",
    re.IGNORECASE,
)
# Dropped: control (Cc), format (Cf: zero-width, bidi, soft hyphen), surrogate and private-use
# characters, except tab and newline; carriage return and line/paragraph separators become a space
# (line numbers stay as editors show them).
_DROPPED = frozenset({"Cc", "Cf", "Cs", "Co"})
_AS_SPACE = frozenset("\r\u2028\u2029")
_ASCII_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]+")


def normalize_text(text: str) -> str:
    """NFKC, with format (Cf) and control (Cc) characters dropped, before and after normalising (so a
    zero-width joiner cannot split a sequence that normalisation would then join)."""
    return _drop_invisible(unicodedata.normalize("NFKC", _drop_invisible(text)))


def _drop_invisible(text: str) -> str:
    # Regexes find the few characters to look at, so a 256 KiB source is not walked in Python.
    text = _ASCII_CONTROL_RE.sub(lambda m: " " if m[0] == "\r" else "", text)
    return text if text.isascii() else _NON_ASCII_RE.sub(lambda m: _visible(m[0]), text)


def _visible(run: str) -> str:
    return "".join(
        " " if char in _AS_SPACE else char
        for char in run
        if char in _AS_SPACE or unicodedata.category(char) not in _DROPPED
    )


def neutralize_template_tokens(text: str) -> str:
    """Replace every chat-template control token's text by a space, until none is left (removing one
    can never join two halves into a new one, since a space is in no token)."""
    while True:
        text, count = _TEMPLATE_TOKEN_RE.subn(" ", text)
        if not count:
            return text


MAX_TOML_DEPTH = 8  # front matter is flat (strings and one list); deeper is a mistake or an attack


def load_toml(text: str) -> dict[str, Any]:
    """`tomllib.loads` with bounded nesting. tomllib recurses once per level without a limit, so
    `a = [[[[...` thousands deep raised RecursionError, which no caller expected (a crash in
    check-prompts and reload); here it is a TOMLDecodeError like any other syntax problem."""
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise tomllib.TOMLDecodeError(f"nested deeper than {MAX_TOML_DEPTH} levels") from None
    level: list[Any] = [data]
    for _ in range(MAX_TOML_DEPTH):
        level = [v for item in level for v in (item.values() if isinstance(item, dict) else item)]
        level = [v for v in level if isinstance(v, dict | list)]
    if level:
        raise tomllib.TOMLDecodeError(f"nested deeper than {MAX_TOML_DEPTH} levels")
    return data


def safe_prompt_text(text: str) -> str:
    """Normalised, with no template-token text: the one filter for user text and prompt-file text."""
    return neutralize_template_tokens(normalize_text(text))


__all__ = ["load_toml", "neutralize_template_tokens", "normalize_text", "safe_prompt_text"]
