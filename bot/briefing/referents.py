"""Reading a follow-up's "he" or "she" as the person the conversation was just about.

Why: after "Who leads the rail union?", the follow-up "What did he do before?" asks about the person
the answer named. Retrieval and weighing read a question's words, and a pronoun gives them nothing
to look for: the previous question's words find the sentence already quoted, not the one about his
earlier career, which may name him and nothing else of the first question. With the name in the
pronoun's place the follow-up reads as the question the user meant, for retrieval, for the evidence
gate and for the model alike.

Which person: a question that asked which one ("who", "which engineer") was answered with a name,
so the first person its answer names that the question did not; any other question names whom it is
about, so its own person first, then the answer's. spaCy says which words are such pronouns (its
morphology), which question asks which one (the parse) and which words are people's names (its
entities), so no list of names or pronouns is kept here. A follow-up that names a person of its own,
or a conversation whose last turn names nobody, is left as asked.

Measured and left out: "it" read the same way, as the organisation or work the turn names. On the
project's follow-ups it found the wrong thing as often as the right one (+1 −2).
"""

from __future__ import annotations

from bot.language import LanguageModels


def first_person(models: LanguageModels, text: str, besides: str = "") -> str | None:
    """The first person `text` names, as written there without a possessive "'s", leaving out
    people `besides` also names."""
    for entity in models.entities(text):
        name = entity.text.removesuffix("'s").removesuffix("’s").strip()
        if entity.family == "person" and entity.values and name not in besides:
            return name
    return None


def person_meant(question: str, earlier: str, said: str, models: LanguageModels | None) -> tuple[str, str]:
    """`question` with its first "he", "she", "his" (...) replaced by the person the previous
    question (`earlier`) and its answer (`said`) are about (see the module docstring), and that
    person; the question unchanged and "" when there is nobody to find."""
    if models is None or not models.parses or not (earlier or said):
        return question, ""
    found = models.person_pronoun(question)
    if found is None or first_person(models, question) is not None:
        return question, ""
    if models.asks_which(earlier):
        person = first_person(models, said, besides=earlier) or first_person(models, earlier)
    else:
        person = first_person(models, earlier) or first_person(models, said)
    if person is None:
        return question, ""
    start, end, possessive = found
    return question[:start] + person + ("'s" if possessive else "") + question[end:], person


__all__ = ["first_person", "person_meant"]
