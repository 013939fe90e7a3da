"""Token vectors: the model's contextual vector of every word piece, for late interaction.

A sentence's pooled vector blurs which of the question's words it matches. Late interaction keeps the
pieces: each content word piece of the question finds its closest piece in the sentence, and the mean of
those cosines (`late_interaction`) says how much of what the question asks about the sentence speaks
to, word by word (BERTScore recall; ColBERT's MaxSim, without ColBERT's training). The question's
names are left out (`retrieval.py`): whether a sentence names the subject is a feature of its own, and
what matters here is whether it speaks to what is asked about it (cross-validated top-1 on the train
split: 0.761 without the names, 0.748 with them). The answer selector
uses it as one feature (`answer/features.py`).

Vectors are the model's last hidden states for each piece, [CLS] and [SEP] left out, scaled to unit
length. The index stores the sentences' pieces as float16 (`pack`); a question's come from the same
model pass that gives its pooled vector (`Embedder.encode_with_tokens`), so asking costs no extra run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STORE_DTYPE = np.float16  # half the bytes; cosines move by < 1e-3
# question words that carry no content: articles, auxiliaries, question words, common prepositions.
# Short on purpose: a longer stop list (bm25s' English one, 1 point lower in cross-validated top-1 on
# the train split) also drops words such as "first", "against" or "among" that questions hinge on.
FUNCTION_WORDS = frozenset(
    "the a an of to in on and or is are was were what which who whom how why does do did for by with "
    "about as at from that this it its be".split()
)


@dataclass(frozen=True)
class TokenVectors:
    """One text's word pieces and their unit-length vectors (one row per piece)."""

    pieces: tuple[str, ...]
    vectors: np.ndarray


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.clip(norms, 1e-12, None), dtype=np.float32)


def piece_words(pieces: tuple[str, ...]) -> list[str]:
    """The whole word each piece belongs to ("multi", "-", "stake", "##holder" -> ..., "stakeholder")."""
    words, current = [], ""
    for piece in pieces:
        current = current + piece[2:] if piece.startswith("##") else piece
        words.append(current)
    for i in range(len(words) - 2, -1, -1):  # earlier pieces of a word take its completed form
        if pieces[i + 1].startswith("##"):
            words[i] = words[i + 1]
    return words


def content_rows(pieces: tuple[str, ...], leave_out: frozenset[str] = frozenset()) -> np.ndarray:
    """Which pieces belong to content words: letters or digits, not a function word (`FUNCTION_WORDS`)
    and not one of `leave_out` (lower-cased whole words). All pieces when none is."""
    words = piece_words(pieces)
    keep = np.asarray(
        [
            p.removeprefix("##").isalnum() and p not in FUNCTION_WORDS and w not in leave_out
            for p, w in zip(pieces, words, strict=True)
        ],
        dtype=bool,
    )
    return keep if keep.any() else np.ones(len(pieces), dtype=bool)


def question_content(tokens: TokenVectors, leave_out: frozenset[str] = frozenset()) -> np.ndarray:
    """Which of a question's pieces count (`content_rows`), as a boolean mask."""
    return content_rows(tokens.pieces, leave_out) if len(tokens.pieces) else np.zeros(0, dtype=bool)


def mean_best(best: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Late interaction from best matches (`best_matches`: question pieces x sentences): the mean, weighted
    by `weights` when given, over the question's pieces."""
    return np.average(best, axis=0, weights=weights)


def late_interaction(question: np.ndarray, sentence: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Mean (weighted by `weights` when given) over the question's pieces of the best cosine with any
    piece of one sentence."""
    if not len(question) or not len(sentence):
        return 0.0
    best = (question.astype(np.float64) @ sentence.astype(np.float64).T).max(axis=1, keepdims=True)
    return float(mean_best(best, weights)[0])


def best_matches(question: np.ndarray, tokens: np.ndarray, offsets: np.ndarray, rows: range) -> np.ndarray:
    """For each question piece (row) and each sentence of `rows` (column): the best cosine with any of
    that sentence's pieces, from one matrix product over the sentences' stored pieces (`pack`)."""
    start, stop = int(offsets[rows.start]), int(offsets[rows.stop])
    if not len(question) or stop == start:
        return np.zeros((len(question), len(rows)), dtype=np.float32)
    # float64: a float32 product's last bits can depend on memory alignment, and a feature that moves
    # by 1e-7 can cross a rounding step in training (`msiqa train` must write the same file every time)
    sims = question.astype(np.float64) @ tokens[start:stop].astype(np.float64).T
    counts = np.diff(offsets[rows.start : rows.stop + 1])
    if (counts == 0).any():  # reduceat needs every sentence to have a piece
        return np.stack(
            [
                sims[:, a - start : b - start].max(axis=1, initial=0.0)
                for a, b in zip(
                    offsets[rows.start : rows.stop], offsets[rows.start + 1 : rows.stop + 1], strict=True
                )
            ],
            axis=1,
        )
    return np.maximum.reduceat(sims, (offsets[rows.start : rows.stop] - start).astype(np.intp), axis=1)


def pack(per_text: list[np.ndarray], dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Many texts' piece vectors -> one float16 matrix and the row offsets (len(per_text) + 1)."""
    counts = [len(v) for v in per_text]
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    if not per_text:
        return np.zeros((0, dim), dtype=STORE_DTYPE), offsets
    rows = [v.reshape(-1, dim) for v in per_text]  # an empty stand-in (0 x 0) becomes 0 x dim
    return np.ascontiguousarray(np.concatenate(rows), dtype=STORE_DTYPE), offsets


def unpack(vectors: np.ndarray, offsets: np.ndarray) -> list[np.ndarray]:
    return [vectors[offsets[i] : offsets[i + 1]] for i in range(len(offsets) - 1)]
