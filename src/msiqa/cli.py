"""The `msiqa` command line. The only place (with app.py) that reads flags and env vars, prints,
and turns typed errors into one-line messages. Text meant for a person goes through `terminal_safe`,
so control sequences inside documents or file names never reach the terminal raw; `--json` output is
exact."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

from msiqa.config import RETRIEVERS
from msiqa.errors import MsiqaError
from msiqa.runtime import (
    build_embedder,
    check_request,
    check_top_k,
    common_parser,
    configure_runtime,
    home,
    settings_from,
)

# C0 and C1 controls but newline and tab, lone surrogates (undecodable bytes) and bidi overrides
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: object) -> str:
    """`text` with every control character shown as an escape (ESC -> \\x1b), so a document cannot
    move the cursor, clear the screen or retitle the terminal."""
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(text))


def say(*parts: object, end: str = "\n", file=None, flush: bool = False) -> None:
    """`print` for text meant for a person: terminal-safe."""
    print(*(terminal_safe(p) for p in parts), end=end, file=file, flush=flush)


def _progress(args: argparse.Namespace) -> bool:
    return not getattr(args, "no_progress", False) and sys.stderr.isatty()


def cmd_build(args: argparse.Namespace) -> int:
    from msiqa.engine import build_index
    from msiqa.indexing.store_api import location

    settings = settings_from(args)
    embedder = build_embedder(args, settings)
    report = build_index(settings, embedder, incremental=not args.full, progress=_progress(args))
    for skipped in report.skipped:
        say(f"skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
    say(
        f"Built {location(settings)}: {report.documents} documents, {report.chunks} chunks, "
        f"{report.sentences} sentences in {report.seconds:.1f}s on {settings.device}"
    )
    if report.incremental:
        say(
            f"Incremental: {len(report.added)} added, {len(report.updated)} updated, {len(report.unchanged)} "
            f"unchanged, {len(report.removed)} removed; {report.chunks_embedded} chunks embedded"
        )
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from msiqa.answer.compose import validate_question
    from msiqa.engine import Engine
    from msiqa.serialize import answer_to_dict

    settings = settings_from(args)
    request = check_request(args.question, args.retriever, args.top_k, args.doc, args.kind)
    validate_question(request.question, settings.max_question_chars)  # fail fast, before loading the model
    llm = llm_from(args)
    engine = Engine.open(settings, rebuild=not args.no_rebuild)
    streaming = llm is not None and llm.stream and not args.json
    answer = engine.ask(
        request.question,
        retriever=request.retriever,
        top_k=request.top_k,
        doc_ids=request.doc_ids,
        kinds=request.kinds,
        llm=llm,
        on_token=_print_token if streaming else None,
    )
    if args.json:
        print(json.dumps(answer_to_dict(answer), ensure_ascii=False, indent=2))
        return 0
    print_answer(answer, streamed=streaming)
    return 0


def _print_token(token: str) -> None:
    say(token, end="", flush=True)


def print_answer(answer, streamed: bool = False) -> None:
    """An answer as a person reads it: search query, text, notes, then sources or closest passages."""
    if streamed:
        say("\n\nChecked against the passages:")
    if answer.search_query and answer.search_query != answer.question:
        say(f"Searched for: {answer.search_query}")
    say(answer.text)
    for note in answer.notes:
        say(f"Note: {note}")
    if answer.abstained:
        say("\nClosest passages (not an answer):")
        for hit in answer.hits:
            where = f"{hit.document.title} ¶{hit.chunk.paragraph} (score {hit.score:.3f})"
            say(f"  - {where}: {hit.chunk.text[:160]}…")
        return
    say("\nSources:")
    for c in answer.citations:
        say(f"  [{c.n}] {c.reference} [{c.document.kind}] chars {c.start}-{c.end}")
        say(f"      “{c.quote}”")


def llm_from(args: argparse.Namespace):
    """An `LlmConfig` from --llm-* flags or MSIQA_LLM_* env vars, or None (the default: no model)."""
    url = args.llm_url or os.environ.get("MSIQA_LLM_URL")
    if not url:
        return None
    from msiqa.answer.generate import LlmConfig

    model = args.llm_model or os.environ.get("MSIQA_LLM_MODEL")
    if not model:
        raise MsiqaError(
            "A language model URL is set but no model name: pass --llm-model NAME or set MSIQA_LLM_MODEL."
        )
    timeout = os.environ.get("MSIQA_LLM_TIMEOUT", "60")
    try:
        timeout_s = float(timeout)
    except ValueError:
        timeout_s = -1.0
    if not timeout_s > 0:
        raise MsiqaError(f"MSIQA_LLM_TIMEOUT must be a positive number of seconds, not {timeout!r}.")
    return LlmConfig(
        url, model, args.llm_api_key or os.environ.get("MSIQA_LLM_API_KEY"), timeout_s, stream=args.stream
    )


def cmd_chat(args: argparse.Namespace) -> int:
    from msiqa.engine import Engine

    llm = llm_from(args)
    engine = Engine.open(settings_from(args), rebuild=not args.no_rebuild)
    streaming = llm is not None and llm.stream
    history: list = []
    print(
        "msiqa chat: ask about the MSI documents; follow-ups use the conversation. "
        "/reset forgets it, /quit or Ctrl-D leaves."
    )
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
            check_request(line)
            answer = engine.ask(
                line,
                retriever=args.retriever,
                top_k=args.top_k,
                doc_ids=args.doc,
                kinds=args.kind,
                history=history,
                llm=llm,
                on_token=_print_token if streaming else None,
            )
        except MsiqaError as exc:
            say(f"msiqa: {exc}")
            continue
        print_answer(answer, streamed=streaming)
        history.append((line, answer))


def add_answer_flags(parser: argparse.ArgumentParser) -> None:
    """Retrieval filters and the optional language model, shared by `ask` and `chat`."""
    parser.add_argument(
        "--top-k", type=_top_k, default=None, help="number of passages to retrieve, 1-50 (default 5)"
    )
    parser.add_argument(
        "--retriever", choices=RETRIEVERS, default=None, help="retrieval method (default: hybrid)"
    )
    parser.add_argument(
        "--doc", action="append", default=None, help="restrict to this document id (repeatable)"
    )
    parser.add_argument(
        "--kind", action="append", default=None, help="restrict to this kind, e.g. 'blog post' (repeatable)"
    )
    parser.add_argument(
        "--no-rebuild",
        action="store_true",
        help="refuse to answer from a stale index instead of rebuilding it",
    )
    parser.add_argument(
        "--llm-url",
        default=None,
        help="OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1 "
        "(env MSIQA_LLM_URL; default: none, answers are quoted sentences)",
    )
    parser.add_argument("--llm-model", default=None, help="model name for the server (env MSIQA_LLM_MODEL)")
    parser.add_argument(
        "--llm-api-key",
        default=None,
        help="bearer token for the server (env MSIQA_LLM_API_KEY); "
        "timeout: env MSIQA_LLM_TIMEOUT seconds (default 60)",
    )
    parser.add_argument(
        "--stream", action="store_true", help="print the model's reply as it arrives, then the checked answer"
    )


def _top_k(value: str) -> int | None:
    try:
        return check_top_k(value)
    except MsiqaError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_add(args: argparse.Namespace) -> int:
    from msiqa.indexing.build import add_files

    settings = settings_from(args)
    embedder = build_embedder(args, settings)
    report = add_files(settings, embedder, [p.expanduser() for p in args.paths], progress=_progress(args))
    # every file refused (none added, updated or already there): a script must not take that for success
    status = 1 if report.skipped and not (report.added or report.updated or report.unchanged) else 0
    if args.json:
        print(
            json.dumps(
                {
                    "added": report.added,
                    "updated": report.updated,
                    "unchanged": report.unchanged,
                    "skipped": [{"path": s.path, "reason": s.reason} for s in report.skipped],
                    "removed": report.build.removed,
                    "chunks_embedded": report.chunks_embedded,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return status
    for label in ("added", "updated", "unchanged"):
        for name in getattr(report, label):
            say(f"{label} {name}")
    for skipped in report.skipped:
        say(f"skipped {skipped.path}: {skipped.reason}")
    build = report.build
    say(
        f"Index {settings.index_dir}: {build.documents} documents, {build.chunks} chunks; "
        f"{build.chunks_embedded} chunks embedded in {build.seconds:.1f}s"
    )
    if status:
        say("msiqa: nothing was added; see the reasons above", file=sys.stderr)
    return status


def cmd_docs(args: argparse.Namespace) -> int:
    from msiqa.engine import open_index
    from msiqa.indexing.build import describe_documents

    rows = describe_documents(open_index(settings_from(args)))
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    say(f"{'id':<36} {'kind':<14} {'date':<10} {'pages':>5} {'paras':>5} {'chunks':>6}  title / author")
    for r in rows:
        r = {key: terminal_safe(value) if isinstance(value, str) else value for key, value in r.items()}
        say(
            f"{r['id'][:36]:<36} {(r['kind'] or '')[:14]:<14} {(r['date'] or '')[:10]:<10} "
            f"{r['pages'] or '':>5} {r['paragraphs']:>5} {r['chunks']:>6}  {r['title'][:60]}"
            f"{' / ' + r['author'] if r['author'] else ''}"
        )
    return 0


def _read_baseline(path: Path | None) -> dict | None:
    if path is None:
        return None
    try:
        baseline = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MsiqaError(
            f"Cannot read the baseline {path} ({exc.__class__.__name__}); "
            "pass a file written by: msiqa eval --out DIR"
        ) from exc
    if not isinstance(baseline, dict) or "per_question" not in baseline:
        raise MsiqaError(f"{path} is not an eval result; pass DIR/eval.json written by: msiqa eval --out DIR")
    return baseline


def cmd_eval(args: argparse.Namespace) -> int:
    from msiqa.engine import Engine
    from msiqa.evaluation import report as eval_report
    from msiqa.evaluation.runner import evaluate, load_questions

    baseline = _read_baseline(args.baseline)
    engine = Engine.open(settings_from(args))
    questions = load_questions(args.questions, engine.index.documents)
    retrievers = RETRIEVERS if args.retriever == "all" else (args.retriever,)
    if args.split:
        wanted = set(args.split.split(","))
        questions = [q for q in questions if q.split in wanted]
        if not questions:
            raise MsiqaError(f"No question of split(s) {args.split} in {args.questions}.")
    records = evaluate(engine, questions, retrievers, top_k=args.top_k)
    result = eval_report.summarise(records, retrievers)
    default = engine.settings.retriever if engine.settings.retriever in retrievers else retrievers[0]
    miss_rows = eval_report.misses(records, default)
    result["per_question"] = records
    command = "msiqa eval " + " ".join(sys.argv[2:]) if sys.argv[1:2] == ["eval"] else "msiqa eval"
    report = eval_report.markdown(result, miss_rows, command)
    if baseline is not None:
        changes = eval_report.compare(baseline, result, default)
        result["baseline_changes"] = changes
        report += "\n" + eval_report.compare_markdown(changes, baseline, result, default)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "eval.json").write_text(
            json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        (args.out / "report.md").write_text(report, encoding="utf-8")
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print(report, end="")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from msiqa.answer.selector import WEIGHTS_FILE
    from msiqa.engine import Engine
    from msiqa.evaluation.runner import load_questions
    from msiqa.evaluation.train import train, write

    engine = Engine.open(settings_from(args))
    questions = load_questions(args.questions, engine.index.documents)
    out = args.out or WEIGHTS_FILE
    selector = train(engine, questions, args.questions.name)
    write(selector, out)
    print(f"Wrote {out}: {json.dumps(selector.trained_on)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    common = common_parser()
    parser = argparse.ArgumentParser(
        prog="msiqa", description="Cited answers from the MSI Integrity 'Not Fit-for-Purpose' documents."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    build = sub.add_parser("build", parents=[common], help="build the index from seeds/")
    build.add_argument(
        "--full",
        action="store_true",
        help="rebuild everything from scratch (default: embed only new or changed documents)",
    )
    build.add_argument("--no-progress", action="store_true", help="no progress bars on stderr")
    build.set_defaults(func=cmd_build)

    ask = sub.add_parser("ask", parents=[common], help="answer a question with citations")
    ask.add_argument("question", help="the question, in plain words")
    add_answer_flags(ask)
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.set_defaults(func=cmd_ask)

    chat = sub.add_parser(
        "chat", parents=[common], help="a conversation in the terminal: follow-ups use earlier turns"
    )
    add_answer_flags(chat)
    chat.set_defaults(func=cmd_chat)

    add = sub.add_parser(
        "add",
        parents=[common],
        help="copy .txt/.md/.html/.pdf files (or a folder's files) into seeds/ and update the index",
    )
    add.add_argument("paths", nargs="+", type=Path, help="files or folders to add")
    add.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object: added, updated, unchanged, skipped, chunks_embedded",
    )
    add.add_argument("--no-progress", action="store_true", help="no progress bars on stderr")
    add.set_defaults(func=cmd_add)

    docs = sub.add_parser("docs", parents=[common], help="list the indexed documents with their metadata")
    docs.add_argument("--json", action="store_true", help="print a JSON list")
    docs.set_defaults(func=cmd_docs)

    serve = sub.add_parser("serve", add_help=False, help="serve the web app (flags: msiqa serve --help)")
    serve.set_defaults(func=None)
    ev = sub.add_parser(
        "eval", parents=[common], help="score retrieval, answers and abstention on a labelled question set"
    )
    ev.add_argument(
        "--questions",
        type=Path,
        default=home() / "eval" / "questions.jsonl",
        help="JSONL question set (default: ./eval/questions.jsonl, or under $MSIQA_HOME when set)",
    )
    ev.add_argument(
        "--retriever",
        choices=(*RETRIEVERS, "all"),
        default="all",
        help="retriever(s) to score (default: all)",
    )
    ev.add_argument(
        "--top-k", type=int, default=None, help="passages handed to the answerer, as in 'ask' (default 5)"
    )
    ev.add_argument("--json", action="store_true", help="print the full result as one JSON object")
    ev.add_argument("--out", type=Path, default=None, help="write eval.json and report.md into this folder")
    ev.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="an earlier eval.json: list per-question regressions and improvements",
    )
    ev.add_argument(
        "--split",
        default=None,
        help="score only these splits, comma-separated (e.g. dev); default: every question in the file",
    )
    ev.set_defaults(func=cmd_eval)

    tr = sub.add_parser(
        "train", parents=[common], help="fit the answer-sentence selector and abstention model (train split)"
    )
    tr.add_argument(
        "--questions",
        type=Path,
        default=home() / "eval" / "questions.jsonl",
        help="JSONL question set; only its train split is used (default: ./eval/questions.jsonl, or under "
        "$MSIQA_HOME when set)",
    )
    tr.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where to write the weights (default: the package's selector.json)",
    )
    tr.set_defaults(func=cmd_train)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"]:
        from msiqa.web.app import main as serve

        return serve(argv[1:])
    for stream in (sys.stdout, sys.stderr):  # never a traceback for text the terminal cannot encode
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    args = build_parser().parse_args(argv)
    configure_runtime(args.verbose)
    try:
        return args.func(args)
    except MsiqaError as exc:
        say(f"msiqa: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        if args.debug_modules:
            print_loaded_modules()


HEAVY_MODULES = ("torch", "sentence_transformers", "transformers", "onnxruntime", "tokenizers", "gradio")


def print_loaded_modules() -> None:
    """The hidden --debug-modules: which heavy libraries this run imported, as one JSON line on stderr."""
    loaded = {name: name in sys.modules for name in HEAVY_MODULES}
    print(json.dumps({"debug_modules": loaded, "modules": len(sys.modules)}), file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
