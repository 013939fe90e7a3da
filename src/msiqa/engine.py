"""The public API: open (building or refreshing) an index and answer questions.

`Engine.open` loads the embedding model once, checks the index manifest against the current seeds and
settings, and rebuilds when they differ (logging why) unless told not to. `Engine.ask` validates the
question, retrieves, and composes a cited answer. The CLI and the web app use only this module,
`serialize.py` and the typed errors.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from msiqa import __version__
from msiqa.answer import compose, validate_question
from msiqa.chunking import chunk_document
from msiqa.config import Settings
from msiqa.corpus import CorpusLoad, load_corpus, seeds_fingerprint
from msiqa.embedding import Embedder, load_embedder
from msiqa.errors import IndexCorrupt, IndexMissing, IndexStale, MsiqaError
from msiqa.retrieval import Retrieval, Retriever
from msiqa.store import FORMAT_VERSION, LoadedIndex, library_versions, load_index, passage_text, read_manifest, write_index
from msiqa.types import Answer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildReport:
    documents: int
    chunks: int
    sentences: int
    seconds: float
    skipped: tuple  # corpus.Skipped entries


def staleness(manifest: dict, settings: Settings, seeds_hash: str, weights_sha256: str) -> str | None:
    """Why an index no longer matches the seeds and settings, or None when it does."""
    if manifest.get("seeds_hash") != seeds_hash:
        return "the files in seeds/ changed since the index was built"
    if manifest.get("model", {}).get("weights_sha256") != weights_sha256:
        return "the embedding model weights changed"
    if manifest.get("params") != settings.index_params():
        return f"the index settings changed ({manifest.get('params')} -> {settings.index_params()})"
    return None


def build_index(settings: Settings, embedder: Embedder) -> BuildReport:
    """Read seeds, chunk, embed chunks and sentences, and write the index atomically."""
    started = time.perf_counter()
    corpus: CorpusLoad = load_corpus(settings.seeds_dir)
    seeds_hash = seeds_fingerprint(settings.seeds_dir)
    docs = {d.doc_id: d for d in corpus.documents}
    chunks = [c for d in corpus.documents for c in chunk_document(d, settings.chunk_chars, settings.chunk_overlap_chars)]
    chunk_vectors = embedder.encode([passage_text(docs[c.doc_id], c) for c in chunks])
    sentence_texts = [docs[c.doc_id].text[s.start:s.end] for c in chunks for s in c.sentences]
    sentence_vectors = embedder.encode(sentence_texts)
    manifest = {
        "format_version": FORMAT_VERSION,
        "msiqa_version": __version__,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model": {"id": embedder.model_id, "weights_sha256": embedder.weights_sha256, "dim": embedder.dim},
        "params": settings.index_params(),
        "seeds_hash": seeds_hash,
        "documents": {d.doc_id: {"path": d.path, "sha256": d.content_hash} for d in corpus.documents},
        "skipped": [{"path": s.path, "reason": s.reason} for s in corpus.skipped],
        "counts": {"documents": len(docs), "chunks": len(chunks), "sentences": len(sentence_texts)},
        "faiss_index": "IndexFlatIP",
        "libraries": library_versions(),
    }
    write_index(settings.index_dir, manifest, list(corpus.documents), chunks, chunk_vectors, sentence_vectors)
    seconds = time.perf_counter() - started
    log.info("built index: %d documents, %d chunks, %d sentences in %.2fs",
             len(docs), len(chunks), len(sentence_texts), seconds)
    return BuildReport(len(docs), len(chunks), len(sentence_texts), seconds, corpus.skipped)


def ensure_index(settings: Settings, embedder: Embedder, rebuild: bool = True) -> LoadedIndex:
    """Load the index, rebuilding it first when missing, stale or corrupt (unless `rebuild` is False)."""
    reason = None
    try:
        manifest = read_manifest(settings.index_dir)
        reason = staleness(manifest, settings, seeds_fingerprint(settings.seeds_dir), embedder.weights_sha256)
    except (IndexMissing, IndexCorrupt) as exc:
        reason = str(exc).split(". ")[0]
    if reason is None:
        try:
            return load_index(settings.index_dir)
        except IndexCorrupt as exc:
            reason = str(exc).split(". Rebuild")[0]
    if not rebuild:
        raise IndexStale(f"The index at {settings.index_dir} is out of date: {reason}. "
                         f"Fix: msiqa build --seeds {settings.seeds_dir} --index {settings.index_dir}")
    log.warning("rebuilding the index: %s", reason)
    build_index(settings, embedder)
    return load_index(settings.index_dir)


class Engine:
    """A loaded model and index; answers questions. One per process is enough."""

    def __init__(self, settings: Settings, embedder: Embedder, index: LoadedIndex) -> None:
        self.settings = settings
        self.embedder = embedder
        self.index = index
        self.retriever = Retriever(embedder, index, settings)

    @classmethod
    def open(cls, settings: Settings, rebuild: bool = True, embedder: Embedder | None = None) -> "Engine":
        embedder = embedder or load_embedder(settings.model, settings.model_sha256, settings.device)
        return cls(settings, embedder, ensure_index(settings, embedder, rebuild=rebuild))

    def doc_filter(self, doc_ids: list[str] | None = None, kinds: list[str] | None = None) -> set[str] | None:
        if not doc_ids and not kinds:
            return None
        known = self.index.documents
        unknown = [d for d in doc_ids or [] if d not in known]
        if unknown:
            raise MsiqaError(f"Unknown document id(s): {', '.join(unknown)}. List them with: msiqa docs")
        chosen = {d for d in known if (not doc_ids or d in doc_ids) and (not kinds or known[d].kind in kinds)}
        if not chosen:
            raise MsiqaError(f"No document matches kind(s) {', '.join(kinds or [])}. List them with: msiqa docs")
        return chosen

    def retrieve(self, question: str, retriever: str | None = None, top_k: int | None = None,
                 doc_ids: set[str] | None = None) -> Retrieval:
        text = validate_question(question, self.settings.max_question_chars)
        return self.retriever.search(text, retriever or self.settings.retriever, top_k or self.settings.top_k, doc_ids)

    def ask(self, question: str, retriever: str | None = None, top_k: int | None = None,
            doc_ids: list[str] | None = None, kinds: list[str] | None = None) -> Answer:
        retrieval = self.retrieve(question, retriever, top_k, self.doc_filter(doc_ids, kinds))
        return compose(retrieval.query, retrieval, self.index, self.settings)
