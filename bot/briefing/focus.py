"""What a question asks about, weighed word by word: the shared first step of answering,
debating and deciding whether the sources answer at all.

Why weigh words by their rarity in general English (wordfreq's Zipf scale) and not only by the
corpus: the corpus is a few dozen passages, so it cannot tell a question's frame ("what role could
... play") from its subject ("independent auditors"). General-English rarity can: "play" is common
everywhere, "auditors" and "Hiroshima" are not. The rules hold for any source a moderator drops in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING

from bot.acronyms import is_acronym
from bot.names import names_in, people_in
from bot.spelled_numbers import number_value
from bot.terms import WORD_RE, stem, stopwords, words
from bot.words.lexicon import lexicon, phrase_pattern
from bot.words.vocabulary import vocabulary

if TYPE_CHECKING:
    from bot.language import LanguageModels

ZIPF_CEILING = 8.0  # "the" is 7.7: every word gets a positive weight
MIN_WEIGHT = 0.5
CONTEXT_WEIGHT = 0.5
# "Which (Chinese) cities ...", "What warning signs do ...", "What kinds of ...", "What are ...": a
# plural asked for by which/what wants every item, not the first one found.
# "What risks does ...", "What reasons for cautious optimism does Singh give?": a plural noun,
# perhaps with a short phrase of its own ("for ...", "about ..."), then the question's verb.
_WHAT_PLURAL_RE = re.compile(
    r"^\s*what\s+(?:(?:are|were)\b|(?:[\w-]+\s+)?[a-z-]{2,}[^s\W]s\s+"
    r"(?:(?:for|about|against|behind|between|from|in|on|to|toward|towards|with)\s+(?:[\w'-]+\s+){1,3})?"
    r"(?:of|do|did|does|are|were|could|can|would|should|will|might|may|have|has|had)\b)",
    re.I,
)
# A phrase the question quotes: 'race to the bottom', "Chernobyl moment" (an apostrophe inside a
# word, as in "Liu's", opens no quote).
_QUOTED_RE = re.compile(r"(?<!\w)[\"'“‘]([^\"'“”‘’]{3,80})[\"'”’](?!\w)")
_NUMBER_Q_RE = re.compile(
    r"\bhow (?:much|many|large|big|often|long)\b|\bwhat (?:share|percentage|number)\b", re.I
)
_AUXILIARIES = r"(?:do|does|did|is|are|was|were|has|have|had|will|would|could|can|should|might|may|must)\b"
_PLURAL_RE = re.compile(r"[a-z-]{2,}[^s\W]s")
# "What penalties does ...": the words between "what" and the verb name the kind of thing asked for;
# in "What could outside inspectors do ...", "could" is that verb, and no kind of thing is named.
_ASKED_FOR_RE = re.compile(
    r"^\s*(?:what|which|how many)\s+(?!" + _AUXILIARIES + r")(?:(?:kinds?|sorts?|types?) of\s+)?"
    r"(?P<phrase>(?:[\w'-]+\s+){1,3}?)" + _AUXILIARIES,
    re.I,
)
# "What is the annual salary of ...": the thing the question wants the value of
_WHAT_IS_OF_RE = re.compile(
    r"^\s*what\s+(?:is|are|was|were)\s+(?:the\s+)?(?P<phrase>(?:[\w'-]+\s+){1,2}?)(?:of|for)\b", re.I
)
# "What is the port's annual revenue?": the thing the question wants of the owner it names
_WHAT_IS_POSSESSED_RE = re.compile(
    r"^\s*what\s+(?:is|are|was|were)\s+(?:the\s+)?(?:[\w'-]+\s+){0,5}?[\w-]+['’]s\s+"
    r"(?P<phrase>(?:[\w'-]+\s+)?[\w'-]+)\s*\?\s*$",
    re.I,
)
_HOW_MUCH_RE = re.compile(r"\bhow much\b|\bwhat (?:did|does|do|will|would) (?:it|\w+(?: \w+)?) cost\b", re.I)
_CURRENCY_SIGN_RE = re.compile(r"[$€£¥₹]\s?\d|\d\s?[$€£¥₹]")
_WHO_RE = re.compile(r"^\s*(?:who|whom)\b", re.I)  # "who ran it?" wants a name; "who is Liu?" has one
_YEAR_Q_RE = re.compile(r"\b(?:what|which|in what) year\b", re.I)
# "When is the vote?" asks for a date, which may be a day with no year ("on May 14")
_WHEN_Q_RE = re.compile(r"\bwhen (?:was|were|did|is|will)\b", re.I)
_YEAR_RE = re.compile(r"\b(?:1[5-9]|20)\d\d\b")
# "According to Singh, what ...", "In Liu's view, which ...": a short opening before the question word
_LEAD_IN_RE = re.compile(
    r"^\s*(?P<lead>[^\s,;?][^,;?]*),\s*(?=(?:which|who|whom|what|where|when|why|how)\b)", re.I
)
_ASKS_RE = re.compile(r"\b(?:which|who|whom|what|where|when|why|how)\b", re.I)
MAX_LEAD_IN_WORDS = 6
MAX_SUBJECT_WORDS = 8


@lru_cache(maxsize=16384)
def informativeness(word: str) -> float:
    """How much a word says about what is asked: its surprisal in general English.

    wordfreq's Zipf scale puts "the" at 7.7, "play" at 5.6, "auditors" at 3.3 and an unknown name
    at 0, so a question's frame weighs little and its subject a lot. Imported on first use: loading
    the word list costs a quarter of a second that commands without questions need not pay."""
    from wordfreq import zipf_frequency

    return max(MIN_WEIGHT, ZIPF_CEILING - zipf_frequency(word, "en"))


@dataclass(frozen=True, slots=True)
class Focus:
    """What a question asks about: weighted terms, the names and figures in it, what it wants back."""

    weights: dict[str, float]  # stem -> informativeness
    specific: frozenset[str]  # stems of names, acronyms and numbers as the user wrote them
    answer_type: str | None  # "number", "money", "year", "date", "person", "source" or None
    wants_list: bool
    surface: dict[str, str] = field(default_factory=dict, compare=False)  # stem -> the word as asked
    asked_for: frozenset[str] = frozenset()  # "what penalties does...": the kind of thing wanted
    # acronym term -> the terms of the phrase the sources spell it out as ("us" -> "unit", "state")
    aliases: dict[str, frozenset[str]] = field(default_factory=dict, compare=False)
    # phrases the question quotes ("a 'race to the bottom'"), lowercased: the user's exact words
    phrases: tuple[str, ...] = ()

    def without_names(self) -> Focus:
        """The question less its names and figures: what it asks *about* them."""
        rest = {t: w for t, w in self.weights.items() if t not in self.specific}
        return replace(self, weights=rest, specific=frozenset())

    def spelled_out(self, acronyms: dict[str, frozenset[str]]) -> Focus:
        """This focus with its acronyms' phrases as the sources spell them (`SourceIndex.acronyms`):
        a passage saying "the United States" covers the question's "US"."""
        aliases = {t: acronyms[t] for t in self.weights if t in acronyms}
        return replace(self, aliases=aliases) if aliases else self

    def who_read(self, question: str, names_a_person: bool) -> Focus:
        """This focus with a "who" question's answer type taken from the parser's reading of whether
        the question names a person itself (`names_a_person`, spaCy's PERSON entities) instead of
        the capitalisation guess, which takes an organisation's capitalised name for a person's:
        "Who chairs the Harbour Trust?" names no person, and asks for one."""
        asked = without_lead_in(question)
        if not _WHO_RE.match(asked) or self.answer_type not in (None, "person", "source"):
            return self
        return replace(self, answer_type=None if names_a_person else _who_type(asked))

    def measure_read(self, asks_measure: bool) -> Focus:
        """This focus asking for a figure when the parser reads the question as asking how much of
        something (`asks_measure`: "how old", "how far") and the question words did not say what
        it asks for: an age or a distance is a figure, often in the sentence just shown."""
        return replace(self, answer_type="number") if asks_measure and self.answer_type is None else self

    @property
    def total(self) -> float:
        return sum(self.weights.values())

    def coverage(self, terms: frozenset[str] | set[str]) -> float:
        """Weighted share of the question found in `terms` (0..1), stems that are near-variants
        counting as found ("auditor"/"audit", "china"/"chines")."""
        total = self.total
        if not total:
            return 0.0
        return sum(w for t, w in self.weights.items() if self._covered(t, terms)) / total

    def _covered(self, term: str, terms: frozenset[str] | set[str]) -> bool:
        if term in terms or any(related(term, u) for u in terms):
            return True
        spelled = self.aliases.get(term)
        return spelled is not None and spelled <= terms


def related(a: str, b: str) -> bool:
    """Two stems of one word family: one is the other plus a short ending, or they share all but the
    last letter of the shorter ("audit"/"auditor", "china"/"chines"). The Snowball stemmer keeps
    these apart because it never looks across parts of speech."""
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) < 4 or len(long) - len(short) > 3:
        return False
    return long.startswith(short) or (long.startswith(short[:-1]) and len(short) >= 5)


def _is_specific(token: str, first: bool) -> bool:
    """A name, an acronym or a figure: capitalised past the first word, all capitals, or digits."""
    if any(c.isdigit() for c in token):
        return True
    if len(token) >= 2 and token.isupper():
        return True
    return token[0].isupper() and (not first or informativeness(token.lower()) > ZIPF_CEILING - 4)


def focus_of(question: str, context: str = "") -> Focus:
    """The focus of `question`; `context` (the conversation's previous question, for a follow-up)
    adds its words at half weight, so "what caused it?" still asks mainly about causes."""
    focus = _focus_of(question)
    if not context:
        return focus
    earlier = _focus_of(context)
    weights = {t: w * CONTEXT_WEIGHT for t, w in earlier.weights.items()}
    weights.update(focus.weights)
    surface = {**earlier.surface, **focus.surface}
    return Focus(weights, focus.specific | earlier.specific, focus.answer_type, focus.wants_list, surface)


def lead_in(question: str) -> str:
    """The short opening of "According to Singh, what ...?" ("According to Singh"), or "": it starts
    with one of lexicon/words.toml's `lead_in_words`. It names whose account is asked about, and asks
    nothing itself: what kind of answer is wanted (a list, a name, a figure) is read after it. "Liu
    calls it Sputnik, what does Singh call it?" opens with a clause of its own, and is two questions."""
    match = _LEAD_IN_RE.match(question)
    if not match:
        return ""
    opening = words(match.group("lead"))
    if len(opening) > MAX_LEAD_IN_WORDS or opening[0] not in vocabulary().lead_in_words:
        return ""
    if _ASKS_RE.search(match.group("lead")):
        return ""  # "In what year was it founded, who founded it?" asks two things
    return match.group("lead").strip()


def without_lead_in(question: str) -> str:
    """The question after its `lead_in` (the lead-in holds no comma, so the question starts after
    the first one)."""
    return question.split(",", 1)[1].lstrip() if lead_in(question) else question


def _focus_of(question: str) -> Focus:
    weights: dict[str, float] = {}
    surface: dict[str, str] = {}
    specific: set[str] = set()
    stop = stopwords()
    for position, match in enumerate(WORD_RE.finditer(question)):
        token = match.group(0)
        word = token.lower().replace("’", "'")
        if (word in stop and not is_acronym(token, question)) or (
            (len(word) < 2 and not word.isdigit()) or (len(word) == 2 and not token.isupper())
        ):
            continue  # two letters only as written in capitals: "AI", "EU", "G7"; "US" is no "us"
        term = stem(word)
        surface.setdefault(term, token)
        weights[term] = max(weights.get(term, 0.0), informativeness(word.removesuffix("'s")))
        if _is_specific(token, position == 0):
            specific.add(term)
    asked = without_lead_in(question)  # "According to Singh, which ...": the kind of answer is after it
    answer_type = (
        "year"
        if _YEAR_Q_RE.search(asked)
        else "date"
        if _WHEN_Q_RE.search(asked)
        else "money"
        if asks_for_money(asked)
        else "number"
        if _NUMBER_Q_RE.search(asked)
        else _who_type(asked)
        if _WHO_RE.match(asked) and not people_in(question)
        else "source"
        if _asks_which_author(asked)
        else None
    )
    wants_list = _asks_which_plural(asked) or bool(_WHAT_PLURAL_RE.match(asked))
    phrases = tuple(" ".join(words(m)) for m in _QUOTED_RE.findall(question) if len(words(m)) >= 2)
    return Focus(
        weights, frozenset(specific), answer_type, wants_list, surface, asked_for(asked), phrases=phrases
    )


def _asks_which_plural(question: str) -> bool:
    """ "Which cities are ...", "Which warning signs does ...", "Which contradictory truths about
    ...": a plural wants every item. In "Which author warns about ...", the word ending in -s is a
    verb, which lemminflect's lexicon knows ("warns" is only ever a verb, "truths" a noun, "rules"
    either: a word that can be a noun is taken for one, unless it is an auxiliary like "does")."""
    following = words(question)
    if following[:1] != ["which"]:
        return False
    for word in following[1:3]:  # "which sectors ...", "which warning signs ..."
        if _PLURAL_RE.fullmatch(word):
            return not _is_a_verb(word)
    return False


@lru_cache(maxsize=4096)
def _is_a_verb(word: str) -> bool:
    """An auxiliary ("does", "has"), or a form that is only ever a verb. Imported on first use: the
    lexicon takes a fifth of a second to load."""
    from lemminflect import getAllLemmas

    kinds = set(getAllLemmas(word))
    return "AUX" in kinds or ("VERB" in kinds and "NOUN" not in kinds)


def stands_for_a_subject(sentence: str) -> bool:
    """Whether `sentence` opens with a word standing for a subject named before ("They cannot ...",
    "It calls for ...", "These are ..."): one of words.toml's `openers.pronouns`, or another
    `openers.leaning` word followed by a verb or a function word. "This spread of Chinese technology
    ..." names its own subject."""
    opening = words(sentence)[:2]
    if len(opening) < 2 or opening[0] not in vocabulary().leaning:
        return False
    return opening[0] in vocabulary().pronouns or opening[1] in stopwords() or _is_a_verb(opening[1])


def subject_of(sentence: str) -> str:
    """The words of `sentence` before its first verb or comma: "Hospital night-shift workers" in
    "Hospital night-shift workers told the city ...", "A common misreading" in "A common misreading,
    she notes, is ...". What the "they" or "it" opening the next sentence most often points back to."""
    subject = []
    for word in words(sentence.split(",", 1)[0])[:MAX_SUBJECT_WORDS]:
        if _is_a_verb(word):
            break
        subject.append(word)
    return " ".join(subject)


def asked_for(question: str) -> frozenset[str]:
    """The stems of the kind of thing a "what/which X do..." question asks for ("penalties" in "What
    penalties does the compact impose?", "annual salary" in "What is the annual salary of ...?" and
    in "What is the trust's annual salary?");
    empty when the question names no such thing.
    Not "how much X": money or time is often given as a bare figure ("2.5 million dollars")."""
    match = (
        _ASKED_FOR_RE.match(question)
        or _WHAT_IS_OF_RE.match(question)
        or _WHAT_IS_POSSESSED_RE.match(question)
    )
    if not match:
        return frozenset()
    return frozenset(stem(w) for w in words(match.group("phrase")) if w not in stopwords() and len(w) > 2)


@lru_cache(maxsize=4)
def _figure_re(amount_words: frozenset[str]) -> re.Pattern[str]:
    """A digit, or an amount in words (lexicon/words.toml: "five", "dozens", "percent"). A digit
    inside a name ("DeepSeek-R1", "G7", "H100") is no figure. Keyed on the live words: a reload may
    change them."""
    amounts = phrase_pattern(sorted(amount_words), "figure_words")
    return re.compile(r"(?<![\w-])\d|" + amounts.pattern, re.I)


def figures(sentence: str) -> list[str]:
    """The figures a sentence gives, digit by digit and word by word ("2.5 million" -> 2, 5, million):
    digits, amounts in words (words.toml), and numbers spelled out ("forty-one")."""
    spelled = [w for w in WORD_RE.findall(sentence) if not w.isdigit() and number_value(w) is not None]
    return _figure_re(vocabulary().figure_words).findall(sentence) + spelled


def _asks_which_author(question: str) -> bool:
    """ "Which author warns about ...?", "What journalist wrote ...?" (words.toml's `author_nouns`):
    like "Who says ...?", it asks whose account a point is."""
    opening = words(question)[:2]
    return len(opening) == 2 and opening[0] in ("which", "what") and opening[1] in vocabulary().author_nouns


def _who_type(question: str) -> str:
    """ "source" for "Who says / warns / writes ...?" (a reporting verb, factcheck.toml's
    `[misreading] reporting`): the answer is whoever a source quotes or whose source it is, so a
    quote shown with its byline answers it. "person" for any other "who" ("Who ran the scheme?"),
    which a sentence naming someone must answer."""
    verb = words(question)[1:2]
    return "source" if verb and verb[0] in lexicon().reporting else "person"


def asks_for_money(question: str) -> bool:
    """ "How much did the upgrade cost?", "How much money has China invested?": a sum of money, which
    a count in the same passage ("eleven plants must be upgraded") does not give."""
    return bool(_HOW_MUCH_RE.search(question)) and bool(set(words(question)) & vocabulary().money_words)


def gives_money(sentence: str) -> bool:
    """A figure with a currency: a sign ("$2 billion", "€40m") or a currency word ("340 million euros")."""
    if _CURRENCY_SIGN_RE.search(sentence):
        return True
    return bool(figures(sentence)) and bool(set(words(sentence)) & vocabulary().currency_words)


def has_type(sentence: str, answer_type: str | None, models: LanguageModels | None = None) -> bool:
    """Whether `sentence` gives the kind of thing a who/when/how-many question asks for. A date is a
    year, or any date with a figure that spaCy finds ("on May 14") when the parser is loaded; a sum
    of money is spaCy's MONEY too, in a currency no word list names."""
    if answer_type == "money":
        if models is not None and models.parses:
            return any(e.family == "money" for e in models.entities(sentence)) or gives_money(sentence)
        return gives_money(sentence)
    if answer_type in ("person", "source"):
        return bool(names_in(sentence))
    if answer_type in ("year", "date"):
        return bool(typed_parts(sentence, answer_type, models))
    if answer_type == "number":
        return bool(figures(sentence))
    return True


def typed_parts(sentence: str, answer_type: str | None, models: LanguageModels | None = None) -> list[str]:
    """The parts of `sentence` that give what a who/when/how-many question asks for: the people it
    names, its years (and for "when", its dates), its figures."""
    if answer_type in ("person", "source"):
        return [" ".join(name) for name in people_in(sentence)]
    if answer_type == "date" and models is not None and models.parses:
        dates = [e.text for e in models.entities(sentence) if e.family == "date" and e.definite]
        return dates or _YEAR_RE.findall(sentence)
    if answer_type in ("year", "date"):
        return _YEAR_RE.findall(sentence)
    if answer_type in ("number", "money"):
        return figures(sentence)
    return []
