"""Pure parts of the Milvus store, without a Milvus: filter expressions, turning hits into ranked rows,
JSON tables in parts, URI checks and their one-line messages."""

from __future__ import annotations

import json

import numpy as np
import pytest

from msiqa.cli import main
from msiqa.errors import StoreUnavailable
from msiqa.indexing import milvus_schema
from msiqa.indexing.milvus_search import MilvusSearch
from msiqa.types import Chunk


def search_over(doc_ids: list[str]) -> MilvusSearch:
    chunks = [Chunk(f"{d}#{i:04d}", d, "text", 0, 4, "", 1) for i, d in enumerate(doc_ids)]
    return MilvusSearch(None, "c", chunks, {c.chunk_id: i for i, c in enumerate(chunks)}, {})


def test_filter_expression_names_the_documents_of_the_allowed_rows():
    search = search_over(["kp", "kp", "eiti", "fair"])
    assert search.filter_expression(None) == ""
    assert search.filter_expression(np.array([3, 0, 1])) == 'doc_id in ["fair", "kp"]'


def test_hits_become_rows_best_first_ties_by_row_unknown_ids_dropped():
    search = search_over(["a", "b", "c", "d"])
    hits = [
        [
            {"chunk_id": "c#0002", "distance": 0.5},
            {"chunk_id": "b#0001", "distance": 0.5},  # a tie: the lower row first, as FAISS does
            {"chunk_id": "zz#0009", "distance": 0.9},  # written by another writer after the load: skipped
            {"chunk_id": "d#0003", "distance": 0.7},
        ]
    ]
    assert search._ranked(hits, 10, bm25=False).rows == (3, 1, 2)
    assert search._ranked(hits, 2, bm25=False).rows == (3, 1)
    # Milvus Lite reports BM25 negated, Milvus positive: the magnitude ranks either way
    bm25 = [[{"chunk_id": "a#0000", "distance": -2.0}, {"chunk_id": "b#0001", "distance": -1.0}]]
    assert search._ranked(bm25, 5, bm25=True).rows == (0, 1)


def test_json_tables_are_split_into_parts_that_fit_a_varchar():
    payload = json.dumps({"text": "é" * 40_000}, ensure_ascii=False)  # 40,012 characters, 80,012 bytes
    rows = milvus_schema.blob_rows("doc", payload)
    assert len(rows) == 3
    assert all(len(r["text"].encode("utf-8")) <= 65_535 for r in rows)
    assert "".join(r["text"] for r in sorted(rows, key=lambda r: r["part"])) == payload


def test_a_uri_that_is_neither_a_lite_file_nor_a_server_is_refused():
    with pytest.raises(StoreUnavailable, match="neither a Milvus Lite file"):
        milvus_schema.connect("index/msiqa")


@pytest.mark.slow
def test_cli_says_in_one_line_when_milvus_is_unreachable(tmp_path, capsys):
    pytest.importorskip("pymilvus")
    code = main(["docs", "--seeds", str(tmp_path), "--milvus-uri", "http://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert code == 2
    last = err.strip().splitlines()[-1]  # (the model's loading bar may come first)
    assert last.startswith("msiqa: Cannot open Milvus at http://127.0.0.1:9") and "Traceback" not in err
