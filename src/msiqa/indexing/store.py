"""The persisted index: FAISS vectors, chunk and document tables, BM25 arrays, sentence vectors, manifest.

`write_index` writes everything into a temporary sibling folder and renames it into place, so a crash
never leaves half an index; `make_faiss_index` picks exact or IVF search by size. `load_index` verifies
the manifest, file sizes and hashes and raises typed errors (`IndexMissing`, `IndexCorrupt`). Only JSON,
`.npy` (allow_pickle=False) and FAISS's own format are read. Deliberately left out: chunking and
embedding (`indexing.py`) and deciding when to rebuild (`engine.py`).
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import os
import re
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from msiqa.errors import IndexCorrupt, IndexMissing
from msiqa.hashing import sha256_file
from msiqa.indexing.acronyms import corpus_acronyms, expansions
from msiqa.types import Chunk, Document, Span

log = logging.getLogger(__name__)

FORMAT_VERSION = 2  # 2: sentence token vectors (late interaction)
MANIFEST = "manifest.json"
_WORD = re.compile(r"(?u)\b\w\w+\b")
VERIFIED_FILES = (
    "documents.jsonl",
    "chunks.jsonl",
    "index.faiss",
    "sentence_vectors.npy",
    "chunk_vectors.npy",
    "sentence_tokens.npy",
    "sentence_token_offsets.npy",
)


def passage_text(doc: Document, chunk: Chunk) -> str:
    """What gets BM25-indexed for a chunk: its text with the title, heading, author and kind as context
    (questions name them: "the press release", "Miedema"); `bm25_text` adds acronym long forms.
    Change it (or the chunking rules): bump PASSAGE_FORMAT."""
    context = (
        doc.title if not chunk.heading or chunk.heading == doc.title else f"{doc.title} — {chunk.heading}"
    )
    source = ", ".join(part for part in (doc.author, doc.kind) if part)
    return f"{context}\n{source}\n{chunk.text}" if source else f"{context}\n{chunk.text}"


def embedding_text(chunk: Chunk) -> str:
    """What gets embedded for a chunk: its own text only. The shared title and byline made every chunk of
    a document look alike to the model (tune split: dense mrr@10 0.63 with them, 0.71 without); BM25
    still sees them. Change it: bump PASSAGE_FORMAT."""
    return chunk.text


def bm25_text(passage: str, acronyms: dict[str, str]) -> str:
    """A passage or query as BM25 sees it: with the long forms of the corpus acronyms it uses."""
    extra = expansions(passage, acronyms)
    return f"{passage}\n{extra}" if extra else passage


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased, stop-worded, Snowball-stemmed tokens; the same for chunks and queries."""
    import bm25s
    import Stemmer

    return bm25s.tokenize(
        texts, stopwords="en", stemmer=Stemmer.Stemmer("english"), return_ids=False, show_progress=False
    )


def bm25_terms(texts: list[str]) -> list[list[str]]:
    """`tokenize` plus each pair of neighbouring tokens ("fair_food", "food_program"), for chunks and
    queries alike: a phrase in the question counts more where the passage has it as a phrase (a light
    form of the sequential dependence model). IDF and term coverage still use single tokens."""
    return [tokens + [f"{a}_{b}" for a, b in itertools.pairwise(tokens)] for tokens in tokenize(texts)]


@functools.lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


@functools.lru_cache(maxsize=65536)
def terms(text: str) -> frozenset[str]:
    """Content-word stems of `text` (the BM25 analyser without the vocabulary): for overlap scores."""
    from bm25s.stopwords import STOPWORDS_EN

    words = [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS_EN]
    return frozenset(_stemmer().stemWords(words))


def term_list(text: str) -> list[str]:
    """`terms` in reading order, repeats kept (for word pairs)."""
    from bm25s.stopwords import STOPWORDS_EN

    return list(_stemmer().stemWords([w for w in _WORD.findall(text.lower()) if w not in STOPWORDS_EN]))


@dataclass
class LoadedIndex:
    """An open index; holds the FAISS and BM25 objects, so it is not frozen."""

    path: Path
    manifest: dict
    documents: dict[str, Document]
    chunks: list[Chunk]
    faiss_index: Any  # a faiss.Index (faiss ships no usable type information)
    bm25: Any  # a bm25s.BM25
    sentence_vectors: np.ndarray  # one row per sentence of every chunk, in chunk order
    sentence_chunk: np.ndarray  # chunk row of each sentence row
    sentence_spans: list[Span]
    chunk_rows: dict[str, int]
    chunk_vectors: np.ndarray | None = None  # one row per chunk: reused by incremental builds
    acronyms: dict[str, str] = field(default_factory=dict)  # short -> long form, for BM25 queries
    search: object | None = None  # a `store_api.SearchBackend` other than FAISS + bm25s (Milvus), or None
    # every sentence row's word-piece vectors (float16), rows token_offsets[i]:token_offsets[i + 1]
    sentence_tokens: np.ndarray | None = None
    token_offsets: np.ndarray | None = None

    def tokens_of(self, row: int) -> np.ndarray:
        if self.sentence_tokens is None or self.token_offsets is None:
            raise ValueError("this index holds no token vectors")
        return self.sentence_tokens[self.token_offsets[row] : self.token_offsets[row + 1]]

    def sentence_rows(self, chunk_row: int) -> range:
        """The sentence rows of one chunk (`sentence_chunk` is sorted: a binary search, not a scan)."""
        start = int(np.searchsorted(self.sentence_chunk, chunk_row, side="left"))
        return range(start, int(np.searchsorted(self.sentence_chunk, chunk_row, side="right")))


def library_versions() -> dict[str, str]:
    out = {}
    for name in (
        "sentence-transformers",
        "faiss-cpu",
        "bm25s",
        "langchain-text-splitters",
        "numpy",
        "torch",
        "onnxruntime",
    ):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _chunk_row(chunk: Chunk) -> dict:
    row = asdict(chunk)
    row["sentences"] = [[s.start, s.end] for s in chunk.sentences]
    return row


def _chunk_from_row(row: dict) -> Chunk:
    sentences = tuple(Span(int(a), int(b)) for a, b in row.pop("sentences"))
    return Chunk(**row, sentences=sentences)


def _document_from_row(row: dict) -> Document:
    row["page_starts"] = tuple(row.get("page_starts") or ())
    return Document(**row)


EXACT_MAX_VECTORS = 20_000  # exact search up to here: a few ms a query on one core (docs/performance.md)


def make_faiss_index(vectors: np.ndarray, exact_max: int = EXACT_MAX_VECTORS) -> tuple[object, dict]:
    """A FAISS index over unit vectors (inner product = cosine) and its parameters for the manifest.

    Up to `exact_max` vectors: exact `IndexFlatIP`. Above: IVF-Flat (trains in seconds where HNSW
    takes minutes at 10^6, and keeps the full vectors, so no quantisation error): nlist = 4*sqrt(n)
    coarse cells, k-means trained on a fixed-seed sample of 32 vectors per cell, nlist/16 cells (at
    most 128) visited per query: recall@10 0.974 at 10^5 (nprobe 79) and 0.982 at 10^6 (nprobe 128)
    on the synthetic corpus of `bench_scale.py`.
    `msiqa bench --scale N` measures recall@10 against exact search at any size.
    """
    import faiss

    n, dim = vectors.shape
    if n <= exact_max:
        index = faiss.IndexFlatIP(dim)
        index.add(vectors)
        return index, {"type": "IndexFlatIP", "exact": True, "vectors": n}
    nlist = int(4 * np.sqrt(n))
    nprobe = min(max(32, nlist // 16), 128)
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
    sample = vectors[np.sort(np.random.default_rng(0).choice(n, size=min(n, 32 * nlist), replace=False))]
    index.train(sample)
    index.add(vectors)
    index.nprobe = nprobe
    return index, {
        "type": "IndexIVFFlat",
        "exact": False,
        "vectors": n,
        "nlist": nlist,
        "nprobe": nprobe,
        "train_vectors": len(sample),
        "metric": "inner_product",
    }


def filter_params(index: object, allowed: np.ndarray) -> object:
    """FAISS search parameters restricting `index` to the rows `allowed`.

    An IVF index visits every cell when filtered, so a filter to a few documents is searched exactly
    instead of coming back short.
    """
    import faiss

    selector = faiss.IDSelectorBatch(allowed.astype(np.int64))
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is None:
        return faiss.SearchParameters(sel=selector)
    return faiss.SearchParametersIVF(sel=selector, nprobe=ivf.nlist)


def write_index(
    target: Path,
    manifest: dict,
    documents: list[Document],
    chunks: list[Chunk],
    chunk_vectors: np.ndarray,
    sentence_vectors: np.ndarray,
    sentence_tokens: tuple[np.ndarray, np.ndarray],
    extra_files: dict[str, Path] | None = None,
) -> None:
    """Write all index files into a temporary sibling of `target`, then swap it into place.
    `extra_files` (name -> source) are copied in too, e.g. the ONNX query encoder; the caller records
    their hashes in `manifest`."""
    import bm25s
    import faiss

    target.parent.mkdir(parents=True, exist_ok=True)
    # the pid in the name lets a later build tell a folder left by a killed build from a live one
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-{os.getpid()}-", dir=target.parent))
    try:
        docs_by_id = {d.doc_id: d for d in documents}
        _write_jsonl(tmp / "documents.jsonl", [asdict(d) for d in documents])
        _write_jsonl(tmp / "chunks.jsonl", [_chunk_row(c) for c in chunks])
        index, index_params = make_faiss_index(chunk_vectors)
        faiss.write_index(index, str(tmp / "index.faiss"))
        np.save(tmp / "sentence_vectors.npy", sentence_vectors, allow_pickle=False)
        np.save(tmp / "chunk_vectors.npy", chunk_vectors, allow_pickle=False)
        np.save(tmp / "sentence_tokens.npy", sentence_tokens[0], allow_pickle=False)
        np.save(tmp / "sentence_token_offsets.npy", sentence_tokens[1], allow_pickle=False)
        passages = [passage_text(docs_by_id[c.doc_id], c) for c in chunks]
        acronyms = corpus_acronyms([d.text for d in documents], passages)
        bm25 = bm25s.BM25()
        bm25.index(bm25_terms([bm25_text(p, acronyms) for p in passages]), show_progress=False)
        bm25.save(str(tmp / "bm25"), show_progress=False)
        for name, source in (extra_files or {}).items():
            shutil.copyfile(source, tmp / name)
        manifest = dict(
            manifest,
            faiss_index=index_params,
            acronyms=acronyms,
            files={
                name: {"bytes": (tmp / name).stat().st_size, "sha256": sha256_file(tmp / name)}
                for name in _index_files(tmp)
            },
        )
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        _swap_into_place(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _swap_into_place(tmp: Path, target: Path) -> None:
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}-{time.time_ns()}")
        os.replace(target, old)
    os.replace(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def read_manifest(path: Path) -> dict:
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise IndexMissing(f"No index at {path}. Build it: msiqa build --index {path}")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexCorrupt(
            f"{manifest_path} is unreadable ({exc.__class__.__name__}). Rebuild: msiqa build --index {path}"
        ) from exc
    if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
        raise IndexCorrupt(f"{manifest_path} has an unknown format. Rebuild: msiqa build --index {path}")
    return manifest


def _index_files(path: Path) -> list[str]:
    """Every file of the index folder but the manifest, `bm25/` included, as relative POSIX paths."""
    files = (p for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    return sorted(name for name in (p.relative_to(path).as_posix() for p in files) if name != MANIFEST)


def verify_files(path: Path, manifest: dict) -> None:
    """Each index file has the size and sha256 the manifest lists, and no file is missing or extra
    (`bm25/` included: BM25 scores change silently when its arrays or vocabulary are altered)."""
    listed = manifest.get("files", {})
    rebuild = f"Rebuild: msiqa build --index {path}"
    if not isinstance(listed, dict) or not any(name.startswith("bm25/") for name in listed):
        raise IndexCorrupt(f"{path / MANIFEST} does not list the hashes of bm25/. {rebuild}")
    for name in VERIFIED_FILES:
        if name not in listed:
            raise IndexCorrupt(f"{path / MANIFEST} does not list {name}. {rebuild}")
    on_disk = set(_index_files(path))
    for name in sorted(on_disk - set(listed)):
        raise IndexCorrupt(f"{path / name} is not listed in the manifest. {rebuild}")
    for name, expected in listed.items():
        file = path / name
        if name not in on_disk:
            raise IndexCorrupt(f"{file} is missing. {rebuild}")
        expected = expected if isinstance(expected, dict) else {}
        if file.stat().st_size != expected.get("bytes") or sha256_file(file) != expected.get("sha256"):
            raise IndexCorrupt(
                f"{file} is truncated or modified (size or sha256 differs from the manifest). {rebuild}"
            )


def load_index(path: Path) -> LoadedIndex:
    import bm25s
    import faiss

    manifest = read_manifest(path)
    verify_files(path, manifest)
    try:
        documents = [
            _document_from_row(json.loads(line))
            for line in (path / "documents.jsonl").read_text(encoding="utf-8").splitlines()
        ]
        chunks = [
            _chunk_from_row(json.loads(line))
            for line in (path / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
        ]
        faiss_index = faiss.read_index(str(path / "index.faiss"))
        sentence_vectors = np.load(path / "sentence_vectors.npy", allow_pickle=False)
        chunk_vectors = np.load(path / "chunk_vectors.npy", allow_pickle=False)
        sentence_tokens = np.load(path / "sentence_tokens.npy", allow_pickle=False)
        token_offsets = np.load(path / "sentence_token_offsets.npy", allow_pickle=False)
        bm25 = bm25s.BM25.load(str(path / "bm25"), show_progress=False)
    except (OSError, ValueError, TypeError, KeyError, RuntimeError) as exc:
        raise IndexCorrupt(
            f"Index at {path} could not be read ({exc}). Rebuild: msiqa build --index {path}"
        ) from exc
    sentence_chunk = np.repeat(np.arange(len(chunks)), [len(c.sentences) for c in chunks])
    if (
        faiss_index.ntotal != len(chunks)
        or len(sentence_vectors) != len(sentence_chunk)
        or len(chunk_vectors) != len(chunks)
        or len(token_offsets) != len(sentence_chunk) + 1
        or (len(token_offsets) and int(token_offsets[-1]) != len(sentence_tokens))
    ):
        raise IndexCorrupt(
            f"Index at {path} is inconsistent (vector and chunk counts differ). "
            f"Rebuild: msiqa build --index {path}"
        )
    return LoadedIndex(
        path=path,
        manifest=manifest,
        documents={d.doc_id: d for d in documents},
        chunks=chunks,
        faiss_index=faiss_index,
        bm25=bm25,
        sentence_vectors=sentence_vectors,
        sentence_chunk=sentence_chunk,
        sentence_spans=[s for c in chunks for s in c.sentences],
        chunk_rows={c.chunk_id: i for i, c in enumerate(chunks)},
        chunk_vectors=chunk_vectors,
        acronyms=dict(manifest.get("acronyms") or {}),
        sentence_tokens=sentence_tokens,
        token_offsets=token_offsets,
    )
