"""Questions -> unit vectors with onnxruntime and `tokenizers`: the torch-free query encoder.

It does what sentence-transformers does for all-MiniLM-L6-v2: the model folder's own `tokenizer.json`
(lower-casing WordPiece, [CLS] ... [SEP]) truncated at `max_seq_length` from `sentence_bert_config.json`,
padded to the longest text of a batch; the transformer (the ONNX file from `onnx_export.py`); mean
pooling over the attention mask; L2 normalisation. The ONNX file is checked against the sha256 the
index manifest recorded before onnxruntime loads it. Deliberately left out:
exporting (`onnx_export.py`) and embedding documents (the index is built with sentence-transformers).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from msiqa.errors import IndexCorrupt, ModelError
from msiqa.indexing.embedding import ModelFiles, sha256_file
from msiqa.indexing.tokens import TokenVectors, unit_rows

DEFAULT_MAX_TOKENS = 256


def max_tokens(folder: Path) -> int:
    """sentence-transformers' `max_seq_length` for the model folder."""
    config = folder / "sentence_bert_config.json"
    if not config.is_file():
        return DEFAULT_MAX_TOKENS
    return int(json.loads(config.read_text(encoding="utf-8")).get("max_seq_length", DEFAULT_MAX_TOKENS))


def mean_pool_normalise(token_embeddings: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
    """Mean of the unmasked token vectors, scaled to unit length (sentence-transformers' Pooling with
    mean tokens, then Normalize: clamped denominators 1e-9 and 1e-12 as there)."""
    mask = attention_mask[..., None].astype(np.float32)
    summed = (token_embeddings * mask).sum(axis=1)
    mean = summed / np.clip(mask.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(mean, axis=1, keepdims=True)
    return np.ascontiguousarray(mean / np.clip(norms, 1e-12, None), dtype=np.float32)


class OnnxEmbedder:
    """The `Embedder` protocol over an ONNX export of the verified model; no torch."""

    def __init__(self, files: ModelFiles, onnx_path: Path, onnx_sha256: str, dim: int, threads: int = 0):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.model_id = files.model_id
        self.weights_sha256 = files.weights_sha256
        self.dim = dim
        self.onnx_path = onnx_path
        try:
            actual = sha256_file(onnx_path)  # streamed: holding the file in memory would add to peak RSS
        except OSError as exc:
            raise IndexCorrupt(
                f"The query encoder {onnx_path} is unreadable ({exc.__class__.__name__}). "
                f"Rebuild: msiqa build --index {onnx_path.parent}"
            ) from exc
        if actual != onnx_sha256:
            raise IndexCorrupt(
                f"{onnx_path} differs from the sha256 in the manifest. "
                f"Rebuild: msiqa build --index {onnx_path.parent}"
            )
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
            self._tokenizer = Tokenizer.from_file(str(files.folder / "tokenizer.json"))
        except Exception as exc:  # noqa: BLE001 - onnxruntime and tokenizers raise their own base types
            raise ModelError(f"Could not load the ONNX query encoder {onnx_path}: {exc}") from exc
        self._tokenizer.enable_truncation(max_tokens(files.folder))
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest text of a batch
        self._inputs = {i.name for i in self._session.get_inputs()}

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.concatenate(
            [self._encode_batch(texts[i : i + batch_size])[0] for i in range(0, len(texts), batch_size)]
        )

    def encode_with_tokens(
        self, texts: list[str], batch_size: int = 32
    ) -> tuple[np.ndarray, list[TokenVectors]]:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32), []
        batches = [self._encode_batch(texts[i : i + batch_size]) for i in range(0, len(texts), batch_size)]
        return np.concatenate([b[0] for b in batches]), [t for b in batches for t in b[1]]

    def _encode_batch(self, texts: list[str]) -> tuple[np.ndarray, list[TokenVectors]]:
        encodings = self._tokenizer.encode_batch(texts)
        feeds = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        (token_embeddings,) = self._session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})
        tokens = []
        for encoding, vectors in zip(encodings, token_embeddings, strict=True):
            real = sum(encoding.attention_mask)  # [CLS] pieces [SEP], then padding
            tokens.append(
                TokenVectors(tuple(encoding.tokens[1 : real - 1]), unit_rows(vectors[1 : real - 1]))
            )
        return mean_pool_normalise(token_embeddings, feeds["attention_mask"]), tokens
