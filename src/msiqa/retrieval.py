"""Dense (FAISS), lexical (BM25) and hybrid (reciprocal rank fusion) retrieval -> ranked `Hit`s.

The query is embedded once per search; the vector travels with the result so that answer composition
can score stored sentence vectors without a second model call. Filters (`allowed_docs`) restrict every
retriever to chosen documents. Deliberately left out: deciding whether the hits answer the question.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from msiqa.config import RETRIEVERS, Settings
from msiqa.embedding import Embedder
from msiqa.errors import MsiqaError
from msiqa.store import LoadedIndex, tokenize
from msiqa.types import Hit


@dataclass(frozen=True)
class Ranked:
    """Chunk rows and scores, best first."""

    rows: tuple[int, ...]
    scores: tuple[float, ...]


@dataclass(frozen=True)
class Retrieval:
    query: str
    retriever: str
    hits: tuple[Hit, ...]
    query_vector: np.ndarray
    dense: Ranked  # the dense ranking, kept for abstention even when fusion or BM25 ranked the hits


def top_k(scores: np.ndarray, k: int) -> Ranked:
    """The k best entries of a score vector, ties broken by row order (deterministic)."""
    k = min(k, len(scores))
    if k <= 0:
        return Ranked((), ())
    part = np.argpartition(-scores, k - 1)[:k]
    order = part[np.lexsort((part, -scores[part]))]
    return Ranked(tuple(int(i) for i in order), tuple(float(scores[i]) for i in order))


def dense_search(index: LoadedIndex, query_vector: np.ndarray, k: int, allowed: np.ndarray | None) -> Ranked:
    import faiss

    if allowed is not None and not len(allowed):
        return Ranked((), ())
    params = None
    if allowed is not None:
        params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed.astype(np.int64)))
    k = min(k, index.faiss_index.ntotal)
    scores, rows = index.faiss_index.search(query_vector.reshape(1, -1), k, params=params)
    keep = rows[0] >= 0
    return Ranked(tuple(int(r) for r in rows[0][keep]), tuple(float(s) for s in scores[0][keep]))


def bm25_search(index: LoadedIndex, query: str, k: int, allowed: np.ndarray | None) -> Ranked:
    tokens = [t for t in tokenize([query])[0] if t in index.bm25.vocab_dict]
    if not tokens:
        return Ranked((), ())
    scores = np.asarray(index.bm25.get_scores(tokens), dtype=np.float32)
    if allowed is not None:
        mask = np.full(len(scores), -np.inf, dtype=np.float32)
        mask[allowed] = 0.0
        scores = scores + mask
    ranked = top_k(scores, k)
    keep = [i for i, s in enumerate(ranked.scores) if s > 0]
    return Ranked(tuple(ranked.rows[i] for i in keep), tuple(ranked.scores[i] for i in keep))


def rrf(rankings: list[tuple[Ranked, float]], rrf_k: int, k: int) -> Ranked:
    """Weighted reciprocal rank fusion: score(row) = sum of weight / (rrf_k + rank), rank from 1."""
    fused: dict[int, float] = {}
    for ranked, weight in rankings:
        for rank, row in enumerate(ranked.rows, start=1):
            fused[row] = fused.get(row, 0.0) + weight / (rrf_k + rank)
    order = sorted(fused, key=lambda row: (-fused[row], row))[:k]
    return Ranked(tuple(order), tuple(fused[row] for row in order))


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

    def search(self, query: str, retriever: str, k: int, doc_ids: set[str] | None = None) -> Retrieval:
        if retriever not in RETRIEVERS:
            raise MsiqaError(f"Unknown retriever {retriever!r}; choose one of {', '.join(RETRIEVERS)}.")
        allowed = self.allowed_rows(doc_ids)
        depth = max(k, self.settings.candidate_k)
        query_vector = self.embedder.encode([query])[0]
        dense = dense_search(self.index, query_vector, depth, allowed)
        if retriever == "dense":
            ranked = dense
        else:
            lexical = bm25_search(self.index, query, depth, allowed)
            ranked = lexical if retriever == "bm25" else rrf(
                [(dense, self.settings.dense_weight), (lexical, self.settings.bm25_weight)],
                self.settings.rrf_k, depth)
        hits = tuple(
            Hit(rank=i + 1, score=score, chunk=self.index.chunks[row],
                document=self.index.documents[self.index.chunks[row].doc_id])
            for i, (row, score) in enumerate(zip(ranked.rows[:k], ranked.scores[:k]))
        )
        return Retrieval(query, retriever, hits, query_vector, dense)
