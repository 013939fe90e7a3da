"""Query encoders side by side: one-question encode latency and cosine to sentence-transformers.

Variants: the ONNX export at fp32 and dynamic int8 (each with one onnxruntime thread, the default, and
fp32 also with one thread per core) and sentence-transformers itself, the plain reference. Latency is
interleaved question by question so that load from other processes hits every variant alike.
Equivalence covers every chunk and sentence of the index (against the stored sentence-transformers
vectors) and every eval question. Deliberately left out: eval figures (run `msiqa eval
--query-encoder ...`; docs/performance.md lists them).
"""

from __future__ import annotations

import time

from msiqa.engine import Engine
from msiqa.indexing.embedding import Embedder, ModelFiles, resolve_model
from msiqa.indexing.onnx_encoder import OnnxEmbedder
from msiqa.indexing.onnx_export import cached_export
from msiqa.indexing.store import embedding_text


def variants(engine: Engine, reference: Embedder) -> dict[str, Embedder]:
    """Every query encoder to compare, the ONNX ones made from the export cache."""
    settings = engine.settings
    files = ModelFiles(reference.model_id, resolve_model(settings.model), reference.weights_sha256)
    dim = int(engine.index.manifest["model"]["dim"])
    out: dict[str, Embedder] = {}
    for precision, threads in (("fp32", 1), ("fp32", 0), ("int8", 1)):
        export = cached_export(files, settings.encoder_cache_dir, precision)
        name = f"onnx-{precision}" + ("" if threads == 1 else "-all-cores")
        out[name] = OnnxEmbedder(files, export.path, export.sha256, dim, threads=threads)
    out["sentence-transformers"] = reference
    return out


def equivalence(engine: Engine, encoders: dict[str, Embedder], questions: list[str]) -> dict[str, dict]:
    """Minimum cosine to sentence-transformers over chunks, sentences and questions, per encoder."""
    index = engine.index
    chunks = [embedding_text(c) for c in index.chunks]
    sentences = [index.documents[c.doc_id].text[s.start : s.end] for c in index.chunks for s in c.sentences]
    reference = {
        "chunks": index.chunk_vectors,
        "sentences": index.sentence_vectors,
        "questions": encoders["sentence-transformers"].encode(questions),
    }
    out = {}
    for name, encoder in encoders.items():
        if name == "sentence-transformers" or name.endswith("-all-cores"):
            continue
        texts = {"chunks": chunks, "sentences": sentences, "questions": questions}
        mins = {
            part: float((encoder.encode(t) * reference[part]).sum(axis=1).min()) for part, t in texts.items()
        }
        out[name] = {k: round(v, 6) for k, v in mins.items()} | {
            "min": round(min(mins.values()), 6),
            "texts": sum(len(t) for t in texts.values()),
        }
    return out


def latency(encoders: dict[str, Embedder], questions: list[str]) -> dict[str, list[float]]:
    """Milliseconds to encode one question, per encoder, interleaved per question (after a warm-up)."""
    for q in questions[:5]:
        for encoder in encoders.values():
            encoder.encode([q])
    samples: dict[str, list[float]] = {name: [] for name in encoders}
    for q in questions:
        for name, encoder in encoders.items():
            started = time.perf_counter()
            encoder.encode([q])
            samples[name].append((time.perf_counter() - started) * 1000.0)
    return samples
