""""How many X?" questions and the things a text counts (pure functions).

A question like "How many farms take part in the Fair Food Program?" can only be answered by a passage
that puts a number on farms. When no passage near the question's names counts anything like the thing
asked about, the documents do not give the figure, however close the other words are: msiqa says so
instead of quoting sentences about other numbers. `counted_noun` finds the counted thing of a one-part
how-many question ("farms"); `counted_words` lists the words that follow a number in a text
("over 2 million workers" -> "million", "workers"). Whether a counted word means the same thing
("firms" / "companies") is decided by the caller with word vectors (`retrieval.uncounted`).
Deliberately left out: questions of several parts ("How many X, and which Y?"): one part may be
answerable, so they are never refused on this ground.
"""

from __future__ import annotations

import re

_HOW_MANY = re.compile(r"\bhow many ((?:[a-z][\w-]* ){0,3}?[a-z][\w-]*s)\b", re.I)
# A second question joined to the first: "..., and which one ...?", "...; what ...?"
_MORE_PARTS = re.compile(r"\b(and|or|but) (what|which|how|who|whom|whose|why|when|where|is|are|does|do|did)\b|;",
                         re.I)
_NUMBER = (r"(?:\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty"
           r"|forty|fifty|hundred|thousand|million|billion|dozen|several|few|many)")
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
