"""What every entry point shares: the common flags, Settings from them, the runtime set-up (offline
model loading, quiet third-party logs) and the checks of a request's arguments, so that the CLI and
the web API refuse bad input with the same one-line messages. Used by the CLI, the web app and the
benchmarks."""

from __future__ import annotations

import argparse
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from msiqa.config import QUERY_ENCODERS, RETRIEVERS, Settings
from msiqa.errors import InvalidQuestion, MsiqaError

MAX_TOP_K = 50
MAX_FILTER_VALUES = 100
MAX_FILTER_CHARS = 200
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Request:
    """A question and its options, checked: the same rules for `msiqa ask` and the `/ask` API."""

    question: str
    retriever: str | None
    top_k: int | None
    doc_ids: list[str] | None
    kinds: list[str] | None


def check_text(value: object, what: str) -> str:
    """`value` as text, refusing other types and text that is not valid Unicode (undecodable bytes
    on a command line arrive as lone surrogates, and so do `\\ud800` escapes in a JSON body)."""
    if not isinstance(value, str):
        raise InvalidQuestion(f"The {what} must be text, not {type(value).__name__}.")
    if _SURROGATE.search(value):
        raise InvalidQuestion(
            f"The {what} is not valid UTF-8 text (it holds an undecodable byte or a lone surrogate); "
            "type it again as plain text."
        )
    return value


def check_top_k(value: object) -> int | None:
    if value is None:
        return None
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    if number is None or not 1 <= number <= MAX_TOP_K:
        raise MsiqaError(
            f"The number of passages (top_k, --top-k) must be a whole number from 1 to {MAX_TOP_K}, "
            f"not {str(value)[:40]!r}."
        )
    return number


def check_retriever(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value not in RETRIEVERS:
        raise MsiqaError(
            f"The retriever (--retriever) must be one of {', '.join(RETRIEVERS)}, not {repr(value)[:40]}."
        )
    return value


def check_filter(values: object, what: str, flag: str) -> list[str] | None:
    """A list of document ids or kinds; a bare string is refused (it is not split into letters)."""
    if values is None or values == []:
        return None
    if not isinstance(values, list | tuple) or len(values) > MAX_FILTER_VALUES:
        raise MsiqaError(
            f"The {what} ({flag}) must be a list of at most {MAX_FILTER_VALUES} strings, "
            f'e.g. ["gleckman-democracy"], not {type(values).__name__}.'
        )
    checked = [check_text(v, what[:-1] if what.endswith("s") else what) for v in values]
    if any(len(v) > MAX_FILTER_CHARS for v in checked):
        raise MsiqaError(f"Each of the {what} ({flag}) must be at most {MAX_FILTER_CHARS} characters.")
    return checked


def check_request(
    question: object,
    retriever: object = None,
    top_k: object = None,
    doc_ids: object = None,
    kinds: object = None,
) -> Request:
    """The checked request, or a typed error with a one-line message naming the bad argument."""
    return Request(
        check_text(question, "question"),
        check_retriever(retriever),
        check_top_k(top_k),
        check_filter(doc_ids, "document ids", "doc_ids, --doc"),
        check_filter(kinds, "kinds", "kinds, --kind"),
    )


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
