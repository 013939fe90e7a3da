"""Load test: start the app on a free 127.0.0.1 port (or use --url) and have N clients ask through `/ask`.

    .venv/bin/python -m benchmarks.load --clients 16 --seconds 60

Prints one JSON object: requests, errors, throughput (requests/s), p50/p95 latency in ms. `python -m
benchmarks` runs the same test (benchmarks.bench.load_test) against the app it starts.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from benchmarks.bench import AppServer, load_test

REPO = Path(__file__).resolve().parents[1]  # benchmarks run from a source checkout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url", default=None, help="a running app, e.g. http://127.0.0.1:7860 (default: start one)"
    )
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument("--seconds", type=float, default=60.0, help="duration in seconds (default 60)")
    parser.add_argument(
        "--seeds", type=Path, default=REPO / "seeds", help="seeds folder for the app it starts"
    )
    parser.add_argument(
        "--index", type=Path, default=REPO / "index", help="index folder for the app it starts"
    )
    args = parser.parse_args()
    if args.url:
        import httpx

        info = httpx.get(f"{args.url}/gradio_api/info", timeout=30).json()
        print(json.dumps(load_test(args.url, info, args.clients, args.seconds), indent=2))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        server = AppServer(args.seeds.resolve(), args.index.resolve(), Path(tmp) / "app.log")
        try:
            info = server.wait_ready()
            result = load_test(server.base, info, args.clients, args.seconds)
            result["app_peak_rss_mb"] = round(server.peak_rss_mb(), 1)
        finally:
            server.stop()
    print(json.dumps(result, indent=2))
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
