"""The Milvus store's layout: connecting, the three collections' schemas, JSON tables in parts, the manifest.

- `NAME`: one row per chunk: `chunk_id` (primary key), `doc_id`, `kind`, offsets, paragraph, page,
  heading, sentence spans (JSON), the 384-d chunk vector (FLAT index up to 20,000 chunks, HNSW above),
  and `terms`: the passage as our BM25 analyser sees it (Snowball stems, word pairs, acronym long forms;
  `store.bm25_terms`), which Milvus's BM25 function turns into the `sparse` field. Milvus's standard
  analyser splits on non-word characters only, so it finds exactly our terms.
- `NAME_sentences`: one row per sentence: its vector, chunk id and position in the chunk.
- `NAME_tables`: the document table (full text and metadata, from which quotes and offsets are cut) and
  the manifest, as JSON in parts of at most `PART_CHARS` characters.

A `.db` path is a Milvus Lite file; `http(s)://host:port` a `milvus-lite server`, Milvus standalone or a
cluster: the same pymilvus client code runs against all of them. Writing and loading: `milvus_store.py`.
"""

from __future__ import annotations

import contextlib
import json
import logging
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from msiqa.errors import IndexCorrupt, IndexMissing, StoreUnavailable
from msiqa.indexing import milvus_search
from msiqa.indexing.store import EXACT_MAX_VECTORS, FORMAT_VERSION

log = logging.getLogger(__name__)

PART_CHARS = 16_000  # a VARCHAR holds 65,535 bytes: 16,000 characters fit even at 4 UTF-8 bytes each
TERMS_MAX_BYTES = 65_535
BM25_PARAMS = {"bm25_k1": 1.5, "bm25_b": 0.75}  # bm25s's defaults (Lucene form), so both stores agree
HNSW_PARAMS = {"M": 16, "efConstruction": 200}
MANIFEST_KEY = "manifest"
# pymilvus pings an idle channel every 10 s; a gRPC server with default settings (milvus-lite server,
# in-process or not) allows one ping per 5 minutes and answers more with GOAWAY "too_many_pings", which
# broke the next call after a minutes-long embedding. Ping no more often than that; a connection of
# its own per client (`dedicated`), not one shared through pymilvus's connection manager.
GRPC_OPTIONS = {"grpc.keepalive_time_ms": 300_000, "grpc.keepalive_permit_without_calls": False}


def connect(uri: str) -> object:
    """A pymilvus client for `uri`: a Milvus Lite `.db` file, or an http(s) server address."""
    if not (uri.endswith(".db") or uri.startswith(("http://", "https://"))):
        raise StoreUnavailable(
            f"--milvus-uri {uri!r} is neither a Milvus Lite file (a path ending in .db) "
            "nor a server address (http://host:port)."
        )
    try:
        from pymilvus import MilvusClient
        from pymilvus.exceptions import MilvusException
    except ImportError as exc:
        raise StoreUnavailable('The Milvus store is not installed. Fix: pip install -e ".[milvus]"') from exc
    if uri.endswith(".db"):
        Path(uri).expanduser().parent.mkdir(parents=True, exist_ok=True)
    try:
        return MilvusClient(uri=uri, timeout=30, dedicated=True, grpc_options=GRPC_OPTIONS)
    except (MilvusException, OSError, RuntimeError) as exc:
        hint = (
            " A Milvus Lite file is open in one process at a time: stop the other msiqa using it, or serve "
            f"it with: milvus-lite server --data-dir {uri} --port 19530"
            if uri.endswith(".db")
            else ""
        )
        raise StoreUnavailable(f"Cannot open Milvus at {uri}: {getattr(exc, 'message', exc)}.{hint}") from exc


def milvus_errors(uri: str):
    """A context that turns pymilvus errors (server down, RPC refused) into a one-line `StoreUnavailable`."""
    from pymilvus.exceptions import MilvusException

    @contextlib.contextmanager
    def guard():
        try:
            yield
        except MilvusException as exc:
            raise StoreUnavailable(f"Milvus at {uri} refused the request: {exc.message}") from exc

    return guard()


def names(collection: str) -> tuple[str, str, str]:
    """(chunks, sentences, tables) collection names."""
    return collection, f"{collection}_sentences", f"{collection}_tables"


def library_version() -> str:
    try:
        return version("pymilvus")
    except PackageNotFoundError:
        return "not installed"


def create_collections(client: object, collection: str, dim: int, n_chunks: int) -> dict:
    """Create the three collections; returns the dense index parameters for the manifest."""
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    chunks_name, sentences_name, tables_name = names(collection)
    index_type = "FLAT" if n_chunks <= EXACT_MAX_VECTORS else "HNSW"
    dense_params = {} if index_type == "FLAT" else dict(HNSW_PARAMS)
    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field(milvus_search.PRIMARY_KEY, DataType.VARCHAR, is_primary=True, max_length=512)
    schema.add_field("doc_id", DataType.VARCHAR, max_length=512)
    schema.add_field("kind", DataType.VARCHAR, max_length=256)
    for name in ("start_char", "end_char", "paragraph"):
        schema.add_field(name, DataType.INT64)
    schema.add_field("page", DataType.INT64, nullable=True)
    schema.add_field("heading", DataType.VARCHAR, max_length=8192)
    schema.add_field("sentences", DataType.JSON)
    schema.add_field(
        "terms",
        DataType.VARCHAR,
        max_length=TERMS_MAX_BYTES,
        enable_analyzer=True,
        analyzer_params={"tokenizer": "standard"},
    )
    schema.add_field(milvus_search.VECTOR_FIELD, DataType.FLOAT_VECTOR, dim=dim)
    schema.add_field(milvus_search.SPARSE_FIELD, DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(
        Function(
            name="terms_bm25",
            function_type=FunctionType.BM25,
            input_field_names=["terms"],
            output_field_names=[milvus_search.SPARSE_FIELD],
        )
    )
    index = client.prepare_index_params()
    index.add_index(milvus_search.VECTOR_FIELD, index_type=index_type, metric_type="IP", params=dense_params)
    index.add_index(
        milvus_search.SPARSE_FIELD, index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params=BM25_PARAMS
    )
    client.create_collection(chunks_name, schema=schema, index_params=index)

    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("sentence_id", DataType.VARCHAR, is_primary=True, max_length=600)
    schema.add_field(milvus_search.PRIMARY_KEY, DataType.VARCHAR, max_length=512)
    schema.add_field("doc_id", DataType.VARCHAR, max_length=512)
    schema.add_field("position", DataType.INT64)
    schema.add_field(milvus_search.VECTOR_FIELD, DataType.FLOAT_VECTOR, dim=dim)
    index = client.prepare_index_params()
    index.add_index(milvus_search.VECTOR_FIELD, index_type=index_type, metric_type="IP", params=dense_params)
    client.create_collection(sentences_name, schema=schema, index_params=index)

    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=600)
    schema.add_field("name", DataType.VARCHAR, max_length=512)  # a document id, or "manifest"
    schema.add_field("part", DataType.INT64)
    schema.add_field("text", DataType.VARCHAR, max_length=65_535)
    schema.add_field("placeholder", DataType.FLOAT_VECTOR, dim=2)  # Milvus requires a vector field
    index = client.prepare_index_params()
    index.add_index("placeholder", index_type="FLAT", metric_type="IP")
    client.create_collection(tables_name, schema=schema, index_params=index)
    return {"type": index_type, "metric": "IP", "params": dense_params, "bm25": BM25_PARAMS}


def blob_rows(name: str, payload: str) -> list[dict]:
    parts = [payload[i : i + PART_CHARS] for i in range(0, len(payload), PART_CHARS)] or [""]
    return [
        {"key": f"{name}/{i:06d}", "name": name, "part": i, "text": part, "placeholder": [1.0, 0.0]}
        for i, part in enumerate(parts)
    ]


def query_all(client: object, collection: str, expr: str, fields: list[str]) -> list[dict]:
    """Every row matching `expr`, through a query iterator (no 16,384-row query limit)."""
    iterator = client.query_iterator(collection, batch_size=1000, filter=expr, output_fields=fields)
    rows: list[dict] = []
    try:
        while batch := iterator.next():
            rows.extend(batch)
    finally:
        iterator.close()
    return rows


def read_blobs(client: object, tables: str, expr: str) -> dict[str, str]:
    """name -> the JSON payload reassembled from its parts."""
    parts: dict[str, list[tuple[int, str]]] = {}
    for row in query_all(client, tables, expr, ["name", "part", "text"]):
        parts.setdefault(row["name"], []).append((int(row["part"]), row["text"]))
    return {name: "".join(text for _, text in sorted(p)) for name, p in parts.items()}


def read_manifest(client: object, uri: str, collection: str) -> dict:
    tables = names(collection)[2]
    rebuild = f"Build it: msiqa build --milvus-uri {uri} --collection {collection}"
    if not all(client.has_collection(name) for name in names(collection)):
        raise IndexMissing(f"No index in collection {collection!r} at {uri}. {rebuild}")
    for name in names(collection):
        client.load_collection(name)  # a reopened Milvus Lite file starts with its collections released
    payload = read_blobs(client, tables, f'name == "{MANIFEST_KEY}"').get(MANIFEST_KEY)
    if payload is None:
        raise IndexMissing(f"No complete index in collection {collection!r} at {uri}. {rebuild}")
    try:
        manifest = json.loads(payload)
    except json.JSONDecodeError as exc:
        raise IndexCorrupt(f"The manifest in {collection!r} at {uri} is unreadable. {rebuild}") from exc
    if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
        raise IndexCorrupt(f"The manifest in {collection!r} at {uri} has an unknown format. {rebuild}")
    return manifest
