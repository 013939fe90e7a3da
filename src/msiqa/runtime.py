"""What every entry point shares: the common flags, Settings from them, and the runtime set-up
(offline model loading, quiet third-party logs). Used by the CLI, the web app and the benchmarks."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from msiqa.config import PROJECT_ROOT, QUERY_ENCODERS, Settings


def common_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--seeds",
        type=Path,
        default=PROJECT_ROOT / "seeds",
        help="folder of seed documents (default: the project's seeds/)",
    )
    common.add_argument(
        "--index",
        type=Path,
        default=PROJECT_ROOT / "index",
        help="index folder (default: the project's index/)",
    )
    common.add_argument(
        "--model", default=None, help="embedding model: package:NAME or a local sentence-transformers folder"
    )
    common.add_argument(
        "--device", default="cpu", help="torch device for embedding, e.g. cpu or cuda (default: cpu)"
    )
    common.add_argument(
        "--query-encoder",
        choices=QUERY_ENCODERS,
        default=None,
        help="how questions are embedded (default: onnx-fp32, no torch at query time)",
    )
    common.add_argument("--debug-modules", action="store_true", help=argparse.SUPPRESS)
    common.add_argument("-v", "--verbose", action="store_true", help="log progress and timings to stderr")
    return common


def settings_from(args: argparse.Namespace) -> Settings:
    settings = Settings(seeds_dir=args.seeds.resolve(), index_dir=args.index.resolve(), device=args.device)
    if args.query_encoder:
        settings = settings.with_(query_encoder=args.query_encoder)
    if args.model:
        settings = settings.with_(
            model=args.model, model_sha256=None if args.model != settings.model else settings.model_sha256
        )
    return settings


def configure_runtime(verbose: bool) -> None:
    """Offline model loading, quiet third-party logs; shared by the CLI and app.py."""
    for key, value in (
        ("HF_HUB_OFFLINE", "1"),
        ("TRANSFORMERS_OFFLINE", "1"),
        ("HF_HUB_DISABLE_PROGRESS_BARS", "1"),
        ("TRANSFORMERS_VERBOSITY", "error"),
        ("TOKENIZERS_PARALLELISM", "false"),
        ("GRADIO_ANALYTICS_ENABLED", "False"),
    ):
        os.environ.setdefault(key, value)
    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="msiqa: %(message)s")
    for noisy in ("faiss.loader", "bm25s", "sentence_transformers", "transformers", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for parser_log in ("pypdf", "trafilatura", "htmldate"):  # their warnings repeat what a skip reason says
        logging.getLogger(parser_log).setLevel(logging.ERROR)
    for handler in logging.getLogger().handlers:  # bm25s resets its logger to DEBUG when first imported
        handler.setLevel(level)
