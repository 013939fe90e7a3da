"""The index on disk: manifest, verified load, atomic rebuild, stale and corrupt indexes."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_seeds

from msiqa.config import MINILM_SHA256, Settings
from msiqa.engine import Engine, build_index, ensure_index
from msiqa.errors import IndexCorrupt, IndexMissing, IndexStale
from msiqa.indexing.store import load_index, read_manifest

DOCS = {
    "kp.txt": "The Kimberley Process\n\nThe Kimberley Process certifies rough diamonds. Critics say its "
    "definition of conflict diamonds is far too narrow.\n",
    "eiti.txt": "The EITI\n\nThe Extractive Industries Transparency Initiative publishes payments that oil, "
    "gas and mining companies make to governments.\n",
}


@pytest.fixture()
def small(tmp_path, embedder):
    settings = Settings(seeds_dir=make_seeds(tmp_path / "seeds", DOCS), index_dir=tmp_path / "index")
    build_index(settings, embedder)
    return settings


def test_manifest_records_model_params_and_seeds(small):
    manifest = read_manifest(small.index_dir)
    assert manifest["model"]["weights_sha256"] == MINILM_SHA256
    assert manifest["model"]["dim"] == 384
    assert manifest["params"] == small.index_params()
    assert set(manifest["documents"]) == {"kp", "eiti"}
    assert manifest["libraries"]["faiss-cpu"] != "not installed"
    for name in ("index.faiss", "chunks.jsonl", "documents.jsonl", "manifest.json", "sentence_vectors.npy"):
        assert (small.index_dir / name).is_file()
    assert not [p for p in small.index_dir.parent.iterdir() if ".tmp-" in p.name]


def test_faiss_matches_brute_force_numpy(engine):
    index = engine.index
    vectors = index.faiss_index.reconstruct_n(0, index.faiss_index.ntotal)
    query = engine.embedder.encode(["How are garment workers protected by binding agreements?"])[0]
    scores, rows = index.faiss_index.search(query.reshape(1, -1), 10)
    brute = np.argsort(-(vectors @ query), kind="stable")[:10]
    assert list(rows[0]) == list(brute)
    assert np.allclose(scores[0], (vectors @ query)[brute], atol=1e-5)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


def test_missing_index_is_built_on_open(tmp_path, embedder):
    settings = Settings(seeds_dir=make_seeds(tmp_path / "seeds", DOCS), index_dir=tmp_path / "index")
    with pytest.raises(IndexMissing, match="msiqa build"):
        load_index(settings.index_dir)
    index = ensure_index(settings, embedder)
    assert {c.doc_id for c in index.chunks} == {"kp", "eiti"}


def test_changed_seeds_trigger_a_logged_rebuild(small, embedder, caplog):
    (small.seeds_dir / "new.txt").write_text("Fair Food Program\n\nWorkers in Florida tomato fields.\n")
    with caplog.at_level("WARNING"):
        index = ensure_index(small, embedder)
    assert "seeds/ changed" in caplog.text
    assert "new" in index.documents


def test_no_rebuild_refuses_a_stale_index_naming_the_fix(small, embedder):
    (small.seeds_dir / "kp.txt").write_text("Edited.\n\nThe text changed entirely here.\n")
    with pytest.raises(IndexStale, match="msiqa build"):
        ensure_index(small, embedder, rebuild=False)


def test_changed_chunk_settings_make_the_index_stale(small, embedder):
    with pytest.raises(IndexStale, match="settings changed"):
        ensure_index(small.with_(chunk_chars=small.chunk_chars + 100), embedder, rebuild=False)


def test_corrupt_faiss_file_is_a_clear_error_and_rebuild_repairs_it(small, embedder):
    faiss_file = small.index_dir / "index.faiss"
    faiss_file.write_bytes(faiss_file.read_bytes()[:50])
    with pytest.raises(IndexCorrupt, match="truncated or modified.*msiqa build"):
        load_index(small.index_dir)
    index = ensure_index(small, embedder)  # repairs by rebuilding
    assert index.faiss_index.ntotal == len(index.chunks)


def test_garbage_manifest_is_a_clear_error(small):
    (small.index_dir / "manifest.json").write_text("{not json")
    with pytest.raises(IndexCorrupt, match="unreadable"):
        load_index(small.index_dir)


def test_failed_build_keeps_the_previous_index(small, embedder, monkeypatch):
    before = read_manifest(small.index_dir)
    (small.seeds_dir / "more.txt").write_text("Another document\n\nWith more words in it.\n")

    def explode(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("msiqa.indexing.store._swap_into_place", explode)
    with pytest.raises(OSError):
        build_index(small, embedder)
    assert read_manifest(small.index_dir) == before
    assert load_index(small.index_dir).faiss_index.ntotal > 0
    assert not [p for p in small.index_dir.parent.iterdir() if ".tmp-" in p.name]


def test_engine_open_without_rebuild_on_missing_index(tmp_path, embedder):
    settings = Settings(seeds_dir=make_seeds(tmp_path / "seeds", DOCS), index_dir=tmp_path / "none")
    with pytest.raises(IndexStale, match="msiqa build"):
        Engine.open(settings, rebuild=False, embedder=embedder)
