"""Boilerplate: sentences a document shares with another one, such as a blog series' footer ("This is
the third contribution in a joint blog series by ...", "Read other blogs in the series here.").

They speak for the series, not for the author, and they match any question that names the series'
publisher. A sentence counts as repeated when a sentence of another document is at least
`REPEATED_COSINE` close to it. On the seed corpus the series footers sit at 0.98 and above, and the
closest pair of genuinely different sentences (two blogs each introducing MSIs) at 0.89. The answer
selector reads it as a feature (`answer/features.py`).

Computed from the stored sentence vectors when an index is first used (no model call), in blocks so
memory stays at `BLOCK` rows times the corpus.
"""

from __future__ import annotations

import numpy as np

from msiqa.indexing.store import LoadedIndex

REPEATED_COSINE = 0.95
BLOCK = 2048

_CACHE: dict[int, tuple[LoadedIndex, np.ndarray]] = {}


def repeated_sentences(index: LoadedIndex) -> np.ndarray:
    """One flag per sentence row: another document has a sentence at least REPEATED_COSINE close."""
    cached = _CACHE.get(id(index))
    if cached is not None and cached[0] is index:
        return cached[1]
    doc_of = {d: i for i, d in enumerate(index.documents)}
    docs = np.asarray([doc_of[index.chunks[c].doc_id] for c in index.sentence_chunk], dtype=np.int64)
    vectors = index.sentence_vectors
    flags = np.zeros(len(vectors), dtype=bool)
    for start in range(0, len(vectors), BLOCK):
        block = vectors[start : start + BLOCK] @ vectors.T
        block[docs[start : start + BLOCK, None] == docs[None, :]] = -1.0
        flags[start : start + BLOCK] = block.max(axis=1, initial=-1.0) >= REPEATED_COSINE
    _CACHE.clear()
    _CACHE[id(index)] = (index, flags)
    return flags


_GROUPS: dict[int, tuple[LoadedIndex, dict[int, int]]] = {}


def mostly_repeated(index: LoadedIndex, rows: range, repeated: np.ndarray) -> bool:
    """At least half of the characters of these sentence rows are in repeated sentences."""
    sizes = np.asarray([index.sentence_spans[r].end - index.sentence_spans[r].start for r in rows])
    return bool(sizes[repeated[rows.start : rows.stop]].sum() * 2 >= sizes.sum())


def duplicate_chunks(index: LoadedIndex) -> dict[int, int]:
    """chunk row -> the first chunk row of its group, for chunks made mostly (`mostly_repeated`) of
    repeated sentences that share one (the same series footer in several posts). Chunks outside any
    group are not listed."""
    cached = _GROUPS.get(id(index))
    if cached is not None and cached[0] is index:
        return cached[1]
    repeated = repeated_sentences(index)
    spans = {c: index.sentence_rows(c) for c in range(len(index.chunks))}
    boiler = [c for c, r in spans.items() if len(r) and mostly_repeated(index, r, repeated)]
    first: dict[int, int] = {}
    for i, a in enumerate(boiler):
        va = index.sentence_vectors[spans[a].start : spans[a].stop]
        for b in boiler[:i]:
            vb = index.sentence_vectors[spans[b].start : spans[b].stop]
            if float((va @ vb.T).max()) >= REPEATED_COSINE:
                first[a] = first.get(b, b)
                break
    out = {**{b: b for b in set(first.values())}, **first}
    _GROUPS.clear()
    _GROUPS[id(index)] = (index, out)
    return out
