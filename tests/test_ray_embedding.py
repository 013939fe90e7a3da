"""Ray Data embedding (`msiqa build --ray local`) on the project's seed corpus, on a local 2-CPU Ray cluster:
the vectors are a local build's (cosine >= 0.9999 row by row, in the same order)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from conftest import SEEDS

from msiqa.config import Settings
from msiqa.engine import build_index
from msiqa.indexing import store_api
from msiqa.indexing.embedding import verify_model
from msiqa.indexing.store import embedding_text

pytestmark = [pytest.mark.slow, pytest.mark.ray]


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


def test_ray_build_writes_the_vectors_of_a_local_build(ray_cluster, tmp_path, embedder):
    from msiqa.indexing.ray_embedding import RayEmbedder

    shutil.copytree(SEEDS, tmp_path / "seeds")
    local = Settings(seeds_dir=tmp_path / "seeds", index_dir=tmp_path / "local")
    build_index(local, embedder)
    settings = local.with_(index_dir=tmp_path / "ray")
    files = verify_model(settings.model, settings.model_sha256)
    ray_embedder = RayEmbedder(files, embedder.dim, actors=2)
    assert ray_embedder.weights_sha256 == embedder.weights_sha256
    build_index(settings, ray_embedder)

    want, got = store_api.load(local), store_api.load(settings)
    assert [c.chunk_id for c in got.chunks] == [c.chunk_id for c in want.chunks]
    for name in ("chunk_vectors", "sentence_vectors"):
        a, b = getattr(want, name), getattr(got, name)
        assert a.shape == b.shape and len(a) > 50
        cosines = np.sum(a * b, axis=1)  # unit vectors
        assert cosines.min() >= 0.9999, (name, float(cosines.min()))  # row by row: the same order too
    # every sentence's word pieces came back too, in order
    np.testing.assert_array_equal(got.token_offsets, want.token_offsets)
    np.testing.assert_allclose(
        got.sentence_tokens.astype(np.float32), want.sentence_tokens.astype(np.float32), atol=2e-3
    )
    # a direct call: rows come back in input order however Ray splits them into batches
    texts = [embedding_text(c) for c in want.chunks][::-1]
    np.testing.assert_allclose(ray_embedder.encode(texts), want.chunk_vectors[::-1], atol=1e-4)
