"""Calibrate verify.py's two thresholds on eval/questions.jsonl and report them.

Each eval question stands in for a generated claim. Positives: an answerable question against the
passage holding its evidence. Negatives: the same question, and its evidence sentence (a true sentence
cited to the wrong passage), against the best-ranked passage from another document, and each
unanswerable question against its top passage. Thresholds maximise balanced
accuracy on the `tune` split (the strictest within one point of the best); the `heldout` split is
reported with them.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/calibrate_verify.py [--index DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]


def pairs(engine, rows):
    """(split, label, cosine, overlap) for each question/passage pair."""
    from msiqa.answer.verify import support

    index = engine.index
    vectors = engine.embedder.encode([r["question"] for r in rows])
    evidence_vectors = engine.embedder.encode([r["evidence"][0] if r["evidence"] else "" for r in rows])
    out = []
    for row, vector, evidence_vector in zip(rows, vectors, evidence_vectors, strict=True):
        hits = engine.retriever.search(row["question"], "hybrid", 30, query_vector=vector).hits
        pair_hits = []
        if row["answerable"]:
            holding = [c for c in index.chunks if any(e in c.text for e in row["evidence"])]
            if not holding:
                continue
            pair_hits.append((1, holding[0]))
            other = next((h.chunk for h in hits if h.chunk.doc_id != holding[0].doc_id), None)
            if other is not None:
                pair_hits.append((0, other))
                cosine, overlap, _ = support(
                    row["evidence"][0],
                    evidence_vector,
                    [index.chunk_rows[other.chunk_id]],
                    index,
                    [other.text],
                )
                out.append((row["split"], 0, cosine, overlap))  # a true sentence cited to the wrong passage
        elif hits:
            pair_hits.append((0, hits[0].chunk))
        for label, chunk in pair_hits:
            cosine, overlap, _ = support(
                row["question"], vector, [index.chunk_rows[chunk.chunk_id]], index, [chunk.text]
            )
            out.append((row["split"], label, cosine, overlap))
    return out


def main() -> int:
    from msiqa.answer.verify import MIN_COSINE, MIN_OVERLAP, calibrate
    from msiqa.config import Settings
    from msiqa.engine import Engine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=ROOT / "index")
    parser.add_argument("--seeds", type=Path, default=ROOT / "seeds")
    args = parser.parse_args()
    engine = Engine.open(Settings(seeds_dir=args.seeds.resolve(), index_dir=args.index.resolve()))
    rows = [
        json.loads(line)
        for line in (ROOT / "eval" / "questions.jsonl").read_text().splitlines()
        if line.strip()
    ]
    data = pairs(engine, rows)

    def split(name, label):
        return [(c, o) for s, lab, c, o in data if s == name and lab == label]

    def rates(name, c, o):
        pos, neg = split(name, 1), split(name, 0)
        tpr = sum(x >= c and y >= o for x, y in pos) / len(pos)
        tnr = sum(not (x >= c and y >= o) for x, y in neg) / len(neg)
        return len(pos), len(neg), tpr, tnr

    c, o, bal = calibrate(split("tune", 1), split("tune", 0))
    print(f"calibrated on tune: min_cosine={c:.2f} min_overlap={o:.2f} balanced accuracy={bal:.3f}")
    for name in ("tune", "heldout"):
        for label, (tc, to) in (("calibrated", (c, o)), ("in verify.py", (MIN_COSINE, MIN_OVERLAP))):
            n_pos, n_neg, tpr, tnr = rates(name, tc, to)
            print(
                f"  {name:8s} {label:13s} ({tc:.2f}, {to:.2f}): {n_pos} supported pairs kept {tpr:.1%}, "
                f"{n_neg} unsupported pairs flagged {tnr:.1%}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
