"""Hits -> an `Answer` of quoted sentences, each cited `[n]`, or an explicit abstention.

Every sentence of the retrieved passages is scored by the learned selector (`candidates.py`,
`selector.py`). The answer opens with the sentence most likely to answer the question; more sentences
follow while they stay likely enough (`Settings.answer_relative_probability`,
`answer_min_probability`), within the sentence and word budget, with near-duplicates dropped. A chosen
sentence brings the neighbour it leans on: "Each of these three factors ..." brings the sentence before
it, and a "However, ..." right after it comes along, so no quote misleads by leaving out its
qualification. Reading order applies only among sentences quoted from the same source. The first
sentence from each source says who is speaking ("Jaff Bamenjo (blog post): ..."). Every citation quotes
one sentence exactly, with its document offsets (a dangling quotation mark is trimmed off the span, not
the text). When the documents don't answer (`abstain.py`), the reply says so, says what is missing
when it can, and shows the closest passages. In a conversation, sentences the previous answer already
quoted give way to new ones; when there are none, a note says so.
Deliberately left out: free-text generation (`generate.py`), conversation memory (`query/conversation.py`).
"""

from __future__ import annotations

import re

import numpy as np

from msiqa.answer.abstain import NOT_COVERED, decide, scope_word
from msiqa.answer.candidates import Candidate, candidates, question_row
from msiqa.answer.features import FEATURES
from msiqa.answer.selector import Selector, load
from msiqa.config import Settings
from msiqa.errors import InvalidQuestion
from msiqa.indexing.store import LoadedIndex
from msiqa.ingest.chunking import page_of, paragraph_of
from msiqa.query.answer_types import asked_type
from msiqa.retrieval import Retrieval
from msiqa.types import Answer, AnswerSentence, Chunk, Citation, Document, Span

DUPLICATE_COSINE = 0.92  # a sentence this close to one already chosen adds nothing
MAX_NEIGHBOURS = 2  # sentences a chosen one brings along (within the sentence budget)
REPEAT_NOTE = (
    "The documents say nothing more on this than the previous answer; its passages are quoted again."
)
_LEANS_BACK, _QUALIFIES = FEATURES.index("leans_back"), FEATURES.index("qualifies")
_OUTRIGHT = FEATURES.index("answered_outright")
_OPEN_QUOTES, _CLOSE_QUOTES = "“‘", "”’"


def trim_quotes(text: str, span: Span) -> Span:
    """Drop an opening (closing) quotation mark from the span when the sentence never closes (opens) it."""
    start, end = span.start, span.end
    piece = text[start:end]
    opens, closes = sum(piece.count(q) for q in _OPEN_QUOTES), sum(piece.count(q) for q in _CLOSE_QUOTES)
    if piece[:1] in _OPEN_QUOTES and opens > closes:
        start += 1
    elif piece[-1:] in _CLOSE_QUOTES and closes > opens and end - start > 1:
        end -= 1
    while start < end and text[start].isspace():
        start += 1
    return Span(start, end)


def speaker(doc: Document) -> str:
    """Who is speaking in a document: author (or publisher, or title) and the kind of source."""
    who = doc.author or doc.publisher or doc.title
    return f"{who} ({doc.kind})" if doc.kind else who


def validate_question(question: str, max_chars: int) -> str:
    text = (question or "").strip()
    if not text:
        raise InvalidQuestion("The question is empty. Type a question about the MSI documents.")
    if len(text) > max_chars:
        raise InvalidQuestion(
            f"The question is {len(text):,} characters long; the limit is {max_chars:,}. "
            "Shorten it to the part you want answered."
        )
    if not re.search(r"\w", text):
        raise InvalidQuestion("The question has no words to search for. Ask it in words.")
    return text


def reference(doc: Document, paragraph: int, page: int | None = None) -> str:
    """A copyable reference: author, “title”, publisher (series), date (or year), paragraph (and page),
    and the web address when the document has one."""
    parts = [doc.author] if doc.author else []
    parts.append(f"“{doc.title}”")
    parts += [doc.publisher or "", doc.series or ""]
    parts.append(doc.date or doc.year or "n.d.")
    parts.append(f"p. {page}, para. {paragraph}" if page else f"para. {paragraph}")
    text = ", ".join(p for p in parts if p) + "."
    return f"{text} {doc.url}" if doc.url else text


def _same_paragraph(doc: Document, a: Span, b: Span) -> bool:
    return paragraph_of(doc.text, a.start) == paragraph_of(doc.text, b.start)


def neighbours(chosen: Candidate, by_row: dict[int, Candidate]) -> tuple[list[Candidate], list[Candidate]]:
    """The sentences `chosen` brings along: the one before when it leans back on it, the one after when
    that one qualifies it ("However, ...")."""
    before, after = [], []
    prev, nxt = by_row.get(chosen.row - 1), by_row.get(chosen.row + 1)
    if chosen.features[_LEANS_BACK] and prev and prev.doc is chosen.doc and prev.quotable:
        if _same_paragraph(chosen.doc, prev.span, chosen.span):
            before.append(prev)
    if nxt and nxt.doc is chosen.doc and nxt.features[_QUALIFIES] and nxt.quotable:
        if _same_paragraph(chosen.doc, nxt.span, chosen.span):
            after.append(nxt)
    return before, after


def select(
    cands: list[Candidate], index: LoadedIndex, settings: Settings, exclude: frozenset = frozenset()
) -> tuple[list[Candidate], bool]:
    """The sentences to quote, best first (reading order within a source), and whether they only
    repeat `exclude` (the previous answer's quotes)."""
    usable = [c for c in cands if c.quotable] or cands
    # a line that answers the question outright (a byline for "who wrote", a contact entry, a web
    # address for "where online") comes first; then by the selector's probability
    ranked = sorted(usable, key=lambda c: (-c.features[_OUTRIGHT], -c.probability, c.row))
    repeated = False
    if exclude:  # a follow-up leads with what the previous answer did not quote
        fresh = [c for c in ranked if c.key not in exclude]
        floor = settings.answer_relative_probability * ranked[0].probability
        if fresh and fresh[0].probability >= max(floor, settings.answer_min_probability):
            ranked = fresh + [c for c in ranked if c.key in exclude]
        else:
            repeated = True
    best = max(c.probability for c in ranked)
    keep = max(settings.answer_min_probability, settings.answer_relative_probability * best)
    by_row = {c.row: c for c in cands}
    units: list[list[Candidate]] = []
    taken: set[int] = set()
    words = 0
    for cand in ranked:
        room = settings.answer_max_sentences - len(taken)
        if room <= 0:
            break
        if units and cand.probability < keep:
            continue
        if cand.row in taken or any(
            float(index.sentence_vectors[cand.row] @ index.sentence_vectors[r]) > DUPLICATE_COSINE
            for r in taken
        ):
            continue
        before, after = neighbours(cand, by_row)
        extra = [c for c in before + after if c.row not in taken][: min(MAX_NEIGHBOURS, room - 1)]
        unit = sorted([cand, *extra], key=lambda c: c.span.start)
        unit_words = sum(len(c.text.split()) for c in unit)
        if units and words + unit_words > settings.answer_max_words:  # neighbours count too
            continue
        units.append(unit)
        taken |= {c.row for c in unit}
        words += unit_words
    return order(units), repeated


def order(units: list[list[Candidate]]) -> list[Candidate]:
    """The best unit first; then the rest of its source in reading order; then each other source (in
    order of its best unit) in reading order."""
    if not units:
        return []
    first, rest = units[0], units[1:]
    by_doc: dict[str, list[list[Candidate]]] = {}
    for unit in rest:
        by_doc.setdefault(unit[0].doc.doc_id, []).append(unit)
    out = list(first)
    doc_order = [first[0].doc.doc_id] + [d for d in by_doc if d != first[0].doc.doc_id]
    for doc_id in doc_order:
        for unit in sorted(by_doc.get(doc_id, []), key=lambda u: u[0].span.start):
            out += unit
    return out


def compose(
    question: str,
    retrieval: Retrieval,
    index: LoadedIndex,
    settings: Settings,
    selector: Selector | None = None,
    filtered: bool = False,
    previous: frozenset = frozenset(),
) -> Answer:
    """Answer `question` from `retrieval` (sentences are scored against the search query actually run).
    `filtered`: a document or kind filter is on (the messages say "the selected documents").
    `previous`: (doc_id, start, end) of the sentences the previous answer quoted."""
    selector = selector or load()
    cands = candidates(retrieval.query, retrieval, index, selector)
    asked = asked_type(retrieval.query)
    probability = float(
        selector.answer.probability(np.asarray([question_row(retrieval.query, retrieval, cands, index)]))[0]
    )
    decision = decide(retrieval.query, retrieval, probability, selector.answer_threshold, asked, filtered)
    if not cands or decision.abstain:
        text = decision.reason or f"{scope_word(filtered)} {NOT_COVERED}."
        return Answer(question, text, True, (), (), retrieval.hits, retrieval.query)
    chosen, repeated = select(cands, index, settings, previous)
    citations: list[Citation] = []
    sentences: list[AnswerSentence] = []
    previous_doc = None
    for n, cand in enumerate(chosen, start=1):
        citation = cite(n, cand.doc, index.chunks[cand.chunk_row], cand.span)
        lead = f"{speaker(cand.doc)}: " if cand.doc.doc_id != previous_doc else ""
        previous_doc = cand.doc.doc_id
        citations.append(citation)
        sentences.append(AnswerSentence(f"{lead}{citation.quote} [{n}]", (n,)))
    text = " ".join(s.text for s in sentences)
    notes = (REPEAT_NOTE,) if repeated else ()
    return Answer(
        question, text, False, tuple(sentences), tuple(citations), retrieval.hits, retrieval.query, notes
    )


def cite(n: int, doc: Document, chunk: Chunk, span: Span) -> Citation:
    """Citation `n` quoting `doc.text` at `span` (quotation marks trimmed), with paragraph and reference."""
    span = trim_quotes(doc.text, span)
    paragraph = paragraph_of(doc.text, span.start)
    return Citation(
        n,
        doc,
        chunk,
        span.start,
        span.end,
        doc.text[span.start : span.end],
        paragraph,
        reference(doc, paragraph, page_of(doc, span.start)),
    )  # the quote's page, not the chunk's first
