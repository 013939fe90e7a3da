"""The Milvus store (`pip install -e ".[milvus]"`): write an index incrementally, read its manifest, load it.

Layout (`milvus_schema.py`): chunks with their vectors and a BM25 field, sentence vectors, and a table
collection with the documents (quotes and offsets are cut from this table, which lives in Milvus) and
the manifest. A write removes the manifest first, then deletes and reinserts only the rows of documents
that were added, changed or removed (or whose BM25 text changed because the corpus acronyms did), then
writes the manifest: a crash leaves an index that reads as missing and is rebuilt, never one that reads
as current. A full build (or new model weights or parameters) drops and recreates the collections.
Loading reads the tables and vectors into memory: answers score sentence vectors locally, as with the
FAISS store; searches run in Milvus (`milvus_search.py`). Deliberately left out: choosing the store
(`store_api.py`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path

import numpy as np

from msiqa.errors import IndexCorrupt, IndexMissing
from msiqa.indexing import milvus_schema as schema
from msiqa.indexing.acronyms import corpus_acronyms
from msiqa.indexing.milvus_search import PRIMARY_KEY, VECTOR_FIELD, MilvusSearch
from msiqa.indexing.store import LoadedIndex, bm25_terms, bm25_text, passage_text
from msiqa.types import Chunk, Document, Span

log = logging.getLogger(__name__)

CHUNK_FIELDS = [PRIMARY_KEY, "doc_id", "start_char", "end_char", "paragraph", "page", "heading", "sentences"]


def read_manifest(uri: str, collection: str) -> dict:
    client = schema.connect(uri)
    try:
        with schema.milvus_errors(uri):
            return schema.read_manifest(client, uri, collection)
    finally:
        client.close()


def _terms(documents: list[Document], chunks: list[Chunk]) -> tuple[dict[str, str], list[str]]:
    """The corpus acronyms and each chunk's BM25 terms as one space-separated string (as `store.py`)."""
    docs = {d.doc_id: d for d in documents}
    passages = [passage_text(docs[c.doc_id], c) for c in chunks]
    acronyms = corpus_acronyms([d.text for d in documents], passages)
    return acronyms, [" ".join(t) for t in bm25_terms([bm25_text(p, acronyms) for p in passages])]


def _chunk_row(chunk: Chunk, doc: Document, terms: str, vector: np.ndarray) -> dict:
    if len(terms.encode("utf-8")) > schema.TERMS_MAX_BYTES:
        raise IndexCorrupt(f"Chunk {chunk.chunk_id} has more BM25 text than a Milvus VARCHAR holds.")
    return {
        PRIMARY_KEY: chunk.chunk_id,
        "doc_id": chunk.doc_id,
        "kind": doc.kind or "",
        "start_char": chunk.start,
        "end_char": chunk.end,
        "paragraph": chunk.paragraph,
        "page": chunk.page,
        "heading": chunk.heading,
        "sentences": [[s.start, s.end] for s in chunk.sentences],
        "terms": terms,
        VECTOR_FIELD: vector.tolist(),
    }


def _stored_documents(client: object, tables: str) -> dict[str, Document]:
    blobs = schema.read_blobs(client, tables, f'name != "{schema.MANIFEST_KEY}"')
    return {doc_id: _document(json.loads(payload)) for doc_id, payload in blobs.items()}


def _document(row: dict) -> Document:
    row["page_starts"] = tuple(row.get("page_starts") or ())
    return Document(**row)


def _in(field: str, values: list[str]) -> str:
    return f"{field} in {json.dumps(sorted(values), ensure_ascii=False)}"


def _reusable_manifest(client: object, uri: str, collection: str, manifest: dict) -> dict | None:
    """The stored manifest when its rows can be updated in place; None for a full build, a missing or
    unreadable manifest, or other model weights or parameters (then the collections are recreated)."""
    if not manifest.get("last_build", {}).get("incremental"):
        return None
    try:
        old = schema.read_manifest(client, uri, collection)
    except (IndexMissing, IndexCorrupt) as exc:
        log.info("no reusable Milvus index (%s): recreating the collections", str(exc).split(". ")[0])
        return None
    same = old.get("model") == manifest.get("model") and old.get("params") == manifest.get("params")
    return old if same else None


def write_index(
    uri: str,
    collection: str,
    manifest: dict,
    documents: list[Document],
    chunks: list[Chunk],
    chunk_vectors: np.ndarray,
    sentence_vectors: np.ndarray,
) -> None:
    """Bring the collections in step with this build, then write its manifest (see the module doc)."""
    client = schema.connect(uri)
    try:
        with schema.milvus_errors(uri):
            _write(client, uri, collection, manifest, documents, chunks, chunk_vectors, sentence_vectors)
    finally:
        client.close()


def _write(client, uri, collection, manifest, documents, chunks, chunk_vectors, sentence_vectors) -> None:
    chunks_name, sentences_name, tables_name = schema.names(collection)
    acronyms, terms = _terms(documents, chunks)
    old_manifest = _reusable_manifest(client, uri, collection, manifest)
    if old_manifest is None:
        for name in schema.names(collection):
            if client.has_collection(name):
                client.drop_collection(name)
        dense_index = schema.create_collections(client, collection, chunk_vectors.shape[1], len(chunks))
        stored_docs: dict[str, Document] = {}
        stored_terms: dict[str, str] = {}
    else:
        client.delete(tables_name, filter=f'name == "{schema.MANIFEST_KEY}"')
        dense_index = old_manifest.get("milvus", {}).get("dense_index")
        stored_docs = _stored_documents(client, tables_name)
        stored_terms = {
            r[PRIMARY_KEY]: r["terms"]
            for r in schema.query_all(client, chunks_name, "", [PRIMARY_KEY, "terms"])
        }
    docs = {d.doc_id: d for d in documents}
    changed = sorted(d for d in docs if stored_docs.get(d) != docs[d])
    gone = sorted(set(stored_docs) - set(docs))
    if changed or gone:
        for name in (chunks_name, sentences_name):
            client.delete(name, filter=_in("doc_id", changed + gone))
        client.delete(tables_name, filter=_in("name", changed + gone))
    changed_set = set(changed)
    rows = [
        _chunk_row(c, docs[c.doc_id], t, v)
        for c, t, v in zip(chunks, terms, chunk_vectors, strict=True)
        if c.doc_id in changed_set or stored_terms.get(c.chunk_id) != t
    ]
    _upsert(client, chunks_name, rows)
    sentence_rows, cursor = [], 0
    for c in chunks:
        for i in range(len(c.sentences)):
            if c.doc_id in changed_set:
                sentence_rows.append(
                    {
                        "sentence_id": f"{c.chunk_id}/{i:04d}",
                        PRIMARY_KEY: c.chunk_id,
                        "doc_id": c.doc_id,
                        "position": i,
                        VECTOR_FIELD: sentence_vectors[cursor].tolist(),
                    }
                )
            cursor += 1
    _upsert(client, sentences_name, sentence_rows)
    _upsert(
        client,
        tables_name,
        [r for d in changed for r in schema.blob_rows(d, json.dumps(asdict(docs[d]), ensure_ascii=False))],
    )
    manifest = dict(
        manifest,
        acronyms=acronyms,
        milvus={"collection": collection, "dense_index": dense_index, "pymilvus": schema.library_version()},
        libraries=dict(manifest.get("libraries", {}), pymilvus=schema.library_version()),
    )
    for name in (chunks_name, sentences_name):
        client.flush(name)
    _upsert(
        client, tables_name, schema.blob_rows(schema.MANIFEST_KEY, json.dumps(manifest, ensure_ascii=False))
    )
    client.flush(tables_name)
    log.info(
        "Milvus %s: %d chunk rows and %d sentence rows written, %d documents removed",
        uri,
        len(rows),
        len(sentence_rows),
        len(gone),
    )


def _upsert(client: object, collection: str, rows: list[dict], batch: int = 500) -> None:
    for i in range(0, len(rows), batch):
        client.upsert(collection, rows[i : i + batch])


def load_index(uri: str, collection: str, fusion: str = "client") -> LoadedIndex:
    """Read the manifest, documents, chunks and vectors; check their counts against the manifest."""
    client = schema.connect(uri)
    try:
        with schema.milvus_errors(uri):
            return _load(client, uri, collection, fusion)
    except BaseException:
        client.close()
        raise


def _load(client: object, uri: str, collection: str, fusion: str) -> LoadedIndex:
    chunks_name, sentences_name, tables_name = schema.names(collection)
    manifest = schema.read_manifest(client, uri, collection)
    order = {doc_id: i for i, doc_id in enumerate(manifest.get("documents", {}))}
    documents = _stored_documents(client, tables_name)
    rows = schema.query_all(client, chunks_name, "", [*CHUNK_FIELDS, "terms", VECTOR_FIELD])
    rows.sort(key=lambda r: (order.get(r["doc_id"], len(order)), int(r["start_char"])))
    sentences = schema.query_all(client, sentences_name, "", [PRIMARY_KEY, "position", VECTOR_FIELD])
    counts = manifest.get("counts", {})
    if (
        set(documents) != set(order)
        or len(rows) != counts.get("chunks")
        or len(sentences) != counts.get("sentences")
    ):
        raise IndexCorrupt(
            f"The Milvus index in {collection!r} at {uri} is inconsistent (document, chunk or sentence "
            f"counts differ from its manifest). Rebuild: msiqa build --full --milvus-uri {uri} "
            f"--collection {collection}"
        )
    chunks = [_chunk(r, documents[r["doc_id"]]) for r in rows]
    chunk_rows = {c.chunk_id: i for i, c in enumerate(chunks)}
    sentences.sort(key=lambda r: (chunk_rows[r[PRIMARY_KEY]], int(r["position"])))
    dim = int(manifest["model"]["dim"])

    def vectors(items: list[dict]) -> np.ndarray:
        return np.asarray([r[VECTOR_FIELD] for r in items], dtype=np.float32).reshape(-1, dim)

    search = MilvusSearch(client, chunks_name, chunks, chunk_rows, _term_rows(rows), fusion)
    return LoadedIndex(
        path=Path(uri),
        manifest=manifest,
        documents={d: documents[d] for d in order},
        chunks=chunks,
        faiss_index=None,
        bm25=None,
        sentence_vectors=vectors(sentences),
        sentence_chunk=np.repeat(np.arange(len(chunks)), [len(c.sentences) for c in chunks]),
        sentence_spans=[s for c in chunks for s in c.sentences],
        chunk_rows=chunk_rows,
        chunk_vectors=vectors(rows),
        acronyms=dict(manifest.get("acronyms") or {}),
        search=search,
    )


def _chunk(row: dict, doc: Document) -> Chunk:
    start, end = int(row["start_char"]), int(row["end_char"])
    return Chunk(
        chunk_id=row[PRIMARY_KEY],
        doc_id=row["doc_id"],
        text=doc.text[start:end],
        start=start,
        end=end,
        heading=row["heading"],
        paragraph=int(row["paragraph"]),
        sentences=tuple(Span(int(a), int(b)) for a, b in row["sentences"]),
        page=None if row.get("page") is None else int(row["page"]),
    )


def _term_rows(rows: list[dict]) -> dict[str, np.ndarray]:
    """term -> the chunk rows whose BM25 text has it (the vocabulary and document frequencies)."""
    postings: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        for term in set(row["terms"].split()):
            postings.setdefault(term, []).append(i)
    return {t: np.asarray(r, dtype=np.int64) for t, r in postings.items()}
