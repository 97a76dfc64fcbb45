"""The briefing domain: retrieve, prompt, generate, verify citations; answer, brief, debate, check.

Nothing here knows about Discord or the console: both front ends call these modules through
`bot.service.BriefingService`, and read the results through the names below (debate's are in
`bot.briefing.debate`). Names load on first use (bot/exports.py).
"""

import typing as _typing

from bot.exports import lazy_exports as _lazy_exports

if _typing.TYPE_CHECKING:
    from bot.briefing.brief import Briefed, BriefEvent, Briefing
    from bot.briefing.eval_files import EvalClaim, EvalQuestion, load_claims, load_questions
    from bot.briefing.evaluate import ClaimItem, ClaimReport, EvalItem, EvalReport
    from bot.briefing.factcheck import FactCheck
    from bot.briefing.models import Answer, Answered, AnswerEvent, passage_json
    from bot.briefing.sentences import Citation, Part, Sentence, render, render_part

_EXPORTS = {  # module -> the public names it defines
    "bot.briefing.brief": (
        "Briefed",
        "BriefEvent",
        "Briefing",
    ),
    "bot.briefing.eval_files": (
        "EvalClaim",
        "EvalQuestion",
        "load_claims",
        "load_questions",
    ),
    "bot.briefing.evaluate": (
        "ClaimItem",
        "ClaimReport",
        "EvalItem",
        "EvalReport",
    ),
    "bot.briefing.factcheck": ("FactCheck",),
    "bot.briefing.models": (
        "Answer",
        "Answered",
        "AnswerEvent",
        "passage_json",
    ),
    "bot.briefing.sentences": (
        "Citation",
        "Part",
        "Sentence",
        "render",
        "render_part",
    ),
}
__all__ = [
    "Answer",
    "AnswerEvent",
    "Answered",
    "BriefEvent",
    "Briefed",
    "Briefing",
    "Citation",
    "ClaimItem",
    "ClaimReport",
    "EvalClaim",
    "EvalItem",
    "EvalQuestion",
    "EvalReport",
    "FactCheck",
    "Part",
    "Sentence",
    "load_claims",
    "load_questions",
    "passage_json",
    "render",
    "render_part",
]
__getattr__, __dir__ = _lazy_exports(__name__, _EXPORTS, globals())
