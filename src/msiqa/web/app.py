"""The msiqa web app: a Gradio chat whose answers stream in with [n] markers, a sources panel with each
cited passage highlighted inside its paragraph, a Documents tab, and a `/ask` API endpoint.

Run: `msiqa serve [--host H] [--port P] [--allowed-host NAME] [--seeds DIR] [--index DIR]` (the
repository's `app.py` is a launcher for the same `main`). Safe by default: binds 127.0.0.1, no
server-side rendering, no analytics, a bounded queue; `web/guard.py` answers only the routes the page
and `/ask` use, only for allowed Host names, and cuts long log lines; `/ask` checks its arguments with
the CLI's rules (`runtime.check_request`); and every piece of document or question text is escaped
(`msiqa.web.render`) before it reaches the page. Each browser session keeps its conversation: earlier
turns go to `Engine.ask(history=...)`, so follow-ups work, and the sources of the last MAX_TURNS answers
stay in the panel. Like cli.py, this is a place that reads env vars and flags and turns typed errors
into messages. Deliberately left out: memory shared between sessions or kept across restarts, and any
page logic that could live in the library.
"""

import argparse
import os
import sys

from msiqa.config import RETRIEVERS
from msiqa.errors import MsiqaError
from msiqa.runtime import common_parser, configure_runtime, settings_from
from msiqa.web.guard import LOCAL_HOSTS, HttpGuard, TruncatingWriter, host_name
from msiqa.web.handlers import api_ask, filters_update, responder
from msiqa.web.sessions import housekeeping

EXAMPLES = (  # each opens with the passage that answers it (checked with `msiqa ask` after the merge
    # of the learned sentence selector; "What is the Bangladesh Accord?" no longer did, so it went)
    "Why is the Kimberley Process definition of conflict diamonds criticized?",
    "How did the Fair Food Program protect workers?",
    "Why are the Dutch RBC agreements not enough?",
)
CHAT_HEIGHT = "min(520px, 62vh)"  # wide screens; on a phone the chat grows with its messages (assets.py)
QUEUE_MAX_SIZE = 64
CONCURRENCY = 2
STREAM_PAUSE_S = 0.04  # between streamed sentences, so the reply visibly builds up
# Sessions whose state Gradio keeps, and events it keeps for its analytics. Each `/ask` call is a new
# session holding a copy of the page's config; Gradio's defaults (10,000 each) let the app grow by
# about 60 MB per 1,000 requests before levelling off (docs/performance.md, "Soak"). Finished `/ask`
# sessions are dropped sooner (web/sessions.py), so the cap applies to browser tabs.
STATE_SESSIONS = 1_000
ANALYTICS_EVENTS = 1_000


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="app.py",
        parents=[common_parser()],
        description="Serve the msiqa web app (chat with cited sources).",
    )
    parser.add_argument(
        "--host",
        default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        help="interface to bind (default 127.0.0.1, or $GRADIO_SERVER_NAME); 0.0.0.0 serves the whole LAN",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        help="port (default 7860, or $GRADIO_SERVER_PORT)",
    )
    parser.add_argument(
        "--no-rebuild",
        action="store_true",
        help="refuse to start from a stale index instead of rebuilding it",
    )
    parser.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests for this host name or address (repeatable; for LAN use, e.g. "
        "--host 0.0.0.0 --allowed-host 192.168.1.20); localhost, 127.0.0.1 and [::1] always work",
    )
    return parser.parse_args(argv)


def allowed_hosts(args: argparse.Namespace) -> tuple[str, ...]:
    """The Host names served: the loopback names, the bound address unless a wildcard, and --allowed-host."""
    extra = [host_name(h) for h in args.allowed_host]
    bound = [] if args.host in ("0.0.0.0", "::", "") else [host_name(args.host)]
    return tuple(dict.fromkeys([*LOCAL_HOSTS, *bound, *extra]))


def build_demo(engine):
    import gradio as gr

    from msiqa.web.render import corpus_note, documents_html, sources_html

    documents = engine.index.documents
    doc_choices = [(d.title, d.doc_id) for d in documents.values()]
    kind_choices = sorted({d.kind for d in documents.values() if d.kind})
    ask = api_ask(engine)
    respond = responder(engine)

    with gr.Blocks(title="msiqa · Not Fit-for-Purpose Q&A", analytics_enabled=False) as demo:
        gr.Markdown(
            "## msiqa — ask the *Not Fit-for-Purpose* documents\n"
            "Every answer is quoted word for word from nine short pieces about MSI Integrity's 2020 report "
            "(the report itself is not among them), and every sentence is cited: click a **[n]** marker "
            "to see the passage in context."
        )
        turns = gr.State([])
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"):
                with gr.Row(equal_height=False, elem_classes="msiqa-main"):
                    with gr.Column(scale=3, min_width=340, elem_classes="msiqa-left"):
                        chatbot = gr.Chatbot(
                            show_label=False,
                            height=CHAT_HEIGHT,
                            elem_id="msiqa-chat",
                            sanitize_html=True,
                            allow_tags=False,
                            latex_delimiters=[],
                            feedback_options=None,
                            allow_file_downloads=False,
                            buttons=["copy"],
                            placeholder=corpus_note(documents),
                        )
                        box = gr.Textbox(
                            placeholder="Ask a question about the documents…",
                            show_label=False,
                            lines=1,
                            max_lines=4,
                            submit_btn="Ask",
                            elem_id="msiqa-question",
                        )
                        with gr.Row(elem_classes="msiqa-examples") as examples:
                            example_buttons = [
                                gr.Button(q, size="sm", variant="secondary", elem_classes="msiqa-example")
                                for q in EXAMPLES
                            ]
                        with gr.Row(visible=False, elem_classes="msiqa-filters") as filters_row:
                            filters_text = gr.Markdown()
                            clear_filters = gr.Button(
                                "Clear filters", size="sm", variant="secondary", elem_id="msiqa-clear-filters"
                            )
                        with gr.Accordion("Advanced", open=False, elem_classes="msiqa-advanced"):
                            retriever = gr.Radio(
                                list(RETRIEVERS),
                                value=engine.settings.retriever,
                                label="Retriever",
                                info="hybrid fuses dense (meaning) and BM25 (words)",
                            )
                            top_k = gr.Slider(
                                1, 20, value=engine.settings.top_k, step=1, label="Passages to retrieve"
                            )
                            doc_ids = gr.Dropdown(
                                doc_choices,
                                multiselect=True,
                                value=[],
                                label="Only these documents",
                                elem_id="msiqa-doc-filter",
                            )
                            kinds = gr.Dropdown(
                                kind_choices,
                                multiselect=True,
                                value=[],
                                label="Only these kinds",
                                elem_id="msiqa-kind-filter",
                            )
                        clear = gr.Button(
                            "New conversation", size="sm", variant="secondary", elem_classes="msiqa-new"
                        )
                    with gr.Column(scale=2, min_width=340, elem_classes="msiqa-right"):
                        gr.Markdown("### Sources")
                        sources = gr.HTML(sources_html([], documents), elem_id="msiqa-sources")
            with gr.Tab("Documents", id="documents"):
                gr.HTML(documents_html(documents), elem_id="msiqa-docs")

        inputs = [box, chatbot, turns, retriever, top_k, doc_ids, kinds]
        outputs = [chatbot, box, turns, sources, examples]
        box.submit(respond, inputs, outputs, api_visibility="private")
        for button, question in zip(example_buttons, EXAMPLES, strict=True):
            button.click(lambda q=question: q, None, box, api_visibility="private", queue=False).then(
                respond, inputs, outputs, api_visibility="private"
            )
        for dropdown in (doc_ids, kinds):
            dropdown.change(
                lambda d, k: filters_update(gr, documents, d, k),
                [doc_ids, kinds],
                [filters_row, filters_text],
                api_visibility="private",
                queue=False,
            )
        clear_filters.click(lambda: ([], []), None, [doc_ids, kinds], api_visibility="private", queue=False)
        clear.click(
            lambda: ([], "", [], sources_html([], documents), gr.update(visible=True)),
            None,
            outputs,
            api_visibility="private",
            queue=False,
        )
        gr.api(ask, api_name="ask")
    return demo


def leave_out_pyarrow(settings) -> None:
    """Gradio imports pandas, and pandas imports pyarrow whenever it is installed (it comes with the
    milvus extra): about 33 MB resident that the page never uses. Marked absent before gradio is
    imported, pandas runs as on a base install, which has no pyarrow. Kept when already imported, and
    for a Milvus store (milvus-lite uses it)."""
    if settings.milvus_uri is None:
        sys.modules.setdefault("pyarrow", None)  # type: ignore[arg-type]  # None: "import pyarrow" fails


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.stderr = TruncatingWriter(sys.stderr)  # before logging is set up, so its handler writes here too
    configure_runtime(args.verbose)
    from msiqa.web.building import BuildingNotice

    notice = BuildingNotice(args.host, args.port)  # the page says the index is building until launch
    try:
        from msiqa.engine import Engine

        engine = Engine.open(settings_from(args), rebuild=not args.no_rebuild)
    except MsiqaError as exc:
        notice.stop()
        print(f"msiqa: {exc}", file=sys.stderr)
        return 2
    leave_out_pyarrow(engine.settings)
    import gradio as gr
    from starlette.middleware import Middleware

    from msiqa.web.render import APP_CSS, APP_HEAD

    os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", str(ANALYTICS_EVENTS))  # read by demo.queue
    demo = build_demo(engine)
    demo.queue(max_size=QUEUE_MAX_SIZE, default_concurrency_limit=CONCURRENCY, api_open=False)
    theme = gr.themes.Soft(
        font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"]
    )
    print(f"msiqa: serving on http://{args.host}:{args.port}", file=sys.stderr)
    notice.stop()
    demo.launch(
        server_name=args.host,
        server_port=args.port,
        ssr_mode=False,
        max_file_size="1mb",
        show_error=False,
        mcp_server=False,
        pwa=False,
        strict_cors=True,
        allowed_paths=[],
        blocked_paths=[str(engine.settings.seeds_dir), str(engine.settings.index_dir)],
        footer_links=["api"],
        quiet=True,
        state_session_capacity=STATE_SESSIONS,
        app_kwargs={
            "middleware": [
                Middleware(
                    HttpGuard,
                    allowed_hosts=allowed_hosts(args),
                    housekeeping=lambda: housekeeping(demo),
                )
            ]
        },
        theme=theme,
        css=APP_CSS,
        head=APP_HEAD,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
