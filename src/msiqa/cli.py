"""The `msiqa` command line. The only place (with app.py) that reads flags and env vars, prints,
and turns typed errors into one-line messages."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from msiqa.config import PROJECT_ROOT, RETRIEVERS, Settings
from msiqa.errors import MsiqaError


def common_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--seeds", type=Path, default=PROJECT_ROOT / "seeds", help="folder of seed documents (default: the project's seeds/)")
    common.add_argument("--index", type=Path, default=PROJECT_ROOT / "index", help="index folder (default: the project's index/)")
    common.add_argument("--model", default=None, help="embedding model: package:NAME or a local sentence-transformers folder")
    common.add_argument("--device", default="cpu", help="torch device for embedding, e.g. cpu or cuda (default: cpu)")
    common.add_argument("-v", "--verbose", action="store_true", help="log progress and timings to stderr")
    return common


def settings_from(args: argparse.Namespace) -> Settings:
    settings = Settings(seeds_dir=args.seeds.resolve(), index_dir=args.index.resolve(), device=args.device)
    if args.model:
        settings = settings.with_(model=args.model, model_sha256=None if args.model != settings.model else settings.model_sha256)
    return settings


def cmd_build(args: argparse.Namespace) -> int:
    from msiqa.embedding import load_embedder
    from msiqa.engine import build_index

    settings = settings_from(args)
    embedder = load_embedder(settings.model, settings.model_sha256, settings.device)
    report = build_index(settings, embedder)
    for skipped in report.skipped:
        print(f"skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
    print(f"Built {settings.index_dir}: {report.documents} documents, {report.chunks} chunks, "
          f"{report.sentences} sentences in {report.seconds:.1f}s")
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from msiqa.answer import validate_question
    from msiqa.engine import Engine
    from msiqa.serialize import answer_to_dict

    settings = settings_from(args)
    validate_question(args.question, settings.max_question_chars)  # fail fast, before loading the model
    engine = Engine.open(settings, rebuild=not args.no_rebuild)
    answer = engine.ask(args.question, retriever=args.retriever, top_k=args.top_k, doc_ids=args.doc, kinds=args.kind)
    if args.json:
        print(json.dumps(answer_to_dict(answer), ensure_ascii=False, indent=2))
        return 0
    print(answer.text)
    if answer.abstained:
        print("\nClosest passages (not an answer):")
        for hit in answer.hits:
            print(f"  - {hit.document.title} ¶{hit.chunk.paragraph} (score {hit.score:.3f}): {hit.chunk.text[:160]}…")
        return 0
    print("\nSources:")
    for c in answer.citations:
        print(f"  [{c.n}] {c.reference} [{c.document.kind}] chars {c.start}-{c.end}")
        print(f"      “{c.quote}”")
    return 0


def build_parser() -> argparse.ArgumentParser:
    common = common_parser()
    parser = argparse.ArgumentParser(prog="msiqa", description="Cited answers from the MSI Integrity 'Not Fit-for-Purpose' documents.")
    sub = parser.add_subparsers(dest="command", required=True)

    build = sub.add_parser("build", parents=[common], help="build the index from seeds/")
    build.add_argument("--full", action="store_true", help="rebuild everything from scratch (the default for now)")
    build.set_defaults(func=cmd_build)

    ask = sub.add_parser("ask", parents=[common], help="answer a question with citations")
    ask.add_argument("question", help="the question, in plain words")
    ask.add_argument("--top-k", type=int, default=None, help="number of passages to retrieve (default 5)")
    ask.add_argument("--retriever", choices=RETRIEVERS, default=None, help="retrieval method (default: hybrid)")
    ask.add_argument("--doc", action="append", default=None, help="restrict to this document id (repeatable)")
    ask.add_argument("--kind", action="append", default=None, help="restrict to this kind, e.g. 'blog post' (repeatable)")
    ask.add_argument("--no-rebuild", action="store_true", help="refuse to answer from a stale index instead of rebuilding it")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.set_defaults(func=cmd_ask)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="msiqa: %(message)s")
    for noisy in ("faiss.loader", "bm25s", "sentence_transformers", "transformers", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return args.func(args)
    except MsiqaError as exc:
        print(f"msiqa: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
