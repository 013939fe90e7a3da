"""`python -m benchmarks`: measure build, latency, cold start, memory and load (was `msiqa bench`)."""

import argparse
import json
import sys
from pathlib import Path

from msiqa.errors import MsiqaError
from msiqa.runtime import common_parser, configure_runtime, settings_from


def cmd_bench(args: argparse.Namespace) -> int:
    from benchmarks import bench

    if args.scale:
        import tempfile

        from benchmarks import scale as bench_scale
        from msiqa.engine import Engine
        from msiqa.indexing.embedding import load_embedder

        with tempfile.TemporaryDirectory(prefix="msiqa-scale-") as tmp:
            settings = settings_from(args).with_(index_dir=Path(tmp) / "index")
            engine = Engine.open(
                settings, embedder=load_embedder(settings.model, settings.model_sha256, settings.device)
            )
            result = {
                "scale": [bench_scale.run_scale(engine, n, bench.distinct_questions()) for n in args.scale]
            }
        markdown = bench_scale.to_markdown(result["scale"])
        stem = "scale"
    else:
        config = bench.BenchConfig.quick() if args.quick else bench.BenchConfig()
        if args.load_seconds is not None:
            config = bench.BenchConfig(**{**vars(config), "load_seconds": args.load_seconds})
        result = bench.run(args.seeds.resolve(), config, app=not args.no_app)
        markdown = bench.to_markdown(result)
        stem = "bench-quick" if args.quick else "bench"
    paths = bench.save(result, markdown, args.out.resolve(), stem)
    print(json.dumps(result, indent=2) if args.json else markdown)
    print(f"saved {paths[0]} and {paths[1]}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        parents=[common_parser()],
        description="measure build, latency, cold start, memory and load",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent / "results",
        help="folder for the JSON and Markdown results (default: benchmarks/results/)",
    )
    parser.add_argument(
        "--scale",
        type=int,
        action="append",
        default=None,
        metavar="N",
        help="instead: synthetic corpus of N chunks (repeatable, e.g. --scale 10000 --scale 100000)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="one short round of everything (for tests; numbers are rough)"
    )
    parser.add_argument(
        "--load-seconds",
        type=float,
        default=None,
        help="duration of the 16-client load test (default 60; 0 skips it)",
    )
    parser.add_argument(
        "--no-app", action="store_true", help="skip the app's cold start, memory and load test"
    )

    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_runtime(args.verbose)
    try:
        return cmd_bench(args)
    except MsiqaError as exc:
        print(f"msiqa: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
