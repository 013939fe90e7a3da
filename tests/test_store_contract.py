"""The store contract: the same tests against the FAISS + bm25s folder, a Milvus Lite file, a
`milvus-lite server` process on 127.0.0.1 (the network path a cluster uses) and, when
MSIQA_MILVUS_TEST_URI is set, a real Milvus of the user's. Real model, real stores; assertions on ids
and ranks, never on raw scores."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import make_seeds

from msiqa.config import Settings
from msiqa.engine import Engine, build_index, ensure_index
from msiqa.errors import IndexStale
from msiqa.indexing import store_api
from msiqa.indexing.build import add_files
from msiqa.retrieval import bm25_search, dense_search, term_coverage

pytestmark = pytest.mark.slow

DOCS = {
    "kp.txt": "---\nkind: report\n---\nThe Kimberley Process\n\n"
    "The Kimberley Process certifies rough diamonds. Critics say its definition of conflict diamonds "
    "is far too narrow, because it covers only rebel "
    "groups and ignores abuses by governments.\n\nDiamond miners in Marange were shot by soldiers.\n",
    "eiti.txt": "---\nkind: blog post\n---\nThe EITI\n\nThe Extractive Industries Transparency Initiative "
    "(EITI) publishes payments that oil, gas and mining companies make to governments.\n\nCivil society "
    "groups sit on the EITI board beside companies and governments.\n",
    "fair.txt": "---\nkind: blog post\n---\nFair Food\n\nThe Fair Food Program lets farmworkers in Florida "
    "report abuse. Workers elected their own monitors and growers pay a penny more per pound.\n",
}
NEW_DOC = {"cobalt.txt": "Cobalt\n\nArtisanal cobalt miners in Katanga are paid by the sack.\n"}
STORES = [
    "faiss",
    *(
        pytest.param(kind, marks=pytest.mark.milvus)
        for kind in ("milvus-lite", "milvus-server", "milvus-env")
    ),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def milvus_server(tmp_path_factory):
    """A `milvus-lite server` child process on 127.0.0.1 and a free port; its http:// URI."""
    pytest.importorskip("pymilvus")
    port = free_port()
    data = tmp_path_factory.mktemp("milvus-server")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "milvus_lite",
            "server",
            "--data-dir",
            str(data),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=(data / "server.log").open("w"),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.2)
    if proc.poll() is not None:
        pytest.fail(f"milvus-lite server exited: {(data / 'server.log').read_text()[-2000:]}")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=30)


def store_settings(kind: str, root: Path, request) -> Settings:
    seeds = make_seeds(root / "seeds", DOCS)
    base = Settings(seeds_dir=seeds, index_dir=root / "index")
    if kind == "faiss":
        return base
    pytest.importorskip("pymilvus")
    collection = f"contract_{os.getpid()}_{time.time_ns() % 10**9}"
    if kind == "milvus-lite":
        return base.with_(milvus_uri=str(root / "store.db"), collection=collection)
    if kind == "milvus-server":
        return base.with_(milvus_uri=request.getfixturevalue("milvus_server"), collection=collection)
    uri = os.environ.get("MSIQA_MILVUS_TEST_URI")
    if not uri:
        pytest.skip("set MSIQA_MILVUS_TEST_URI=http://host:19530 to run the contract on your Milvus")
    return base.with_(milvus_uri=uri, collection=collection)


@pytest.fixture(params=STORES)
def built(request, tmp_path, embedder):
    """(settings, open engine) for a fresh store of kind `request.param` holding DOCS."""
    kind = request.param
    settings = store_settings(kind, tmp_path, request)
    build_index(settings, embedder)
    yield settings, Engine(settings, embedder, store_api.load(settings))
    if settings.milvus_uri:
        from msiqa.indexing import milvus_schema

        client = milvus_schema.connect(settings.milvus_uri)
        for name in milvus_schema.names(settings.collection):
            client.drop_collection(name)
        client.close()


@pytest.fixture(scope="module")
def reference(tmp_path_factory, embedder):
    """The FAISS store over DOCS: what every other store must match."""
    root = tmp_path_factory.mktemp("reference")
    settings = Settings(seeds_dir=make_seeds(root / "seeds", DOCS), index_dir=root / "index")
    build_index(settings, embedder)
    return store_api.load(settings)


def test_tables_and_vectors_match_the_reference(built, reference):
    settings, engine = built
    index = engine.index
    assert [c.chunk_id for c in index.chunks] == [c.chunk_id for c in reference.chunks]
    assert index.chunks == reference.chunks
    assert index.documents == reference.documents
    assert index.sentence_spans == reference.sentence_spans
    np.testing.assert_array_equal(index.sentence_chunk, reference.sentence_chunk)
    np.testing.assert_allclose(index.chunk_vectors, reference.chunk_vectors, atol=1e-6)
    np.testing.assert_allclose(index.sentence_vectors, reference.sentence_vectors, atol=1e-6)
    for chunk in index.chunks:
        assert index.documents[chunk.doc_id].text[chunk.start : chunk.end] == chunk.text


def test_manifest_is_stored_beside_the_data_and_detects_staleness(built):
    settings, engine = built
    manifest = store_api.read_manifest(settings)
    assert manifest["params"] == settings.index_params()
    assert manifest["model"]["weights_sha256"] == engine.embedder.weights_sha256
    assert manifest["counts"] == {
        "documents": 3,
        "chunks": len(engine.index.chunks),
        "sentences": len(engine.index.sentence_spans),
    }
    ensure_index(settings, engine.embedder, rebuild=False)  # current: opens without a rebuild
    (settings.seeds_dir / "fair.txt").write_text(DOCS["fair.txt"] + "\nA new paragraph.\n", encoding="utf-8")
    with pytest.raises(IndexStale, match="seeds/ changed"):
        ensure_index(settings, engine.embedder, rebuild=False)


def test_dense_ranks_match_brute_force(built, reference):
    _, engine = built
    query = engine.embedder.encode(["Who sits on the board of the extractives initiative?"])[0]
    expected = np.argsort(-(reference.chunk_vectors @ query), kind="stable")[:5]
    ranked = dense_search(engine.index, query, 5, None)
    assert list(ranked.rows) == [int(r) for r in expected]


@pytest.mark.parametrize(
    "query", ["conflict diamonds definition", "farmworkers report abuse Florida", "EITI board"]
)
def test_bm25_ranks_match_bm25s(built, reference, query):
    _, engine = built
    got = bm25_search(engine.index, query, 5, None)
    want = bm25_search(reference, query, 5, None)
    assert [engine.index.chunks[r].chunk_id for r in got.rows] == [
        reference.chunks[r].chunk_id for r in want.rows
    ]
    assert got.rows, "the query's words are in the documents"
    assert term_coverage(engine.index, query, list(got.rows)) == term_coverage(
        reference, query, list(want.rows)
    )


def test_hybrid_answer_cites_the_right_document(built, reference):
    settings, engine = built
    answer = engine.ask("Why is the Kimberley Process definition of conflict diamonds criticized?")
    assert not answer.abstained
    assert answer.citations[0].document.doc_id == "kp"
    for c in answer.citations:
        assert c.document.text[c.start : c.end] == c.quote
    faiss = Engine(Settings(seeds_dir=settings.seeds_dir), engine.embedder, reference).ask(
        "Why is the Kimberley Process definition of conflict diamonds criticized?"
    )
    assert [h.chunk.chunk_id for h in answer.hits] == [h.chunk.chunk_id for h in faiss.hits]


def test_doc_and_kind_filters(built):
    _, engine = built
    only_eiti = engine.ask("Who pays governments?", doc_ids=["eiti"])
    assert {h.document.doc_id for h in only_eiti.hits} == {"eiti"}
    blogs = engine.ask("Who pays governments?", kinds=["blog post"])
    assert {h.document.doc_id for h in blogs.hits} <= {"eiti", "fair"}
    assert blogs.hits


def test_add_is_incremental_and_deletes_are_honoured(built, tmp_path):
    settings, engine = built
    extra = make_seeds(tmp_path / "incoming", NEW_DOC)
    report = add_files(settings, engine.embedder, [extra / "cobalt.txt"])
    assert report.added == ("cobalt.txt",)
    assert report.chunks_embedded == 1
    index = store_api.load(settings)
    assert "cobalt" in index.documents
    query = engine.embedder.encode(["cobalt miners paid by the sack"])[0]
    assert index.chunks[dense_search(index, query, 1, None).rows[0]].doc_id == "cobalt"
    assert index.chunks[bm25_search(index, "cobalt sack", 1, None).rows[0]].doc_id == "cobalt"

    (settings.seeds_dir / "kp.txt").unlink()
    build_index(settings, engine.embedder, incremental=True)
    index = store_api.load(settings)
    assert "kp" not in index.documents
    assert all(c.doc_id != "kp" for c in index.chunks)
    assert all(
        index.chunks[r].doc_id != "kp" for r in bm25_search(index, "Kimberley diamonds", 10, None).rows
    )
    query = engine.embedder.encode(["Kimberley Process diamonds"])[0]
    assert all(index.chunks[r].doc_id != "kp" for r in dense_search(index, query, 10, None).rows)
    assert store_api.read_manifest(settings)["counts"]["documents"] == 3
