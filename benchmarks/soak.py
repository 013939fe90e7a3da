"""Soak test: N clients ask through the app's `/ask` for a long time while the app's RSS is sampled.

    python -m benchmarks.soak --clients 16 --seconds 600 --sample-seconds 15

Starts the app on a free 127.0.0.1 port (as `load.py` does), warms it up, then has `--clients`
threads ask the eval questions in turn for `--seconds`. Every `--sample-seconds` it records the app's
resident memory and the requests answered so far. Prints one JSON object: the samples, the requests,
errors and throughput, and the RSS growth in the first and second half of the run (MB per 1,000
requests), so a leak (steady growth) can be told from a warm-up that levels off.
Deliberately left out: deciding what growth is acceptable (a person reads the figures).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench import AppServer, ask_inputs, ask_rest, questions, start_clients

PROJECT_ROOT = Path(__file__).resolve().parents[1]  # benchmarks run from a source checkout


def rss_mb(pid: int) -> float:
    import psutil

    return psutil.Process(pid).memory_info().rss / 2**20


def soak(base: str, pid: int, info: dict, clients: int, seconds: float, sample_seconds: float) -> dict:
    """Run the clients for `seconds`, sampling the RSS of process `pid` every `sample_seconds`."""
    started = time.perf_counter()
    samples = [{"t_s": 0.0, "rss_mb": round(rss_mb(pid), 1), "requests": 0}]
    run = start_clients(base, info, clients, seconds)
    next_sample = started + sample_seconds
    while run.running():
        time.sleep(0.1)
        if time.perf_counter() < next_sample and run.running():
            continue
        next_sample += sample_seconds
        with run.lock:
            done = len(run.latencies)
        at = round(time.perf_counter() - started, 1)
        samples.append({"t_s": at, "rss_mb": round(rss_mb(pid), 1), "requests": done})
    elapsed = time.perf_counter() - started
    return {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests": len(run.latencies),
        "errors": len(run.errors),
        "error_examples": [e[:200] for e in run.errors[:3]],
        "throughput_rps": round(len(run.latencies) / elapsed, 2),
        "rss_start_mb": samples[0]["rss_mb"],
        "rss_end_mb": samples[-1]["rss_mb"],
        "rss_max_mb": max(s["rss_mb"] for s in samples),
        **growth(samples),
        "samples": samples,
    }


def growth(samples: list[dict]) -> dict:
    """RSS growth in MB per 1,000 requests over the first and the second half of the samples."""
    mid = len(samples) // 2

    def rate(a: dict, b: dict) -> float | None:
        n = b["requests"] - a["requests"]
        return round((b["rss_mb"] - a["rss_mb"]) / n * 1000, 2) if n > 0 else None

    return {
        "growth_first_half_mb_per_1k": rate(samples[0], samples[mid]),
        "growth_second_half_mb_per_1k": rate(samples[mid], samples[-1]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument("--seconds", type=float, default=600.0, help="duration in seconds (default 600)")
    parser.add_argument(
        "--sample-seconds", type=float, default=15.0, help="seconds between RSS samples (default 15)"
    )
    parser.add_argument("--warmup", type=int, default=20, help="questions asked before the soak (default 20)")
    parser.add_argument(
        "--seeds", type=Path, default=PROJECT_ROOT / "seeds", help="seeds folder for the app it starts"
    )
    parser.add_argument(
        "--index", type=Path, default=PROJECT_ROOT / "index", help="index folder for the app it starts"
    )
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON result to this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = AppServer(args.seeds.resolve(), args.index.resolve(), Path(tmp) / "app.log")
        try:
            info = server.wait_ready(600)
            for question in questions(args.warmup):  # model, caches and queue warmed before the first sample
                ask_rest(server.client, server.base, ask_inputs(info, question))
            result = soak(server.base, server.proc.pid, info, args.clients, args.seconds, args.sample_seconds)
        finally:
            server.stop()
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
