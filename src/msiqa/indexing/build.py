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
`add_files` copies files into `seeds/` and rolls them back if the index update fails; it never follows a
symbolic link and refuses, with the reason, every file the loader would not read. A build first removes
the temporary folders that a killed build left next to the index. Long work shows tqdm bars (documents
chunked, chunks embedded, with an ETA) when `progress` is on.
Deliberately left out: deciding *when* to rebuild (`engine.ensure_index`) and printing (`cli.py`).
"""

from __future__ import annotations

import logging
import os
import re
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
from msiqa.indexing.tokens import pack
from msiqa.ingest.chunking import blocks, chunk_document
from msiqa.ingest.corpus import CorpusLoad, Skipped, load_corpus, seed_files, seeds_fingerprint
from msiqa.ingest.loaders import SUFFIXES, parse_document, read_file_bytes
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


def _reusable(
    index: LoadedIndex,
) -> dict[str, tuple[list[Chunk], np.ndarray, np.ndarray, list[np.ndarray]]]:
    """doc_id -> (chunks, chunk vectors, sentence vectors, sentence token vectors) of the previous index
    (none without vectors). A Milvus store keeps no token vectors, and writes none: empty ones stand in."""
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
            [
                index.tokens_of(r) if index.sentence_tokens is not None else np.zeros((0, 0))
                for r in range(sentence_starts[first], sentence_starts[last])
            ],
        )
    return out


EMBED_BATCH_CHUNKS = 64  # chunks (with their sentences) embedded per step of the progress bar
PROGRESS_DELAY_S = 2.0  # a bar appears only for work that lasts longer than this
_LEFTOVER = re.compile(r"\.(?P<name>.+)\.(?:tmp|old)-(?P<pid>\d+)-")


def remove_stale_temporaries(index_dir: Path) -> list[Path]:
    """Remove the `.index.tmp-PID-*` / `.index.old-PID-*` folders whose build process is gone
    (a killed build leaves them); those of a live build, this one included, are kept."""
    removed: list[Path] = []
    if not index_dir.parent.is_dir():
        return removed
    for path in index_dir.parent.glob(f".{index_dir.name}.*-*"):
        match = _LEFTOVER.match(path.name)
        if not match or match["name"] != index_dir.name or path.is_symlink() or not path.is_dir():
            continue
        pid = int(match["pid"])
        if pid == os.getpid() or _alive(pid):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
        log.warning("removed %s, left by a build that did not finish", path.name)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _bar(iterable=None, progress: bool = False, **kwargs):
    from tqdm.auto import tqdm

    return tqdm(iterable, disable=not progress, delay=PROGRESS_DELAY_S, dynamic_ncols=True, **kwargs)


def _embed_chunks(
    embedder: Embedder, fresh: list[Chunk], docs: dict[str, Document], progress: bool, dim: int | None
):
    """Vectors of the fresh chunks and of their sentences, and the sentences' word-piece vectors (from
    the same model pass), in steps of EMBED_BATCH_CHUNKS chunks (no model call at all when nothing is
    fresh and `dim` is known)."""
    chunk_parts, sentence_parts = [], []
    token_parts: list[np.ndarray] = []
    last_row = {c.doc_id: row for row, c in enumerate(fresh)}  # a document is done after its last chunk
    with _bar(total=len(fresh), progress=progress, desc="embedding", unit="chunk") as bar:
        for start in range(0, len(fresh), EMBED_BATCH_CHUNKS):
            batch = fresh[start : start + EMBED_BATCH_CHUNKS]
            chunk_parts.append(embedder.encode([embedding_text(c) for c in batch]))
            sentences = [docs[c.doc_id].text[s.start : s.end] for c in batch for s in c.sentences]
            vectors, tokens = embedder.encode_with_tokens(sentences)
            sentence_parts.append(vectors)
            token_parts += [t.vectors for t in tokens]
            done = sum(1 for row in last_row.values() if row < start + len(batch))
            bar.set_postfix_str(f"{done}/{len(last_row)} documents", refresh=False)
            bar.update(len(batch))
    if not chunk_parts:
        empty = _embed(embedder, [], dim)
        return empty, empty, []
    return np.concatenate(chunk_parts), np.concatenate(sentence_parts), token_parts


def build_index(
    settings: Settings, embedder: Embedder, incremental: bool = False, progress: bool = False
) -> BuildReport:
    """Read seeds, chunk and embed (only new or changed documents when `incremental`), write atomically."""
    started = time.perf_counter()
    remove_stale_temporaries(settings.index_dir)
    corpus: CorpusLoad = load_corpus(settings.seeds_dir, settings.max_file_bytes)
    seeds_hash = seeds_fingerprint(settings.seeds_dir)
    previous = previous_index(settings, embedder) if incremental else None
    old_docs = previous.documents if previous else {}
    reuse = _reusable(previous) if previous else {}
    docs = {d.doc_id: d for d in corpus.documents}
    status: dict[str, list[str]] = {"added": [], "updated": [], "unchanged": []}
    parts: list[tuple[list[Chunk], np.ndarray | None, np.ndarray | None, list[np.ndarray] | None]] = []
    fresh: list[Chunk] = []
    for doc in _bar(corpus.documents, progress, desc="chunking", unit="doc"):
        old = old_docs.get(doc.doc_id)
        if old is not None and doc.doc_id in reuse and replace(old, path=doc.path) == doc:
            status["unchanged"].append(doc.path)
            parts.append(reuse[doc.doc_id])
            continue
        status["updated" if old is not None else "added"].append(doc.path)
        chunks = chunk_document(doc, settings.chunk_chars, settings.chunk_overlap_chars)
        parts.append((chunks, None, None, None))
        fresh.extend(chunks)
    # nothing new: no model call, so a process that only answers questions never loads torch
    dim = (
        previous.chunk_vectors.shape[1]
        if previous is not None and previous.chunk_vectors is not None and not fresh
        else None
    )
    fresh_chunk_vectors, fresh_sentence_vectors, fresh_tokens = _embed_chunks(
        embedder, fresh, docs, progress, dim
    )
    chunks, chunk_vectors, sentence_vectors, sentence_tokens = _assemble(
        parts, fresh_chunk_vectors, fresh_sentence_vectors, fresh_tokens
    )
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
        pack(sentence_tokens, int(chunk_vectors.shape[1])),
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


def _assemble(
    parts, fresh_chunk_vectors: np.ndarray, fresh_sentence_vectors: np.ndarray, fresh_tokens: list[np.ndarray]
):
    """Chunks, vectors and token vectors in corpus order, taking new rows from the fresh embeddings in
    turn."""
    chunks: list[Chunk] = []
    chunk_blocks, sentence_blocks = [], []
    tokens: list[np.ndarray] = []
    chunk_cursor = sentence_cursor = 0
    for doc_chunks, chunk_vecs, sentence_vecs, token_vecs in parts:
        if chunk_vecs is None:
            n_sentences = sum(len(c.sentences) for c in doc_chunks)
            chunk_vecs = fresh_chunk_vectors[chunk_cursor : chunk_cursor + len(doc_chunks)]
            sentence_vecs = fresh_sentence_vectors[sentence_cursor : sentence_cursor + n_sentences]
            token_vecs = fresh_tokens[sentence_cursor : sentence_cursor + n_sentences]
            chunk_cursor += len(doc_chunks)
            sentence_cursor += n_sentences
        chunks.extend(doc_chunks)
        chunk_blocks.append(chunk_vecs)
        sentence_blocks.append(sentence_vecs)
        tokens.extend(token_vecs)
    dim = fresh_chunk_vectors.shape[1]
    return chunks, _stack(chunk_blocks, dim), _stack(sentence_blocks, dim), tokens


def _stack(vector_blocks: list[np.ndarray], dim: int) -> np.ndarray:
    """One contiguous float32 matrix of the blocks' rows (0 x dim when there are none)."""
    if not vector_blocks:
        return np.zeros((0, dim), dtype=np.float32)
    return np.ascontiguousarray(np.concatenate(vector_blocks), dtype=np.float32)


_UNSUPPORTED = f"supported: {', '.join(sorted(SUFFIXES))}"


def _refusal(path: Path) -> str | None:
    """Why `path` is never added, whatever its content, or None."""
    if path.is_symlink():
        return "it is a symbolic link; msiqa never follows links (copy the file itself)"
    if path.name.startswith((".", "_")):
        return "names starting with '.' or '_' are never indexed; rename the file"
    if not path.is_file():
        return "not a regular file"
    if path.suffix.lower() not in SUFFIXES:
        return f"unsupported file type {path.suffix or '(no suffix)'}; {_UNSUPPORTED}"
    return None


def _candidates(paths: list[Path]) -> tuple[list[Path], list[Skipped]]:
    """The files named by `paths` (a folder stands for its top-level files), and those refused outright."""
    files: list[Path] = []
    skipped: list[Skipped] = []
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            inside = sorted(p for p in path.iterdir() if p.is_symlink() or not p.is_dir())
        elif path.exists() or path.is_symlink():
            inside = [path]
        else:
            skipped.append(Skipped(str(path), "no such file or folder"))
            continue
        for file in inside:
            reason = _refusal(file)
            if reason:
                skipped.append(Skipped(str(file), reason))
            else:
                files.append(file)
    return files, skipped


def add_files(settings: Settings, embedder: Embedder, paths: list[Path], progress: bool = False) -> AddReport:
    """Copy usable files into `seeds/` (keeping their names) and update the index incrementally.

    A file is not copied when it is a symbolic link or a name the loader skips, cannot be read,
    duplicates another document, or reuses a document id. The bytes copied are the bytes read (no
    second open). If the index update fails, the copied files are taken back out and replaced ones
    restored.
    """
    seeds = settings.seeds_dir
    seeds.mkdir(parents=True, exist_ok=True)
    files, skipped = _candidates(paths)
    existing = _current_documents(settings)
    by_hash = {d.content_hash: d.path for d in existing}
    by_id = {d.doc_id: d.path for d in existing}
    plan: list[tuple[bytes, Path]] = []
    status: dict[str, list[str]] = {"added": [], "updated": [], "unchanged": []}
    for source in files:
        target = seeds / source.name
        try:
            data = read_file_bytes(source, settings.max_file_bytes)
            doc = parse_document(data, source)
        except (OSError, ValueError) as exc:
            skipped.append(Skipped(str(source), str(exc)))
            continue
        if target.name in [t.name for _, t in plan]:
            skipped.append(Skipped(str(source), f"another file named {target.name} is added in this run"))
            continue
        if not target.is_symlink() and target.is_file() and target.read_bytes() == data:
            status["unchanged"].append(target.name)
            continue
        reason = _clash(doc, target.name, by_hash, by_id)
        if reason:
            skipped.append(Skipped(str(source), reason))
            continue
        by_hash[doc.content_hash] = by_id[doc.doc_id] = target.name
        status["updated" if target.exists() else "added"].append(target.name)
        plan.append((data, target))
    for entry in skipped:
        log.info("not added %s: %s", entry.path, entry.reason)
    if not plan and not existing and not status["unchanged"]:
        raise CorpusError("Nothing was added: " + "; ".join(f"{s.path}: {s.reason}" for s in skipped))
    report = _copy_and_build(settings, embedder, plan, progress)
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


def _copy_and_build(
    settings: Settings, embedder: Embedder, plan: list[tuple[bytes, Path]], progress: bool
) -> BuildReport:
    """Write each (data, target), then build incrementally; on any failure put `seeds/` back as it was."""
    backup = Path(tempfile.mkdtemp(prefix=".add-backup-", dir=settings.seeds_dir))
    done: list[Path] = []
    try:
        for data, target in plan:
            if target.exists() or target.is_symlink():
                shutil.copy2(target, backup / target.name, follow_symlinks=False)
            part = target.with_name(f".{target.name}.part")
            part.unlink(missing_ok=True)
            with part.open("xb") as handle:  # "x": never writes through a link planted at the name
                handle.write(data)
            done.append(target)
            os.replace(part, target)
        return build_index(settings, embedder, incremental=True, progress=progress)
    except BaseException:
        for target in done:
            saved = backup / target.name
            if saved.exists() or saved.is_symlink():
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
