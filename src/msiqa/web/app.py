"""The msiqa web app: a Gradio chat whose answers stream in with [n] markers, a sources panel with each
cited passage highlighted inside its paragraph, a Documents tab, and a `/ask` API endpoint.

Run: `msiqa serve [--host H] [--port P] [--seeds DIR] [--index DIR]` (the repository's `app.py` is a
launcher for the same `main`). Safe by default: binds 127.0.0.1, no server-side rendering, no
analytics, a bounded queue, no uploads, no file serving beyond the page itself, and every piece of
document or question text is escaped (`msiqa.web.render`) before it reaches the page. Each browser
session keeps its conversation: earlier turns go to `Engine.ask(history=...)`, so follow-ups work, and
the sources of the last MAX_TURNS answers stay in the panel. Like cli.py, this is a place that reads env
vars and flags and turns typed errors into messages. Deliberately left out: memory shared between
sessions or kept across restarts, and any page logic that could live in the library.
"""

import argparse
import logging
import os
import sys
import time

from msiqa.config import RETRIEVERS
from msiqa.errors import InvalidQuestion, MsiqaError
from msiqa.runtime import common_parser, configure_runtime, settings_from

log = logging.getLogger("msiqa.app")

EXAMPLES = (
    "Why is the Kimberley Process definition of conflict diamonds criticized?",
    "What did MSI Integrity conclude about multi-stakeholder initiatives?",
    "How did the Fair Food Program protect workers?",
    "Why are the Dutch RBC agreements not enough?",
)
MAX_TURNS = 20  # sources of this many past answers stay in the panel
QUEUE_MAX_SIZE = 64
CONCURRENCY = 2
STREAM_PAUSE_S = 0.04  # between streamed sentences, so the reply visibly builds up


class RefuseUploads:
    """ASGI middleware: the page has no upload component, so Gradio's upload route answers 403."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["path"].rstrip("/").endswith("/upload"):
            await send(
                {
                    "type": "http.response.start",
                    "status": 403,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8")],
                }
            )
            await send({"type": "http.response.body", "body": b"This app accepts no uploads."})
            return
        await self.app(scope, receive, send)


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
    return parser.parse_args(argv)


def friendly(exc: MsiqaError) -> str:
    from msiqa.web.render import md_escape

    return f"⚠️ {md_escape(str(exc))}"


def language_hint(question: str) -> str:
    """A note for questions mostly in a non-Latin script: the documents and the model are English."""
    letters = [ch for ch in question if ch.isalpha()]
    foreign = sum(1 for ch in letters if not ch.isascii() and ord(ch) > 0x24F)
    if letters and foreign / len(letters) > 0.3:
        return (
            "\n\n*The documents are in English and msiqa searches them in English; "
            "asking in English gives the best answers.*"
        )
    return ""


def build_demo(engine):
    import gradio as gr

    from msiqa.serialize import answer_to_dict
    from msiqa.web.render import answer_pieces, documents_html, question_echo, searched_note, sources_html

    documents = engine.index.documents
    doc_choices = [(d.title, d.doc_id) for d in documents.values()]
    kind_choices = sorted({d.kind for d in documents.values() if d.kind})

    def ask(
        question: str,
        retriever: str = "hybrid",
        top_k: int = 5,
        doc_ids: list[str] | None = None,
        kinds: list[str] | None = None,
    ) -> dict:
        """Answer a question with cited quotes: the same JSON as `msiqa ask --json`."""
        try:
            return answer_to_dict(
                engine.ask(
                    question,
                    retriever=retriever,
                    top_k=int(top_k),
                    doc_ids=doc_ids or None,
                    kinds=kinds or None,
                )
            )
        except MsiqaError as exc:
            raise gr.Error(str(exc), print_exception=False) from None

    def respond(question, history, turns, retriever, top_k, doc_ids, kinds):
        history = list(history or []) + [
            {"role": "user", "content": question_echo(question)},
            {"role": "assistant", "content": "Searching the documents…"},
        ]
        panel = sources_html(turns, documents)
        yield history, "", turns, panel
        past = [(t["question"], t["obj"]) for t in turns if "obj" in t]  # follow-ups read earlier turns
        try:
            result = engine.ask(
                question,
                retriever=retriever,
                top_k=int(top_k),
                doc_ids=doc_ids or None,
                kinds=kinds or None,
                history=past,
            )
            answer = answer_to_dict(result)
        except InvalidQuestion as exc:
            history[-1]["content"] = friendly(exc)
            yield history, "", turns, panel
            return
        except MsiqaError as exc:
            history[-1]["content"] = friendly(exc)
            yield history, question, turns, panel
            return
        except Exception:  # the page must never show a traceback; the log keeps it
            log.exception("answering %r failed", question[:200])
            history[-1]["content"] = "⚠️ Something went wrong while answering. Please try again."
            yield history, question, turns, panel
            return
        turn = (turns[-1]["turn"] + 1) if turns else 1
        turns = (list(turns) + [{"turn": turn, "answer": answer, "question": question, "obj": result}])[
            -MAX_TURNS:
        ]
        panel = sources_html(turns, documents)
        text = searched_note(answer)
        for piece in answer_pieces(answer, turn):
            text += piece
            history[-1]["content"] = text
            yield history, "", turns, panel
            time.sleep(STREAM_PAUSE_S)
        history[-1]["content"] = text + language_hint(question)
        yield history, "", turns, panel

    def example_text(evt: gr.SelectData) -> str:
        return evt.value["text"]

    with gr.Blocks(title="msiqa · Not Fit-for-Purpose Q&A", analytics_enabled=False) as demo:
        gr.Markdown(
            "## msiqa — ask the *Not Fit-for-Purpose* documents\n"
            "Answers are quoted from MSI Integrity's 2020 campaign documents; every sentence is "
            "cited. Click a **[n]** marker to see the passage in context."
        )
        turns = gr.State([])
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=340):
                        chatbot = gr.Chatbot(
                            label="Answers",
                            height=520,
                            elem_id="msiqa-chat",
                            sanitize_html=True,
                            allow_tags=False,
                            latex_delimiters=[],
                            feedback_options=None,
                            allow_file_downloads=False,
                            buttons=["copy"],
                            examples=[{"text": q} for q in EXAMPLES],
                            placeholder="**Ask a question** about the MSI Integrity documents, or pick an example:",
                        )
                        box = gr.Textbox(
                            placeholder="Ask a question about the documents…",
                            show_label=False,
                            lines=1,
                            max_lines=4,
                            submit_btn="Ask",
                            elem_id="msiqa-question",
                        )
                        with gr.Accordion("Advanced", open=False):
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
                                doc_choices, multiselect=True, value=[], label="Only these documents"
                            )
                            kinds = gr.Dropdown(
                                kind_choices, multiselect=True, value=[], label="Only these kinds"
                            )
                        clear = gr.Button("New conversation", size="sm", variant="secondary")
                    with gr.Column(scale=2, min_width=340):
                        gr.Markdown("### Sources")
                        sources = gr.HTML(sources_html([], documents), elem_id="msiqa-sources")
            with gr.Tab("Documents", id="documents"):
                gr.HTML(documents_html(documents), elem_id="msiqa-docs")

        inputs = [box, chatbot, turns, retriever, top_k, doc_ids, kinds]
        outputs = [chatbot, box, turns, sources]
        box.submit(respond, inputs, outputs, api_visibility="private")
        chatbot.example_select(example_text, None, box, api_visibility="private", queue=False).then(
            respond, inputs, outputs, api_visibility="private"
        )
        clear.click(
            lambda: ([], "", [], sources_html([], documents)),
            None,
            outputs,
            api_visibility="private",
            queue=False,
        )
        gr.api(ask, api_name="ask")
    return demo


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure_runtime(args.verbose)
    try:
        from msiqa.engine import Engine

        engine = Engine.open(settings_from(args), rebuild=not args.no_rebuild)
    except MsiqaError as exc:
        print(f"msiqa: {exc}", file=sys.stderr)
        return 2
    import gradio as gr
    from starlette.middleware import Middleware

    from msiqa.web.render import APP_CSS, APP_HEAD

    demo = build_demo(engine)
    demo.queue(max_size=QUEUE_MAX_SIZE, default_concurrency_limit=CONCURRENCY, api_open=False)
    theme = gr.themes.Soft(
        font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"]
    )
    print(f"msiqa: serving on http://{args.host}:{args.port}", file=sys.stderr)
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
        app_kwargs={"middleware": [Middleware(RefuseUploads)]},
        theme=theme,
        css=APP_CSS,
        head=APP_HEAD,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
