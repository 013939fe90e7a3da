"""Late interaction: the index stores every sentence's word-piece vectors, questions get theirs from the
same encoder pass as their pooled vector, and the selector's `late_interaction` feature compares them."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from msiqa.engine import with_token_vectors
from msiqa.indexing.build import build_index
from msiqa.indexing.store import load_index
from msiqa.indexing.tokens import (
    FUNCTION_WORDS,
    TokenVectors,
    content_rows,
    late_interaction,
    pack,
    piece_words,
    question_content,
    unpack,
)
from tests.conftest import make_seeds


def unit(*rows: list[float]) -> np.ndarray:
    array = np.asarray(rows, dtype=np.float32)
    return array / np.linalg.norm(array, axis=1, keepdims=True)


def test_late_interaction_is_the_mean_best_match_of_the_question_pieces():
    question = unit([1, 0, 0], [0, 1, 0])
    assert late_interaction(question, unit([1, 0, 0], [0, 1, 0], [0, 0, 1])) == pytest.approx(1.0)
    # the second question piece finds nothing closer than a right angle
    assert late_interaction(question, unit([1, 0, 0], [0, 0, 1])) == pytest.approx(0.5)
    assert late_interaction(question, np.zeros((0, 3), dtype=np.float32)) == 0.0


def test_question_content_drops_function_words_punctuation_and_names_but_keeps_word_pieces():
    pieces = ("what", "did", "ms", "##i", "integrity", "conclude", "about", "the", "ei", "##ti", "?")
    assert piece_words(pieces)[2:6] == ["msi", "msi", "integrity", "conclude"]
    mask = question_content(TokenVectors(pieces, np.eye(len(pieces), dtype=np.float32)))
    assert mask.tolist() == [False, False, True, True, True, True, False, False, True, True, False]
    assert {"what", "the", "did"} <= FUNCTION_WORDS
    # the question's names left out: what is asked about them
    focus = content_rows(pieces, frozenset({"msi", "integrity", "eiti"}))
    assert [p for p, keep in zip(pieces, focus, strict=True) if keep] == ["conclude"]
    # a question of function words only still has pieces to compare
    assert content_rows(("what", "is", "it")).all()


def test_rare_question_words_weigh_more():
    question, sentence = unit([1, 0, 0], [0, 1, 0]), unit([1, 0, 0])
    assert late_interaction(question, sentence) == pytest.approx(0.5)
    assert late_interaction(question, sentence, np.asarray([3.0, 1.0])) == pytest.approx(0.75)


def test_pack_and_unpack_round_trip_ragged_rows_as_float16():
    rows = [np.ones((3, 4), dtype=np.float32), np.zeros((0, 4), dtype=np.float32), np.full((1, 4), 0.5)]
    vectors, offsets = pack(rows, 4)
    assert vectors.dtype == np.float16 and offsets.tolist() == [0, 3, 3, 4]
    assert [r.shape for r in unpack(vectors, offsets)] == [(3, 4), (0, 4), (1, 4)]


@pytest.mark.slow
def test_stored_token_vectors_equal_the_query_encoders_on_every_sentence(engine):
    """The index's word pieces (sentence-transformers at build time, stored as float16) are those the
    ONNX query encoder gives for the same sentences: same pieces, cosine >= 0.999 each."""
    index = engine.index
    texts = [index.documents[c.doc_id].text[s.start : s.end] for c in index.chunks for s in c.sentences]
    _, tokens = engine.embedder.encode_with_tokens(texts)
    assert index.token_offsets is not None and len(index.token_offsets) == len(texts) + 1
    for row, token_set in enumerate(tokens):
        stored = index.tokens_of(row).astype(np.float32)
        assert stored.shape == token_set.vectors.shape, texts[row]
        cosines = (stored * token_set.vectors).sum(axis=1) / np.linalg.norm(stored, axis=1)
        assert cosines.min() >= 0.999, (texts[row], float(cosines.min()))


@pytest.mark.slow
def test_an_incremental_build_keeps_each_sentences_own_token_vectors(tmp_path, seed_settings, embedder):
    """Adding a document reuses the stored pieces of the others and embeds the new one's: every row still
    holds its own sentence's pieces, exactly as a full build of the same seeds."""
    seeds = tmp_path / "seeds"
    shutil.copytree(seed_settings.seeds_dir, seeds)
    settings = seed_settings.with_(seeds_dir=seeds, index_dir=tmp_path / "index")
    build_index(settings, embedder)
    make_seeds(seeds, {"zz_new.md": "# A new note\n\nTrawlers in the Baltic report their catch daily.\n"})
    report = build_index(settings, embedder, incremental=True)
    assert report.unchanged and report.chunks_embedded < report.chunks
    incremental = load_index(settings.index_dir)
    full_settings = settings.with_(index_dir=tmp_path / "full")
    build_index(full_settings, embedder)
    full = load_index(full_settings.index_dir)
    assert incremental.sentence_spans == full.sentence_spans
    assert incremental.token_offsets is not None and full.token_offsets is not None
    np.testing.assert_array_equal(incremental.token_offsets, full.token_offsets)
    np.testing.assert_allclose(
        incremental.sentence_tokens.astype(np.float32), full.sentence_tokens.astype(np.float32), atol=2e-3
    )


@pytest.mark.slow
def test_an_index_without_token_vectors_gets_them_computed(engine, embedder):
    """A Milvus store keeps no token vectors; the engine computes the same ones when it opens."""
    index = engine.index
    bare = load_index(index.path)
    bare.sentence_tokens, bare.token_offsets = None, None
    filled = with_token_vectors(bare, embedder)
    np.testing.assert_array_equal(filled.token_offsets, index.token_offsets)
    np.testing.assert_allclose(
        filled.sentence_tokens.astype(np.float32), index.sentence_tokens.astype(np.float32), atol=2e-3
    )
