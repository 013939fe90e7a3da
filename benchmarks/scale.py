"""`msiqa bench --scale N`: how dense and lexical search grow, on a synthetic corpus shaped like ours.

Vectors: every synthetic chunk is a real vector of the seed index (a chunk or one of its sentences)
plus noise, renormalised. The noise follows the covariance of the real vectors (real embeddings spread
along a few directions, not uniformly over the sphere) and is scaled so that a synthetic vector's
cosine to its centre equals the median cosine measured between a real sentence and its own chunk:
"another passage on the same point". Queries are the real eval questions, embedded. Exact search
(`IndexFlatIP`) is the ground truth for the approximate index's recall@10.
Text: each synthetic chunk draws 60 analysed tokens, 70% from its centre's chunk and 30% from the
corpus-wide token distribution; the real questions query it through BM25 (bm25s).
Deliberately left out: embedding N synthetic texts (measured as passages/s and extrapolated instead).
"""

from __future__ import annotations

import logging
import time

import numpy as np

from msiqa.engine import Engine
from msiqa.indexing.store import EXACT_MAX_VECTORS, make_faiss_index, passage_text, tokenize
from msiqa.retrieval import top_k

log = logging.getLogger(__name__)
TOKENS_PER_CHUNK = 60


def _rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def real_vectors(engine: Engine) -> tuple[np.ndarray, np.ndarray, float]:
    """Centres (chunk and sentence vectors), the chunk row of each centre, and the measured cosine."""
    index = engine.index
    chunks = index.faiss_index.reconstruct_n(0, index.faiss_index.ntotal)
    sentences = index.sentence_vectors
    own_chunk = np.einsum("ij,ij->i", sentences, chunks[index.sentence_chunk])
    centres = np.vstack([chunks, sentences]).astype(np.float32)
    centre_chunk = np.concatenate([np.arange(len(chunks)), index.sentence_chunk])
    return centres, centre_chunk, float(np.median(own_chunk))


def synthetic_vectors(
    centres: np.ndarray, cosine: float, n: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """`n` unit vectors around random centres; noise shaped by the centres' covariance (see module doc)."""
    rng = np.random.default_rng(seed)
    eigvals, eigvecs = np.linalg.eigh(np.cov(centres, rowvar=False))
    eigvals = np.clip(eigvals, 0, None)
    scale = np.sqrt((1.0 / cosine**2 - 1.0) / eigvals.sum())  # E|noise|^2 = 1/cos^2 - 1 for unit centres
    factor = (eigvecs * np.sqrt(eigvals) * scale).T.astype(np.float32)
    which = rng.integers(0, len(centres), size=n)
    out = np.empty((n, centres.shape[1]), dtype=np.float32)
    for start in range(0, n, 100_000):
        stop = min(n, start + 100_000)
        block = (
            centres[which[start:stop]]
            + rng.standard_normal((stop - start, len(factor)), dtype=np.float32) @ factor
        )
        out[start:stop] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out, which


def synthetic_bm25(engine: Engine, centre_chunk: np.ndarray, which: np.ndarray, seed: int = 0):
    """A bm25s index over generated token lists; returns the index and its build seconds."""
    import bm25s

    rng = np.random.default_rng(seed + 1)
    index = engine.index
    texts = [passage_text(index.documents[c.doc_id], c) for c in index.chunks]
    chunk_tokens = tokenize(texts)
    vocab = {t: i for i, t in enumerate(sorted({t for toks in chunk_tokens for t in toks}))}
    chunk_ids = [np.array([vocab[t] for t in toks], dtype=np.int64) for toks in chunk_tokens]
    counts = np.bincount(np.concatenate(chunk_ids), minlength=len(vocab)).astype(float)
    own = rng.random((len(which), TOKENS_PER_CHUNK)) < 0.7
    background = rng.choice(len(vocab), size=(len(which), TOKENS_PER_CHUNK), p=counts / counts.sum())
    docs = []
    for i, chunk_row in enumerate(centre_chunk[which]):
        ids = chunk_ids[chunk_row]
        picks = ids[rng.integers(0, len(ids), size=TOKENS_PER_CHUNK)] if len(ids) else background[i]
        docs.append(np.where(own[i], picks, background[i]).tolist())
    started = time.perf_counter()
    bm25 = bm25s.BM25()
    bm25.index((docs, vocab), show_progress=False)
    return bm25, time.perf_counter() - started


def _latencies(fn, items) -> dict[str, float]:
    ms = []
    for item in items:
        started = time.perf_counter()
        fn(item)
        ms.append((time.perf_counter() - started) * 1000)
    p50, p95 = np.percentile(ms, [50, 95])
    return {"p50": round(float(p50), 3), "p95": round(float(p95), 3)}


def nprobe_sweep(ann, qvec: np.ndarray, truth: np.ndarray, one: list[np.ndarray]) -> list[dict]:
    """Recall@10 and p50 of the IVF index at several nprobe values: the evidence behind the default."""
    import faiss

    ivf, out = faiss.extract_index_ivf(ann), []
    default = ivf.nprobe
    for nprobe in sorted({n for n in (8, 16, 32, 64, 128) if n <= ivf.nlist} | {default}):
        ivf.nprobe = nprobe
        _, found = ann.search(qvec, 10)
        recall = float(np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)]))
        out.append(
            {
                "nprobe": nprobe,
                "recall_at_10": round(recall, 4),
                "p50_ms": _latencies(lambda q: ann.search(q, 10), one)["p50"],
            }
        )
    ivf.nprobe = default
    return out


def embed_rate(engine: Engine, passages: int = 32) -> float:
    """Passages of ~256 tokens embedded per second on this machine (the cost of real text at scale)."""
    text = " ".join(d.text for d in engine.index.documents.values())
    batch = [text[i * 1200 : (i + 1) * 1200] for i in range(passages)]
    started = time.perf_counter()
    engine.embedder.encode(batch)
    return passages / (time.perf_counter() - started)


def run_scale(engine: Engine, n: int, queries: list[str]) -> dict:
    """Build, memory, query latency and recall@10 at `n` synthetic chunks."""
    import faiss

    centres, centre_chunk, cosine = real_vectors(engine)
    qvec = engine.embedder.encode(queries)
    vectors, which = synthetic_vectors(centres, cosine, n)
    started = time.perf_counter()
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    exact_build = time.perf_counter() - started
    started = time.perf_counter()
    ann, ann_params = make_faiss_index(vectors, exact_max=0)
    ann_build = time.perf_counter() - started
    del vectors
    _, truth = exact.search(qvec, 10)
    _, found = ann.search(qvec, 10)
    recall = float(np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)]))
    one = [q.reshape(1, -1) for q in qvec]
    dense_exact = _latencies(lambda q, index=exact: index.search(q, 10), one)
    dense_ann = _latencies(lambda q, index=ann: index.search(q, 10), one)
    sweep = nprobe_sweep(ann, qvec, truth, one)
    exact_mb, ann_mb = (faiss.serialize_index(i).nbytes / 2**20 for i in (exact, ann))
    del exact, ann
    rss2b = _rss_mb()
    bm25, bm25_build = synthetic_bm25(engine, centre_chunk, which)
    rss3 = _rss_mb()
    tokens = [[t for t in toks if t in bm25.vocab_dict] for toks in tokenize(queries)]
    bm25_ms = _latencies(lambda toks: top_k(np.asarray(bm25.get_scores(toks)), 10), [t for t in tokens if t])
    rate = embed_rate(engine)
    return {
        "chunks": n,
        "store_picks": "IndexFlatIP" if n <= EXACT_MAX_VECTORS else ann_params["type"],
        "vectors": f"real centres={len(centres)}, covariance-shaped noise, cosine to centre={cosine:.3f}",
        "queries": len(queries),
        "exact": {"build_s": round(exact_build, 2), "index_mb": round(exact_mb, 1), "query_ms": dense_exact},
        "ann": {
            "params": ann_params,
            "build_s": round(ann_build, 2),
            "index_mb": round(ann_mb, 1),
            "query_ms": dense_ann,
            "recall_at_10": round(recall, 4),
            "nprobe_sweep": sweep,
        },
        "bm25": {
            "build_s": round(bm25_build, 2),
            "memory_mb": round(rss3 - rss2b, 1),
            "query_ms": bm25_ms,
            "tokens_per_chunk": TOKENS_PER_CHUNK,
        },
        "embedding": {"passages_256_tokens_per_s": round(rate, 2), "hours_for_n": round(n / rate / 3600, 2)},
    }


def to_markdown(results: list[dict]) -> str:
    lines = [
        "| chunks | store picks | exact p50/p95 ms | IVF p50/p95 ms | IVF recall@10 | IVF build s | "
        "IVF index MB | BM25 p50/p95 ms | BM25 build s | embed h (CPU) |",
        "|---" * 10 + "|",
    ]
    for r in results:
        e, a, b = r["exact"], r["ann"], r["bm25"]
        lines.append(
            f"| {r['chunks']:,} | {r['store_picks']} | {e['query_ms']['p50']}/{e['query_ms']['p95']} | "
            f"{a['query_ms']['p50']}/{a['query_ms']['p95']} | {a['recall_at_10']} | {a['build_s']} | "
            f"{a['index_mb']} | {b['query_ms']['p50']}/{b['query_ms']['p95']} | {b['build_s']} | "
            f"{r['embedding']['hours_for_n']} |"
        )
    return "\n".join(lines) + "\n"
