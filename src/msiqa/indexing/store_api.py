"""The store interface between retrieval and persistence, and the choice of store from `Settings`.

A store keeps the chunk and document tables, the vectors and the manifest; retrieval reaches its search
engine only through `SearchBackend` (dense top-k, BM25 top-k over our own terms, which chunks contain a
term), with chunk *rows*: positions in `LoadedIndex.chunks`. Two stores exist: the default FAISS + bm25s
folder (`store.py`, searched by `FaissBm25Search`) and Milvus (`milvus_store.py`, the `.[milvus]` extra),
chosen by `Settings.milvus_uri`. `read_manifest`, `load` and `write` below dispatch between them, so
the engine and the build never name a store. Deliberately left out: fusion and abstention (`retrieval.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast

import numpy as np

from msiqa.config import Settings
from msiqa.indexing import store
from msiqa.types import Chunk, Document


@dataclass(frozen=True)
class Ranked:
    """Chunk rows and scores, best first."""

    rows: tuple[int, ...]
    scores: tuple[float, ...]


def top_k(scores: np.ndarray, k: int) -> Ranked:
    """The k best entries of a score vector, ties broken by row order (deterministic)."""
    k = min(k, len(scores))
    if k <= 0:
        return Ranked((), ())
    part = np.argpartition(-scores, k - 1)[:k]
    order = part[np.lexsort((part, -scores[part]))]
    return Ranked(tuple(int(i) for i in order), tuple(float(scores[i]) for i in order))


class SearchBackend(Protocol):
    """What retrieval asks of a store. `allowed`: the chunk rows a filter keeps (None: all)."""

    def dense(self, query_vector: np.ndarray, k: int, allowed: np.ndarray | None) -> Ranked:
        """Rows by cosine of their chunk vector, best first."""
        ...

    def known_terms(self, terms: list[str]) -> list[str]:
        """The BM25 terms (`store.bm25_terms`) that occur in the indexed passages, in query order."""
        ...

    def lexical(self, terms: list[str], k: int, allowed: np.ndarray | None) -> Ranked:
        """Rows by BM25 over `terms` (known terms only), positive scores only, best first."""
        ...

    def rows_with_term(self, term: str) -> np.ndarray:
        """The rows whose BM25 passage contains `term` (for IDF and term coverage)."""
        ...


class FaissBm25Search:
    """The default store's search: a FAISS index over chunk vectors and a bm25s index over passages."""

    def __init__(self, faiss_index: Any, bm25: Any) -> None:
        self.faiss_index = faiss_index
        self.bm25 = bm25

    def dense(self, query_vector: np.ndarray, k: int, allowed: np.ndarray | None) -> Ranked:
        if allowed is not None and not len(allowed):
            return Ranked((), ())
        params = store.filter_params(self.faiss_index, allowed) if allowed is not None else None
        k = min(k, self.faiss_index.ntotal)
        scores, rows = self.faiss_index.search(query_vector.reshape(1, -1), k, params=params)
        keep = rows[0] >= 0
        return Ranked(tuple(int(r) for r in rows[0][keep]), tuple(float(s) for s in scores[0][keep]))

    def known_terms(self, terms: list[str]) -> list[str]:
        return [t for t in terms if t in self.bm25.vocab_dict]

    def lexical(self, terms: list[str], k: int, allowed: np.ndarray | None) -> Ranked:
        scores = np.asarray(self.bm25.get_scores(terms), dtype=np.float32)
        if allowed is not None:
            mask = np.full(len(scores), -np.inf, dtype=np.float32)
            mask[allowed] = 0.0
            scores = scores + mask
        ranked = top_k(scores, k)
        keep = [i for i, s in enumerate(ranked.scores) if s > 0]
        return Ranked(tuple(ranked.rows[i] for i in keep), tuple(ranked.scores[i] for i in keep))

    def rows_with_term(self, term: str) -> np.ndarray:
        token = self.bm25.vocab_dict.get(term)
        if token is None:
            return np.zeros(0, dtype=np.int64)
        indptr, indices = self.bm25.scores["indptr"], self.bm25.scores["indices"]
        return np.asarray(indices[indptr[token] : indptr[token + 1]])


def search_backend(index: store.LoadedIndex) -> SearchBackend:
    """The open index's search engine: its own (`LoadedIndex.search`), else FAISS + bm25s."""
    if index.search is not None:  # typed loosely in store.py, which cannot import this module
        return cast(SearchBackend, index.search)
    return FaissBm25Search(index.faiss_index, index.bm25)


def read_manifest(settings: Settings) -> dict:
    """The manifest of the store `settings` name (raises `IndexMissing` / `IndexCorrupt`)."""
    if settings.milvus_uri:
        from msiqa.indexing import milvus_store

        return milvus_store.read_manifest(settings.milvus_uri, settings.collection)
    return store.read_manifest(settings.index_dir)


def load(settings: Settings) -> store.LoadedIndex:
    """Open the store `settings` name, verified against its manifest."""
    if settings.milvus_uri:
        from msiqa.indexing import milvus_store

        return milvus_store.load_index(settings.milvus_uri, settings.collection, settings.milvus_fusion)
    return store.load_index(settings.index_dir)


def write(
    settings: Settings,
    manifest: dict,
    documents: list[Document],
    chunks: list[Chunk],
    chunk_vectors: np.ndarray,
    sentence_vectors: np.ndarray,
    sentence_tokens: tuple[np.ndarray, np.ndarray],
    extra_files: dict[str, Path] | None = None,
) -> None:
    """Persist a built index: the FAISS folder is swapped into place whole; Milvus gets only the rows
    that changed (see `milvus_store.write_index`). `extra_files` (the ONNX query encoder) go into the
    FAISS folder; a Milvus store gets none (`onnx_export.query_precision`). `sentence_tokens` (packed
    word-piece vectors, `tokens.pack`) go into the FAISS folder; Milvus keeps none, and an engine on
    Milvus computes them when it opens (`engine.with_token_vectors`)."""
    if settings.milvus_uri:
        from msiqa.indexing import milvus_store

        milvus_store.write_index(
            settings.milvus_uri,
            settings.collection,
            manifest,
            documents,
            chunks,
            chunk_vectors,
            sentence_vectors,
        )
        return
    store.write_index(
        settings.index_dir,
        manifest,
        documents,
        chunks,
        chunk_vectors,
        sentence_vectors,
        sentence_tokens,
        extra_files,
    )


def location(settings: Settings) -> str:
    """Where the index lives, for messages: the folder, or the Milvus URI and collection."""
    if settings.milvus_uri:
        return f"{settings.milvus_uri} (collection {settings.collection})"
    return str(settings.index_dir)


def build_command(settings: Settings) -> str:
    """The command that rebuilds this index, for error messages."""
    if settings.milvus_uri:
        return f"msiqa build --seeds {settings.seeds_dir} --milvus-uri {settings.milvus_uri} " + (
            f"--collection {settings.collection}"
        )
    return f"msiqa build --seeds {settings.seeds_dir} --index {settings.index_dir}"
