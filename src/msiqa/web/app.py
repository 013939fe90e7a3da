"""The msiqa web app: a Gradio chat whose answers stream in with [n] markers, a sources panel with each
cited passage highlighted inside its paragraph, a Documents tab, and a `/ask` API endpoint.

Run: `python app.py [--host H] [--port P] [--allowed-host NAME] [--seeds DIR] [--index DIR]`. Safe by
default: binds 127.0.0.1, no server-side rendering, no analytics, a bounded queue; `HttpGuard` answers
only the routes the page and `/ask` use (no uploads, monitoring, dev reload or file serving), only for
allowed Host names, with bodies up to 1 MB, and sends anti-framing headers; log lines are cut at 2,000
characters; `/ask` checks its arguments with the CLI's rules (`runtime.check_request`); and every
piece of document or question text is escaped (web/render.py) before it reaches the page. Like cli.py, this is a place that reads env vars and flags and turns typed errors
into messages. Deliberately left out: conversation memory across questions (each question is asked on
its own) and any page logic that could live in the library.
"""

import argparse
import logging
import os
import re
import sys
import time

from msiqa.config import RETRIEVERS
from msiqa.errors import InvalidQuestion, MsiqaError
from msiqa.runtime import check_request, common_parser, configure_runtime, settings_from

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


LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
MAX_BODY_BYTES = 1_000_000  # a question is at most a few KB of JSON; larger bodies are refused (413)
SECURITY_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]
# The only routes the page and the `/ask` API use; everything else Gradio mounts (uploads,
# process_recording, monitoring, dev/reload, vibe-edit, run history, proxy, login, ...) answers 404.
_ALLOWED = {
    "GET": re.compile(
        r"/|/config/?|/(?:static|assets|svelte)/[^?#]+|/(?:gradio_api/)?theme\.css|/favicon\.ico|/robots\.txt"
        r"|/gradio_api/info/?|/gradio_api/heartbeat/[\w-]+|/gradio_api/queue/data|/gradio_api/startup-events"
        r"|/gradio_api/call/(?:v2/)?ask/[\w-]+"
    ),
    "POST": re.compile(r"/gradio_api/queue/join|/gradio_api/cancel|/gradio_api/call/(?:v2/)?ask/?"),
}
_ALLOWED["HEAD"] = _ALLOWED["GET"]


MAX_LOG_LINE_CHARS = 2_000


class TruncatingWriter:
    """A text stream that cuts every line over MAX_LOG_LINE_CHARS: Gradio prints the inputs of a
    failed request whole (a 1 MB body would be 1 MB of log), msiqa's log keeps their start only."""

    def __init__(self, stream) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        lines = text.split("\n")
        cut = [
            f"{line[:MAX_LOG_LINE_CHARS]}… [{len(line) - MAX_LOG_LINE_CHARS:,} more characters not logged]"
            if len(line) > MAX_LOG_LINE_CHARS
            else line
            for line in lines
        ]
        self.stream.write("\n".join(cut))
        return len(text)

    def __getattr__(self, name: str):
        return getattr(self.stream, name)


def host_name(header: str) -> str:
    """The host of a `Host` header, lower-case, without the port ("[::1]:7860" -> "::1")."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class HttpGuard:
    """ASGI middleware in front of Gradio: refuses a `Host` that is not allowed (DNS rebinding), every
    route the app does not use, and bodies over MAX_BODY_BYTES; adds anti-framing and no-sniff headers
    to every response."""

    def __init__(self, app, allowed_hosts: tuple[str, ...] = LOCAL_HOSTS) -> None:
        self.app = app
        self.allowed_hosts = frozenset(h.lower() for h in allowed_hosts)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        host = host_name(headers.get(b"host", b"").decode("latin-1"))
        method = scope.get("method", "GET")
        path = scope["path"]
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        if host not in self.allowed_hosts:
            log.warning("refused a request for host %r", host[:100])
            await _reply(send, 421, "This server does not serve that host name.")
            return
        if path.rstrip("/").endswith("/upload"):
            await _reply(send, 403, "This app accepts no uploads.")
            return
        allowed = _ALLOWED.get(method)
        if allowed is None or not allowed.fullmatch(path):
            await _reply(send, 404, "Not found.")
            return
        length = headers.get(b"content-length", b"0")
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            await _reply(send, 413, f"The request body is over the {MAX_BODY_BYTES:,}-byte limit.")
            return
        await self.app(scope, _bounded(receive), _with_headers(send))


def _bounded(receive):
    """`receive` that stops a chunked body (no Content-Length) once it passes MAX_BODY_BYTES."""
    seen = 0

    async def wrapped():
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > MAX_BODY_BYTES:
                return {"type": "http.disconnect"}
        return message

    return wrapped


def _with_headers(send):
    async def wrapped(message):
        if message["type"] == "http.response.start":
            present = {name.lower() for name, _ in message.get("headers", [])}
            extra = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
            message = dict(message, headers=list(message.get("headers", [])) + extra)
        await send(message)

    return wrapped


async def _reply(send, status: int, text: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), *SECURITY_HEADERS],
        }
    )
    await send({"type": "http.response.body", "body": text.encode("utf-8")})


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
            request = check_request(question, retriever, top_k, doc_ids, kinds)  # CLI's rules and messages
            return answer_to_dict(
                engine.ask(
                    request.question,
                    retriever=request.retriever,
                    top_k=request.top_k,
                    doc_ids=request.doc_ids,
                    kinds=request.kinds,
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
    sys.stderr = TruncatingWriter(sys.stderr)  # before logging is set up, so its handler writes here too
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
        app_kwargs={"middleware": [Middleware(HttpGuard, allowed_hosts=allowed_hosts(args))]},
        theme=theme,
        css=APP_CSS,
        head=APP_HEAD,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
