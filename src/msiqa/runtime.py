"""What every entry point shares: the common flags, Settings from them, and the runtime set-up
(offline model loading, quiet third-party logs). Used by the CLI, the web app and the benchmarks."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from msiqa.config import QUERY_ENCODERS, Settings
from msiqa.errors import MsiqaError


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
    common.add_argument(
        "--query-encoder",
        choices=QUERY_ENCODERS,
        default=None,
        help="how questions are embedded (default: onnx-fp32, no torch at query time)",
    )
    common.add_argument("--debug-modules", action="store_true", help=argparse.SUPPRESS)
    common.add_argument(
        "--milvus-uri",
        default=None,
        help="keep the index in Milvus instead of --index: a Milvus Lite file (PATH.db) or a server "
        "(http://host:19530); env MSIQA_MILVUS_URI; needs pip install -e '.[milvus]'",
    )
    common.add_argument("--collection", default="msiqa", help="Milvus collection name (default: msiqa)")
    common.add_argument(
        "--milvus-fusion",
        choices=("client", "milvus"),
        default="client",
        help="hybrid fusion with a Milvus store: 'client' (default) is msiqa's weighted RRF, the same "
        "ranking as the FAISS store; 'milvus' is Milvus hybrid_search with RRFRanker (unweighted)",
    )
    common.add_argument(
        "--ray",
        default=None,
        metavar="local|auto|ADDRESS",
        help="embed on a Ray actor pool when building: 'local' starts a cluster here, 'auto' joins "
        "RAY_ADDRESS, or a cluster address; needs pip install -e '.[ray]'",
    )
    common.add_argument(
        "--ray-actors", type=int, default=None, help="Ray actors embedding in parallel (default: one per CPU)"
    )
    common.add_argument("-v", "--verbose", action="store_true", help="log progress and timings to stderr")
    return common


def settings_from(args: argparse.Namespace) -> Settings:
    milvus_uri = getattr(args, "milvus_uri", None) or os.environ.get("MSIQA_MILVUS_URI") or None
    settings = Settings(
        seeds_dir=args.seeds.resolve(),
        index_dir=args.index.resolve(),
        device=args.device,
        milvus_uri=milvus_uri,
        collection=getattr(args, "collection", "msiqa"),
        milvus_fusion=getattr(args, "milvus_fusion", "client"),
        encoder_cache_dir=(home() / ".cache" / "onnx").resolve(),
    )
    if getattr(args, "query_encoder", None):
        settings = settings.with_(query_encoder=args.query_encoder)
    if args.model:
        settings = settings.with_(
            model=args.model, model_sha256=None if args.model != settings.model else settings.model_sha256
        )
    return settings


def build_embedder(args: argparse.Namespace, settings: Settings):
    """The embedder for building: local, or a Ray actor pool with --ray (each actor verifies the weights)."""
    from msiqa.indexing.embedding import load_embedder, verify_model

    address = getattr(args, "ray", None)
    if not address:
        return load_embedder(settings.model, settings.model_sha256, settings.device)
    from msiqa.indexing.ray_embedding import RayEmbedder, start_ray

    if args.ray_actors is not None and args.ray_actors < 1:
        raise MsiqaError(f"--ray-actors must be 1 or more, not {args.ray_actors}.")

    files = verify_model(settings.model, settings.model_sha256)
    start_ray(address)
    if not getattr(args, "verbose", False):  # Ray Data reports each dataset's progress on stderr at INFO
        import ray.data  # noqa: F401  (sets up its loggers when imported)

        for handler in logging.getLogger("ray.data").handlers:
            if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
                handler.setLevel(logging.WARNING)
    dim = load_embedder(settings.model, files.weights_sha256, "cpu").dim
    return RayEmbedder(files, dim, settings.device, args.ray_actors)


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
    for noisy in (
        "faiss.loader",
        "bm25s",
        "sentence_transformers",
        "transformers",
        "httpx",
        "pymilvus",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Milvus Lite's in-process gRPC server logs a traceback for each RPC it lacks (AllocTimestamp, which
    # pymilvus's query iterator tries before falling back to a client-side timestamp).
    logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
    # ...and pymilvus warns about the fallback. pymilvus configures logging when imported (later, lazily),
    # which resets its loggers' levels but keeps their filters.
    logging.getLogger("pymilvus.client.iterator.query_iterator").addFilter(
        lambda record: record.levelno >= logging.ERROR
    )
    # A locked Milvus Lite file: msiqa's one-line StoreUnavailable says it, without milvus_lite's traceback.
    logging.getLogger("milvus_lite").setLevel(logging.CRITICAL)
    for parser_log in ("pypdf", "trafilatura", "htmldate"):  # their warnings repeat what a skip reason says
        logging.getLogger(parser_log).setLevel(logging.ERROR)
    for handler in logging.getLogger().handlers:  # bm25s resets its logger to DEBUG when first imported
        handler.setLevel(level)


HOME_ENV = "MSIQA_HOME"


def home() -> Path:
    """The folder that holds the default `seeds/`, `index/` and `eval/`: $MSIQA_HOME, else the working
    directory. Never the package's location, so an installed wheel works from any folder."""
    return Path(os.environ.get(HOME_ENV) or ".")
