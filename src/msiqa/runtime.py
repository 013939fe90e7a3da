"""What every entry point shares: the common flags, Settings from them, and the runtime set-up
(offline model loading, quiet third-party logs). Used by the CLI, the web app and the benchmarks."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from msiqa.config import Settings


def common_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--seeds",
        type=Path,
        default=home() / "seeds",
        help=f"folder of seed documents (default: ./seeds, or ${HOME_ENV}/seeds when set)",
    )
    common.add_argument(
        "--index",
        type=Path,
        default=home() / "index",
        help=f"index folder (default: ./index, or ${HOME_ENV}/index when set)",
    )
    common.add_argument(
        "--model", default=None, help="embedding model: package:NAME or a local sentence-transformers folder"
    )
    common.add_argument(
        "--device", default="cpu", help="torch device for embedding, e.g. cpu or cuda (default: cpu)"
    )
    common.add_argument("-v", "--verbose", action="store_true", help="log progress and timings to stderr")
    return common


def settings_from(args: argparse.Namespace) -> Settings:
    settings = Settings(seeds_dir=args.seeds.resolve(), index_dir=args.index.resolve(), device=args.device)
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


HOME_ENV = "MSIQA_HOME"


def home() -> Path:
    """The folder that holds the default `seeds/`, `index/` and `eval/`: $MSIQA_HOME, else the working
    directory. Never the package's location, so an installed wheel works from any folder."""
    return Path(os.environ.get(HOME_ENV) or ".")
