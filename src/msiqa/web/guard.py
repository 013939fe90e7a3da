"""The HTTP guard in front of the Gradio app: what a request may reach and what every response carries.

`HttpGuard` (ASGI middleware) answers only the routes the page and the `/ask` API use; everything else
Gradio mounts (uploads, process_recording, monitoring, dev/reload, vibe-edit, run history, proxy,
login, ...) gets 404, uploads 403. It refuses a `Host` header that is not allowed (DNS rebinding, 421)
and bodies over MAX_BODY_BYTES (413), and adds anti-framing and no-sniff headers to every response.
`TruncatingWriter` cuts long log lines, since Gradio prints a failed request's inputs whole.
Deliberately left out: authentication and TLS (put a reverse proxy in front for those).
"""

from __future__ import annotations

import logging
import re

log = logging.getLogger("msiqa.app")

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
    # run/predict: the page's unqueued events (an example picked, a new conversation)
    "POST": re.compile(
        r"/gradio_api/queue/join|/gradio_api/cancel|/gradio_api/run/predict|/gradio_api/call/(?:v2/)?ask/?"
    ),
}
_ALLOWED["HEAD"] = _ALLOWED["GET"]


MAX_LOG_LINE_CHARS = 2_000
HOUSEKEEPING_EVERY = 200  # requests between two runs of the app's housekeeping hook


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

    def __init__(
        self,
        app,
        allowed_hosts: tuple[str, ...] = LOCAL_HOSTS,
        housekeeping=None,
        housekeeping_every: int = HOUSEKEEPING_EVERY,
    ) -> None:
        self.app = app
        self.allowed_hosts = frozenset(h.lower() for h in allowed_hosts)
        self.housekeeping = housekeeping  # called in the event loop every `housekeeping_every` requests
        self.housekeeping_every = housekeeping_every
        self.requests = 0

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
        self.requests += 1
        if self.housekeeping is not None and self.requests % self.housekeeping_every == 0:
            self.housekeeping()
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
