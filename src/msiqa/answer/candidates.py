"""Retrieved passages -> scored candidate sentences.

Every sentence of every hit becomes a `Candidate` with its feature row (`features.py`) and the learned
selector's probability that it answers the question (`selector.py`). Contact entries (name, e-mail,
phone) share one probability so an answer quotes the whole entry.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, replace

import numpy as np

from msiqa.answer.features import (
    FEATURES,
    QuestionContext,
    SentenceContext,
    Shared,
    context_vector,
    features,
    question_context,
)
from msiqa.answer.lines import Asks, contact_lines, quotable, side_line
from msiqa.answer.selector import Selector
from msiqa.indexing.boilerplate import repeated_sentences
from msiqa.indexing.store import LoadedIndex, term_list, terms
from msiqa.indexing.tokens import TokenVectors, best_matches, mean_best, piece_words, question_content
from msiqa.ingest.chunking import blocks
from msiqa.query.answer_types import FACTOID_TYPES, asked_type
from msiqa.retrieval import Retrieval
from msiqa.types import Document, Span


@dataclass(frozen=True)
class Candidate:
    row: int  # sentence row in the index
    span: Span
    doc: Document
    chunk_row: int
    text: str
    cosine: float
    features: tuple[float, ...]
    probability: float = 0.0
    quotable: bool = True  # False for headings, titles and questions

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.doc.doc_id, self.span.start, self.span.end)


_IDF_CACHE: dict[int, tuple[object, dict[str, float], float]] = {}


def idf_table(index: LoadedIndex) -> tuple[dict[str, float], float]:
    """IDF of every content-word stem over the index's passages, and the IDF of an unseen word."""
    cached = _IDF_CACHE.get(id(index))
    if cached is None or cached[0] is not index:
        df: dict[str, int] = {}
        for chunk in index.chunks:
            for term in terms(chunk.text):
                df[term] = df.get(term, 0) + 1
        n = len(index.chunks)
        table = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        cached = (index, table, math.log(1 + (n + 0.5) / 0.5))
        _IDF_CACHE.clear()
        _IDF_CACHE[id(index)] = cached
    return cached[1], cached[2]


@dataclass(frozen=True)
class QuestionPieces:
    """The question's word-piece vectors the late-interaction features compare with each sentence's."""

    vectors: np.ndarray  # every piece
    content: np.ndarray  # mask: content words' pieces
    focus: np.ndarray  # mask: ... without the names the question mentions (what it asks about them)
    focus_weights: np.ndarray  # each focus piece's word's IDF: a rare word weighs more

    def interactions(self, index: LoadedIndex, rows: range) -> tuple[np.ndarray, np.ndarray]:
        """`late_interaction` and `focus_interaction` of each sentence of `rows`."""
        if not self.content.any() or index.sentence_tokens is None or index.token_offsets is None:
            return np.zeros(len(rows)), np.zeros(len(rows))
        best = best_matches(self.vectors, index.sentence_tokens, index.token_offsets, rows)
        return mean_best(best[self.content]), mean_best(best[self.focus], self.focus_weights)


def question_pieces(
    tokens: TokenVectors | None, q: QuestionContext, idf: dict[str, float], unseen_idf: float
) -> QuestionPieces:
    if tokens is None or not len(tokens.pieces):
        return QuestionPieces(
            np.zeros((0, 0), dtype=np.float32), np.zeros(0, bool), np.zeros(0, bool), np.zeros(0)
        )
    content = question_content(tokens)
    focus = question_content(tokens, frozenset(w for name in q.names for w in name))
    words = piece_words(tokens.pieces)
    weights = np.asarray(
        [
            max((idf.get(t, unseen_idf) for t in terms(w)), default=unseen_idf)
            for w, f in zip(words, focus, strict=True)
            if f
        ]
    )
    return QuestionPieces(tokens.vectors, content, focus, weights)


def pairs_of(words: list[str]) -> frozenset[tuple[str, str]]:
    return frozenset(zip(words, words[1:], strict=False))


def doc_named(question_terms: frozenset[str], doc: Document) -> bool:
    """The question names the document: its author's or publisher's name, its kind, or its title words
    ("according to the press release", "in Miedema's post")."""
    about = " ".join(x for x in (doc.author, doc.publisher, doc.kind) if x)
    return bool(question_terms & terms(about))


def _ranks(values: list[float]) -> list[int]:
    """1 for the largest value; ties share the better rank."""
    ordered = sorted(values, reverse=True)
    return [ordered.index(v) + 1 for v in values]


def _paragraph_position(
    doc: Document, span: Span, starts: list[int], doc_spans: list[Span]
) -> tuple[int, int]:
    """(index of the sentence in its paragraph, sentences in the paragraph) among `doc_spans`."""
    para = bisect.bisect_right(starts, span.start)
    lo = starts[para - 1] if para else 0
    hi = starts[para] if para < len(starts) else len(doc.text) + 1
    same = [s for s in doc_spans if lo <= s.start < hi]
    return next((i for i, s in enumerate(same) if s == span), 0), len(same)


def candidates(
    question: str, retrieval: Retrieval, index: LoadedIndex, selector: Selector | None
) -> list[Candidate]:
    """Every sentence of the hits, with features and the selector's probability (0 without one)."""
    asks = Asks.of(question)
    question_words = term_list(question)
    q = question_context(question, frozenset(question_words), asked_type(question), pairs_of(question_words))
    idf, unseen_idf = idf_table(index)
    q_weight = sum(idf.get(t, unseen_idf) for t in q.terms)
    pieces = question_pieces(retrieval.query_tokens, q, idf, unseen_idf)
    raw: list[tuple[Candidate, SentenceContext, frozenset[str]]] = []
    repeated = repeated_sentences(index)
    contact_flags: list[bool] = []
    for hit in retrieval.hits:
        chunk_row = index.chunk_rows[hit.chunk.chunk_id]
        rows = index.sentence_rows(chunk_row)
        if not len(rows):
            continue
        doc = hit.document
        vectors = index.sentence_vectors[rows.start : rows.stop]
        cosines = vectors @ retrieval.query_vector
        spans = [index.sentence_spans[row] for row in rows]
        texts = [doc.text[span.start : span.end] for span in spans]
        contact = contact_lines(texts) if asks.contact else [False] * len(texts)
        block_list = blocks(doc.text)
        starts = [b.start for b in block_list]
        last_start = block_list[-1].start if block_list else 0
        late, focus = pieces.interactions(index, rows)
        for i, (row, span, text) in enumerate(zip(rows, spans, texts, strict=True)):
            neighbours = [float(cosines[j]) for j in (i - 1, i + 1) if 0 <= j < len(texts)]
            position, count = _paragraph_position(doc, span, starts, spans)
            title_line = not doc.text[: span.start].strip()  # the document's first line: its title
            # a title answers "what is the headline of X's piece?" only when the question names X
            outright = asks.answered_outright(text, contact[i], title_line and doc_named(q.terms, doc))
            context = SentenceContext(
                text=text,
                cosine=float(cosines[i]),
                context_cosine=float(context_vector(vectors, i) @ retrieval.query_vector),
                neighbour_cosine=max(neighbours, default=float(cosines[i])),
                passage_rank=hit.rank,
                index_in_paragraph=position,
                paragraph_sentences=count,
                in_last_paragraph=span.start >= last_start,
                late_interaction=float(late[i]),
                focus_interaction=float(focus[i]),
                repeated_elsewhere=bool(repeated[row]),
                side_line=side_line(text, asks.author) and not outright,
                quotable=outright or quotable(doc, text),
                answered_outright=outright,
                is_title=title_line,
            )
            cand = Candidate(row, span, doc, chunk_row, text, float(cosines[i]), (), 0.0, context.quotable)
            raw.append((cand, context, terms(text)))
            contact_flags.append(contact[i])
    if not raw:
        return []
    best = max(c.cosine for c, _, _ in raw)
    idf_overlaps = [
        sum(idf.get(w, unseen_idf) for w in q.terms & t) / q_weight if q_weight else 0.0 for _, _, t in raw
    ]
    cosine_ranks, overlap_ranks = _ranks([c.cosine for c, _, _ in raw]), _ranks(idf_overlaps)
    named = {
        d: doc_named(q.terms, raw_doc) for d, raw_doc in {c.doc.doc_id: c.doc for c, _, _ in raw}.items()
    }
    rows_x = np.asarray(
        [
            features(
                q,
                ctx,
                t,
                best,
                Shared(
                    idf_overlaps[i],
                    len(q.pairs & pairs_of(term_list(c.text))) / len(q.pairs) if q.pairs else 0.0,
                    cosine_ranks[i],
                    overlap_ranks[i],
                    named[c.doc.doc_id],
                ),
            )
            for i, (c, ctx, t) in enumerate(raw)
        ],
        dtype=np.float64,
    )
    probs = selector.sentence.probability(rows_x) if selector else np.zeros(len(raw))
    out = [
        replace(c, features=tuple(float(v) for v in x), probability=float(p))
        for (c, _, _), x, p in zip(raw, rows_x, probs, strict=True)
    ]
    return entries_scored_together(out, contact_flags)


def entries_scored_together(scored: list[Candidate], contact: list[bool]) -> list[Candidate]:
    """Give each run of consecutive contact lines (name, e-mail, phone) their mean probability, so that
    an answer quotes the whole entry rather than an address without the name."""
    out = list(scored)
    i = 0
    while i < len(out):
        j = i
        while j < len(out) and contact[j]:
            j += 1
        if j > i:
            mean = sum(c.probability for c in out[i:j]) / (j - i)
            out[i:j] = [replace(c, probability=mean) for c in out[i:j]]
        i = j + 1
    return out


def question_row(
    question: str, retrieval: Retrieval, cands: list[Candidate], index: LoadedIndex
) -> list[float]:
    """The features of the decision to answer at all (`selector.QUESTION_FEATURES`, in order)."""
    q = question_context(question, terms(question), asked_type(question))
    usable = [c for c in cands if c.quotable] or cands
    by_probability = sorted(usable, key=lambda c: -c.probability)
    probs = [c.probability for c in by_probability] or [0.0]
    typed_i, subject_i = FEATURES.index("type_present"), FEATURES.index("names_subject")
    overlap_i, outright_i = FEATURES.index("idf_overlap"), FEATURES.index("answered_outright")
    factoid = q.asked in FACTOID_TYPES
    typed = [c.probability for c in usable if c.features[typed_i] > 0] if factoid else probs
    subject = [c.probability for c in usable if c.features[subject_i] > 0] if q.names else probs
    idf, unseen = idf_table(index)
    seen_in_hits: set[str] = set()
    for c in cands:
        seen_in_hits |= terms(c.text)
    missing = [idf.get(t, unseen) / unseen for t in q.terms - seen_in_hits]
    total = sum(idf.get(t, unseen) for t in q.terms)
    never_in_corpus = sum(unseen for t in q.terms if t not in idf) / total if total else 0.0
    return [
        probs[0],
        probs[1] if len(probs) > 1 else 0.0,
        max((c.cosine for c in cands), default=0.0),
        retrieval.term_coverage,
        float(factoid),
        max(typed, default=0.0),
        max(subject, default=0.0),
        max((c.features[overlap_i] for c in usable), default=0.0),
        by_probability[0].features[overlap_i] if by_probability else 0.0,
        max(missing, default=0.0),
        never_in_corpus,
        max((c.features[outright_i] for c in usable), default=0.0),
    ]
