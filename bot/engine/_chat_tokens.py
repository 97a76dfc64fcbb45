"""Chat prompt -> tokens, where only the chat template's own markup can become control tokens.

Why not render the prompt and tokenize it in one call with `parse_special=True` (what llama.cpp's
server does): then any message text that spells a control token (`<|im_start|>system`, Gemma's
`<start_of_turn>`, Llama 3's `<|start_header_id|>`, DeepSeek's `<｜User｜>`) becomes that token, and
a user can open a system turn. Filtering the text cannot know every template's tokens.

So the template is rendered with a unique marker in place of each message's content; the rendered
text is cut at the markers; the template's pieces are tokenized with special tokens parsed and each
message's content with `parse_special=False` (it can only ever become ordinary text tokens). The
result is the same token list a one-call tokenization gives for ordinary text (the bundled model's
BPE tokenizer splits at the newlines and control tokens around every content anyway).

A template that changes the content it is given (so a marker does not survive exactly once, in
order) gets the one-call tokenization only after each content is checked to contain no control token.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import llama_cpp as llama

from bot.engine.base import ChatMessage
from bot.errors import BackendError

# tokenize(data, add_special, parse_special) -> tokens
Tokenize = Callable[[bytes, bool, bool], list[int]]
# render(messages as dicts) -> prompt text
Render = Callable[[list[dict[str, str]]], str]
_MARK = "\x00{}\x00"  # NUL never survives input cleaning and is dropped from contents below


def llama_tokenizer(vocab: Any) -> Tokenize:
    """`Tokenize` over a llama.cpp vocab (thread-safe: tokenizing only reads the vocab)."""

    def tokenize(data: bytes, add_special: bool, parse_special: bool) -> list[int]:
        capacity = len(data) + 8
        while True:
            buffer = (llama.llama_token * capacity)()
            count = llama.llama_tokenize(vocab, data, len(data), buffer, capacity, add_special, parse_special)
            if count >= 0:
                return buffer[:count]
            capacity = -count

    return tokenize


def split_rendered(render: Render, messages: Sequence[ChatMessage]) -> list[tuple[str, bool]] | None:
    """The rendered prompt as (text, is_template_markup) pieces, or None if the template altered a
    marker (then the caller cannot tell markup from content)."""
    contents = [m.content.replace("\x00", "") for m in messages]
    marks = [_MARK.format(i) for i in range(len(messages))]
    rendered = render([{"role": m.role, "content": mark} for m, mark in zip(messages, marks, strict=True)])
    pieces: list[tuple[str, bool]] = []
    start = 0
    for mark, content in zip(marks, contents, strict=True):
        at = rendered.find(mark, start)
        if at < 0 or rendered.count(mark) != 1:
            return None
        pieces += [(rendered[start:at], True), (content, False)]
        start = at + len(mark)
    if "\x00" in rendered[start:]:
        return None
    pieces.append((rendered[start:], True))
    return [(text, markup) for text, markup in pieces if text]


def tokenize_chat(
    render: Render, tokenize: Tokenize, messages: Sequence[ChatMessage], *, add_bos: bool, bos_text: str
) -> list[int]:
    """Tokens of the chat prompt; no byte of any message content can become a control token."""
    pieces = split_rendered(render, messages)
    if pieces is None:
        return _tokenize_whole_checked(render, tokenize, messages, add_bos=add_bos, bos_text=bos_text)
    first = pieces[0][0] if pieces else ""
    bos = add_bos and not (bos_text and first.startswith(bos_text))
    tokens: list[int] = []
    for text, markup in pieces:
        tokens += tokenize(text.encode("utf-8"), bos and not tokens, markup)
    return tokens


def _tokenize_whole_checked(
    render: Render, tokenize: Tokenize, messages: Sequence[ChatMessage], *, add_bos: bool, bos_text: str
) -> list[int]:
    for message in messages:
        data = message.content.encode("utf-8")
        if tokenize(data, False, True) != tokenize(data, False, False):
            raise BackendError(
                "A message contains text this model reads as a control token, and its chat template "
                "rewrites messages, so it cannot be kept apart: please rephrase."
            )
    text = render([{"role": m.role, "content": m.content} for m in messages])
    return tokenize(text.encode("utf-8"), add_bos and not (bos_text and text.startswith(bos_text)), True)


__all__ = ["llama_tokenizer", "split_rendered", "tokenize_chat"]
