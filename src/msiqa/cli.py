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
    report = build_index(settings, embedder, incremental=not args.full)
    for skipped in report.skipped:
        print(f"skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
    print(f"Built {settings.index_dir}: {report.documents} documents, {report.chunks} chunks, "
          f"{report.sentences} sentences in {report.seconds:.1f}s on {settings.device}")
    if report.incremental:
        print(f"Incremental: {len(report.added)} added, {len(report.updated)} updated, {len(report.unchanged)} "
              f"unchanged, {len(report.removed)} removed; {report.chunks_embedded} chunks embedded")
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from msiqa.answer import validate_question
    from msiqa.engine import Engine
    from msiqa.serialize import answer_to_dict

    settings = settings_from(args)
    validate_question(args.question, settings.max_question_chars)  # fail fast, before loading the model
    llm = llm_from(args)
    engine = Engine.open(settings, rebuild=not args.no_rebuild)
    streaming = llm is not None and llm.stream and not args.json
    answer = engine.ask(args.question, retriever=args.retriever, top_k=args.top_k, doc_ids=args.doc, kinds=args.kind,
                        llm=llm, on_token=_print_token if streaming else None)
    if args.json:
        print(json.dumps(answer_to_dict(answer), ensure_ascii=False, indent=2))
        return 0
    print_answer(answer, streamed=streaming)
    return 0


def _print_token(token: str) -> None:
    print(token, end="", flush=True)


def print_answer(answer, streamed: bool = False) -> None:
    """An answer as a person reads it: search query, text, notes, then sources or closest passages."""
    if streamed:
        print("\n\nChecked against the passages:")
    if answer.search_query and answer.search_query != answer.question:
        print(f"Searched for: {answer.search_query}")
    print(answer.text)
    for note in answer.notes:
        print(f"Note: {note}")
    if answer.abstained:
        print("\nClosest passages (not an answer):")
        for hit in answer.hits:
            print(f"  - {hit.document.title} ¶{hit.chunk.paragraph} (score {hit.score:.3f}): {hit.chunk.text[:160]}…")
        return
    print("\nSources:")
    for c in answer.citations:
        print(f"  [{c.n}] {c.reference} [{c.document.kind}] chars {c.start}-{c.end}")
        print(f"      “{c.quote}”")


def llm_from(args: argparse.Namespace):
    """An `LlmConfig` from --llm-* flags or MSIQA_LLM_* env vars, or None (the default: no model)."""
    url = args.llm_url or os.environ.get("MSIQA_LLM_URL")
    if not url:
        return None
    from msiqa.llm import LlmConfig

    model = args.llm_model or os.environ.get("MSIQA_LLM_MODEL")
    if not model:
        raise MsiqaError("A language model URL is set but no model name: pass --llm-model NAME or set MSIQA_LLM_MODEL.")
    timeout = os.environ.get("MSIQA_LLM_TIMEOUT", "60")
    try:
        timeout_s = float(timeout)
    except ValueError:
        timeout_s = -1.0
    if not timeout_s > 0:
        raise MsiqaError(f"MSIQA_LLM_TIMEOUT must be a positive number of seconds, not {timeout!r}.")
    return LlmConfig(url, model, args.llm_api_key or os.environ.get("MSIQA_LLM_API_KEY"), timeout_s, stream=args.stream)


def cmd_chat(args: argparse.Namespace) -> int:
    from msiqa.engine import Engine

    llm = llm_from(args)
    engine = Engine.open(settings_from(args), rebuild=not args.no_rebuild)
    streaming = llm is not None and llm.stream
    history: list = []
    print("msiqa chat: ask about the MSI documents; follow-ups use the conversation. "
          "/reset forgets it, /quit or Ctrl-D leaves.")
    while True:
        try:
            line = input("\nyou> ").strip()
        except EOFError:
            print()
            return 0
        if line in ("/quit", "/exit"):
            return 0
        if line == "/reset":
            history.clear()
            print("(conversation forgotten)")
            continue
        if not line:
            continue
        try:
            answer = engine.ask(line, retriever=args.retriever, top_k=args.top_k, doc_ids=args.doc, kinds=args.kind,
                                history=history, llm=llm, on_token=_print_token if streaming else None)
        except MsiqaError as exc:
            print(f"msiqa: {exc}")
            continue
        print_answer(answer, streamed=streaming)
        history.append((line, answer))


def add_answer_flags(parser: argparse.ArgumentParser) -> None:
    """Retrieval filters and the optional language model, shared by `ask` and `chat`."""
    parser.add_argument("--top-k", type=int, default=None, help="number of passages to retrieve (default 5)")
    parser.add_argument("--retriever", choices=RETRIEVERS, default=None, help="retrieval method (default: hybrid)")
    parser.add_argument("--doc", action="append", default=None, help="restrict to this document id (repeatable)")
    parser.add_argument("--kind", action="append", default=None, help="restrict to this kind, e.g. 'blog post' (repeatable)")
    parser.add_argument("--no-rebuild", action="store_true", help="refuse to answer from a stale index instead of rebuilding it")
    parser.add_argument("--llm-url", default=None, help="OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1 "
                        "(env MSIQA_LLM_URL; default: none, answers are quoted sentences)")
    parser.add_argument("--llm-model", default=None, help="model name for the server (env MSIQA_LLM_MODEL)")
    parser.add_argument("--llm-api-key", default=None, help="bearer token for the server (env MSIQA_LLM_API_KEY); "
                        "timeout: env MSIQA_LLM_TIMEOUT seconds (default 60)")
    parser.add_argument("--stream", action="store_true", help="print the model's reply as it arrives, then the checked answer")


def cmd_add(args: argparse.Namespace) -> int:
    from msiqa.embedding import load_embedder
    from msiqa.indexing import add_files

    settings = settings_from(args)
    embedder = load_embedder(settings.model, settings.model_sha256, settings.device)
    report = add_files(settings, embedder, [p.expanduser() for p in args.paths])
    if args.json:
        print(json.dumps({"added": report.added, "updated": report.updated, "unchanged": report.unchanged,
                          "skipped": [{"path": s.path, "reason": s.reason} for s in report.skipped],
                          "removed": report.build.removed, "chunks_embedded": report.chunks_embedded},
                         ensure_ascii=False, indent=2))
        return 0
    for label in ("added", "updated", "unchanged"):
        for name in getattr(report, label):
            print(f"{label} {name}")
    for skipped in report.skipped:
        print(f"skipped {skipped.path}: {skipped.reason}")
    build = report.build
    print(f"Index {settings.index_dir}: {build.documents} documents, {build.chunks} chunks; "
          f"{build.chunks_embedded} chunks embedded in {build.seconds:.1f}s")
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    from msiqa.engine import Engine
    from msiqa.indexing import describe_documents

    engine = Engine.open(settings_from(args))
    rows = describe_documents(engine.index)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    print(f"{'id':<36} {'kind':<14} {'date':<10} {'pages':>5} {'paras':>5} {'chunks':>6}  title / author")
    for r in rows:
        print(f"{r['id'][:36]:<36} {(r['kind'] or '')[:14]:<14} {(r['date'] or '')[:10]:<10} "
              f"{r['pages'] or '':>5} {r['paragraphs']:>5} {r['chunks']:>6}  {r['title'][:60]}"
              f"{' / ' + r['author'] if r['author'] else ''}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from msiqa import bench

    if args.scale:
        import tempfile

        from msiqa import bench_scale
        from msiqa.embedding import load_embedder
        from msiqa.engine import Engine

        with tempfile.TemporaryDirectory(prefix="msiqa-scale-") as tmp:
            settings = settings_from(args).with_(index_dir=Path(tmp) / "index")
            engine = Engine.open(settings, embedder=load_embedder(settings.model, settings.model_sha256, settings.device))
            result = {"scale": [bench_scale.run_scale(engine, n, bench.distinct_questions()) for n in args.scale]}
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


def _read_baseline(path: Path | None) -> dict | None:
    if path is None:
        return None
    try:
        baseline = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MsiqaError(f"Cannot read the baseline {path} ({exc.__class__.__name__}); "
                         "pass a file written by: msiqa eval --out DIR") from exc
    if not isinstance(baseline, dict) or "per_question" not in baseline:
        raise MsiqaError(f"{path} is not an eval result; pass DIR/eval.json written by: msiqa eval --out DIR")
    return baseline


def cmd_eval(args: argparse.Namespace) -> int:
    from msiqa import eval_report
    from msiqa.engine import Engine
    from msiqa.evaluation import evaluate, load_questions

    baseline = _read_baseline(args.baseline)
    engine = Engine.open(settings_from(args))
    questions = load_questions(args.questions, engine.index.documents)
    retrievers = RETRIEVERS if args.retriever == "all" else (args.retriever,)
    records = evaluate(engine, questions, retrievers, top_k=args.top_k, abstention_inputs=args.calibrate)
    result = eval_report.summarise(records, retrievers)
    default = engine.settings.retriever if engine.settings.retriever in retrievers else retrievers[0]
    miss_rows = eval_report.misses(records, default)
    if args.calibrate:
        result["calibration"] = eval_report.calibrate(records)
    result["per_question"] = records
    command = "msiqa eval " + " ".join(sys.argv[2:]) if sys.argv[1:2] == ["eval"] else "msiqa eval"
    report = eval_report.markdown(result, miss_rows, command)
    if baseline is not None:
        changes = eval_report.compare(baseline, result, default)
        result["baseline_changes"] = changes
        report += "\n" + eval_report.compare_markdown(changes, baseline, result, default)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "eval.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        (args.out / "report.md").write_text(report, encoding="utf-8")
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print(report, end="")
        if args.calibrate:
            print("\nCalibration (tune split):", json.dumps(result["calibration"]))
    return 0


def build_parser() -> argparse.ArgumentParser:
    common = common_parser()
    parser = argparse.ArgumentParser(prog="msiqa", description="Cited answers from the MSI Integrity 'Not Fit-for-Purpose' documents.")
    sub = parser.add_subparsers(dest="command", required=True)

    build = sub.add_parser("build", parents=[common], help="build the index from seeds/")
    build.add_argument("--full", action="store_true", help="rebuild everything from scratch (default: embed only new or changed documents)")
    build.set_defaults(func=cmd_build)

    ask = sub.add_parser("ask", parents=[common], help="answer a question with citations")
    ask.add_argument("question", help="the question, in plain words")
    add_answer_flags(ask)
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.set_defaults(func=cmd_ask)

    chat = sub.add_parser("chat", parents=[common], help="a conversation in the terminal: follow-ups use earlier turns")
    add_answer_flags(chat)
    chat.set_defaults(func=cmd_chat)

    add = sub.add_parser("add", parents=[common], help="copy .txt/.md/.html/.pdf files (or a folder's files) into seeds/ and update the index")
    add.add_argument("paths", nargs="+", type=Path, help="files or folders to add")
    add.add_argument("--json", action="store_true", help="print one JSON object: added, updated, unchanged, skipped, chunks_embedded")
    add.set_defaults(func=cmd_add)

    docs = sub.add_parser("docs", parents=[common], help="list the indexed documents with their metadata")
    docs.add_argument("--json", action="store_true", help="print a JSON list")
    docs.set_defaults(func=cmd_docs)

    bench = sub.add_parser("bench", parents=[common], help="measure build, latency, cold start, memory and load")
    bench.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    bench.add_argument("--out", type=Path, default=PROJECT_ROOT / "bench" / "results", help="folder for the JSON and Markdown results (default: bench/results/)")
    bench.add_argument("--scale", type=int, action="append", default=None, metavar="N", help="instead: synthetic corpus of N chunks (repeatable, e.g. --scale 10000 --scale 100000)")
    bench.add_argument("--quick", action="store_true", help="one short round of everything (for tests; numbers are rough)")
    bench.add_argument("--load-seconds", type=float, default=None, help="duration of the 16-client load test (default 60; 0 skips it)")
    bench.add_argument("--no-app", action="store_true", help="skip the app's cold start, memory and load test")
    bench.set_defaults(func=cmd_bench)

    ev = sub.add_parser("eval", parents=[common], help="score retrieval, answers and abstention on a labelled question set")
    ev.add_argument("--questions", type=Path, default=PROJECT_ROOT / "eval" / "questions.jsonl",
                    help="JSONL question set (default: eval/questions.jsonl)")
    ev.add_argument("--retriever", choices=(*RETRIEVERS, "all"), default="all", help="retriever(s) to score (default: all)")
    ev.add_argument("--top-k", type=int, default=None, help="passages handed to the answerer, as in 'ask' (default 5)")
    ev.add_argument("--json", action="store_true", help="print the full result as one JSON object")
    ev.add_argument("--out", type=Path, default=None, help="write eval.json and report.md into this folder")
    ev.add_argument("--baseline", type=Path, default=None, help="an earlier eval.json: list per-question regressions and improvements")
    ev.add_argument("--calibrate", action="store_true", help="also choose the abstention cut-off on the tune split and print it")
    ev.set_defaults(func=cmd_eval)
    return parser


def configure_runtime(verbose: bool) -> None:
    """Offline model loading, quiet third-party logs; shared by the CLI and app.py."""
    for key, value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"), ("HF_HUB_DISABLE_PROGRESS_BARS", "1"),
                       ("TRANSFORMERS_VERBOSITY", "error"), ("TOKENIZERS_PARALLELISM", "false"),
                       ("GRADIO_ANALYTICS_ENABLED", "False")):
        os.environ.setdefault(key, value)
    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="msiqa: %(message)s")
    for noisy in ("faiss.loader", "bm25s", "sentence_transformers", "transformers", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for parser_log in ("pypdf", "trafilatura", "htmldate"):  # their warnings repeat what a skip reason says
        logging.getLogger(parser_log).setLevel(logging.ERROR)
    for handler in logging.getLogger().handlers:  # bm25s resets its logger to DEBUG when first imported
        handler.setLevel(level)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_runtime(args.verbose)
    try:
        return args.func(args)
    except MsiqaError as exc:
        print(f"msiqa: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
