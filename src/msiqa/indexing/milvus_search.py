"""Search over a Milvus collection of chunks: dense top-k, BM25 top-k, and Milvus's own RRF hybrid search.

Results come back as chunk ids and are mapped to rows of the loaded chunk table. A document filter
(`--doc`, `--kind`, resolved to document ids by the engine) becomes the filter expression
`doc_id in [...]`. Ties are broken by row order, as the FAISS store does, so rankings do not depend on
the order in which Milvus returns equal scores. Deliberately left out: opening, writing and loading the
collection (`milvus_store.py`).
"""

from __future__ import annotations

import json

import numpy as np

from msiqa.indexing.store_api import Ranked
from msiqa.types import Chunk

VECTOR_FIELD = "vector"
SPARSE_FIELD = "sparse"
PRIMARY_KEY = "chunk_id"


class MilvusSearch:
    """A `store_api.SearchBackend` over one Milvus collection.

    `fusion`: "client" fuses dense, BM25 and best-sentence rankings in `retrieval.rrf` with our weights
    (the same ranking as the FAISS store); "milvus" runs `hybrid_search` with `RRFRanker(rrf_k)` over the
    dense and BM25 fields: Milvus's RRF has no per-list weights and sees no sentence list.
    """

    def __init__(
        self,
        client: object,
        collection: str,
        chunks: list[Chunk],
        chunk_rows: dict[str, int],
        term_rows: dict[str, np.ndarray],
        fusion: str = "client",
    ) -> None:
        self.client = client
        self.collection = collection
        self.chunks = chunks
        self.chunk_rows = chunk_rows
        self.term_rows = term_rows
        self.fusion = fusion

    def filter_expression(self, allowed: np.ndarray | None) -> str:
        """`doc_id in [...]` for the documents of the allowed rows; "" for no filter."""
        if allowed is None:
            return ""
        doc_ids = sorted({self.chunks[int(r)].doc_id for r in allowed})
        return f"doc_id in {json.dumps(doc_ids, ensure_ascii=False)}"

    def _ranked(self, result: list, k: int, bm25: bool) -> Ranked:
        """Hits -> rows by (score desc, row asc). Milvus Lite reports BM25 scores negated, Milvus
        positive: the magnitude is the score either way."""
        pairs = []
        for hit in result[0] if result else []:
            row = self.chunk_rows.get(str(hit[PRIMARY_KEY]))
            if row is None:  # written by another writer after this table was loaded
                continue
            score = abs(float(hit["distance"])) if bm25 else float(hit["distance"])
            if bm25 and score <= 0:
                continue
            pairs.append((row, score))
        pairs.sort(key=lambda p: (-p[1], p[0]))
        pairs = pairs[:k]
        return Ranked(tuple(r for r, _ in pairs), tuple(s for _, s in pairs))

    def dense(self, query_vector: np.ndarray, k: int, allowed: np.ndarray | None) -> Ranked:
        if (allowed is not None and not len(allowed)) or k <= 0:
            return Ranked((), ())
        result = self.client.search(
            self.collection,
            data=[query_vector.astype(np.float32).tolist()],
            anns_field=VECTOR_FIELD,
            limit=min(k, len(self.chunks)),
            filter=self.filter_expression(allowed),
            search_params={"metric_type": "IP"},
            output_fields=[],
        )
        return self._ranked(result, k, bm25=False)

    def known_terms(self, terms: list[str]) -> list[str]:
        return [t for t in terms if t in self.term_rows]

    def lexical(self, terms: list[str], k: int, allowed: np.ndarray | None) -> Ranked:
        if (allowed is not None and not len(allowed)) or not terms or k <= 0:
            return Ranked((), ())
        result = self.client.search(
            self.collection,
            data=[" ".join(terms)],
            anns_field=SPARSE_FIELD,
            limit=min(k, len(self.chunks)),
            filter=self.filter_expression(allowed),
            search_params={"metric_type": "BM25"},
            output_fields=[],
        )
        return self._ranked(result, k, bm25=True)

    def rows_with_term(self, term: str) -> np.ndarray:
        return self.term_rows.get(term, np.zeros(0, dtype=np.int64))

    def hybrid(
        self, query_vector: np.ndarray, terms: list[str], k: int, rrf_k: int, allowed: np.ndarray | None
    ) -> Ranked:
        """Milvus's own fusion: `hybrid_search` over the dense and BM25 fields with `RRFRanker(rrf_k)`."""
        from pymilvus import AnnSearchRequest, RRFRanker

        if allowed is not None and not len(allowed):
            return Ranked((), ())
        expr = self.filter_expression(allowed)
        limit = min(k, len(self.chunks))
        requests = [
            AnnSearchRequest(
                data=[query_vector.astype(np.float32).tolist()],
                anns_field=VECTOR_FIELD,
                param={"metric_type": "IP"},
                limit=limit,
                expr=expr or None,
            )
        ]
        if terms:
            requests.append(
                AnnSearchRequest(
                    data=[" ".join(terms)],
                    anns_field=SPARSE_FIELD,
                    param={"metric_type": "BM25"},
                    limit=limit,
                    expr=expr or None,
                )
            )
        result = self.client.hybrid_search(
            self.collection, requests, ranker=RRFRanker(rrf_k), limit=limit, output_fields=[]
        )
        return self._ranked(result, k, bm25=False)
