"""The type of answer a question asks for, and whether a sentence carries that type (pure functions).

Classic question answering reads the expected answer type off the question's wh-word and head noun
("who" -> a person or organisation, "how many" -> a number, "what fee" -> money) and looks for that type
in candidate sentences. These cues are features of the learned answer selector (`answer/features.py`)
and decide whether a factoid question is answered at all (`answer/abstain.py`): a question asking
"who chairs the EITI's board?" is not answered by a sentence about the EITI that names nobody.

Detection in sentences is deliberately shallow (no NER model, which would need weights from a hub):
numbers, dates and sums of money by pattern; people, organisations and places by capitalised names
(`entities.names_with_text`), with organisation and place words telling those apart where they can.
"""

from __future__ import annotations

import re

from msiqa.query.entities import names_with_text

PERSON, ORGANISATION, PLACE, DATE, NUMBER, MONEY, REASON = (
    "person",
    "organisation",
    "place",
    "date",
    "number",
    "money",
    "reason",
)
FACTOID_TYPES = (PERSON, ORGANISATION, PLACE, DATE, NUMBER, MONEY)

_ORG_NOUNS = (
    r"organi[sz]ations?|compan(?:y|ies)|firms?|brands?|ngos?|groups?|bod(?:y|ies)|institutions?|"
    r"agenc(?:y|ies)|initiatives?|msis?|schemes?|unions?|coalitions?|networks?|governments?|"
    r"corporations?|retailers?|businesses|law firms?|publishers?|universit(?:y|ies)|clinics?|"
    r"ministr(?:y|ies)|countries|partners?|members?|donors?|funders?|sponsors?"
)
_PLACE_NOUNS = (
    r"countr(?:y|ies)|cit(?:y|ies)|towns?|regions?|provinces?|states?|places?|continents?|locations?"
)
_PERSON_NOUNS = (
    r"person|people|individuals?|authors?|researchers?|officials?|spokes\w+|journalists?|chair\w*|"
    r"directors?|ministers?|ceo|founders?|lawyers?|coordinators?|presidents?|leaders?|heads?|experts?|"
    r"academics?|professors?|mayors?|staff"
)
_MONEY_VERBS = (
    r"cost|costs|pay|paid|fund|funded|spend|spent|budget|worth|charge|charged|fee|fine|fined|earn|earned|"
    r"raise|raised"
)
_MONEY_NOUNS = r"fees?|cost|price|budget|salary|wages?|fine|funding|amount of money|revenue|income|turnover"
_ASKS = (
    (
        REASON,
        re.compile(
            r"^\s*why\b|\bwhat (?:makes|made|prompted|led|causes?|caused|explains?|drove)\b"
            r"|\bfor what reason\b|\bhow come\b",
            re.I,
        ),
    ),
    (
        MONEY,
        re.compile(
            rf"\bhow much\b.*\b(?:{_MONEY_VERBS})\b|\bhow much (?:money|revenue|funding)\b|"
            rf"\bwhat (?:is |was |are |were )?(?:the )?"
            r"(?:(?!(?:did|does|do|is|was|were|are|has|have|had|can|could|will|would|should)\b)[\w-]+ ){0,2}"
            rf"(?:{_MONEY_NOUNS})\b",
            re.I,
        ),
    ),
    (
        NUMBER,
        re.compile(
            r"\bhow many\b"
            r"|\bwhat (?:is |was )?(?:the )?(?:number|share|percentage|proportion|per ?cent|total)\b"
            r"|\bhow (?:large|big|much of)\b",
            re.I,
        ),
    ),
    (
        DATE,
        re.compile(
            r"\bwhen\b|\b(?:what|which) (?:year|date|decade|month|day|century)\b|\bin what year\b"
            r"|\bhow long ago\b",
            re.I,
        ),
    ),
    (
        PLACE,
        re.compile(
            rf"\bwhere\b(?!\s+(?:can|could|do|should|would|may)\s+(?:i|we|you|one|people)\b)|"
            rf"\b(?:what|which|in which|in what) (?:[\w-]+ )?(?:{_PLACE_NOUNS})\b",
            re.I,
        ),
    ),
    (
        ORGANISATION,
        re.compile(
            rf"\b(?:what|which|whose) "
            r"(?:(?!(?:did|does|do|is|was|were|are|has|have|had|can|could|will|would|should)\b)[\w-]+ ){0,2}"
            rf"(?:{_ORG_NOUNS})\b"
            r"|\bwho (?:funds|funded|runs|ran|publishes|published|hosts|hosted"
            r"|sponsors|sponsored|owns|owned)\b",
            re.I,
        ),
    ),
    (
        PERSON,
        re.compile(
            r"^\s*(?:\w+\s+){0,3}?who(?:m|se)?\b|\b(?:which|what) "
            r"(?:(?!(?:did|does|do|is|was|were|are|has|have|had|can|could|will|would|should)\b)[\w-]+ ){0,2}"
            rf"(?:{_PERSON_NOUNS})\b"
            rf"|\bname of the (?:[\w-]+ )?(?:{_PERSON_NOUNS})\b",
            re.I,
        ),
    ),
)

_NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
    r"hundred|hundreds|thousand|thousands|million|millions|billion|dozens?|half|third|quarter|several"
)
_HAS = {
    NUMBER: re.compile(rf"\d|\b(?:{_NUMBER_WORDS})\b|%|\bper ?cent\b", re.I),
    DATE: re.compile(
        r"\b(?:1[6-9]|20)\d\d(?:s)?\b|\b(?:january|february|march|april|may|june|july|august|september|"
        r"october|november|december)\b|\b(?:decades?|centur(?:y|ies)|years? (?:ago|later|earlier)|"
        r"since|until|last year|this year|today|recently|yesterday)\b",
        re.I,
    ),
    MONEY: re.compile(
        r"[$€£¥]\s?\d|\b\d[\d,.]*\s?(?:dollars|euros?|pounds|usd|eur|gbp|cents?)\b|"
        r"\b(?:dollars|euros|million|billion)\b.*\b(?:funding|fund|paid|pay|cost|budget|fee|fine|worth)\b|"
        r"\b(?:funding|paid|pay|cost|budget|fee|fine|worth)\b.*\b(?:dollars|euros|million|billion)\b",
        re.I,
    ),
    REASON: re.compile(
        r"\b(?:because|since|due to|owing to|in response to|as a result|thanks to|in order to|so that|"
        r"leads? to|led to|results? in|resulted in|the reason|this is why|therefore|thus|hence)\b",
        re.I,
    ),
}
_ORG_WORDS = re.compile(
    r"\b(?:organi[sz]ation|company|companies|group|institute|council|coalition|campaign|union|clinic|"
    r"association|foundation|initiative|process|scheme|program(?:me)?|forum|agency|ministry|network|"
    r"alliance|partnership|accord|bank|fund|commission|committee|integrity|inc|ltd|corp\w*|llp|day)\b",
    re.I,
)
_PLACE_CUE = re.compile(
    r"\b(?:in|from|across|of|at|near) ((?:the )?[A-Z][\w’'-]+(?: [A-Z][\w’'-]+)*)"  # "in West Kalimantan"
    r"|^((?:[A-Z][\w’'-]+ ?)+), [A-Z][\w’'-]+"  # a dateline or address: "Berkeley, California, ..."
)


_IDENTITY = re.compile(r"^\s*(?i:who\s+(?:is|was|are|were))\s+(?:the\s+)?(?:[A-Z][\w’'-]*\s*)+\??\s*$")


def asked_type(question: str) -> str | None:
    """The answer type `question` asks for, or None for open questions (what/how/describe...). "Who is
    Gerardo Reyes?" asks what a named person is, not for a name: open."""
    if _IDENTITY.match(question):
        return None
    for kind, pattern in _ASKS:
        if pattern.search(question):
            return kind
    return None


def names_in(text: str) -> list[str]:
    """Capitalised names in `text` as written (acronyms included)."""
    return [written for _, written in names_with_text(text)]


def has_type(text: str, kind: str | None, question: str = "") -> bool:
    """Whether `text` carries an answer of `kind`. Names the question itself uses don't count: a
    sentence that only repeats "the EITI" names no one new."""
    if kind is None:
        return False
    if kind in _HAS:
        return bool(_HAS[kind].search(text))
    asked = {n.lower() for n in names_in(question)}
    names = [n for n in names_in(text) if n.lower() not in asked]
    if kind == ORGANISATION:
        return any(_ORG_WORDS.search(n) or n.isupper() for n in names)
    if kind == PLACE:
        return any((m.group(1) or m.group(2) or "").strip() in names for m in _PLACE_CUE.finditer(text))
    if kind == PERSON:  # a person or, for "who" questions, the organisation acting
        return bool(names)
    return False
