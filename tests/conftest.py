"""Shared fixtures: the real model (loaded once per session) and a real index of the project's seeds,
built under a temporary folder so tests never touch the project's own index/."""

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
