"""Check each sentence of a generated answer against the numbered passages it cites.

A generated reply is split into sentences; each keeps the `[n]` markers that follow it. A marker for a
passage that was never given (n < 1 or n > number of passages) is removed and reported. A sentence is
**supported** when it cites at least one given passage and both
  * its cosine similarity with the closest sentence of a cited passage (stored sentence vectors; the
    generated sentences are embedded in one batch), and
  * the share of its content-word stems found in the cited passages
reach the thresholds below; otherwise its verdict is "unsupported".

Calibration (`scripts/calibrate_verify.py`, README "Answers, citations and conversations"): every
eval question is used as a claim. Positives: an answerable question against the passage holding its
evidence. Negatives: the same question against the best-ranked passage of another document, and each
unanswerable question against its top passage. The thresholds are the strictest within one point of
the best balanced accuracy on the `tune` split; the script reports the `heldout` split. Questions are
worded unlike passages, so the lexical threshold comes out low; declarative generated sentences
usually score higher on both measures than the questions they were calibrated with.
Deliberately left out: entailment models, checking numbers or negation (a reworded sentence that flips
a claim can pass), and calling the language model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from msiqa.indexing.embedding import Embedder
from msiqa.indexing.store import LoadedIndex, terms
from msiqa.types import Hit

# Calibrated with scripts/calibrate_verify.py on eval/questions.jsonl (tune split); see the module doc.
MIN_COSINE = 0.55
MIN_OVERLAP = 0.10

_MARKERS = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_SPLIT = re.compile(r"(?<=[.!?”\"’\]])\s+(?=[\[A-Z“\"‘(])")
_LEADING_MARKERS = re.compile(r"^((?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])+)\s*")


@dataclass(frozen=True)
class Claim:
    """A generated sentence without its markers, the passages it cites, and markers dropped."""

    text: str
    cited: tuple[int, ...]  # 1-based passage numbers that were given
    dropped: tuple[int, ...]  # passage numbers that were not given


@dataclass(frozen=True)
class Check:
    claim: Claim
    verdict: str  # "supported" / "unsupported"
    cosine: float  # best cosine with a sentence of a cited passage (0 when nothing is cited)
    overlap: float  # share of the claim's content words found in the cited passages
    support_rows: tuple[int, ...]  # per cited passage: sentence row of its closest sentence


def split_claims(text: str, n_passages: int) -> list[Claim]:
    """Sentences of `text` with the markers that follow them; markers heading a sentence go back one."""
    pieces: list[str] = []
    for piece in _SPLIT.split(text.strip()):
        lead = _LEADING_MARKERS.match(piece)
        if lead and pieces:
            pieces[-1] += " " + lead.group(1).strip()
            piece = piece[lead.end() :]
        if piece.strip():
            pieces.append(piece.strip())
    claims = []
    for piece in pieces:
        numbers = [int(n) for m in _MARKERS.finditer(piece) for n in re.split(r"[,;]", m.group(1))]
        body = re.sub(r"\s+([.,;:!?])", r"\1", _MARKERS.sub("", piece)).strip()
        if not body:
            continue
        cited = tuple(dict.fromkeys(n for n in numbers if 1 <= n <= n_passages))
        dropped = tuple(dict.fromkeys(n for n in numbers if not 1 <= n <= n_passages))
        claims.append(Claim(body, cited, dropped))
    return claims


def support(
    claim_text: str,
    claim_vector: np.ndarray,
    chunk_rows: list[int],
    index: LoadedIndex,
    passage_texts: list[str],
) -> tuple[float, float, tuple[int, ...]]:
    """(best cosine, content-word overlap, closest sentence row per passage) of a claim vs passages."""
    best_cosine, rows = 0.0, []
    for chunk_row in chunk_rows:
        sentence_rows = index.sentence_rows(chunk_row)
        if not len(sentence_rows):
            continue
        cosines = index.sentence_vectors[sentence_rows.start : sentence_rows.stop] @ claim_vector
        best = int(np.argmax(cosines))
        rows.append(sentence_rows.start + best)
        best_cosine = max(best_cosine, float(cosines[best]))
    claim_terms = terms(claim_text)
    passage_terms = set().union(*(terms(t) for t in passage_texts)) if passage_texts else set()
    overlap = len(claim_terms & passage_terms) / len(claim_terms) if claim_terms else 0.0
    return best_cosine, overlap, tuple(rows)


def verify(
    text: str,
    hits: tuple[Hit, ...],
    index: LoadedIndex,
    embedder: Embedder,
    min_cosine: float = MIN_COSINE,
    min_overlap: float = MIN_OVERLAP,
) -> list[Check]:
    """Split a generated reply into claims and check each against the passages (`hits`) it cites."""
    claims = split_claims(text, len(hits))
    if not claims:
        return []
    vectors = embedder.encode([c.text for c in claims])
    checks = []
    for claim, vector in zip(claims, vectors, strict=True):
        cited_hits = [hits[n - 1] for n in claim.cited]
        cosine, overlap, rows = support(
            claim.text,
            vector,
            [index.chunk_rows[h.chunk.chunk_id] for h in cited_hits],
            index,
            [h.chunk.text for h in cited_hits],
        )
        ok = bool(claim.cited) and cosine >= min_cosine and overlap >= min_overlap
        checks.append(Check(claim, "supported" if ok else "unsupported", cosine, overlap, rows))
    return checks


def calibrate(
    positives: list[tuple[float, float]], negatives: list[tuple[float, float]], tolerance: float = 0.01
) -> tuple[float, float, float]:
    """(min_cosine, min_overlap, balanced accuracy) from (cosine, overlap) pairs of both classes.

    A pair is accepted when both values reach their thresholds. Grid: cosine 0.20..0.80 and overlap
    0.00..0.80 in steps of 0.05. Among the points within `tolerance` of the best balanced accuracy, the
    strictest wins (highest overlap, then highest cosine): an unsupported sentence costs more than a
    flagged supported one.
    """
    pos, neg = (
        np.array(positives, dtype=float).reshape(-1, 2),
        np.array(negatives, dtype=float).reshape(-1, 2),
    )
    grid = []
    for c in np.round(np.arange(0.20, 0.8001, 0.05), 2):
        for o in np.round(np.arange(0.0, 0.8001, 0.05), 2):
            tpr = float(np.mean((pos[:, 0] >= c) & (pos[:, 1] >= o))) if len(pos) else 0.0
            tnr = float(np.mean(~((neg[:, 0] >= c) & (neg[:, 1] >= o)))) if len(neg) else 0.0
            grid.append((float(c), float(o), (tpr + tnr) / 2))
    best = max(score for _, _, score in grid)
    return max((g for g in grid if g[2] >= best - tolerance), key=lambda g: (g[1], g[0]))
