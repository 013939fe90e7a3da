"""The benchmark runs end to end in quick mode and emits every figure; the FAISS index factory returns
what brute-force numpy top-k returns. No timing assertions: speed goals live in
`python -m benchmarks`."""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks import bench
from benchmarks import scale as bench_scale
from benchmarks.bench import APP
from msiqa.indexing.store import filter_params, make_faiss_index


def clustered_unit_vectors(n: int, dim: int = 48, centres: int = 20, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((centres, dim)).astype(np.float32)
    x = c[rng.integers(0, centres, n)] + 0.4 * rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def brute_top_k(
    vectors: np.ndarray, queries: np.ndarray, k: int, rows: np.ndarray | None = None
) -> np.ndarray:
    rows = np.arange(len(vectors)) if rows is None else rows
    scores = queries @ vectors[rows].T
    return rows[np.argsort(-scores, axis=1, kind="stable")[:, :k]]


def assert_is_top_k(
    scores: np.ndarray,
    found: np.ndarray,
    vectors: np.ndarray,
    queries: np.ndarray,
    rows: np.ndarray | None = None,
) -> None:
    """`found` is a true top-k: each row's score is its real cosine, and the scores equal brute force's
    (row order may differ only between float-equal scores)."""
    truth = brute_top_k(vectors, queries, found.shape[1], rows)
    np.testing.assert_allclose(scores, np.take_along_axis(queries @ vectors.T, found, axis=1), atol=1e-5)
    np.testing.assert_allclose(scores, np.take_along_axis(queries @ vectors.T, truth, axis=1), atol=1e-5)
    if rows is not None:
        assert np.isin(found, rows).all()


def test_small_corpus_gets_exact_index_equal_to_brute_force():
    vectors, queries = clustered_unit_vectors(3000), clustered_unit_vectors(25, seed=9)
    index, params = make_faiss_index(vectors, exact_max=5000)
    assert params == {"type": "IndexFlatIP", "exact": True, "vectors": 3000}
    assert_is_top_k(*index.search(queries, 10), vectors, queries)


def test_large_corpus_gets_ivf_whose_full_probe_equals_brute_force():
    import faiss

    vectors, queries = clustered_unit_vectors(6000), clustered_unit_vectors(25, seed=9)
    index, params = make_faiss_index(vectors, exact_max=5000)
    ivf = faiss.extract_index_ivf(index)
    assert params["type"] == "IndexIVFFlat" and not params["exact"]
    assert (params["nlist"], params["nprobe"]) == (ivf.nlist, ivf.nprobe) and ivf.nprobe < ivf.nlist
    scores, found = index.search(queries, 10)
    # whatever the default probe finds is scored exactly (IVF-Flat keeps full vectors)
    np.testing.assert_allclose(scores, np.take_along_axis(queries @ vectors.T, found, axis=1), rtol=1e-5)
    ivf.nprobe = ivf.nlist  # visiting every cell is exhaustive: identical to brute force
    assert_is_top_k(*index.search(queries, 10), vectors, queries)


def test_filtered_ivf_search_is_exact_over_the_allowed_rows():
    vectors, queries = clustered_unit_vectors(6000), clustered_unit_vectors(5, seed=11)
    index, _ = make_faiss_index(vectors, exact_max=5000)
    allowed = np.arange(100, 6000, 37, dtype=np.int64)  # a scattered filter, like one document's chunks
    assert_is_top_k(
        *index.search(queries, 10, params=filter_params(index, allowed)), vectors, queries, allowed
    )


def test_manifest_records_the_index_choice(engine):
    assert engine.index.manifest["faiss_index"] == {
        "type": "IndexFlatIP",
        "exact": True,
        "vectors": len(engine.index.chunks),
    }


def test_synthetic_vectors_sit_at_the_measured_distance_from_real_centres(engine):
    centres, centre_chunk, cosine = bench_scale.real_vectors(engine)
    assert len(centres) == len(centre_chunk) == len(engine.index.chunks) + len(engine.index.sentence_vectors)
    vectors, which = bench_scale.synthetic_vectors(centres, cosine, 4000)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    to_centre = np.einsum("ij,ij->i", vectors, centres[which])
    assert abs(float(np.median(to_centre)) - cosine) < 0.05


@pytest.mark.bench
def test_scale_run_reports_every_figure(engine):
    result = bench_scale.run_scale(engine, 3000, bench.distinct_questions()[:20])
    assert result["ann"]["params"]["type"] == "IndexIVFFlat"
    assert 0.0 <= result["ann"]["recall_at_10"] <= 1.0
    sweep = result["ann"]["nprobe_sweep"]
    assert [s["nprobe"] for s in sweep] == sorted(s["nprobe"] for s in sweep)
    assert sweep[-1]["recall_at_10"] >= sweep[0]["recall_at_10"]  # probing more cells never loses neighbours
    for part in ("exact", "ann", "bm25"):
        assert set(result[part]["query_ms"]) == {"p50", "p95"}
    assert result["embedding"]["passages_256_tokens_per_s"] > 0
    assert "| 3,000 |" in bench_scale.to_markdown([result])


@pytest.mark.bench
def test_bench_quick_json_has_every_key(tmp_path, capsys):
    from benchmarks.__main__ import main

    assert main(["--quick", "--json", "--out", str(tmp_path), "--load-seconds", "2"]) == 0
    printed = json.loads(capsys.readouterr().out)
    saved = json.loads((tmp_path / "bench-quick.json").read_text(encoding="utf-8"))
    assert printed == saved
    assert "| ask p50 (ms) |" in (tmp_path / "bench-quick.md").read_text(encoding="utf-8")
    for key in ("seconds", "chunks_per_s", "model_load_s", "reference_seconds"):
        assert saved["build"][key] > 0
    for figures in (saved["ask_ms"], *saved["retrievers_ms"].values(), *saved["reference_ms"].values()):
        assert figures["p50"] > 0 and figures["p95"] >= figures["p50"]
    assert set(saved["retrievers_ms"]) == {"dense", "bm25", "hybrid"}
    assert set(saved["reference_ms"]) == {"dense", "bm25"}
    assert saved["ratios"]["ask_p50_vs_dense_ref"] > 0
    assert saved["cold_start_s"]["cli"] > 0 and saved["peak_rss_mb"]["cli"] > 0
    assert set(saved["cold_start_s"]) == set(saved["peak_rss_mb"]) == {"cli", "app", "reference"}
    assert saved["cold_start_s"]["reference"] > 0 and saved["cold_start_cpu_s"]["cli"] > 0
    encoders = {"onnx-fp32", "onnx-fp32-all-cores", "onnx-int8", "sentence-transformers"}
    assert set(saved["query_encoder_ms"]) == encoders and saved["query_encoder"] == "onnx-fp32"
    assert saved["encoder_equivalence"]["onnx-fp32"]["min"] >= 0.9999
    assert -1 <= saved["encoder_equivalence"]["onnx-int8"]["min"] <= 1
    # which commands load torch is the point of the torch-free query path: none of them, on a built index
    assert set(saved["torch_loaded"]) == {"help", "ask", "chat", "docs", "eval", "app"}
    assert not any(saved["torch_loaded"].values()), saved["torch_loaded"]
    assert all(saved["import_s"][k] > 0 for k in ("help", "ask", "chat", "docs", "eval"))
    assert "| import seconds, ask (torch loaded: no) |" in (tmp_path / "bench-quick.md").read_text()
    assert APP.is_file()  # the launcher the benchmark starts; without it the app figures mean nothing
    assert saved["cold_start_s"]["app"] > 0 and saved["peak_rss_mb"]["app"] > 0
    assert saved["load"]["requests"] > 0 and saved["load"]["errors"] == 0, saved["load"]
