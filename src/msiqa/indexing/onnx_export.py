"""Export the verified all-MiniLM-L6-v2 weights to an ONNX query encoder (fp32 or dynamic int8).

The weights come from the local model folder only, after their sha256 has been checked
(`embedding.verify_model`); `torch.onnx.export` (the TorchScript exporter) writes the transformer, whose
output is the token embeddings; pooling and normalisation stay in `onnx_encoder.py`, as in
sentence-transformers. The int8 variant is `onnxruntime.quantization.quantize_dynamic` of that export,
with per-channel weight scales. Nothing is downloaded. `cached_export` keeps one export per weights
hash, precision and recipe in a cache folder (`Settings.encoder_cache_dir`), so builds after the first
copy it instead of exporting again. Deliberately left out: running the model (`onnx_encoder.py`) and
putting the file into the index folder (`build.py`).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from msiqa.config import Settings
from msiqa.errors import ModelError
from msiqa.indexing.embedding import ModelFiles, sha256_file

log = logging.getLogger(__name__)

EXPORT_FORMAT = 1  # version of this recipe (inputs, outputs, opset, quantisation); recorded in the manifest
OPSET = 17
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT = "token_embeddings"
PRECISIONS = ("fp32", "int8")
ENCODER_FILE = "query_encoder.onnx"  # its name inside the index folder


def precision_of(query_encoder: str) -> str | None:
    """ "onnx-int8" -> "int8"; None for a query encoder that is not an ONNX file."""
    precision = query_encoder.removeprefix("onnx-")
    return precision if query_encoder.startswith("onnx-") and precision in PRECISIONS else None


def query_precision(settings: Settings) -> str | None:
    """The ONNX precision questions use under `settings`; None: sentence-transformers. A Milvus store has
    no folder to ship the encoder in, so it keeps sentence-transformers for questions."""
    return None if settings.milvus_uri else precision_of(settings.query_encoder)


@dataclass(frozen=True)
class ExportedEncoder:
    path: Path
    precision: str
    sha256: str
    bytes: int
    weights_sha256: str
    seconds: float

    def manifest_entry(self, file_name: str) -> dict[str, object]:
        """What the index manifest records about the encoder file it ships."""
        return {
            "file": file_name,
            "precision": self.precision,
            "sha256": self.sha256,
            "bytes": self.bytes,
            "weights_sha256": self.weights_sha256,
            "export_format": EXPORT_FORMAT,
            "opset": OPSET,
        }


def cached_export(files: ModelFiles, cache_dir: Path, precision: str) -> ExportedEncoder:
    """The export of `files` at `precision` from `cache_dir`, made there first if missing or damaged."""
    stem = f"minilm-{files.weights_sha256[:16]}-r{EXPORT_FORMAT}-{precision}"
    path, record = cache_dir / f"{stem}.onnx", cache_dir / f"{stem}.json"
    try:
        cached = json.loads(record.read_text(encoding="utf-8"))
        if (
            cached.get("weights_sha256") == files.weights_sha256
            and path.is_file()
            and sha256_file(path) == cached.get("sha256")
        ):
            return ExportedEncoder(
                path, precision, cached["sha256"], path.stat().st_size, files.weights_sha256, 0.0
            )
    except (OSError, ValueError):
        pass  # no usable export yet
    exported = export_encoder(files, path, precision)
    partial = record.with_name(f".{record.name}.{os.getpid()}")
    partial.write_text(
        json.dumps({"sha256": exported.sha256, "weights_sha256": files.weights_sha256}), encoding="utf-8"
    )
    partial.replace(record)
    return exported


def export_encoder(files: ModelFiles, target: Path, precision: str) -> ExportedEncoder:
    """Write the ONNX encoder of the verified model `files` to `target` (fp32, or int8 quantised)."""
    if precision not in PRECISIONS:
        raise ModelError(f"Unknown ONNX precision {precision!r}; use one of {', '.join(PRECISIONS)}.")
    started = time.perf_counter()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".onnx-export-", dir=target.parent) as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        _export_fp32(files.folder, fp32)
        if precision == "int8":
            _quantize(fp32, Path(tmp) / "int8.onnx")
            os.replace(Path(tmp) / "int8.onnx", target)
        else:
            os.replace(fp32, target)
    seconds = time.perf_counter() - started
    log.info("exported the %s ONNX query encoder to %s in %.1fs", precision, target, seconds)
    return ExportedEncoder(
        path=target,
        precision=precision,
        sha256=sha256_file(target),
        bytes=target.stat().st_size,
        weights_sha256=files.weights_sha256,
        seconds=seconds,
    )


def _export_fp32(folder: Path, target: Path) -> None:
    import torch
    from transformers import AutoModel

    try:
        model = AutoModel.from_pretrained(
            str(folder), local_files_only=True, trust_remote_code=False, use_safetensors=True
        ).eval()
    except (OSError, ValueError) as exc:
        raise ModelError(f"Could not load the model from {folder} for the ONNX export: {exc}") from exc

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state

    sample = torch.ones((2, 16), dtype=torch.long)
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, OUTPUT)}
    with torch.no_grad():
        torch.onnx.export(
            TokenEmbeddings(model),
            (sample, sample, torch.zeros_like(sample)),
            str(target),
            input_names=list(INPUTS),
            output_names=[OUTPUT],
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
        )


def _quantize(source: Path, target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # per-channel scales: min cosine to the fp32 vectors 0.986 on the eval questions, 0.939 per-tensor
    logging.disable(logging.WARNING)  # it logs every unquantised tensor, and a pre-processing tip, to root
    try:
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True)
    finally:
        logging.disable(logging.NOTSET)
