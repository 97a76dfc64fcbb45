"""The sentences of a speech that the bot composes itself: its position on the motion, the reasons
that introduce its cited evidence, its answer to the other side, and its closing ask.

Why composed: the bundled model (135M parameters) rarely writes a checkable sentence that states a
position, so a speech built only from its output and verbatim quotes is a list of quotes with no
argument. The wording comes from `prompts/templates/debate_lines.md` (moderators edit it); the
content comes from the motion and the checked evidence: a reason names what its cited passage is
about (the passage's heading, written with the source), and cites that passage.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.briefing.debate.stance import StanceReader
from bot.briefing.pick import Pick
from bot.language import LanguageModels
from bot.promptset import PromptSet

REASON_KEYS = ("reason_1", "reason_2", "reason_3")


# spaCy's entity types whose words keep their capital inside a sentence ("American", "Chinese");
# ORG is left out, since the small model tags a plural noun opening a sentence as one ("Ports").
_ALWAYS_CAPITALISED = frozenset({"NORP", "GPE", "LOC", "PERSON"})


def clause(text: str, models: LanguageModels | None) -> str:
    """`text` to be read inside a sentence: no closing stop, its first word lower-cased unless it
    is a name (spaCy's proper noun, or a nationality or place: "American ports") or an acronym."""
    text = text.strip().rstrip(".!?;:").strip()
    if not text:
        return text
    first = text.split()[0]
    if any(ch.isupper() for ch in first[1:]) or not first[0].isupper():
        return text
    if models is not None and models.parses:
        first_token = models.parse(text)[0]
        if first_token.pos_ == "PROPN" or first_token.ent_type_ in _ALWAYS_CAPITALISED:
            return text
    return first[0].lower() + text[1:]


def position(prompts: PromptSet, side: str, motion: str, favoured: str, models: LanguageModels | None) -> str:
    """The side's position on the motion: for it when the motion favours the side's framing."""
    key = "position_for" if favoured == side else "position_against"
    return prompts.template("debate_lines").line(key, side=side, motion=clause(motion, models))


def ask(prompts: PromptSet, side: str, favoured: str) -> str:
    return prompts.template("debate_lines").line("ask_for" if favoured == side else "ask_against")


def reason_point(pick: Pick, side: str, reader: StanceReader | None, models: LanguageModels | None) -> str:
    """What a reason resting on `pick` is about: its passage's heading, unless the heading itself
    reads as the other side's case (a heading names the passage's topic, and a passage tagged with
    both framings may be headed by the other side's claim); "" then. A heading that states
    something is the reason itself, "that ..."; one that names a topic is what the reason is
    "about": "Our first reason is about export licences"."""
    passage = pick.scored.passage
    heading = passage.heading.split("{#")[0].strip()
    if not heading or heading == passage.title:
        return ""  # an article's opening is headed by its title, which names no point
    if reader is not None and reader.stance(heading).side not in ("", side):
        return ""
    point = clause(heading, models)
    # "Key takeaways: race framing, Sputnik moment" is a label and its items: the label decides
    return f"that {point}" if _states(point.split(":")[0], models) else f"about {point}"


def _states(text: str, models: LanguageModels | None) -> bool:
    """Whether `text` is a statement: its parse's root is a finite verb (or has a finite auxiliary,
    "will reshape") and it does not open with a question word ("why the analogy holds" names a
    topic). A noun phrase with a clause inside it ("the rule that changed the calendar") is no
    statement. False without the parser."""
    if models is None or not models.parses:
        return False
    doc = models.parse(text)
    root = next((token for token in doc if token.dep_ == "ROOT"), None)
    if root is None or doc[0].tag_ in ("WRB", "WP", "WDT"):
        return False
    verbs = [root, *(child for child in root.children if child.dep_ == "aux")]
    return any(verb.morph.to_dict().get("VerbForm") == "Fin" for verb in verbs)


def reason_line(prompts: PromptSet, number: int, point: str) -> str:
    key = REASON_KEYS[min(number, len(REASON_KEYS)) - 1]
    return prompts.template("debate_lines").line(key, point=point)


def answer_line(prompts: PromptSet, side: str, other: str, point: str, models: LanguageModels | None) -> str:
    return prompts.template("debate_lines").line(
        "answer", side=side, other=other, point=clause(point, models)
    )


def nothing_line(prompts: PromptSet, side: str) -> str:
    return prompts.template("debate_lines").line("nothing_on_motion", side=side)


def strongest_of(points: Sequence[tuple[str, str]], reader: StanceReader | None, side: str) -> str:
    """The sentence of `points` (a speech's (sentence, passage id)) that argues most strongly for
    `side`; "" when none argues for it."""
    if not points:
        return ""
    texts = [s for s, _ in points]
    if reader is None:
        return texts[0]
    sign = 1 if side == reader.sides[0] else -1
    readings = [
        (sign * r.contrast, t) for r, t in zip(reader.read(texts), texts, strict=True) if r.side == side
    ]
    return max(readings)[1] if readings else ""
