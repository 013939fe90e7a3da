"""Hits -> an `Answer` of quoted sentences, each cited `[n]`, or an explicit abstention.

Sentences are scored against the question with vectors stored at build time (no model call here):
cosine similarity plus a bonus for shared content words. The best few are kept, near-duplicates
dropped, and they are ordered by document and position so the reply reads in the source's order.
Every citation quotes one sentence exactly, with its document offsets. When the evidence is too weak
(`should_abstain`), msiqa says the documents do not cover the question and lists the closest passages.
Deliberately left out: free-text generation (see `llm.py`), conversation memory.
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass

import numpy as np

from msiqa.chunking import blocks
from msiqa.config import Settings
from msiqa.errors import InvalidQuestion
from msiqa.retrieval import Retrieval
from msiqa.store import LoadedIndex, terms
from msiqa.types import Answer, AnswerSentence, Citation, Document, Span

ABSTAIN_TEXT = ("The documents don't cover this question. The closest passages are listed below, "
                "but they are not an answer.")
LEXICAL_BONUS = 0.25  # weight of the share of question terms a sentence contains
DUPLICATE_COSINE = 0.92
SCORE_MARGIN = 0.12  # keep sentences within this much of the best sentence's score


@dataclass(frozen=True)
class Candidate:
    row: int  # sentence row in the index
    span: Span
    doc: Document
    chunk_row: int
    score: float
    cosine: float


def validate_question(question: str, max_chars: int) -> str:
    text = (question or "").strip()
    if not text:
        raise InvalidQuestion("The question is empty. Type a question about the MSI documents.")
    if len(text) > max_chars:
        raise InvalidQuestion(f"The question is {len(text):,} characters long; the limit is {max_chars:,}. "
                              "Shorten it to the part you want answered.")
    if not re.search(r"\w", text):
        raise InvalidQuestion("The question has no words to search for. Ask it in words.")
    return text


@functools.lru_cache(maxsize=256)
def _block_starts(text: str) -> tuple[int, ...]:
    return tuple(b.start for b in blocks(text))


def paragraph_of(doc: Document, offset: int) -> int:
    return max(1, bisect.bisect_right(_block_starts(doc.text), offset))


def reference(doc: Document, paragraph: int, page: int | None = None) -> str:
    """A copyable reference: author, “title”, publisher (series), date, paragraph (and page)."""
    parts = [doc.author] if doc.author else []
    parts.append(f"“{doc.title}”")
    parts += [doc.publisher or "", doc.series or ""]
    parts.append(doc.date or "n.d.")
    parts.append(f"p. {page}, para. {paragraph}" if page else f"para. {paragraph}")
    return ", ".join(p for p in parts if p) + "."


def candidates(question: str, retrieval: Retrieval, index: LoadedIndex) -> list[Candidate]:
    query_terms = terms(question)
    out: list[Candidate] = []
    for hit in retrieval.hits:
        chunk_row = index.chunk_rows[hit.chunk.chunk_id]
        rows = index.sentence_rows(chunk_row)
        if not len(rows):
            continue
        cosines = index.sentence_vectors[rows.start:rows.stop] @ retrieval.query_vector
        for row, cosine in zip(rows, cosines):
            span = index.sentence_spans[row]
            text = hit.document.text[span.start:span.end]
            overlap = len(query_terms & terms(text)) / len(query_terms) if query_terms else 0.0
            out.append(Candidate(row, span, hit.document, chunk_row, float(cosine) + LEXICAL_BONUS * overlap,
                                 float(cosine)))
    return out


def select(cands: list[Candidate], index: LoadedIndex, settings: Settings) -> list[Candidate]:
    """Best sentences within the margin and word budget, no near-duplicates, in reading order."""
    chosen: list[Candidate] = []
    words = 0
    ranked = sorted(cands, key=lambda c: (-c.score, c.row))
    best = ranked[0].score if ranked else 0.0
    for cand in ranked:
        if len(chosen) >= settings.answer_max_sentences or cand.score < best - SCORE_MARGIN:
            break
        if any(float(index.sentence_vectors[cand.row] @ index.sentence_vectors[c.row]) > DUPLICATE_COSINE
               for c in chosen):
            continue
        n_words = len(cand.doc.text[cand.span.start:cand.span.end].split())
        if chosen and words + n_words > settings.answer_max_words:
            continue
        chosen.append(cand)
        words += n_words
    first_seen = {c.doc.doc_id: i for i, c in reversed(list(enumerate(chosen)))}
    return sorted(chosen, key=lambda c: (first_seen[c.doc.doc_id], c.span.start))


def should_abstain(retrieval: Retrieval, best_sentence_cosine: float, settings: Settings) -> bool:
    """Abstain when neither the best passage nor the best sentence is close enough to the question.

    The two cut-offs are calibrated on the tuning half of the eval set (`msiqa eval --calibrate`).
    """
    top_dense = retrieval.dense.scores[0] if retrieval.dense.scores else 0.0
    return top_dense < settings.min_dense_score or best_sentence_cosine < settings.min_sentence_score


def compose(question: str, retrieval: Retrieval, index: LoadedIndex, settings: Settings) -> Answer:
    cands = candidates(question, retrieval, index)
    best_cosine = max((c.cosine for c in cands), default=0.0)
    if not cands or should_abstain(retrieval, best_cosine, settings):
        return Answer(question, ABSTAIN_TEXT, True, (), (), retrieval.hits, retrieval.query)
    citations: list[Citation] = []
    sentences: list[AnswerSentence] = []
    for n, cand in enumerate(select(cands, index, settings), start=1):
        quote = cand.doc.text[cand.span.start:cand.span.end]
        paragraph = paragraph_of(cand.doc, cand.span.start)
        chunk = index.chunks[cand.chunk_row]
        citations.append(Citation(n, cand.doc, chunk, cand.span.start, cand.span.end, quote, paragraph,
                                  reference(cand.doc, paragraph, chunk.page)))
        sentences.append(AnswerSentence(f"{quote} [{n}]", (n,)))
    text = " ".join(s.text for s in sentences)
    return Answer(question, text, False, tuple(sentences), tuple(citations), retrieval.hits, retrieval.query)
