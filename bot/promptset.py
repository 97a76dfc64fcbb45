"""Prompt files (`prompts/`) loaded into an immutable, validated `PromptSet`.

Layout, each file Markdown with TOML front matter between `+++` lines:

    prompts/personas/<name>.md    system prompts: briefer, judge and the debate's two speakers
    prompts/templates/<name>.md   user-turn templates with {placeholders} (see TEMPLATE_FIELDS)
    prompts/messages/<name>.md    fixed sentences the bot says without the model (see MESSAGE_NAMES)
    prompts/framings/<side>.md    what each debate side argues, one claim a line (debate/stance.py)
    prompts/sources/*.md|*.txt    briefing sources (format in bot/sources.py)
    prompts/lexicon/<name>.toml   the word lists the briefing reads (bot/words/wordlists.py), and
                                  optionally topics.toml: the named topics /brief offers (topics.py)

Some template text is read back by code, so a template declares it in its front matter and the
declaration is checked against the text (`_reads_problems`): `stop` (strings that end generation,
each a label the template itself writes, such as "Question:"), `labels` (template labels a small
model copies into its reply, stripped from it) and, for `debate_turn`, `personas` (the persona file
of each side's speaker). A moderator who renames "Question:" in the text without the front matter
gets a `file:line` problem instead of answers that run on.

Why validate everything up front: a moderator edits these files on a live bot, and a half-loaded
set (a template with a typo'd placeholder, a persona emptied by mistake) would break answers for
everyone. `load_prompt_set` either returns a complete set or the list of `file:line: message`
problems; the service swaps sets only when the new one is complete (see bot/library.py).
"""

from __future__ import annotations

import hashlib
import os
import re
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.safe_files import UnsafeFileError, list_folder, read_regular_file
from bot.sources import Source, load_sources
from bot.untrusted import load_toml, safe_prompt_text
from bot.words.lexicon import FOLDER as LEXICON_FOLDER
from bot.words.lexicon import LexiconError, read_toml
from bot.words.named_topics import TOPICS_FILE, NamedTopic, parse_topics
from bot.words.wordlists import FILES as LEXICON_FILES
from bot.words.wordlists import WordLists, line_of, missing_files, parse_word_lists

MAX_PROMPT_FILE_BYTES = 64 * 1024
MAX_HASHED_BYTES = 1024 * 1024  # tree_hash reads no more of any file (bigger ones are refused anyway)
FRONT_MATTER_FENCE = "+++"

# Personas every set has; each debate side's speaker is named in debate_turn's front matter.
BASE_PERSONAS = frozenset({"briefer", "judge"})
DEBATE_SIDES = ("race", "cooperation")
# What code reads from a template's front matter, and which templates must declare it.
REQUIRED_READS: Mapping[str, frozenset[str]] = MappingProxyType(
    {"answer": frozenset({"stop"}), "debate_turn": frozenset({"labels", "personas"})}
)
# The lines a debate speech and verdict are composed from (`debate_lines`, one `key: text` a line),
# and the placeholders they may use.
DEBATE_LINES = (
    "position_for",
    "position_against",
    "reason_1",
    "reason_2",
    "reason_3",
    "answer",
    "nothing_on_motion",
    "ask_for",
    "ask_against",
    "agree",
    "open",
    "verdict",
    "verdict_why",
    "draw",
    "draw_why",
)
DEBATE_LINE_FIELDS = frozenset({"side", "other", "motion", "point", "points", "other_points"})
# Each template may use exactly these placeholders; anything else is a typo a moderator must see.
TEMPLATE_FIELDS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "answer": frozenset({"sources", "question"}),
        "brief": frozenset({"sources", "topic"}),
        "debate_turn": frozenset({"sources", "motion", "side", "opponent"}),
        "judge": frozenset({"motion", "transcript"}),
        "factcheck": frozenset({"sources", "claim"}),
        "debate_lines": DEBATE_LINE_FIELDS,
    }
)
MESSAGE_NAMES = frozenset({"off_topic", "no_sources"})
# Templates first: they name the debate's personas.
KINDS = {"templates": "template", "personas": "persona", "messages": "message", "framings": "framing"}


class _FrontMatter(BaseModel):
    """Front matter of persona/template/message files: short, documented, nothing else allowed."""

    model_config = ConfigDict(extra="forbid")

    description: str = ""
    stop: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    personas: dict[str, str] = {}


@dataclass(frozen=True, slots=True)
class PromptFile:
    """One persona, template or message: its text and where it came from (for error messages)."""

    name: str
    kind: str
    text: str
    path: Path
    body_line: int  # 1-based line where the text starts, so errors point at the right line
    stop: tuple[str, ...] = ()  # see the module docstring: text that code reads back
    labels: tuple[str, ...] = ()
    personas: Mapping[str, str] = field(default_factory=dict)

    def lines(self) -> dict[str, str]:
        """A `key: text` template's lines by key (debate_lines)."""
        found: dict[str, str] = {}
        for line in self.text.splitlines():
            key, sep, text = line.partition(":")
            if sep and key.strip() and text.strip():
                found[key.strip()] = text.strip()
        return found

    def line(self, key: str, **values: str) -> str:
        return self.lines()[key].format_map(values)

    def reads(self) -> str:
        """The read-back declarations as text, hashed into the set's version with the body."""
        return repr((self.stop, self.labels, sorted(self.personas.items())))

    def render(self, **values: str) -> str:
        """Fill the template. Values are inserted verbatim: no user text is ever re-parsed."""
        return self.text.format_map(values)


@dataclass(frozen=True, slots=True)
class PromptSet:
    """A complete, validated set of prompts and sources. Immutable: reload builds a new one."""

    personas: Mapping[str, PromptFile]
    templates: Mapping[str, PromptFile]
    messages: Mapping[str, PromptFile]
    framings: Mapping[str, PromptFile]  # debate side -> what it argues (prompts/framings)
    sources: tuple[Source, ...]
    word_lists: WordLists  # installed as the live word lists when the set goes live (bot/library.py)
    topics: tuple[NamedTopic, ...] = ()  # the moderators' named topics for /brief (lexicon/topics.toml)
    file_hashes: Mapping[str, str] = field(default_factory=dict)  # relative path -> sha256

    @property
    def version(self) -> str:
        """Short content hash of every file: changes whenever any prompt or source changes."""
        digest = hashlib.sha256()
        for name in sorted(self.file_hashes):
            digest.update(f"{name}\0{self.file_hashes[name]}\n".encode())
        return digest.hexdigest()[:12]

    def persona(self, name: str) -> str:
        return self.personas[name].text

    def template(self, name: str) -> PromptFile:
        return self.templates[name]

    def message(self, name: str) -> str:
        return self.messages[name].text

    def framing(self, side: str) -> str:
        return self.framings[side].text

    @property
    def stop_strings(self) -> tuple[str, ...]:
        """Every template's stop strings, in template order, once each."""
        return tuple(dict.fromkeys(stop for t in self.templates.values() for stop in t.stop))

    def speaker(self, side: str) -> str:
        """The persona of `side`'s debate speaker (debate_turn's `personas`)."""
        return self.templates["debate_turn"].personas[side]


def tree_hash(root: Path) -> str:
    """Hash of every entry under `root` (paths and bytes): what a moderator's reload attempt saw.

    Links are not followed (a link is hashed by its target's name) and only regular files are read,
    so a FIFO or a link to a huge file cannot hang or bloat a reload."""
    digest = hashlib.sha256()
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder, name)
            digest.update(str(path.relative_to(root)).encode() + b"\0")
            try:
                content = (
                    os.readlink(path).encode()
                    if path.is_symlink()
                    else read_regular_file(path, MAX_HASHED_BYTES)
                )
            except (OSError, UnsafeFileError) as exc:
                content = str(exc).encode()
            digest.update(hashlib.sha256(content).digest())
    return digest.hexdigest()[:16]


def split_front_matter(text: str) -> tuple[str, str, int]:
    """Split `+++`-fenced TOML front matter from the body.

    Returns (toml, body, body_start_line). A file without a fence has empty front matter.
    Raises ValueError with a 1-based line number when the fence is opened but never closed.
    """
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != FRONT_MATTER_FENCE:
        return "", text, 1
    for index in range(1, len(lines)):
        if lines[index].strip() == FRONT_MATTER_FENCE:
            return "".join(lines[1:index]), "".join(lines[index + 1 :]), index + 2
    raise ValueError("1: front matter opened with +++ but never closed")


def read_text_file(path: Path, max_bytes: int) -> str:
    """Read a moderator-edited file defensively: a regular file (no symlink, no FIFO) within the size
    limit, UTF-8 only, no binary content; normalised and free of template-token text."""
    try:
        raw = read_regular_file(path, max_bytes)
    except UnsafeFileError as exc:
        raise ValueError(f"1: {exc}") from None
    if b"\x00" in raw:
        raise ValueError("1: binary file (contains NUL bytes); expected UTF-8 text")
    try:
        return safe_prompt_text(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ValueError(f"{line}: not valid UTF-8 text") from None


def _placeholder_problems(text: str, allowed: frozenset[str]) -> list[tuple[int, str]]:
    """(0-based line offset, message) for each bad placeholder or brace in `text`.

    Only a bare allowed name is accepted: a format spec or conversion (`{question:x}`, `{question!r}`)
    or attribute/index access (`{question.__class__}`, `{sources[0]}`) would fail, or reach into Python
    objects, when the template is filled for a request; here it is a moderator's `file:line` error.
    """
    hint = ", ".join("{" + f + "}" for f in sorted(allowed)) or "none (write {{ and }} for braces)"
    found: list[tuple[int, str]] = []
    for line_no, line in enumerate(text.splitlines()):
        try:
            parsed = list(string.Formatter().parse(line))
        except ValueError as exc:
            found.append((line_no, f"{exc} (write {{{{ and }}}} for literal braces)"))
            continue
        for _literal, used, spec, conversion in parsed:
            if used is None:
                continue
            shown = "{" + used + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            name = used.partition(".")[0].partition("[")[0]
            if name not in allowed:
                found.append((line_no, f"unknown placeholder {shown}; allowed here: {hint}"))
            elif name != used or spec or conversion:
                bare = f"write {{{name}}} (no '.', '[', ':' or '!')"
                found.append((line_no, f"placeholder {shown} may only be a name: {bare}"))
    return found


def _load_prompt_file(path: Path, kind: str, root: Path) -> tuple[PromptFile | None, list[str]]:
    where = str(path.relative_to(root))
    try:
        text = read_text_file(path, MAX_PROMPT_FILE_BYTES)
        front, body, body_line = split_front_matter(text)
    except ValueError as exc:
        line, _, message = str(exc).partition(": ")
        return None, [f"{where}:{line}: {message}"]
    except OSError as exc:
        return None, [f"{where}:1: cannot read file ({exc.strerror})"]
    problems: list[str] = []
    meta = _FrontMatter()
    try:
        meta = _FrontMatter.model_validate(load_toml(front))
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"{where}:2: front matter is not valid TOML ({exc})")
    except ValidationError as exc:
        for error in exc.errors():
            problems.append(
                f"{where}:2: front matter field {'.'.join(map(str, error['loc']))}: {error['msg']}"
            )
    body = body.strip("\n")
    if not body.strip():
        problems.append(f"{where}:{body_line}: the text is empty")
    name = path.stem
    allowed: frozenset[str] = TEMPLATE_FIELDS.get(name, frozenset()) if kind == "template" else frozenset()
    problems += [
        f"{where}:{body_line + offset}: {message}" for offset, message in _placeholder_problems(body, allowed)
    ]
    problems += [f"{where}:2: {message}" for message in _reads_problems(meta, name, kind, body)]
    if problems:
        return None, problems
    prompt = PromptFile(
        name=name,
        kind=kind,
        text=body,
        path=path,
        body_line=body_line,
        stop=meta.stop,
        labels=meta.labels,
        personas=MappingProxyType(dict(meta.personas)),
    )
    return prompt, []


def _reads_problems(meta: _FrontMatter, name: str, kind: str, body: str) -> list[str]:
    """What is wrong with a file's read-back declarations: each stop string and label must be text
    the template writes (else parsing silently stops working), and what code needs must be there."""
    declared = {key for key in ("stop", "labels", "personas") if getattr(meta, key)}
    if kind != "template":
        return [f"only templates declare {', '.join(sorted(declared))}"] if declared else []
    problems = [
        f"front matter must declare {key} (the bot reads it)"
        for key in sorted(REQUIRED_READS.get(name, frozenset()) - declared)
    ]
    for key, texts in (("stop", meta.stop), ("labels", meta.labels)):
        problems += [
            f"{key} {text!r} is not in the template's text" for text in texts if text.strip() not in body
        ]
        problems += [f"{key} may not hold an empty string" for text in texts if not text.strip()]
    if name == "debate_lines":
        missing = [key for key in DEBATE_LINES if key not in PromptFile(name, kind, body, Path(), 0).lines()]
        problems += [f"debate_lines needs a line `{key}: ...`" for key in missing]
    if meta.personas and name != "debate_turn":
        problems.append("only debate_turn names the personas of the debate's sides")
    elif meta.personas and set(meta.personas) != set(DEBATE_SIDES):
        problems.append(f"personas must name exactly the sides {', '.join(DEBATE_SIDES)}")
    return problems


def _expected_names(kind: str, templates: Mapping[str, PromptFile], present: list[Path]) -> frozenset[str]:
    if kind == "persona":
        debate = templates.get("debate_turn")
        if debate is None:  # its own problem is listed; no persona file is called unknown for it
            return BASE_PERSONAS | {p.stem for p in present}
        return BASE_PERSONAS | frozenset(debate.personas.values())
    return {
        "template": frozenset(TEMPLATE_FIELDS),
        "message": MESSAGE_NAMES,
        "framing": frozenset(DEBATE_SIDES),
    }[kind]


def _load_word_lists(
    root: Path, hashes: dict[str, str]
) -> tuple[WordLists | None, tuple[NamedTopic, ...], list[str]]:
    """The lexicon folder's files, read like any prompt file, validated together (wordlists.py), and
    the named topics beside them (topics.py)."""
    directory = root / LEXICON_FOLDER
    paths, refused = list_folder(directory, (".toml",))
    problems = [f"{LEXICON_FOLDER}/{p.name if p != directory else ''}:1: {why}" for p, why in refused]
    texts: dict[str, str] = {}
    known = (*LEXICON_FILES, TOPICS_FILE)
    for path in paths:
        where = f"{LEXICON_FOLDER}/{path.name}"
        if path.name not in known:
            problems.append(f"{where}:1: unknown lexicon file; expected one of {', '.join(known)}")
            continue
        try:
            texts[path.name] = read_text_file(path, MAX_PROMPT_FILE_BYTES)
        except ValueError as exc:
            line, _, message = str(exc).partition(": ")
            problems.append(f"{where}:{line}: {message}")
        except OSError as exc:
            problems.append(f"{where}:1: cannot read file ({exc.strerror})")
        else:
            hashes[where] = hashlib.sha256(texts[path.name].encode()).hexdigest()
    if problems:  # each file's own problems, and which are missing
        return None, (), problems + missing_files(texts, problems)
    word_lists, problems = parse_word_lists(texts)
    topics, topic_problems = _named_topics(texts.get(TOPICS_FILE, ""))
    return word_lists, topics, problems + topic_problems


def _named_topics(text: str) -> tuple[tuple[NamedTopic, ...], list[str]]:
    """topics.toml's topics (none without the file), or its problem as `file:line: message`."""
    try:
        return parse_topics(read_toml(text)), []
    except LexiconError as exc:
        syntax = re.search(r"at line (\d+)", str(exc))
        line = int(syntax.group(1)) if syntax and not exc.key else line_of(text, exc.key)
        return (), [f"{LEXICON_FOLDER}/{TOPICS_FILE}:{line}: {exc}"]


def load_prompt_set(root: Path) -> tuple[PromptSet | None, list[str]]:
    """Load and validate everything under `root`. Returns (set, []) or (None, problems)."""
    if not root.is_dir():
        return None, [f"{root}:1: prompts folder not found (set PROMPTS_DIR)"]
    problems: list[str] = []
    loaded: dict[str, dict[str, PromptFile]] = {kind: {} for kind in KINDS.values()}
    hashes: dict[str, str] = {}
    for folder, kind in KINDS.items():
        directory = root / folder
        paths, refused = list_folder(directory, (".md",))
        expected = _expected_names(kind, loaded["template"], paths)
        problems += [f"{folder}/{p.name if p != directory else ''}:1: {why}" for p, why in refused]
        for path in paths:
            if path.stem not in expected:
                problems.append(
                    f"{folder}/{path.name}:1: unknown {kind} '{path.stem}'; "
                    f"expected one of {', '.join(sorted(expected))}"
                )
                continue
            prompt, file_problems = _load_prompt_file(path, kind, root)
            problems.extend(file_problems)
            if prompt is not None:
                loaded[kind][prompt.name] = prompt
                hashed = f"{prompt.text}\0{prompt.reads()}".encode()
                hashes[f"{folder}/{path.name}"] = hashlib.sha256(hashed).hexdigest()
        for missing in sorted(expected - loaded[kind].keys()):
            if not any(p.startswith(f"{folder}/{missing}.md:") for p in problems):
                problems.append(f"{folder}/{missing}.md:1: required {kind} file is missing")
    word_lists, topics, lexicon_problems = _load_word_lists(root, hashes)
    problems.extend(lexicon_problems)
    sources, source_problems = load_sources(root / "sources")
    problems.extend(source_problems)
    if not sources and not source_problems:
        problems.append("sources/:1: no briefing sources found (add .md or .txt files)")
    for source in sources:
        rel = source.path.relative_to(root) if root in source.path.parents else source.path
        hashes[str(rel)] = source.digest
    if problems or word_lists is None:
        return None, problems
    return (
        PromptSet(
            personas=MappingProxyType(loaded["persona"]),
            templates=MappingProxyType(loaded["template"]),
            messages=MappingProxyType(loaded["message"]),
            framings=MappingProxyType(loaded["framing"]),
            sources=tuple(sources),
            word_lists=word_lists,
            topics=topics,
            file_hashes=MappingProxyType(hashes),
        ),
        [],
    )
