"""The torch-free query path: the ONNX encoder gives sentence-transformers' vectors, the index ships it
with a checked sha256, and answering from an up-to-date index never imports torch (real subprocesses)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from msiqa.config import Settings
from msiqa.engine import Engine
from msiqa.errors import IndexCorrupt, IndexStale
from msiqa.indexing.build import build_index
from msiqa.indexing.embedding import sha256_file
from msiqa.indexing.onnx_encoder import OnnxEmbedder, mean_pool_normalise
from msiqa.indexing.onnx_export import ENCODER_FILE, precision_of
from msiqa.indexing.store import embedding_text, read_manifest
from tests.conftest import make_seeds

QUESTIONS = Path(__file__).resolve().parents[1] / "eval" / "questions.jsonl"


def test_mean_pooling_skips_padding_and_normalises():
    tokens = np.array(
        [[[1.0, 0.0], [3.0, 0.0], [100.0, 100.0]], [[3.0, 4.0], [9.0, 9.0], [9.0, 9.0]]], dtype=np.float32
    )
    mask = np.array([[1, 1, 0], [1, 0, 0]])
    # row 0: mean of (1,0) and (3,0) = (2,0) -> unit (1,0); the padded (100,100) is ignored
    # row 1: only (3,4) counts; |(3,4)| = 5 -> (0.6, 0.8)
    np.testing.assert_allclose(mean_pool_normalise(tokens, mask), [[1.0, 0.0], [0.6, 0.8]], atol=1e-7)


def test_query_encoder_setting_names_a_precision():
    assert precision_of("onnx-fp32") == "fp32" and precision_of("onnx-int8") == "int8"
    assert precision_of("sentence-transformers") is None and precision_of("onnx-fp16") is None


def eval_questions() -> list[str]:
    lines = QUESTIONS.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


@pytest.mark.slow
def test_onnx_vectors_equal_sentence_transformers_on_corpus_and_questions(engine, embedder):
    """Every chunk and sentence of the seed corpus (against the stored sentence-transformers vectors the
    index was built with) and every eval question: cosine >= 0.9999 for the default fp32 encoder."""
    assert isinstance(engine.embedder, OnnxEmbedder) and engine.settings.query_encoder == "onnx-fp32"
    index = engine.index
    chunks = [embedding_text(c) for c in index.chunks]
    sentences = [index.documents[c.doc_id].text[s.start : s.end] for c in index.chunks for s in c.sentences]
    questions = eval_questions()
    pairs = {
        "chunks": (engine.embedder.encode(chunks), index.chunk_vectors),
        "sentences": (engine.embedder.encode(sentences), index.sentence_vectors),
        "questions": (engine.embedder.encode(questions), embedder.encode(questions)),
    }
    for name, (onnx, reference) in pairs.items():
        assert onnx.shape == reference.shape and onnx.dtype == np.float32, name
        np.testing.assert_allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)
        cosines = (onnx * reference).sum(axis=1)
        assert cosines.min() >= 0.9999, (name, float(cosines.min()), int(cosines.argmin()))


def run_cli(args: list[str], stdin: str | None = None) -> tuple[str, dict]:
    """`msiqa ARGS --debug-modules` in a fresh interpreter: its stdout and which heavy modules it loaded."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.run(
        [sys.executable, "-m", "msiqa.cli", *args, "--debug-modules"],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.startswith('{"debug_modules"')]
    assert lines, proc.stderr[-2000:]
    return proc.stdout, json.loads(lines[-1])["debug_modules"]


@pytest.mark.slow
def test_answering_from_an_up_to_date_index_never_imports_torch(engine, tmp_path):
    where = ["--seeds", str(engine.settings.seeds_dir), "--index", str(engine.settings.index_dir)]
    out, loaded = run_cli(["ask", "--json", *where, "How many MSIs did the report evaluate?"])
    answer = json.loads(out)
    assert answer["citations"] and not answer["abstained"]
    assert loaded["onnxruntime"] and not loaded["torch"] and not loaded["sentence_transformers"]

    out, loaded = run_cli(["docs", "--json", *where])
    assert len(json.loads(out)) == len(engine.index.documents)
    assert not loaded["torch"] and not loaded["onnxruntime"] and not loaded["gradio"]

    _, loaded = run_cli(["chat", *where], stdin="What is an MSI?\n/quit\n")
    assert not loaded["torch"]

    few = tmp_path / "questions.jsonl"
    few.write_text("\n".join(QUESTIONS.read_text(encoding="utf-8").splitlines()[:3]) + "\n", encoding="utf-8")
    out, loaded = run_cli(["eval", "--json", "--retriever", "hybrid", "--questions", str(few), *where])
    assert json.loads(out)["retrievers"]["hybrid"] and not loaded["torch"]


DOCS = {
    "kp.txt": "The Kimberley Process\n\nThe Kimberley Process certifies that rough diamonds are conflict "
    "free, but it ignores abuses by state security forces at the mines.\n",
    "eiti.md": "The EITI\n\nThe Extractive Industries Transparency Initiative publishes the payments that "
    "oil, gas and mining companies make to governments.\n",
}


@pytest.fixture
def small(tmp_path) -> Settings:
    return Settings(seeds_dir=make_seeds(tmp_path / "seeds", DOCS), index_dir=tmp_path / "index")


@pytest.mark.slow
def test_index_without_the_encoder_gets_it_without_embedding_again(small, embedder):
    build_index(small.with_(query_encoder="sentence-transformers"), embedder)
    assert read_manifest(small.index_dir)["query_encoder"] is None
    assert not (small.index_dir / ENCODER_FILE).exists()
    engine = Engine.open(small)  # default settings: the fp32 ONNX encoder
    manifest = read_manifest(small.index_dir)
    assert manifest["last_build"]["chunks_embedded"] == 0 and manifest["query_encoder"]["precision"] == "fp32"
    assert sha256_file(small.index_dir / ENCODER_FILE) == manifest["query_encoder"]["sha256"]
    assert isinstance(engine.embedder, OnnxEmbedder)
    assert "kp" in {h.chunk.doc_id for h in engine.retrieve("Who certifies rough diamonds?", top_k=1).hits}


@pytest.mark.slow
def test_modified_encoder_file_is_refused_then_repaired(small, embedder):
    build_index(small, embedder)
    target = small.index_dir / ENCODER_FILE
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    # refused with --no-rebuild, naming the file and the fix (the manifest check reports it as stale)
    with pytest.raises((IndexCorrupt, IndexStale), match=r"query_encoder\.onnx.*msiqa build"):
        Engine.open(small, rebuild=False, embedder=embedder)
    engine = Engine.open(small, embedder=embedder)
    assert sha256_file(target) == read_manifest(small.index_dir)["query_encoder"]["sha256"]
    assert engine.retrieve("Which payments are published?", top_k=1).hits[0].chunk.doc_id == "eiti"


@pytest.mark.slow
def test_sentence_transformers_query_encoder_still_works(small, embedder):
    settings = small.with_(query_encoder="sentence-transformers")
    engine = Engine.open(settings, embedder=embedder)
    assert engine.embedder is embedder
    assert engine.retrieve("Who certifies rough diamonds?", top_k=1).hits[0].chunk.doc_id == "kp"


def test_unknown_query_encoder_flag_is_a_one_line_error():
    proc = subprocess.run(
        [sys.executable, "-m", "msiqa.cli", "ask", "--query-encoder", "onnx-fp16", "hi"],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)),
        timeout=60,
    )
    assert proc.returncode == 2 and "invalid choice: 'onnx-fp16'" in proc.stderr
    assert "Traceback" not in proc.stderr
