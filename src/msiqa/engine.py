"""The public API: open (building or refreshing) an index and answer questions.

`Engine.open` verifies the model weights, checks the index manifest against the current seeds and
settings, and brings the index in step when they differ (logging why; only new or changed documents are
embedded, see `indexing/build.py`) unless told not to. Questions are embedded by the ONNX query encoder
that the index folder ships (`indexing/onnx_encoder.py`), so an up-to-date index is answered without
importing torch; sentence-transformers is loaded only when documents must be embedded. `Engine.ask`
validates the question, retrieves, and composes a cited answer. The CLI and the web app use only this
module, `serialize.py` and the typed errors.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace

from msiqa.answer.compose import compose, validate_question
from msiqa.answer.generate import LlmConfig, generate
from msiqa.config import Settings
from msiqa.errors import IndexCorrupt, IndexMissing, IndexStale, MsiqaError
from msiqa.indexing import store_api
from msiqa.indexing.build import BuildReport, build_index, staleness  # noqa: F401  (BuildReport: re-exported)
from msiqa.indexing.embedding import Embedder, LazyEmbedder, ModelFiles, resolve_model, verify_model
from msiqa.indexing.onnx_export import query_precision
from msiqa.indexing.store import LoadedIndex
from msiqa.indexing.tokens import pack
from msiqa.ingest.corpus import seeds_fingerprint
from msiqa.query.conversation import Turn, resolve
from msiqa.retrieval import Retrieval, Retriever
from msiqa.types import Answer

log = logging.getLogger(__name__)


def ensure_index(settings: Settings, embedder: Embedder, rebuild: bool = True) -> LoadedIndex:
    """Load the index, rebuilding it first when missing, stale or corrupt (unless `rebuild` is False)."""
    reason = None
    try:
        manifest = store_api.read_manifest(settings)
        reason = staleness(manifest, settings, seeds_fingerprint(settings.seeds_dir), embedder.weights_sha256)
    except (IndexMissing, IndexCorrupt) as exc:
        reason = str(exc).split(". ")[0]
    if reason is None:
        try:
            return store_api.load(settings)
        except IndexCorrupt as exc:
            reason = str(exc).split(". Rebuild")[0]
    if not rebuild:
        raise IndexStale(
            f"The index at {store_api.location(settings)} is out of date: {reason}. "
            f"Fix: {store_api.build_command(settings)}"
        )
    log.warning("updating the index (only new or changed documents are embedded): %s", reason)
    build_index(settings, embedder, incremental=True)
    return store_api.load(settings)


def document_embedder(settings: Settings) -> LazyEmbedder:
    """sentence-transformers for documents, its weights verified now and loaded only if needed."""
    return LazyEmbedder(verify_model(settings.model, settings.model_sha256), settings.device)


def open_index(settings: Settings, rebuild: bool = True) -> LoadedIndex:
    """The index, brought in step with the seeds and settings, without a query encoder (`msiqa docs`)."""
    return ensure_index(settings, document_embedder(settings), rebuild=rebuild)


def query_embedder(settings: Settings, index: LoadedIndex, documents: Embedder) -> Embedder:
    """The embedder for questions: the index's ONNX encoder, or `documents` for sentence-transformers."""
    if query_precision(settings) is None:
        return documents
    from msiqa.indexing.onnx_encoder import OnnxEmbedder

    entry = index.manifest["query_encoder"]
    files = ModelFiles(documents.model_id, resolve_model(settings.model), documents.weights_sha256)
    return OnnxEmbedder(
        files,
        index.path / entry["file"],
        entry["sha256"],
        int(index.manifest["model"]["dim"]),
        threads=settings.encoder_threads,
    )


def with_token_vectors(index: LoadedIndex, embedder: Embedder) -> LoadedIndex:
    """`index` with its sentences' word-piece vectors: a FAISS index stores them; for a Milvus store,
    which keeps none, `embedder` computes them here (one model pass over every sentence, when the
    engine opens)."""
    if index.sentence_tokens is not None:
        return index
    texts = [
        index.documents[index.chunks[c].doc_id].text[s.start : s.end]
        for c, s in zip(index.sentence_chunk, index.sentence_spans, strict=True)
    ]
    _, tokens = embedder.encode_with_tokens(texts)
    index.sentence_tokens, index.token_offsets = pack(
        [t.vectors for t in tokens], index.sentence_vectors.shape[1]
    )
    return index


class Engine:
    """A loaded model and index; answers questions. One per process is enough."""

    def __init__(self, settings: Settings, embedder: Embedder, index: LoadedIndex) -> None:
        self.settings = settings
        self.embedder = embedder
        self.index = with_token_vectors(index, embedder)
        self.retriever = Retriever(embedder, index, settings)

    @classmethod
    def open(cls, settings: Settings, rebuild: bool = True, embedder: Embedder | None = None) -> Engine:
        """`embedder` embeds documents when the index must be updated (default: sentence-transformers,
        loaded only then); questions go through `settings.query_encoder`."""
        documents = embedder or document_embedder(settings)
        index = ensure_index(settings, documents, rebuild=rebuild)
        try:
            return cls(settings, query_embedder(settings, index, documents), index)
        except IndexCorrupt as exc:  # the encoder file is damaged: the rest of the index is reused
            if not rebuild:
                raise
            log.warning("updating the index: %s", str(exc).split(". Rebuild")[0])
            build_index(settings, documents, incremental=True)
            index = store_api.load(settings)
            return cls(settings, query_embedder(settings, index, documents), index)

    def doc_filter(self, doc_ids: list[str] | None = None, kinds: list[str] | None = None) -> set[str] | None:
        if not doc_ids and not kinds:
            return None
        known = self.index.documents
        unknown = [d for d in doc_ids or [] if d not in known]
        if unknown:
            raise MsiqaError(f"Unknown document id(s): {', '.join(unknown)}. List them with: msiqa docs")
        chosen = {d for d in known if (not doc_ids or d in doc_ids) and (not kinds or known[d].kind in kinds)}
        if not chosen:
            raise MsiqaError(
                f"No document matches kind(s) {', '.join(kinds or [])}. List them with: msiqa docs"
            )
        return chosen

    def retrieve(
        self,
        question: str,
        retriever: str | None = None,
        top_k: int | None = None,
        doc_ids: set[str] | None = None,
    ) -> Retrieval:
        text = validate_question(question, self.settings.max_question_chars)
        return self.retriever.search(
            text, retriever or self.settings.retriever, top_k or self.settings.top_k, doc_ids
        )

    def outside_filter(self, query: str, retriever: str | None, top_k: int | None) -> tuple[str, ...]:
        """A note for a refusal under a filter: which other documents would answer, if any."""
        retrieval = self.retrieve(query, retriever, top_k)
        unfiltered = compose(query, retrieval, self.index, self.settings)
        if unfiltered.abstained:
            return ()
        others = sorted({c.document.doc_id for c in unfiltered.citations})
        return (f"Other documents do cover this: {', '.join(others)}. Clear the filter to include them.",)

    def ask(
        self,
        question: str,
        retriever: str | None = None,
        top_k: int | None = None,
        doc_ids: list[str] | None = None,
        kinds: list[str] | None = None,
        history: Sequence[Turn] = (),
        llm: LlmConfig | None = None,
        on_token: Callable[[str], None] | None = None,
    ) -> Answer:
        """A cited answer. `history`: earlier (question, answer) turns, oldest first; a follow-up is
        turned into a self-contained search (`Answer.search_query`). `llm`: generate with that server and
        verify each sentence; on any failure the extractive answer comes back with a note."""
        allowed = self.doc_filter(doc_ids, kinds)
        resolution = resolve(validate_question(question, self.settings.max_question_chars), history)
        if resolution.doc_ids:
            allowed = (
                allowed & set(resolution.doc_ids) if allowed is not None else set(resolution.doc_ids)
            ) or allowed
        retrieval = self.retrieve(resolution.query, retriever, top_k, allowed)
        previous = frozenset(
            (c.document.doc_id, c.start, c.end) for c in (history[-1][1].citations if history else ())
        )
        filtered = doc_ids is not None and bool(doc_ids) or kinds is not None and bool(kinds)
        answer = compose(
            question.strip(), retrieval, self.index, self.settings, filtered=filtered, previous=previous
        )
        if filtered and answer.abstained:
            answer = replace(
                answer, notes=answer.notes + self.outside_filter(resolution.query, retriever, top_k)
            )
        if resolution.note:
            answer = replace(answer, notes=answer.notes + (resolution.note,))
        if llm is not None:
            answer = generate(
                answer.question,
                retrieval,
                self.index,
                self.embedder,
                llm,
                answer,
                self.settings.answer_max_sentences,
                on_token,
            )
        return answer
