"""Briefing sources (`prompts/sources/`): plain files a moderator can read, edit and add to.

A Markdown source starts with TOML front matter between `+++` lines and is split into passages
at its `## ` headings:

    +++
    title = "What We're Getting Wrong About China, AI and the 'Race'"
    author = "Yi-Ling Liu"
    outlet = "..."
    date = "2025-..."            # free text: outlets date things differently
    framing = ["race", "cooperation"]   # the source's default framing tags
    +++

    ## Track-two dialogue {#track-two .cooperation}
    One short passage of 40-120 words, in our own words...

A passage id is `<file stem>#<slug>` (e.g. `liu-race-narrative#track-two`): stable across edits as
long as the `{#slug}` stays, readable in citations. `.race` / `.cooperation` classes override the
source's framing for that passage; without a `{#slug}` the heading text is slugified. A section
longer than MAX_PASSAGE_WORDS is split at paragraphs (`slug-2`, `slug-3`) so retrieval stays sharp.

A heading may also say where the passage is in an original document: `{#summary page=4}` or
`page=4-5` (the PDF converter in bot/documents writes it); citations then show "(p. 4)".

A `.txt` file (a moderator's quick drop-in) needs no front matter: its first line is the title,
and each blank-line-separated paragraph becomes a passage `<stem>#p1`, `#p2`, ... with no framing.

Why our own format rather than free Markdown: the framing tags drive the debate (each side argues
from its own framing's passages), and the stable ids are what citations and cached briefings point
at; both must survive a moderator's edit. Problems are reported as `file:line: message`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.safe_files import UnsafeFileError, list_folder, read_regular_file
from bot.untrusted import load_toml, safe_prompt_text

FRAMINGS = ("race", "cooperation")
MAX_SOURCE_BYTES = 256 * 1024
MAX_PASSAGE_WORDS = 160
MAX_SOURCES = 200
FENCE = "+++"
SLUG_OK = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
OPENING_SLUG = "opening"  # the passage id of the text before a source's first heading
PAGE_OK = re.compile(r"^[1-9][0-9]{0,4}(-[1-9][0-9]{0,4})?$")
STEM_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


@dataclass(frozen=True, slots=True)
class Passage:
    """One retrievable, citable unit of a source."""

    id: str  # "<source>#<slug>"
    source: str  # the file stem
    title: str  # the source's title
    heading: str  # the section heading ("" for .txt paragraphs)
    text: str
    framing: tuple[str, ...]  # subset of FRAMINGS, in FRAMINGS order; () = neutral
    by: str = ""  # the source's byline (its author, else its outlet): who a quote of it is from
    page: str = ""  # where in the original document the passage is: "4" or "4-5" ({#slug page=4}); "" unknown

    @property
    def where(self) -> str:
        """The page as a citation shows it: "p. 4", "pp. 4-5", or "" where the source gives none."""
        return page_label(self.page)

    @property
    def full_text(self) -> str:
        """What a sentence or a claim is checked against: the heading (often the very words a
        sentence repeats) as a sentence of its own, then the text."""
        return f"{self.heading}. {self.text}" if self.heading else self.text


@dataclass(frozen=True, slots=True)
class Source:
    """One briefing source file and its passages."""

    path: Path
    slug: str
    title: str
    author: str
    outlet: str
    date: str
    url: str
    framing: tuple[str, ...]
    passages: tuple[Passage, ...]
    digest: str = ""  # sha256 of the text as read: reload reports changes from it, never re-reading the file


class _SourceMeta(BaseModel):
    """Front matter of a Markdown source; unknown keys are typos a moderator should hear about."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=300)
    author: str = ""
    outlet: str = ""
    date: str = ""
    url: str = ""
    framing: list[str] = Field(default_factory=list)

    @field_validator("framing")
    @classmethod
    def _known_framings(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in FRAMINGS]
        if unknown:
            raise ValueError(f"unknown framing {unknown}; use {list(FRAMINGS)}")
        return value


def page_label(page: str) -> str:
    """ "4" -> "p. 4", "4-5" -> "pp. 4-5", "" -> "": how a citation names a page of the original."""
    if not page:
        return ""
    return f"pp. {page}" if "-" in page else f"p. {page}"


def slugify(text: str) -> str:
    """A readable id from a heading: lower case, ascii letters and digits joined by hyphens."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:64].rstrip("-") or "section"


def split_heading(line: str) -> tuple[str, str]:
    """'## Title {#slug .race}' -> ('Title', '#slug .race'); ('Title', '') without attributes.

    String methods, not a regex: a regex with a lazy heading, optional attributes and trailing
    whitespace backtracks cubically on a heading padded with spaces (minutes for a few thousand).
    """
    rest = line.removeprefix("##").strip()
    start = rest.rfind("{")
    if rest.endswith("}") and start >= 0 and "}" not in rest[start + 1 : -1]:
        return rest[:start].strip(), rest[start + 1 : -1]
    return rest, ""


def _ordered(framings: set[str]) -> tuple[str, ...]:
    return tuple(f for f in FRAMINGS if f in framings)


def _chunks(paragraphs: list[str]) -> list[str]:
    """Group paragraphs into chunks of at most MAX_PASSAGE_WORDS (a longer paragraph stays whole)."""
    chunks: list[list[str]] = [[]]
    for paragraph in paragraphs:
        size = sum(len(p.split()) for p in chunks[-1])
        if chunks[-1] and size + len(paragraph.split()) > MAX_PASSAGE_WORDS:
            chunks.append([])
        chunks[-1].append(paragraph)
    return ["\n\n".join(c) for c in chunks if c]


def _paragraphs(lines: list[str]) -> list[str]:
    text = "\n".join(lines).strip()
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]


def _read_text(path: Path, rel: str) -> tuple[str | None, list[str]]:
    try:
        raw = read_regular_file(path, MAX_SOURCE_BYTES)
    except UnsafeFileError as exc:
        return None, [f"{rel}:1: {exc}"]
    except OSError as exc:
        return None, [f"{rel}:1: cannot read file ({exc.strerror})"]
    if b"\x00" in raw:
        return None, [f"{rel}:1: looks like a binary file, not text"]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [f"{rel}:{line}: not valid UTF-8 text"]
    if not text.strip():
        return None, [f"{rel}:1: file is empty"]
    # Normalised and free of chat-template token text, like user text (bot/untrusted.py).
    return safe_prompt_text(text.replace("\r\n", "\n").replace("\r", "\n")), []


@dataclass(slots=True)
class _Section:
    """A '## ' heading of a Markdown source and the lines under it."""

    number: int  # the heading's line number
    heading: str
    slug: str
    framing: tuple[str, ...]
    page: str = ""  # `page=4` or `page=4-5`: the original document's pages (converted PDFs)
    body: list[str] = field(default_factory=list)


def _parse_markdown(path: Path, rel: str, text: str) -> tuple[Source | None, list[str]]:
    lines = text.split("\n")
    meta, end, problems = _front_matter(lines, rel)
    if meta is None:
        return None, problems
    default_framing = _ordered(set(meta.framing))
    # A journalist's article opens before its first heading: that lede is a passage of its own,
    # headed by the article's title, not an error.
    opening = _Section(end + 2, meta.title, OPENING_SLUG, default_framing)
    sections: list[_Section] = [opening]
    seen_slugs: dict[str, int] = {}
    for number, line in enumerate(lines[end + 1 :], start=end + 2):
        if line.startswith("## "):
            section = _heading(line, number, rel, default_framing, problems)
            if (earlier := seen_slugs.setdefault(section.slug, number)) != number:
                problems.append(f"{rel}:{number}: passage id '{section.slug}' already used on line {earlier}")
            sections.append(section)
        else:
            sections[-1].body.append(line)
    if not _paragraphs(opening.body):
        sections.remove(opening)
    elif OPENING_SLUG in seen_slugs:
        problems.append(
            f"{rel}:{seen_slugs[OPENING_SLUG]}: passage id '{OPENING_SLUG}' is the text before the "
            "first heading; give this heading another {#slug}"
        )
    passages: list[Passage] = []
    byline = meta.author or meta.outlet
    for section in sections:
        paragraphs = _paragraphs(section.body)
        if not paragraphs:
            problems.append(f"{rel}:{section.number}: section '{section.heading}' has no text")
            continue
        for i, chunk in enumerate(_chunks(paragraphs), start=1):
            pid = f"{path.stem}#{section.slug}" if i == 1 else f"{path.stem}#{section.slug}-{i}"
            passages.append(
                Passage(
                    pid, path.stem, meta.title, section.heading, chunk, section.framing, byline, section.page
                )
            )
    if not sections and not problems:
        problems.append(f"{rel}:{end + 2}: no text after the front matter, so nothing to index")
    if problems:
        return None, problems
    source = Source(
        path,
        path.stem,
        meta.title,
        meta.author,
        meta.outlet,
        meta.date,
        meta.url,
        default_framing,
        tuple(passages),
    )
    return source, []


def _front_matter(lines: list[str], rel: str) -> tuple[_SourceMeta | None, int, list[str]]:
    """The TOML front matter between the first two '+++' lines: (metadata, index of the closing
    line, []), or (None, 0, problems)."""
    if not lines or lines[0].strip() != FENCE:
        return None, 0, [f"{rel}:1: a Markdown source starts with TOML front matter between '+++' lines"]
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == FENCE)
    except StopIteration:
        return None, 0, [f"{rel}:1: front matter is not closed with a '+++' line"]
    try:
        return _SourceMeta.model_validate(load_toml("\n".join(lines[1:end]))), end, []
    except tomllib.TOMLDecodeError as exc:
        at = 1 + (getattr(exc, "lineno", None) or 1)
        return None, 0, [f"{rel}:{at}: front matter is not valid TOML ({exc})"]
    except ValidationError as exc:
        return (
            None,
            0,
            [
                f"{rel}:2: front matter field '{'.'.join(map(str, e['loc'])) or '?'}': {e['msg']}"
                for e in exc.errors()
            ],
        )


def _heading(
    line: str, number: int, rel: str, default_framing: tuple[str, ...], problems: list[str]
) -> _Section:
    """A '## Heading {#slug .race page=4}' line as a section; what is wrong with it goes to `problems`.

    `page=` is written by the document converter (bot/documents) so that a citation can say where in
    the original PDF a passage is; a moderator may write or fix it by hand."""
    heading, attrs = split_heading(line)
    slug, page, classes = "", "", set()
    for attr in attrs.split():
        if attr.startswith("#"):
            slug = attr[1:]
        elif attr.startswith("."):
            classes.add(attr[1:])
        elif attr.startswith("page=") and PAGE_OK.match(attr[5:]):
            page = attr[5:]
        elif attr.startswith("page="):
            problems.append(
                f"{rel}:{number}: page '{attr[5:]}' must be a page number like 4 or a range like 4-5"
            )
        else:
            problems.append(f"{rel}:{number}: unknown heading attribute '{attr}'; use {{#slug .race page=4}}")
    unknown = classes - set(FRAMINGS)
    if unknown:
        problems.append(f"{rel}:{number}: unknown framing class {sorted(unknown)}; use .race or .cooperation")
    slug = slug or slugify(heading)
    if not SLUG_OK.match(slug):
        problems.append(f"{rel}:{number}: passage id '{slug}' must be lower-case letters, digits, hyphens")
    return _Section(number, heading, slug, _ordered(classes & set(FRAMINGS)) or default_framing, page)


def _parse_text(path: Path, text: str) -> Source:
    title, _, body = text.strip().partition("\n")
    title = " ".join(title.split())[:300]
    paragraphs = _paragraphs(body.split("\n")) or [title]
    passages = tuple(
        Passage(f"{path.stem}#p{i}", path.stem, title, "", chunk, ())
        for i, chunk in enumerate(_chunks(paragraphs), start=1)
    )
    return Source(path, path.stem, title, "", "", "", "", (), passages)


def load_source(path: Path, root: Path) -> tuple[Source | None, list[str]]:
    """Parse one source file; returns (source, []) or (None, problems)."""
    rel = f"sources/{path.relative_to(root)}" if root in path.parents else str(path)
    if not STEM_OK.match(path.stem):
        return None, [f"{rel}:1: file name must be letters, digits, '-' or '_' (it becomes the passage ids)"]
    text, problems = _read_text(path, rel)
    if text is None:
        return None, problems
    source, problems = (
        (_parse_text(path, text), []) if path.suffix == ".txt" else _parse_markdown(path, rel, text)
    )
    if source is None:
        return None, problems
    return dataclasses.replace(source, digest=hashlib.sha256(text.encode("utf-8")).hexdigest()), problems


def load_sources(directory: Path) -> tuple[list[Source], list[str]]:
    """Every `.md`/`.txt` source in `directory` (not recursive), sorted by name, and all problems.

    Only regular files directly inside `directory` are read: a symlink or a FIFO is a problem, never
    followed (bot/safe_files.py)."""
    paths, refused = list_folder(directory, (".md", ".txt"))
    if len(paths) > MAX_SOURCES:
        return [], [f"sources/:1: {len(paths)} source files; the limit is {MAX_SOURCES}"]
    sources: list[Source] = []
    problems = [f"sources/{p.name if p != directory else ''}:1: {why}" for p, why in refused]
    stems: dict[str, str] = {}
    for path in paths:
        if path.stem in stems:
            problems.append(
                f"sources/{path.name}:1: same name as sources/{stems[path.stem]}; ids would clash"
            )
            continue
        stems[path.stem] = path.name
        source, file_problems = load_source(path, directory)
        problems.extend(file_problems)
        if source is not None:
            sources.append(source)
    return sources, problems
