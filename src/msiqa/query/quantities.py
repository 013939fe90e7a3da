"""Questions that ask for a figure, and the figures a text gives (pure functions).

A question like "How many farms take part in the Fair Food Program?" can only be answered by a passage
that puts a number on farms; "What fee do brands pay to join the Accord?" only by one that states an
amount of money. When no passage near the question's names gives such a figure, the documents do not
answer it, however close the other words are: msiqa says so instead of quoting sentences about other
numbers (`retrieval.missing_answer`). `counted_phrase` finds the counted thing of a one-part how-many
question ("member companies"); `counted_words` lists the words that follow a number in a text
("over 2 million workers" -> "million", "workers"); whether a counted word means the same thing
("firms" / "companies") is decided by the caller with word vectors. `asks_amount` / `states_amount` do
the same for sums of money. Deliberately left out: questions of several parts ("How many X, and which
Y?"): one part may be answerable, so they are never refused on this ground.
"""

from __future__ import annotations

import re

_HOW_MANY = re.compile(r"\bhow many ((?:[a-z][\w-]* ){0,3}?[a-z][\w-]*s)\b", re.I)
# A second question joined to the first: "..., and which one ...?", "...; what ...?"
_MORE_PARTS = re.compile(
    r"\b(and|or|but) (what|which|how|who|whom|whose|why|when|where|is|are|does|do|did)\b|;", re.I
)
_NUMBER = (
    r"(?:\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty"
    r"|forty|fifty|hundred|thousand|million|billion|dozen)"
)
# "How much does a copy cost?", "What membership fee do brands pay?"
_AMOUNT_QUESTION = re.compile(
    r"\bhow much\b.*\b(cost|costs|pay|pays|paid|charge|charges|charged)\b"
    r"|\bwhat (?:[a-z]+ )?(fee|fees|price|prices)\b|\bhow much money\b",
    re.I,
)
_AMOUNT = re.compile(
    r"[$€£¥]\s?\d|\b\d[\d,.]*\s?(million |billion )?(dollars|euros|pounds|usd|eur|gbp)\b"
    r"|\b(usd|eur|gbp)\s?\d",
    re.I,
)
# A number and the (up to) three words after it: "235-page report", "over 2 million workers".
_COUNT = re.compile(rf"\b{_NUMBER}\b((?:[-\s]+[A-Za-z][\w’'-]*){{1,3}})", re.I)
_WORD = re.compile(r"[A-Za-z][\w’']*")


def counted_phrase(question: str) -> str | None:
    """What a one-part "how many ...?" question counts, as written ("member companies"), or None."""
    matches = list(_HOW_MANY.finditer(question))
    if len(matches) != 1 or _MORE_PARTS.search(question):
        return None
    return matches[0].group(1)


def counted_noun(question: str) -> str | None:
    """The plural noun a one-part "how many ...?" question counts ("companies"), or None."""
    phrase = counted_phrase(question)
    return phrase.split()[-1].lower() if phrase else None


def counted_words(text: str) -> list[str]:
    """Lower-cased words within three words after a number in `text`."""
    return [w.lower() for m in _COUNT.finditer(text) for w in _WORD.findall(m.group(1))]


def asks_amount(question: str) -> bool:
    """Whether a one-part question asks for a sum of money ("How much does it cost?")."""
    return bool(_AMOUNT_QUESTION.search(question)) and not _MORE_PARTS.search(question)


def states_amount(text: str) -> bool:
    """Whether `text` states a sum of money ("$0", "5 million euros")."""
    return bool(_AMOUNT.search(text))
