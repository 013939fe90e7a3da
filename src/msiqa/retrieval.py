"""Dense (FAISS), lexical (BM25) and hybrid (reciprocal rank fusion) retrieval -> ranked `Hit`s.

The query is embedded once per search; the vector travels with the result so that answer composition
can score stored sentence vectors without a second model call. Filters (`allowed_docs`) restrict every
retriever to chosen documents. Deliberately left out: deciding whether the hits answer the question.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from msiqa.config import RETRIEVERS, Settings
from msiqa.errors import MsiqaError
from msiqa.indexing.boilerplate import duplicate_chunks
from msiqa.indexing.embedding import Embedder
from msiqa.indexing.store import LoadedIndex, bm25_terms, bm25_text, passage_text, tokenize
from msiqa.indexing.store_api import Ranked, search_backend, top_k
from msiqa.indexing.tokens import TokenVectors
from msiqa.query.entities import mentions, named_phrases, names_with_text
from msiqa.query.quantities import asks_amount, counted_noun, counted_phrase, counted_words, states_amount
from msiqa.types import Hit


@dataclass(frozen=True)
class Retrieval:
    query: str
    retriever: str
    hits: tuple[Hit, ...]
    query_vector: np.ndarray
    dense: Ranked  # the dense ranking, kept for abstention even when fusion or BM25 ranked the hits
    term_coverage: float = 0.0  # IDF-weighted share of the query's terms found in the hits (abstention)
    unknown_names: tuple[str, ...] = ()  # names in the query that no searchable passage mentions
    missing_answer: str | None = None  # the figure a query asks for that no passage near its names gives
    query_tokens: TokenVectors | None = (
        None  # the query's word pieces and their vectors (`indexing/tokens.py`)
    )


def without_duplicates(ranked: Ranked, duplicates: dict[int, int]) -> Ranked:
    """`ranked` keeping the best chunk of each group of repeated boilerplate
    (`boilerplate.duplicate_chunks`): the same series footer in four posts takes one place, not four."""
    seen: set[int] = set()
    keep = []
    for i, row in enumerate(ranked.rows):
        group = duplicates.get(row)
        if group is not None:
            if group in seen:
                continue
            seen.add(group)
        keep.append(i)
    return Ranked(tuple(ranked.rows[i] for i in keep), tuple(ranked.scores[i] for i in keep))


def dense_search(index: LoadedIndex, query_vector: np.ndarray, k: int, allowed: np.ndarray | None) -> Ranked:
    return search_backend(index).dense(query_vector, k, allowed)


def sentence_search(
    index: LoadedIndex, query_vector: np.ndarray, k: int, allowed: np.ndarray | None
) -> Ranked:
    """Chunks ranked by their best sentence's cosine (stored sentence vectors; no model call)."""
    best = np.full(len(index.chunks), -np.inf, dtype=np.float32)
    if len(index.sentence_chunk):
        np.maximum.at(best, index.sentence_chunk, index.sentence_vectors @ query_vector)
    if allowed is not None:
        mask = np.full(len(best), -np.inf, dtype=np.float32)
        mask[allowed] = 0.0
        best = best + mask
    ranked = top_k(best, k)
    keep = [i for i, s in enumerate(ranked.scores) if s > -np.inf]
    return Ranked(tuple(ranked.rows[i] for i in keep), tuple(ranked.scores[i] for i in keep))


def bm25_search(index: LoadedIndex, query: str, k: int, allowed: np.ndarray | None) -> Ranked:
    """Chunks ranked by BM25 over words and word pairs, the query's acronyms spelled out as in the index."""
    backend = search_backend(index)
    tokens = backend.known_terms(bm25_terms([bm25_text(query, index.acronyms)])[0])
    if not tokens:
        return Ranked((), ())
    return backend.lexical(tokens, k, allowed)


def rrf(rankings: list[tuple[Ranked, float]], rrf_k: int, k: int) -> Ranked:
    """Weighted reciprocal rank fusion: score(row) = sum of weight / (rrf_k + rank), rank from 1."""
    fused: dict[int, float] = {}
    for ranked, weight in rankings:
        for rank, row in enumerate(ranked.rows, start=1):
            fused[row] = fused.get(row, 0.0) + weight / (rrf_k + rank)
    order = sorted(fused, key=lambda row: (-fused[row], row))[:k]
    return Ranked(tuple(order), tuple(fused[row] for row in order))


def term_coverage(index: LoadedIndex, query: str, rows: list[int]) -> float:
    """IDF-weighted share of the query's distinct terms that occur in the given chunk rows.

    IDF is BM25's (Lucene form) over the chunk table; a term the corpus never uses gets the IDF of a
    term seen zero times, so a question about something the documents never mention scores low even
    when its other words match. Cost: a few sparse-matrix lookups, no model call.
    """
    backend = search_backend(index)
    n_chunks = len(index.chunks)
    chosen = set(rows)
    total = found = 0.0
    for term in set(tokenize([query])[0]):
        containing = backend.rows_with_term(term)
        idf = math.log(1.0 + (n_chunks - len(containing) + 0.5) / (len(containing) + 0.5))
        total += idf
        if chosen.intersection(int(r) for r in containing):
            found += idf
    return found / total if total else 0.0


def unknown_names(
    index: LoadedIndex, query: str, rows: list[int], allowed: np.ndarray | None
) -> tuple[str, ...]:
    """Names in `query` (see `entities.py`) that neither the hits nor BM25's best passages for the name
    itself mention: the documents cannot answer a question about something they never name.
    Cost: one BM25 lookup per name not already in the hits."""

    def passage(row: int) -> str:
        chunk = index.chunks[row]
        return passage_text(index.documents[chunk.doc_id], chunk)

    unknown = []
    for words, written in names_with_text(query):
        if any(mentions(passage(row), words) for row in rows):
            continue
        if not any(
            mentions(passage(row), words) for row in bm25_search(index, " ".join(words), 5, allowed).rows
        ):
            unknown.append(written)
    return tuple(unknown)


COUNT_MATCH_COSINE = 0.65  # word-vector cosine at which a counted word names the asked-about thing:
# near-synonyms score 0.70-0.87 with MiniLM ("firms"/"companies" 0.87), related things 0.4-0.6
# ("farms"/"workers" 0.44). Set a priori from such pairs, not fitted to the eval set.
COUNT_SEARCH_DEPTH = 20  # BM25 passages for the query's names and asked-for figure, searched besides the hits


def sentences_near_names(
    index: LoadedIndex, names: list[tuple[str, ...]], lookup: str, rows: list[int], allowed: np.ndarray | None
) -> list[str]:
    """Sentences whose neighbourhood (the sentence, the ones beside it, the document's title and author)
    mentions every one of `names`. Searched: the hits' passages and BM25's best for `lookup`."""
    found: list[str] = []
    for row in sorted(set(rows) | set(bm25_search(index, lookup, COUNT_SEARCH_DEPTH, allowed).rows)):
        chunk = index.chunks[row]
        doc = index.documents[chunk.doc_id]
        spans = chunk.sentences
        for i, span in enumerate(spans):
            window = (
                f"{doc.text[spans[max(0, i - 1)].start : spans[min(len(spans) - 1, i + 1)].end]} "
                f"{doc.title} {doc.author or ''}"
            )
            if all(mentions(window, name) for name in names):
                found.append(doc.text[span.start : span.end])
    return found


class Retriever:
    """Runs one of `RETRIEVERS` over an open index."""

    def __init__(self, embedder: Embedder, index: LoadedIndex, settings: Settings) -> None:
        self.embedder = embedder
        self.index = index
        self.settings = settings

    def allowed_rows(self, doc_ids: set[str] | None) -> np.ndarray | None:
        if doc_ids is None:
            return None
        return np.array([i for i, c in enumerate(self.index.chunks) if c.doc_id in doc_ids], dtype=np.int64)

    def fuse(
        self,
        dense: Ranked,
        lexical: Ranked,
        query_vector: np.ndarray,
        depth: int,
        allowed: np.ndarray | None,
        query: str = "",
    ) -> Ranked:
        backend = search_backend(self.index)
        if getattr(backend, "fusion", "client") == "milvus":  # Milvus's unweighted RRF (milvus_search.py)
            terms = backend.known_terms(bm25_terms([bm25_text(query, self.index.acronyms)])[0])
            milvus: Any = backend  # only the Milvus backend has hybrid()
            return milvus.hybrid(query_vector, terms, depth, self.settings.rrf_k, allowed)
        lists = [(dense, self.settings.dense_weight), (lexical, self.settings.bm25_weight)]
        if self.settings.sentence_weight:
            lists.append(
                (sentence_search(self.index, query_vector, depth, allowed), self.settings.sentence_weight)
            )
        return rrf(lists, self.settings.rrf_k, depth)

    def search(
        self,
        query: str,
        retriever: str,
        k: int,
        doc_ids: set[str] | None = None,
        query_vector: np.ndarray | None = None,
        query_tokens: TokenVectors | None = None,
    ) -> Retrieval:
        """Rank chunks for `query`; pass `query_vector` and `query_tokens` when it was already embedded
        (batch evaluation)."""
        if retriever not in RETRIEVERS:
            raise MsiqaError(f"Unknown retriever {retriever!r}; choose one of {', '.join(RETRIEVERS)}.")
        allowed = self.allowed_rows(doc_ids)
        depth = max(k, self.settings.candidate_k)
        if query_vector is None:
            vectors, tokens = self.embedder.encode_with_tokens([query])
            query_vector, query_tokens = vectors[0], tokens[0]
        dense = dense_search(self.index, query_vector, depth, allowed)
        if retriever == "dense":
            ranked = dense
        else:
            lexical = bm25_search(self.index, query, depth, allowed)
            ranked = (
                lexical
                if retriever == "bm25"
                else self.fuse(dense, lexical, query_vector, depth, allowed, query)
            )
        ranked = without_duplicates(ranked, duplicate_chunks(self.index))
        hits = tuple(
            Hit(
                rank=i + 1,
                score=score,
                chunk=self.index.chunks[row],
                document=self.index.documents[self.index.chunks[row].doc_id],
            )
            for i, (row, score) in enumerate(zip(ranked.rows[:k], ranked.scores[:k], strict=True))
        )
        rows = [self.index.chunk_rows[h.chunk.chunk_id] for h in hits]
        return Retrieval(
            query,
            retriever,
            hits,
            query_vector,
            dense,
            term_coverage(self.index, query, rows),
            unknown_names(self.index, query, rows, allowed),
            self.missing_answer(query, rows, allowed),
            query_tokens,
        )

    def missing_answer(self, query: str, rows: list[int], allowed: np.ndarray | None) -> str | None:
        """What a one-part question asking for a figure wants when no passage near the query's names gives
        it (`quantities.py`): "a number of farms", "an amount of money"; None otherwise. How-many
        questions accept a near-synonym of the counted thing (one small model call, only for them)."""
        names = named_phrases(query)
        name_words = " ".join(w for name in names for w in name)
        if asks_amount(query):
            near = sentences_near_names(self.index, names, f"{name_words} fee cost price paid", rows, allowed)
            return None if any(states_amount(text) for text in near) else "an amount of money"
        noun = counted_noun(query)
        if noun is None:
            return None
        near = sentences_near_names(self.index, names, f"{name_words} {noun}", rows, allowed)
        words = sorted({w for text in near for w in counted_words(text)})
        if noun in words:
            return None
        if words:
            vectors = self.embedder.encode([noun] + words)
            if float(np.max(vectors[1:] @ vectors[0])) >= COUNT_MATCH_COSINE:
                return None
        return f"a number of {counted_phrase(query)}"
