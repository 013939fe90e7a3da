"""History -> a self-contained retrieval query for a follow-up question.

Rules over the previous turn, tried in order; deterministic, and each resolution names the rule that
fired so the reply can show "Searched for: ...":

1. **source** — "Who wrote that?", "Where is that from?", "When was that published?": asked of the
   documents the previous answer cited; `that` becomes their title(s) and retrieval is restricted to
   them, so the byline passage is found and cited.
2. **new entity** — "And what about the EITI?", "How about the Bangladesh Accord?", "And the FFP?":
   the previous search query with its named entity swapped for the new one ("Why is the EITI
   criticized?"); when the previous query names no entity, the new one is put in front of it.
3. **pronoun** — a short question leaning on it/they/that... with no name of its own ("Why did they
   reject it?"): the previous search query is appended as context.
4. Anything else is self-contained and searched as asked.

Deliberately left out: rewriting with a language model, coreference further back than the previous
turn, and any state: history is passed in by the caller (`Engine.ask(..., history=...)`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from msiqa.indexing.store import terms
from msiqa.types import Answer, Document

Turn = tuple[str, Answer]  # (question as asked, the answer it got)

_SOURCE = re.compile(
    r"^\s*(?:and\s+)?(?:(?:who|which\s+\w+)\s+(?:wrote|write|writes|said|says|say|published|authored|is\s+behind)"
    r"|where\s+(?:is|was|does|did)|when\s+(?:was|is|did)|what\s+(?:source|document)\s+(?:is|was))"
    r"\b.*\b(?P<ref>that|this|it|those|these|them)\b",
    re.I,
)
_NEW_ENTITY = re.compile(  # case-insensitive except that "And X?" needs a capitalised X
    r"^\s*(?i:(?:and\s+)?(?:what|how)\s+about)\s+(?P<x>.+?)\s*\??\s*$"
    r"|^\s*(?i:and\s+(?:for\s+|in\s+)?)(?P<y>(?:(?i:the)\s+)?[A-Z][^?]*?)\s*\??\s*$"
    r"|^\s*(?i:(?:the\s+)?same\s+(?:question\s+)?(?:for|about))\s+(?P<z>.+?)\s*\??\s*$"
)
_PRONOUN = re.compile(r"\b(it|its|they|them|their|this|that|these|those|he|she|his|her)\b", re.I)
_ENTITY = re.compile(r"\b(?:[A-Z][\w’'&-]*(?:\s+(?:of|for|on|and)\s+|\s+))*[A-Z][\w’'&-]*")
_QUESTION_WORDS = {
    "what",
    "why",
    "how",
    "who",
    "when",
    "where",
    "which",
    "does",
    "do",
    "did",
    "is",
    "are",
    "was",
    "were",
    "can",
    "could",
    "should",
    "would",
    "and",
    "according",
    "in",
    "the",
    "a",
    "an",
    "tell",
    "give",
    "list",
    "explain",
    "describe",
    "summarize",
    "summarise",
    "i",
}
MAX_PRONOUN_WORDS = 9  # longer questions carry their own topic
MAX_SOURCE_WORDS = 7  # "Who wrote that?" is short; a long question naming a topic is not about "that"


@dataclass(frozen=True)
class Resolution:
    """What to search for, and why."""

    query: str
    rule: str  # "as asked", "source", "new entity", "pronoun"
    doc_ids: tuple[str, ...] = ()  # restrict retrieval to these documents ("source" rule)
    note: str = ""  # a line for the reply, e.g. which documents "that" refers to


def entities(text: str) -> list[str]:
    """Capitalised names and acronyms in `text`, minus a leading question word ("Why", "The")."""
    out = []
    for match in _ENTITY.finditer(text):
        words = match.group().split()
        while words and words[0].lower() in _QUESTION_WORDS:
            words = words[1:]
        if words:
            out.append(re.sub(r"[’']s$", "", " ".join(words)))
    return out


def _strip_article(text: str) -> str:
    return re.sub(r"^(?:the|a|an)\s+", "", text.strip().rstrip("?.! "), flags=re.I)


def swap_entity(previous_query: str, new: str, old_quotes: Sequence[str] = ()) -> str:
    """The previous query about `new` instead of its first named entity.

    Content words of the previous query that the previous answer's quotes also contain were about the
    old entity ("definition of conflict diamonds" for the Kimberley Process), so they are dropped with
    the function words that led into them; what stays is the question's frame ("Why is ... criticized?").
    """
    from bm25s.stopwords import STOPWORDS_EN

    new = _strip_article(new)
    names = entities(previous_query)
    if not names:
        return f"{new}: {previous_query}"
    swapped = previous_query.replace(names[0], "\0", 1)
    quoted = set().union(*(terms(q) for q in old_quotes)) if old_quotes else set()
    words = swapped.split()
    bare = [re.sub(r"^\W+|\W+$", "", w).lower() for w in words]

    def specific(i: int) -> bool:
        return bare[i] not in STOPWORDS_EN and "\0" not in words[i] and bool(terms(bare[i]) & quoted)

    keep = []
    for i, word in enumerate(words):
        if bare[i] in STOPWORDS_EN:
            following = next((j for j in range(i + 1, len(words)) if bare[j] not in STOPWORDS_EN), None)
            drop = following is not None and specific(following) and i > 0 and specific(i - 1)
        else:
            drop = specific(i)
        if not drop:
            keep.append(word)
        elif re.search(r"[?.!]$", word) and keep:
            keep[-1] += word[-1]
    return " ".join(keep).replace("\0", new)


def source_question(question: str, previous: Answer, ref: str) -> Resolution | None:
    docs: list[Document] = []
    for citation in previous.citations:
        if citation.document.doc_id not in {d.doc_id for d in docs}:
            docs.append(citation.document)
    if not docs:
        return None
    titles = " and ".join(f"“{d.title}”" for d in docs)
    query = re.sub(rf"\b{re.escape(ref)}\b", titles, question, count=1)
    note = "“{}” refers to the previous answer's source(s): {}".format(
        ref,
        "; ".join(f"{d.author or d.publisher or d.title} ({d.kind})" if d.kind else d.title for d in docs),
    )
    return Resolution(query, "source", tuple(d.doc_id for d in docs), note)


def resolve(question: str, history: Sequence[Turn] = ()) -> Resolution:
    """A self-contained retrieval query for `question`, given earlier (question, answer) turns."""
    question = question.strip()
    if not history:
        return Resolution(question, "as asked")
    previous_question, previous = history[-1]
    topical = [a for q, a in history if not _SOURCE.match(q)]  # "Who wrote that?" turns set no topic
    previous_query = (topical[-1].search_query or previous_question) if topical else previous_question
    words = question.split()
    source = _SOURCE.match(question)
    if source and len(words) <= MAX_SOURCE_WORDS:
        found = source_question(question, previous, source.group("ref"))
        if found:
            return found
    follow = _NEW_ENTITY.match(question)
    if follow:
        new = next(g for g in follow.groups() if g)
        quotes = [c.quote for c in (topical[-1] if topical else previous).citations]
        return Resolution(swap_entity(previous_query, new, quotes), "new entity")
    if _PRONOUN.search(question) and len(words) <= MAX_PRONOUN_WORDS and not entities(question):
        return Resolution(f"{question} — {previous_query}", "pronoun")
    return Resolution(question, "as asked")
