"""Shared fixtures: the real model (loaded once per session) and a real index of the project's seeds,
built under a temporary folder so tests never touch the project's own index/.

Test tiers (markers registered in pyproject.toml): `browser`, `bench`, `eval` and `slow` tests are left
out of `make test-fast`. Any test that uses the model or an index through the fixtures below is marked
`slow` here, so a new model test cannot slip into the fast tier unmarked."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from msiqa.config import Settings  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"


MODEL_FIXTURES = {"embedder", "engine", "seed_settings"}


@pytest.hookimpl(tryfirst=True)  # before pytest's own hook applies `-m`
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def embedder():
    from msiqa.indexing.embedding import load_embedder

    settings = Settings()
    return load_embedder(settings.model, settings.model_sha256)


@pytest.fixture(scope="session")
def seed_settings(tmp_path_factory) -> Settings:
    """Settings pointing at a copy of the project's seeds and a fresh index folder."""
    root = tmp_path_factory.mktemp("project")
    shutil.copytree(SEEDS, root / "seeds")
    return Settings(seeds_dir=root / "seeds", index_dir=root / "index")


@pytest.fixture(scope="session")
def engine(seed_settings, embedder):
    from msiqa.engine import Engine

    return Engine.open(seed_settings, embedder=embedder)


def make_seeds(folder: Path, files: dict[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder
