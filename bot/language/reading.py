"""What spaCy's parse says of a sentence, in the few terms the checks above need.

- `asked_count` and `counted`: what a how-many question counts, and what the figures of a sentence
  count, from the dependency parse (a figure that modifies a noun counts it).
- `described`: which name a text gives a thing ("a Dutch shipyard"), from the parse.
- `person_pronoun`: where a text first says "she" or "his" of one person, from the morphology;
  `asks_which`: a question that asks which one, by name ("which firm", "who"); `asks_measure`: one
  that asks how much of something ("how old", "how far").
- `denial`, `disputed` and `absent`: what a sentence says did not happen, what someone called
  untrue, and what nothing shows ("found no evidence that ..."); `reported_clause`: what a
  sentence reports was said or found.
- `Entity`: a named entity with its type family ("money", "date", "place", "person", ...) and the
  parts that carry its value (digits, number words, proper nouns), so "$4.5 million" and
  "$5.4 million" differ while "about $4.5 million" and "$4.5 million" do not.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from text_to_num import alpha2digit

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token

# spaCy's entity labels, grouped where the small model confuses them or a claim may say one for
# the other ("Sentosa" is tagged GPE in one sentence and ORG in the next).
FAMILIES = {
    "PERSON": "person",
    "GPE": "place",
    "LOC": "place",
    "FAC": "place",
    "ORG": "organisation",
    "NORP": "group",
    "DATE": "date",
    "TIME": "date",
    "MONEY": "money",
    "PERCENT": "percent",
    "CARDINAL": "count",
    "QUANTITY": "count",
    "EVENT": "event",
    "LAW": "law",
    "WORK_OF_ART": "work",
}
FIGURES = frozenset({"date", "money", "percent", "count"})
PLACES = frozenset({"GPE", "LOC", "FAC"})


@dataclass(frozen=True, slots=True)
class Entity:
    text: str
    family: str
    values: frozenset[str]  # lowercased tokens that carry the value

    @property
    def is_figure(self) -> bool:
        return self.family in FIGURES

    @property
    def definite(self) -> bool:
        """Whether it pins a value down: a figure with digits ("1969", "$4.5 million"), a name with
        a proper noun. "Years", "the next decade" and "today" pin nothing."""
        if self.is_figure:
            return any(any(ch.isdigit() for ch in value) for value in self.values)
        return bool(self.values)

    def found_in(self, text: str, others: list[Entity]) -> bool:
        """Whether `text` (with its entities `others`) gives this entity: as written, or, for a
        figure, an entity of its type holding all of its values ("May 4" is in "May 4 to 6"; "June
        4" is not), and for a name, every word of it."""
        flat = _plain(text)
        if _plain(self.text) in flat:
            return True
        if self.is_figure:
            return any(o.family == self.family and self.values <= o.values for o in others)
        present = set(flat.split())
        return self.values <= present


def _plain(text: str) -> str:
    """Lowercased, digit groups joined ("3,400" as "3400"), possessives and punctuation dropped."""
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text.lower()).replace("’", "'").replace("'s", "")
    return " ".join(re.sub(r"[^\w.$%-]+", " ", text).split())


def _values(span: Span) -> frozenset[str]:
    """The tokens that carry the entity's value: numbers and proper nouns. A number a reporter
    spells out is read as its digits (text2num), so "forty minutes" is the value of "40 minutes"
    and differs from "eleven minutes"; what text2num leaves as words ("two decades") stays so."""
    found = {_plain(t.text) for t in span if (t.like_num or t.pos_ == "PROPN") and _plain(t.text)}
    spelled = {_plain(t.text) for t in span if t.like_num and not any(ch.isdigit() for ch in t.text)}
    if not spelled:
        return frozenset(found)
    written = _plain(alpha2digit(span.text, "en"))
    digits = set(re.findall(r"\d[\d.]*", written))
    return frozenset((found - spelled) | digits | (spelled & set(written.split())))


def entities_of(doc: Doc | Span) -> list[Entity]:
    return [
        Entity(ent.text, FAMILIES[ent.label_], _values(ent))
        for ent in doc.ents
        if ent.label_ in FAMILIES and not (ent.label_ == "CARDINAL" and ent.text.lower() in {"one", "two"})
    ]


def asked_count(doc: Doc) -> str | None:
    """The lemma of the noun a how-many question counts, or None: "how many" modifies it directly,
    or through "of" ("how many of the machines")."""
    for token in doc:
        if token.lower_ != "many" or not any(child.lower_ == "how" for child in token.children):
            continue
        if (noun := _phrase_noun(token)) is not None:
            counted_noun = noun
        elif token.dep_ == "amod":
            counted_noun = token.head
        else:
            objects = [o for c in token.children if c.dep_ == "prep" for o in c.children if o.dep_ == "pobj"]
            counted_noun = objects[0] if objects else token
        return counted_noun.lemma_.lower() if counted_noun.pos_ in _NOUNS else None
    return None


def asked_thing(doc: Doc) -> str | None:
    """What kind of thing a question asks for, as its own words say it: "where" for a where-question,
    else the lemma of the noun "which" or "what" determines ("In which city ...?": "city"); None."""
    for token in doc:
        if token.lower_ == "where" and token.tag_ == "WRB":
            return "where"
        if token.lower_ in ("which", "what"):
            # the noun phrase it opens ("which Ohio lawmaker"), read by part of speech: the small
            # parser often attaches "which" in "In which city ...?" to the preposition
            head = None
            for word in doc[token.i + 1 :]:
                if word.pos_ not in _NOMINAL:
                    break
                head = word if word.pos_ == "NOUN" else head
            return head.lemma_.lower() if head is not None else None
    return None


def _phrase_noun(token: Token) -> Token | None:
    """The noun that ends the run of nominal words right after `token`: what "many" or a figure
    counts in "how many ZQ-9 ship-to-shore cranes" or "412 remote software updates" (English puts
    a noun phrase's head last). Read from the parts of speech, since the small parser often hangs
    the figure on a model code or a compound instead of the noun."""
    noun = None
    for word in token.doc[token.i + 1 :]:
        if word.pos_ == "NOUN":
            noun = word
        elif word.pos_ not in _NOMINAL and word.text not in _HYPHENS:
            break
    return noun


def counted(doc: Doc, stated: frozenset[str] = frozenset()) -> frozenset[str]:
    """The lemmas of the nouns the text's figures count: a figure that modifies a noun in the parse
    ("forty-one delegates", "3,000 tonnes") says how many of it there are, and so does one that
    a noun takes with "of" ("a crew of twelve"). A figure in `stated` (lowercased, the question's
    own) counts nothing: asked how many of the nine members agreed, "the nine-member board" is no
    answer."""
    found = set()
    for token in doc:
        if token.lower_ in stated:
            continue
        if token.pos_ == "NUM" and token.ent_type_ not in _NOT_COUNTS and (noun := _phrase_noun(token)):
            found.add(noun.lemma_.lower())  # "412 remote software updates" counts updates
        if token.dep_ == "nummod" and token.head.pos_ in _NOUNS:
            found.add(token.head.lemma_.lower())  # "a 31-page memo" counts pages
        elif token.pos_ == "NUM" and token.dep_ == "pobj" and token.head.lower_ == "of":
            owner = token.head.head
            if owner.pos_ == "NOUN" and token.ent_type_ not in _NOT_COUNTS:
                found.add(owner.lemma_.lower())
    return frozenset(found)


def described(doc: Doc) -> dict[str, list[Entity]]:
    """What the text's names say of a thing: the lemma of each noun that names modify in the parse
    ("a Dutch shipyard": shipyard -> [Dutch]; "Dutch and Danish yards": yard -> both). Figures
    are left to the figure checks."""
    found: dict[str, list[Entity]] = {}
    for ent in doc.ents:
        family = FAMILIES.get(ent.label_)
        root = ent.root
        if root.dep_ == "conj":  # the second of "Dutch and Danish yards" modifies what the first does
            root = root.head
        head = root.head
        if family is None or family in FIGURES or ent.start <= head.i < ent.end:
            continue
        if root.dep_ in _MODIFIES and head.pos_ == "NOUN":
            found.setdefault(head.lemma_.lower(), []).append(Entity(ent.text, family, _values(ent)))
    return found


def person_pronoun(doc: Doc) -> tuple[int, int, bool] | None:
    """The first "he", "she", "him", "her" or "his" of the text, read from spaCy's morphology (a
    personal pronoun for one gendered third person): its character span and whether it is
    possessive. None when the text has none ("it" and "they" stand for no one person)."""
    for token in doc:
        feats = token.morph.to_dict()
        if (
            token.pos_ == "PRON"
            and feats.get("PronType") == "Prs"
            and feats.get("Person") == "3"
            and feats.get("Number") == "Sing"
            and feats.get("Gender") in ("Fem", "Masc")
        ):
            return token.idx, token.idx + len(token.text), feats.get("Poss") == "Yes"
    return None


def asks_measure(doc: Doc) -> bool:
    """Whether a question asks how much of something, by "how" on an adjective or adverb ("how
    old", "how far", "how quickly"): its answer is a figure, an age or a distance, not a manner
    ("how did they copy it?" puts "how" on the verb)."""
    return any(token.lower_ == "how" and token.head.pos_ in ("ADJ", "ADV") for token in doc)


def asks_which(doc: Doc) -> bool:
    """Whether a question asks which one, by name: a wh-word that determines a noun ("which firm",
    "what company") or "who". Its answer names whom a later "she" stands for; "what did the mayor
    say?" names her in the question."""
    return any(
        token.tag_ in ("WDT", "WP") and (token.dep_ == "det" or token.lower_ in ("who", "whom"))
        for token in doc
    )


def asked_role(doc: Doc) -> tuple[str, str] | None:
    """What a who-question asks who holds or does: ("role", noun lemma) for "who is the <role> of
    ...?" ("who" and the noun are the two sides of the verb "be"), ("act", verb lemma) for "who
    <verb>s ...?" ("Who founded the firm?"), or None."""
    for token in doc:
        if token.lower_ != "who" or token.dep_ not in _COPULA_SIDES:
            continue
        verb = token.head
        if verb.lemma_ != "be":
            return ("act", verb.lemma_.lower()) if verb.pos_ == "VERB" and token.dep_ == "nsubj" else None
        sides = [c for c in verb.children if c.dep_ in _COPULA_SIDES and c.pos_ == "NOUN"]
        return ("role", sides[0].lemma_.lower()) if sides else None
    return None


def roles(doc: Doc) -> dict[str, list[tuple[str, str]]]:
    """The roles the text gives people, by the parse: a noun in apposition to a person's name
    ("said Jane Doe, 51, the centre's director"; "Its director, Dr. Jane Doe, ..."), one joined to
    such a noun by "and", or a noun in a compound before the name ("Director Jane Doe"). Role lemma
    -> (name, the proper name whose role it is, "" when none is given: "Acme's director")."""
    found: dict[str, list[tuple[str, str]]] = {}
    for ent in doc.ents:
        if ent.label_ != "PERSON":
            continue
        root = ent.root
        linked = [c for c in root.children if c.dep_ == "appos" or (c.dep_ == "compound" and c.i < ent.start)]
        if root.dep_ == "appos":
            linked.append(root.head)
        linked += [c for noun in linked for c in noun.children if c.dep_ == "conj"]
        owner = _owner(linked)
        for noun in linked:
            if noun.pos_ == "NOUN":
                found.setdefault(noun.lemma_.lower(), []).append((ent.text, owner))
    return found


def _owner(phrase: list[Token]) -> str:
    """The proper name the roles of one person's phrase belong to ("Acme's vice-president for
    sales", "director of Acme"), or "" (a common noun's: "the union's president")."""
    for noun in phrase:
        for token in noun.subtree:
            of = token.dep_ == "pobj" and token.head.lower_ == "of"
            if token.pos_ == "PROPN" and (token.dep_ == "poss" or of):
                return _name_of(token)
    return ""


def _name_of(token: Token) -> str:
    """The proper name `token` heads, with its compounds ("Meridian AI Consortium")."""
    words = [t for t in token.subtree if t.dep_ == "compound" or t == token]
    return " ".join(t.text for t in words)


def denial(doc: Doc) -> tuple[str, str] | None:
    """The lemma of the text's main verb when the text says only that it did not happen or hold
    ("the council never met on it"; "This did not stop them" says something else, and is not
    read), and what its subject points back to: "pronoun" for a demonstrative ("This never came to
    pass": the sentence just before), "phrase" for a phrase a demonstrative determines ("That
    rumoured merger never came to pass": what the phrase names), else "". A subject the negative
    determiner governs ("No inquiry was opened") is what is denied: its lemma comes back, with
    "none". None otherwise."""
    root = next((token for token in doc if token.dep_ == "ROOT"), None)
    # "This never came to pass, the engineers found": the attribution after the words is the root
    said = [] if root is None else [c for c in root.children if c.dep_ == "ccomp" and c.i < root.i]
    if said:
        root = said[0]
    if root is None:
        return None
    subject = next((child for child in root.children if child.dep_ in _SUBJECTS), None)
    if subject is not None and _none_of(subject):
        return subject.lemma_.lower(), "none"
    if not any(child.dep_ == "neg" for child in root.children):
        return None
    # "This isn't about X" says what something is not, not that an event did not happen
    if root.pos_ == "AUX" or any(child.dep_ in _COMPLEMENTS for child in root.children):
        return None
    return root.lemma_.lower(), "" if subject is None else _points_back(subject)


def disputed(doc: Doc, denying: frozenset[str]) -> tuple[str, str] | None:
    """What a text whose main verb says its object is untrue (`denying`: "deny", "repudiate") says
    is untrue: ("clause", its words) for "X denied that P", ("phrase", its words) for "X denied the
    reports that P", ("pronoun", "") for "X denied it" or "X denied that", which point back to what
    was said before. None when the main verb is no such verb, or is itself negated ("did not
    deny")."""
    root = next((token for token in doc if token.dep_ == "ROOT"), None)
    if root is None or root.lemma_.lower() not in denying:
        return None
    if any(child.dep_ == "neg" for child in root.children):
        return None
    for child in root.children:
        if child.dep_ == "ccomp":
            return "clause", _words_of(child)
        if child.dep_ == "dobj":
            if child.pos_ == "PRON" or _points_back(child) == "pronoun":
                return "pronoun", ""
            return "phrase", _words_of(child)
    return None


def absent(doc: Doc, evidence: frozenset[str]) -> tuple[str, str] | None:
    """What a text says nothing shows: ("evidence", P) for "the audit found no evidence that P",
    and ("evidence", X) for "there was no sign of X": a noun of `evidence` (WordNet's kin of the word)
    that the negative determiner governs, as the object or attribute of its clause, with the
    clause or the "of" phrase it takes. Said of P, it gives P only to deny it, as a verb of
    denying does (`disputed`). None otherwise."""
    for token in doc:
        if token.dep_ not in _HELD or not _none_of(token) or token.lemma_.lower() not in evidence:
            continue
        for child in token.children:
            if child.dep_ in _CONTENT_CLAUSES and any(g.dep_ == "mark" for g in child.children):
                return "evidence", _words_of(child)
            objects = [g for g in child.children if g.dep_ == "pobj"] if child.dep_ == "prep" else []
            if objects:
                return "evidence", _words_of(objects[0])
    return None


def reported_clause(doc: Doc) -> str:
    """The words of the clause the main verb reports ("The audit concluded that P": P), else the
    whole text: what a claim about a finding says was found."""
    root = next((token for token in doc if token.dep_ == "ROOT"), None)
    clause = next((c for c in root.children if c.dep_ == "ccomp"), None) if root is not None else None
    return _words_of(clause) if clause is not None else doc.text


def reported_by(doc: Doc) -> str | None:
    """The lemma of the main verb when it reports a clause ("A newspaper reported that P": report),
    else None: a claim that repeats it is about the report, not about what was reported."""
    root = next((token for token in doc if token.dep_ == "ROOT"), None)
    if root is None or not any(child.dep_ == "ccomp" for child in root.children):
        return None
    return root.lemma_.lower()


def _words_of(token: Token) -> str:
    """The words of the phrase or clause `token` heads."""
    words = list(token.subtree)
    return token.doc[words[0].i : words[-1].i + 1].text


def _none_of(noun: Token) -> bool:
    """Whether a noun is determined by the negative determiner ("No vote was ever held", "found no
    evidence"): the sentence says there was no such thing, whatever its verb. The parser marks
    "not" and "never" as `neg`, but this "no" only as a determiner."""
    return noun.pos_ == "NOUN" and any(
        child.dep_ == "det" and child.lower_ == _NEGATIVE_DETERMINER for child in noun.children
    )


def last_clause(doc: Doc) -> tuple[str, str]:
    """The text split before its last clause ("The cranes froze, and word spread that ..." -> "The
    cranes froze,", "and word spread that ..."): what a following "This" points back to is the last
    thing said. Read at the last coordinating conjunction after a comma, or the last semicolon, by
    parts of speech: the small parser often hangs such a clause on the wrong word. ("", text) when
    there is none."""
    starts = [
        token.i
        for token in doc[1:]
        if token.text == ";" or (token.pos_ == "CCONJ" and doc[token.i - 1].text == ",")
    ]
    if not starts:
        return "", doc.text
    return doc[: starts[-1]].text, doc[starts[-1] :].text


def _points_back(subject: Token) -> str:
    """ "pronoun" for a demonstrative subject ("That", "this"), "phrase" for one a demonstrative
    determines ("That rumoured merger"), else "". A relative "which"/"that" cannot be a main verb's
    subject: tagged so there, it is the demonstrative the small parser misread after an opening
    phrase ("According to them, that ...")."""
    if subject.tag_ == "WDT" or "Dem" in subject.morph.get("PronType", []):
        return "pronoun"
    determiners = [child for child in subject.children if child.dep_ == "det"]
    return "phrase" if any("Dem" in token.morph.get("PronType", []) for token in determiners) else ""


_SUBJECTS = frozenset({"nsubj", "nsubjpass"})
_NEGATIVE_DETERMINER = "no"
_HELD = frozenset({"dobj", "attr"})  # "found no evidence", "there was no sign"
_CONTENT_CLAUSES = frozenset({"acl", "ccomp"})  # "evidence that P": a clause with its "that" (mark)
_COMPLEMENTS = frozenset({"dobj", "ccomp", "xcomp", "attr", "acomp", "oprd", "dative"})
_COPULA_SIDES = frozenset({"nsubj", "attr"})
_NOUNS = frozenset({"NOUN", "PROPN"})
_NOMINAL = frozenset({"NOUN", "PROPN", "ADJ", "NUM"})
_MODIFIES = frozenset({"amod", "compound", "nmod", "poss"})
_HYPHENS = frozenset({"-", "–"})  # the tokenizer splits "ship-to-shore" around them
_NOT_COUNTS = frozenset({"DATE", "TIME", "MONEY", "PERCENT"})  # "the summer of 2024" counts no summers


class ParseCache:
    """Parsed texts by text, bounded: the same evidence sentences are read by many claims."""

    def __init__(self, limit: int = 5000) -> None:
        self._docs: OrderedDict[str, Doc] = OrderedDict()
        self._limit = limit

    def get(self, text: str) -> Doc | None:
        doc = self._docs.get(text)
        if doc is not None:
            self._docs.move_to_end(text)
        return doc

    def put(self, text: str, doc: Doc) -> None:
        self._docs[text] = doc
        while len(self._docs) > self._limit:
            self._docs.popitem(last=False)
