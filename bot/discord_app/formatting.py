"""How domain results look on Discord: status lines, the sources embed, fact-checks, search results,
debate speeches and `/status`.

Sources go into an embed rather than the message text: an embed has room (4096 characters) for every
citation id, title and quote without eating into the 2000 characters of the answer, and it reads as
separate from what the model wrote.
"""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.briefing.debate import DebateTurn, Judgement
from bot.briefing.factcheck import FactCheck
from bot.briefing.models import Answer, Citation
from bot.briefing.progress import Progress
from bot.briefing.sentences import Part, render, render_part
from bot.discord_app.chunks import MESSAGE_LIMIT
from bot.index import ScoredPassage
from bot.service import ServiceStatus
from bot.sources import Passage, Source, page_label

EMBED_LIMIT = 4096
FIELD_LIMIT = 1024
QUOTE_CHARS = 400  # the sources embed quotes each cited sentence whole (up to this)
QUOTE_LINE = 150  # a supporting quote in the message: about one line; the embed has it whole
SNIPPET_CHARS = 220
SOURCES_COLOUR = discord.Colour.blurple()
# The last line of a reply says what state it is in; "-#" renders as small grey text.
WRITING = "-# ✍️ still writing…"
FINISHED = "-# ✅ finished"
READING = "-# 🔎 reading the sources…"
FOUND = "-# 📚 found: {titles}"
STARTING = "-# ✍️ starting to write…"
CHECKING = "-# 🧐 checking…"
NEXT_IN_LINE = "-# ⏳ waiting in the queue: position 1, you are next"
IN_LINE = "-# ⏳ waiting in the queue: position {position} ({ahead} ahead of you)"
VERDICTS = {
    "supported": "✅ Supported by the sources",
    "contradicted": "❌ Contradicted by the sources",
    "not_in_sources": "❔ Not in the sources",
}
TITLE_CHARS = 60  # each found title on the progress line; the sources embed gives them in full
SIDE_TITLES = {"race": "🏁 Race side", "cooperation": "🤝 Cooperation side"}


def shorten(text: str, limit: int) -> str:
    """Cut at a word boundary and mark the cut: embed fields have hard limits."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0] + "…"


def queue_line(position: int) -> str:
    return NEXT_IN_LINE if position <= 1 else IN_LINE.format(position=position, ahead=position - 1)


def progress_text(progress: Progress) -> str | None:
    """A reply's state before its first checked sentence: the passages found (by title), then the
    queue position or the stage; None before any stage (nothing worth an edit yet)."""
    lines = [found] if (found := found_line(progress)) else []
    if progress.position is not None:
        lines.append(queue_line(progress.position))
    elif progress.stage is not None:
        lines.append({"reading": READING, "found": STARTING, "checking": CHECKING}[progress.stage])
    return "\n".join(lines) or None


def found_line(progress: Progress) -> str:
    """The passages found, by title; '' before any were."""
    if not progress.titles:
        return ""
    return FOUND.format(
        titles=" · ".join(discord.utils.escape_markdown(shorten(t, TITLE_CHARS)) for t in progress.titles)
    )


def finished_line(seconds: float, citations: int) -> str:
    sources = f" · {citations} source{'s' if citations != 1 else ''}" if citations else ""
    return f"{FINISHED} in {seconds:.1f} s{sources}"


def sources_embed(citations: Sequence[Citation], title: str = "Sources") -> discord.Embed | None:
    """Citation ids and titles (and the verified quote), numbered like the [n] in the text."""
    if not citations:
        return None
    lines = []
    for c in citations:
        lines.append(
            f"**[{c.number}]** `{c.id}`{_page(c.page)} — {c.title}\n> {shorten(c.quote, QUOTE_CHARS)}"
        )
    description = shorten_lines(lines, EMBED_LIMIT)
    return discord.Embed(title=title, description=description, colour=SOURCES_COLOUR)


def _page(page: str) -> str:
    """' (p. 4)' after a citation whose passage came from a PDF page; '' otherwise."""
    return f" ({page_label(page)})" if page else ""


def shorten_lines(lines: list[str], limit: int) -> str:
    """Join lines, dropping whole lines (with a count) once the limit would be passed."""
    kept: list[str] = []
    size = 0
    for i, line in enumerate(lines):
        if size + len(line) + 40 > limit:
            kept.append(f"… and {len(lines) - i} more")
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept)


MORE_LABEL = "More from the sources"
MORE_PASSAGES = 3
MORE_CHARS = 420  # of each passage: three fit one private message with their titles
NOTHING_MORE = "The answer already quotes every passage it found."


def more_text(passages: Sequence[Passage]) -> str:
    """The passages an answer rested on but did not quote, titled and shortened, in one message."""
    if not passages:
        return NOTHING_MORE
    lines = [f"**{MORE_LABEL}**"]
    for p in passages[:MORE_PASSAGES]:
        label = f"{p.title} — {p.heading}" if p.heading else p.title
        title = shorten(label, TITLE_CHARS * 2)
        lines.append(f"**{title}** `{p.id}`{_page(p.page)}\n> {shorten(p.text, MORE_CHARS)}")
    return shorten_lines(lines, MESSAGE_LIMIT)


def answer_text(answer: Answer) -> str:
    """The answer as the message shows it: supporting quotes a line each (the sources embed below
    quotes them whole)."""
    return (
        render(answer.parts, quote_chars=QUOTE_LINE) or "I could not put together an answer from the sources."
    )


def part_text(part: Part) -> str:
    """One streamed part as `answer_text` shows it, so the final text extends what was streamed."""
    return render_part(part, quote_chars=QUOTE_LINE)


def factcheck_message(check: FactCheck) -> tuple[str, discord.Embed | None]:
    lines = [f"**Claim:** {shorten(check.claim, 500)}", f"**{VERDICTS.get(check.verdict, check.verdict)}**"]
    if check.explanation:
        lines.append(check.explanation)
    embed = sources_embed(check.citations, title="Evidence")
    if embed is None and check.evidence:
        embed = search_embed(check.evidence[:3], title="Closest passages")
    return "\n".join(lines), embed


def search_embed(results: Sequence[ScoredPassage], title: str) -> discord.Embed:
    lines = [
        f"**{rank}.** `{r.passage.id}`{_page(r.passage.page)} — {r.passage.title}\n"
        f"{shorten(r.passage.text, SNIPPET_CHARS)}"
        for rank, r in enumerate(results, start=1)
    ]
    return discord.Embed(title=title, description=shorten_lines(lines, EMBED_LIMIT), colour=SOURCES_COLOUR)


def source_list_embed(sources: Sequence[Source], version: str) -> discord.Embed:
    lines = [f"`{s.slug}` — {s.title} ({', '.join(s.framing) or 'neutral'})" for s in sources]
    embed = discord.Embed(title="Briefing sources", description=shorten_lines(lines, EMBED_LIMIT))
    embed.set_footer(text=f"prompt set {version} · /sources QUERY searches the passages")
    return embed


def status_embed(status: ServiceStatus) -> discord.Embed:
    engine = status.engine
    embed = discord.Embed(title="briefing-bot status", colour=SOURCES_COLOUR)
    fields = {
        "Model": engine.model,
        "Backend": f"{engine.backend} (GPU layers: {engine.n_gpu_layers})",
        "Context": f"{engine.n_ctx} tokens",
        "Queue": f"{engine.queue_length} waiting, {engine.active} answering",
        "Recent speed": f"{engine.recent_tokens_per_s:.1f} tokens/s",
        "Prompt set": f"{status.prompt_version} ({status.sources} sources, {status.passages} passages)",
        "Language": " ".join(status.language) or "spaCy parser and sentence embeddings loaded",
    }
    for name, value in fields.items():
        embed.add_field(name=name, value=shorten(str(value), FIELD_LIMIT), inline=True)
    return embed


def turn_header(side: str, number: int) -> str:
    return f"**{SIDE_TITLES.get(side, side)} — round {number}**"


def turn_text(turn: DebateTurn) -> str:
    own = any(turn.side in c.framing for c in turn.citations)  # by the model or its quoted sources
    note = "" if own else "\n-# (this speech cites none of its own side's sources)"
    return f"{turn_header(turn.side, turn.round)}\n{turn.text}{note}"


JUDGE_HEADER = "**⚖️ The judge**"


def judgement_text(judgement: Judgement) -> str:
    return f"{JUDGE_HEADER}\n{judgement.text}"
