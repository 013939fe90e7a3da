"""Build the index from `seeds/`, from scratch or incrementally, and add files to `seeds/` safely.

An incremental build reuses the chunks and vectors (`chunk_vectors.npy`, `sentence_vectors.npy`) of every
document whose content hash and metadata are unchanged since the last build; only new or changed
documents are chunked and embedded, and documents gone from `seeds/` are dropped. The reused previous
index must have the same model weights and index parameters, else everything is rebuilt. Either way
the result is written with `store_api.write`: the FAISS folder stays in place until the swap, a Milvus
store gets only the rows that changed.
Unless `Settings.query_encoder` is sentence-transformers (or the store is Milvus), the index folder
also gets the ONNX query encoder (`onnx_export.cached_export`), its sha256 in the manifest's
`query_encoder`.
`add_files` copies files into `seeds/` and rolls them back if the index update fails.
Deliberately left out: deciding *when* to rebuild (`engine.ensure_index`) and printing (`cli.py`).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from msiqa.config import VERSION, Settings
from msiqa.errors import CorpusError, IndexCorrupt, IndexMissing
from msiqa.indexing import store_api
from msiqa.indexing.embedding import Embedder, verify_model
from msiqa.indexing.onnx_export import (
    ENCODER_FILE,
    EXPORT_FORMAT,
    ExportedEncoder,
    cached_export,
    query_precision,
)
from msiqa.indexing.store import FORMAT_VERSION, LoadedIndex, embedding_text, library_versions
from msiqa.ingest.chunking import blocks, chunk_document
from msiqa.ingest.corpus import CorpusLoad, Skipped, load_corpus, seed_files, seeds_fingerprint
from msiqa.ingest.loaders import SUFFIXES, read_document
from msiqa.types import Chunk, Document

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildReport:
    documents: int
    chunks: int
    sentences: int
    seconds: float
    skipped: tuple  # corpus.Skipped entries
    added: tuple[str, ...] = ()  # file names in seeds/
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    chunks_embedded: int = 0
    incremental: bool = False


@dataclass(frozen=True)
class AddReport:
    added: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: tuple[str, ...]
    skipped: tuple[Skipped, ...]
    build: BuildReport = field(repr=False)

    @property
    def chunks_embedded(self) -> int:
        return self.build.chunks_embedded


def staleness(manifest: dict, settings: Settings, seeds_hash: str | None, weights_sha256: str) -> str | None:
    """Why an index no longer matches the seeds, model weights and settings, or None when it does.
    `seeds_hash` None: only whether its vectors are reusable (same weights and index parameters)."""
    if seeds_hash is not None and manifest.get("seeds_hash") != seeds_hash:
        return "the files in seeds/ changed since the index was built"
    if manifest.get("model", {}).get("weights_sha256") != weights_sha256:
        return "the embedding model weights changed"
    if manifest.get("params") != settings.index_params():
        return f"the index settings changed ({manifest.get('params')} -> {settings.index_params()})"
    precision = query_precision(settings)
    encoder = manifest.get("query_encoder") or {}
    if (
        seeds_hash is not None
        and precision
        and (encoder.get("precision"), encoder.get("export_format"))
        != (
            precision,
            EXPORT_FORMAT,
        )
    ):
        return f"the index has no {settings.query_encoder} query encoder yet"
    return None


def previous_index(settings: Settings, embedder: Embedder) -> LoadedIndex | None:
    """The current index if its vectors can be reused (same model weights and parameters), else None."""
    try:
        index = store_api.load(settings)
    except (IndexMissing, IndexCorrupt) as exc:
        log.info("no reusable index (%s): building from scratch", str(exc).split(". ")[0])
        return None
    reason = staleness(index.manifest, settings, None, embedder.weights_sha256)
    if reason is None and index.chunk_vectors is None:
        reason = "it has no stored chunk vectors"
    if reason is not None:
        log.info("the previous index cannot be reused (%s): building from scratch", reason)
        return None
    return index


def _reusable(index: LoadedIndex) -> dict[str, tuple[list[Chunk], np.ndarray, np.ndarray]]:
    """doc_id -> (chunks, chunk vectors, sentence vectors) of the previous index (none without vectors)."""
    if index.chunk_vectors is None:
        return {}
    sentence_starts = np.concatenate([[0], np.cumsum([len(c.sentences) for c in index.chunks])]).astype(int)
    rows: dict[str, list[int]] = {}
    for row, chunk in enumerate(index.chunks):
        rows.setdefault(chunk.doc_id, []).append(row)
    out = {}
    for doc_id, chunk_rows in rows.items():
        first, last = chunk_rows[0], chunk_rows[-1] + 1  # a document's chunks are contiguous
        out[doc_id] = (
            [index.chunks[r] for r in chunk_rows],
            index.chunk_vectors[first:last],
            index.sentence_vectors[sentence_starts[first] : sentence_starts[last]],
        )
    return out


def build_index(settings: Settings, embedder: Embedder, incremental: bool = False) -> BuildReport:
    """Read seeds, chunk and embed (only new or changed documents when `incremental`), write atomically."""
    started = time.perf_counter()
    corpus: CorpusLoad = load_corpus(settings.seeds_dir, settings.max_file_bytes)
    seeds_hash = seeds_fingerprint(settings.seeds_dir)
    previous = previous_index(settings, embedder) if incremental else None
    old_docs = previous.documents if previous else {}
    reuse = _reusable(previous) if previous else {}
    docs = {d.doc_id: d for d in corpus.documents}
    status: dict[str, list[str]] = {"added": [], "updated": [], "unchanged": []}
    parts: list[tuple[list[Chunk], np.ndarray | None, np.ndarray | None]] = []
    fresh: list[Chunk] = []
    for doc in corpus.documents:
        old = old_docs.get(doc.doc_id)
        if old is not None and doc.doc_id in reuse and replace(old, path=doc.path) == doc:
            status["unchanged"].append(doc.path)
            parts.append(reuse[doc.doc_id])
            continue
        status["updated" if old is not None else "added"].append(doc.path)
        chunks = chunk_document(doc, settings.chunk_chars, settings.chunk_overlap_chars)
        parts.append((chunks, None, None))
        fresh.extend(chunks)
    # nothing new: no model call, so a process that only answers questions never loads torch
    dim = (
        previous.chunk_vectors.shape[1]
        if previous is not None and previous.chunk_vectors is not None and not fresh
        else None
    )
    fresh_chunk_vectors = _embed(embedder, [embedding_text(c) for c in fresh], dim)
    fresh_sentence_vectors = _embed(
        embedder, [docs[c.doc_id].text[s.start : s.end] for c in fresh for s in c.sentences], dim
    )
    chunks, chunk_vectors, sentence_vectors = _assemble(parts, fresh_chunk_vectors, fresh_sentence_vectors)
    removed = tuple(sorted(d.path for d_id, d in old_docs.items() if d_id not in docs))
    n_sentences = len(sentence_vectors)
    manifest = {
        "format_version": FORMAT_VERSION,
        "msiqa_version": VERSION,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "model": {
            "id": embedder.model_id,
            "weights_sha256": embedder.weights_sha256,
            "dim": int(chunk_vectors.shape[1]),
        },
        "params": settings.index_params(),
        "seeds_hash": seeds_hash,
        "documents": {d.doc_id: {"path": d.path, "sha256": d.content_hash} for d in corpus.documents},
        "skipped": [{"path": s.path, "reason": s.reason} for s in corpus.skipped],
        "counts": {"documents": len(docs), "chunks": len(chunks), "sentences": n_sentences},
        "last_build": {
            "incremental": previous is not None,
            "chunks_embedded": len(fresh),
            "documents_reused": len(status["unchanged"]),
        },
        "libraries": library_versions(),
    }
    encoder = query_encoder_export(settings)
    manifest["query_encoder"] = encoder.manifest_entry(ENCODER_FILE) if encoder else None
    store_api.write(
        settings,
        manifest,
        list(corpus.documents),
        chunks,
        chunk_vectors,
        sentence_vectors,
        extra_files={ENCODER_FILE: encoder.path} if encoder else None,
    )
    seconds = time.perf_counter() - started
    log.info(
        "%s index: %d documents (%d added, %d updated, %d unchanged, %d removed), %d chunks, "
        "%d sentences; %d chunks embedded in %.2fs",
        "updated the" if previous else "built the",
        len(docs),
        len(status["added"]),
        len(status["updated"]),
        len(status["unchanged"]),
        len(removed),
        len(chunks),
        n_sentences,
        len(fresh),
        seconds,
    )
    return BuildReport(
        len(docs),
        len(chunks),
        n_sentences,
        seconds,
        corpus.skipped,
        tuple(status["added"]),
        tuple(status["updated"]),
        tuple(status["unchanged"]),
        removed,
        len(fresh),
        previous is not None,
    )


def _embed(embedder: Embedder, texts: list[str], dim: int | None) -> np.ndarray:
    """`embedder.encode(texts)`; with no texts and a known `dim`, an empty array without a model call."""
    if not texts and dim is not None:
        return np.zeros((0, dim), dtype=np.float32)
    return embedder.encode(texts)


def query_encoder_export(settings: Settings) -> ExportedEncoder | None:
    """The ONNX query encoder the index should ship (from the export cache), or None for none."""
    precision = query_precision(settings)
    if precision is None:
        return None
    files = verify_model(settings.model, settings.model_sha256)
    return cached_export(files, settings.encoder_cache_dir, precision)


def _assemble(parts, fresh_chunk_vectors: np.ndarray, fresh_sentence_vectors: np.ndarray):
    """Chunks and vectors in corpus order, taking new rows from the fresh embeddings in turn."""
    chunks: list[Chunk] = []
    chunk_blocks, sentence_blocks = [], []
    chunk_cursor = sentence_cursor = 0
    for doc_chunks, chunk_vecs, sentence_vecs in parts:
        if chunk_vecs is None:
            n_sentences = sum(len(c.sentences) for c in doc_chunks)
            chunk_vecs = fresh_chunk_vectors[chunk_cursor : chunk_cursor + len(doc_chunks)]
            sentence_vecs = fresh_sentence_vectors[sentence_cursor : sentence_cursor + n_sentences]
            chunk_cursor += len(doc_chunks)
            sentence_cursor += n_sentences
        chunks.extend(doc_chunks)
        chunk_blocks.append(chunk_vecs)
        sentence_blocks.append(sentence_vecs)
    dim = fresh_chunk_vectors.shape[1]
    return chunks, _stack(chunk_blocks, dim), _stack(sentence_blocks, dim)


def _stack(vector_blocks: list[np.ndarray], dim: int) -> np.ndarray:
    """One contiguous float32 matrix of the blocks' rows (0 x dim when there are none)."""
    if not vector_blocks:
        return np.zeros((0, dim), dtype=np.float32)
    return np.ascontiguousarray(np.concatenate(vector_blocks), dtype=np.float32)


def _candidates(paths: list[Path]) -> tuple[list[Path], list[Skipped]]:
    """The files named by `paths` (a folder stands for its top-level files), and those refused outright."""
    files: list[Path] = []
    skipped: list[Skipped] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith((".", "_")))
            files.extend(p for p in inside if p.suffix.lower() in SUFFIXES)
            skipped.extend(
                Skipped(
                    str(p),
                    f"unsupported file type {p.suffix or '(no suffix)'}; supported: "
                    f"{', '.join(sorted(SUFFIXES))}",
                )
                for p in inside
                if p.suffix.lower() not in SUFFIXES
            )
        elif path.is_file():
            files.append(path)
        else:
            skipped.append(Skipped(str(path), "no such file or folder"))
    return files, skipped


def add_files(settings: Settings, embedder: Embedder, paths: list[Path]) -> AddReport:
    """Copy usable files into `seeds/` (keeping their names) and update the index incrementally.

    A file is not copied when it cannot be read, duplicates another document, or reuses a document id.
    If the index update fails, the copied files are taken back out and replaced ones restored.
    """
    seeds = settings.seeds_dir
    seeds.mkdir(parents=True, exist_ok=True)
    files, skipped = _candidates(paths)
    existing = _current_documents(settings)
    by_hash = {d.content_hash: d.path for d in existing}
    by_id = {d.doc_id: d.path for d in existing}
    plan: list[tuple[Path, Path]] = []
    status: dict[str, list[str]] = {"added": [], "updated": [], "unchanged": []}
    for source in files:
        target = seeds / source.name
        try:
            doc = read_document(source, settings.max_file_bytes)
        except (OSError, ValueError) as exc:
            skipped.append(Skipped(str(source), str(exc)))
            continue
        if target.name in [t.name for _, t in plan]:
            skipped.append(Skipped(str(source), f"another file named {target.name} is added in this run"))
            continue
        if target.is_file() and target.read_bytes() == source.read_bytes():
            status["unchanged"].append(target.name)
            continue
        reason = _clash(doc, target.name, by_hash, by_id)
        if reason:
            skipped.append(Skipped(str(source), reason))
            continue
        by_hash[doc.content_hash] = by_id[doc.doc_id] = target.name
        status["updated" if target.exists() else "added"].append(target.name)
        plan.append((source, target))
    for entry in skipped:
        log.info("not added %s: %s", entry.path, entry.reason)
    if not plan and not existing and not status["unchanged"]:
        raise CorpusError("Nothing was added: " + "; ".join(f"{s.path}: {s.reason}" for s in skipped))
    report = _copy_and_build(settings, embedder, plan)
    return AddReport(
        tuple(status["added"]), tuple(status["updated"]), tuple(status["unchanged"]), tuple(skipped), report
    )


def _current_documents(settings: Settings) -> tuple[Document, ...]:
    if not seed_files(settings.seeds_dir):
        return ()
    try:
        return load_corpus(settings.seeds_dir, settings.max_file_bytes).documents
    except CorpusError:
        return ()


def _clash(doc: Document, name: str, by_hash: dict[str, str], by_id: dict[str, str]) -> str | None:
    if by_hash.get(doc.content_hash, name) != name:
        return f"exact duplicate of {by_hash[doc.content_hash]} (same text)"
    if by_id.get(doc.doc_id, name) != name:
        return (
            f"document id {doc.doc_id!r} is already used by {by_id[doc.doc_id]}; rename the file "
            f"or give it another id in its front matter"
        )
    return None


def _copy_and_build(settings: Settings, embedder: Embedder, plan: list[tuple[Path, Path]]) -> BuildReport:
    """Copy each (source, target), then build incrementally; on any failure put `seeds/` back as it was."""
    backup = Path(tempfile.mkdtemp(prefix=".add-backup-", dir=settings.seeds_dir))
    done: list[Path] = []
    try:
        for source, target in plan:
            if target.exists():
                shutil.copy2(target, backup / target.name)
            part = target.with_name(f".{target.name}.part")
            shutil.copyfile(source, part)
            done.append(target)
            os.replace(part, target)
        return build_index(settings, embedder, incremental=True)
    except BaseException:
        for target in done:
            saved = backup / target.name
            if saved.exists():
                os.replace(saved, target)
            else:
                target.unlink(missing_ok=True)
            target.with_name(f".{target.name}.part").unlink(missing_ok=True)
        log.warning("the add failed: seeds/ and the index were left as they were")
        raise
    finally:
        shutil.rmtree(backup, ignore_errors=True)


def describe_documents(index: LoadedIndex) -> list[dict]:
    """One row per indexed document: id, title, author, kind, date, pages, paragraphs, chunk count."""
    counts: dict[str, int] = {}
    for chunk in index.chunks:
        counts[chunk.doc_id] = counts.get(chunk.doc_id, 0) + 1
    return [
        {
            "id": d.doc_id,
            "title": d.title,
            "author": d.author,
            "kind": d.kind,
            "date": d.date,
            "pages": len(d.page_starts) or None,
            "paragraphs": len(blocks(d.text)),
            "chunks": counts.get(d.doc_id, 0),
            "path": d.path,
        }
        for d in sorted(index.documents.values(), key=lambda d: d.path)
    ]
