"""`python -m benchmarks.ray_embed`: chunks/s embedding locally vs on a local Ray actor pool.

Texts are the seed corpus's chunks, repeated to `--texts N`. Local: one process, torch using every core.
Ray: `ray.init(num_cpus=C)` on this machine and `RayEmbedder` with A actors of one CPU each; each
`encode` starts its actor pool and loads the model per actor, so the first call's time includes that
start-up and the second call's too (Ray Data does not keep actors between datasets): both are printed,
with Ray's own start-up separately. Needs `pip install -e ".[ray]"`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from msiqa.config import Settings
from msiqa.indexing.embedding import load_embedder, verify_model
from msiqa.indexing.store import embedding_text
from msiqa.ingest.chunking import chunk_document
from msiqa.ingest.corpus import load_corpus
from msiqa.runtime import configure_runtime


def corpus_texts(settings: Settings, n: int) -> list[str]:
    docs = load_corpus(settings.seeds_dir, settings.max_file_bytes).documents
    chunks = [c for d in docs for c in chunk_document(d, settings.chunk_chars, settings.chunk_overlap_chars)]
    texts = [embedding_text(c) for c in chunks]
    return [texts[i % len(texts)] for i in range(n)]


def timed(encode, texts: list[str]) -> float:
    started = time.perf_counter()
    encode(texts)
    return time.perf_counter() - started


def run(n_texts: int, actors: list[int]) -> dict:
    import ray

    from msiqa.indexing.ray_embedding import RayEmbedder

    settings = Settings()
    texts = corpus_texts(settings, n_texts)
    local = load_embedder(settings.model, settings.model_sha256)
    local.encode(texts[:64])  # warm
    local_s = timed(local.encode, texts)
    started = time.perf_counter()
    ray.init(num_cpus=max(actors), include_dashboard=False, log_to_driver=False, configure_logging=False)
    ray_start_s = time.perf_counter() - started
    files = verify_model(settings.model, settings.model_sha256)
    rows = []
    for n in actors:
        embedder = RayEmbedder(files, local.dim, actors=n)
        first, second = timed(embedder.encode, texts), timed(embedder.encode, texts)
        rows.append(
            {
                "actors": n,
                "first_s": round(first, 2),
                "second_s": round(second, 2),
                "chunks_per_s": round(n_texts / second, 1),
            }
        )
    ray.shutdown()
    local_after_s = timed(local.encode, texts)  # again: on a shared machine the load moves under us
    return {
        "texts": n_texts,
        "cpu_cores": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 1),
        "local": {"seconds": round(local_s, 2), "chunks_per_s": round(n_texts / local_s, 1)},
        "local_after_ray": {
            "seconds": round(local_after_s, 2),
            "chunks_per_s": round(n_texts / local_after_s, 1),
        },
        "ray_init_s": round(ray_start_s, 2),
        "ray": rows,
    }


def to_markdown(result: dict) -> str:
    lines = [
        f"Embedding {result['texts']} seed chunks on {result['cpu_cores']} cores "
        f"(Ray start-up {result['ray_init_s']} s, not counted below)",
        "",
        "| embedder | seconds | chunks/s |",
        "|---|---|---|",
        f"| local (torch, all cores) | {result['local']['seconds']} | {result['local']['chunks_per_s']} |",
    ]
    after = result["local_after_ray"]
    tail = [
        f"| local again, after Ray | {after['seconds']} | {after['chunks_per_s']} |",
        "",
        f"1-minute load average at the end: {result['load_average_1min']}",
    ]
    for row in result["ray"]:
        lines.append(
            f"| Ray, {row['actors']} actor(s) x 1 CPU | {row['second_s']} (first call {row['first_s']}) "
            f"| {row['chunks_per_s']} |"
        )
    return "\n".join(lines + tail) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.ray_embed", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--texts", type=int, default=1024, help="chunks to embed (default 1024)")
    parser.add_argument(
        "--actors",
        type=int,
        action="append",
        default=None,
        help="Ray actor-pool sizes to measure (repeatable; default 1 and 2)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    configure_runtime(False)
    result = run(args.texts, args.actors or [1, 2])
    print(json.dumps(result, indent=2) if args.json else to_markdown(result), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
