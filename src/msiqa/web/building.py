"""A notice page served while the index loads or builds (about a minute on a first start), so a student
who opens the address early sees what is happening instead of a refused connection.

A stdlib HTTP server on the app's own host and port answers every GET with 503, `Retry-After` and a
small self-contained page (no outside resources, no document text) whose script polls the app's
`/gradio_api/info` and reloads the page once the app answers. It is stopped right before Gradio starts
on the same port. Deliberately left out: build progress counts (the terminal shows those) and any
other route.
"""

from __future__ import annotations

import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

log = logging.getLogger("msiqa.app")

NOTICE_HTML = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>msiqa · starting</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;
color:#1f2937}.bar{height:6px;background:#e5e7eb;border-radius:3px;overflow:hidden}
.bar i{display:block;height:100%;width:30%;background:#6366f1;animation:s 1.6s ease-in-out infinite}
@keyframes s{0%{margin-left:-30%}100%{margin-left:100%}}
</style></head><body><h1>msiqa is getting ready</h1>
<p id="msiqa-building">Building the search index of the documents. On a first start this takes about a
minute; this page opens the app by itself when it is ready.</p><div class="bar"><i></i></div>
<p><small>Waiting for <span id="t">ELAPSED</span> s.</small></p>
<script>(() => { let s = ELAPSED; setInterval(() => { document.getElementById('t').textContent = ++s;
  }, 1000);
const poll = () => fetch('/gradio_api/info', { cache: 'no-store' })
  .then((r) => { if (r.ok) location.reload(); else setTimeout(poll, 1500); }, () => setTimeout(poll, 1500));
setTimeout(poll, 1500); })();</script></body></html>"""


class _Notice(BaseHTTPRequestHandler):
    started = time.monotonic()

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        body = NOTICE_HTML.replace("ELAPSED", str(int(time.monotonic() - self.started))).encode()
        self.send_response(503)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Retry-After", "3")
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - http.server's signature
        return


class BuildingNotice:
    """Serve the notice on host:port in a background thread until `stop()`; a no-op if the port is busy."""

    def __init__(self, host: str, port: int) -> None:
        handler = type("Notice", (_Notice,), {"started": time.monotonic()})
        try:
            self.server: ThreadingHTTPServer | None = ThreadingHTTPServer((host, port), handler)
        except OSError as exc:
            log.info("no start-up notice page: %s", exc)
            self.server = None
            return
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
