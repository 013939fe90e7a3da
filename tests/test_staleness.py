"""`indexing.build.staleness`: the one rule for when an index no longer matches seeds, model and settings."""

from __future__ import annotations

from msiqa.config import Settings
from msiqa.indexing.build import staleness
from msiqa.indexing.onnx_export import EXPORT_FORMAT

SETTINGS = Settings()
MANIFEST = {
    "seeds_hash": "s1",
    "model": {"weights_sha256": "w1"},
    "params": SETTINGS.index_params(),
    "query_encoder": {"precision": "fp32", "export_format": EXPORT_FORMAT},
}


def test_a_matching_index_is_fresh():
    assert staleness(MANIFEST, SETTINGS, "s1", "w1") is None


def test_each_mismatch_is_named():
    assert "seeds/ changed" in staleness(MANIFEST, SETTINGS, "s2", "w1")
    assert "weights changed" in staleness(MANIFEST, SETTINGS, "s1", "w2")
    assert "settings changed" in staleness(MANIFEST, SETTINGS.with_(chunk_chars=500), "s1", "w1")


def test_an_index_without_the_chosen_query_encoder_is_stale():
    without = {k: v for k, v in MANIFEST.items() if k != "query_encoder"}
    assert "query encoder" in staleness(without, SETTINGS, "s1", "w1")
    assert staleness(without, SETTINGS.with_(query_encoder="sentence-transformers"), "s1", "w1") is None


def test_without_a_seeds_hash_only_reusability_counts():
    assert staleness(MANIFEST, SETTINGS, None, "w1") is None
    assert "weights changed" in staleness(MANIFEST, SETTINGS, None, "w2")
