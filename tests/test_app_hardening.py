"""Issue 14, the HTTP side: a real `app.py` on a free port of 127.0.0.1, driven with httpx.

Defect 4 (a route that takes uploads), 6 (wrong-typed or undecodable `/ask` arguments) and 7 (Gradio
extras left on: monitoring, dev/reload, any Host header, no anti-framing header, whole bodies in the
log). Each test failed on 52a90b7, before the fixes.
"""

from __future__ import annotations

import json

import httpx
import pytest
from app_harness import running_app
from test_hardening import BAD_UTF8, EITI, QUOKKA, cli, project

pytestmark = pytest.mark.slow

# the first bytes of an MP4 ("ftyp" box): enough for Gradio's process_recording to take it
SMALL_MP4 = bytes.fromhex("0000001866747970") + b"isom\x00\x00\x02\x00isomiso2" + b"\x00" * 64


@pytest.fixture(scope="module")
def app(embedder, tmp_path_factory):
    root = tmp_path_factory.mktemp("app_hardening")
    settings = project(root, embedder, {"quokka.md": QUOKKA, "eiti.txt": EITI})
    log = root / "app.log"
    with running_app(settings.seeds_dir, settings.index_dir, log) as (url, proc):
        yield url, log


def ask_error(url: str, body: str | bytes) -> str | None:
    """POST a raw `/ask` body, then read the event stream: the error message, or None on success."""
    with httpx.Client(timeout=60) as client:
        posted = client.post(
            url + "gradio_api/call/ask", content=body, headers={"content-type": "application/json"}
        )
        posted.raise_for_status()
        stream = client.get(url + f"gradio_api/call/ask/{posted.json()['event_id']}").text
    event = None
    for line in stream.splitlines():
        if line.startswith("event:"):
            event = line.removeprefix("event:").strip()
        elif line.startswith("data:") and event == "error":
            return json.loads(line.removeprefix("data:"))["error"]
    return None


# 4. Routes that take uploads or expose internals ------------------------------------------------------


def test_4_process_recording_takes_no_file(app):
    url, _ = app
    response = httpx.post(
        url + "gradio_api/process_recording",
        files={"video": ("clip.mp4", SMALL_MP4, "video/mp4")},
        timeout=30,
    )
    assert response.status_code in (403, 404)
    assert b"ftyp" not in response.content and len(response.content) < 100


UNUSED = [
    ("POST", "gradio_api/process_recording"),
    ("POST", "gradio_api/upload"),
    ("GET", "gradio_api/upload_progress?upload_id=x"),
    ("GET", "monitoring"),
    ("GET", "monitoring/summary"),
    ("GET", "gradio_api/dev/reload"),
    ("POST", "gradio_api/vibe-edit"),
    ("GET", "gradio_api/vibe-code"),
    ("GET", "gradio_api/runs"),
    ("GET", "gradio_api/run-history/buckets"),
    ("GET", "gradio_api/proxy=http://127.0.0.1/"),
    ("POST", "gradio_api/component_server"),
    ("POST", "gradio_api/stream/x"),
    ("GET", "gradio_api/file/x"),
    ("POST", "gradio_api/reset"),
    ("GET", "gradio_api/user"),
    ("GET", "gradio_api/token"),
    ("GET", "gradio_api/app_id"),
    ("POST", "login"),
    ("GET", "openapi.json"),
    ("GET", "gradio_api/openapi.json"),
    ("GET", "manifest.json"),
    ("POST", "gradio_api/run/ask"),
]


@pytest.mark.parametrize("method, path", UNUSED, ids=[p for _, p in UNUSED])
def test_4_every_unused_gradio_route_is_closed(app, method, path):
    url, _ = app
    with httpx.stream(method, url + path, timeout=10) as response:  # dev/reload would stream forever
        assert response.status_code in (403, 404), (path, response.status_code)


def test_4_the_page_and_the_ask_api_still_work(app):
    from gradio_client import Client

    url, _ = app
    page = httpx.get(url, timeout=30)
    assert page.status_code == 200 and "<html" in page.text.lower()
    result = Client(url, verbose=False).predict(
        "What does the EITI ask governments to publish?", api_name="/ask"
    )
    assert any(c["doc_id"] == "eiti" for c in result["citations"])


# 6. Wrong-typed and undecodable /ask arguments: the CLI's one-line messages ---------------------------


def test_6_lone_surrogate_in_the_body_is_refused_with_the_cli_message(app):
    url, log = app
    error = ask_error(url, '{"data": ["\\ud800 What is the EITI?", "hybrid", 5, null, null]}')
    assert error is not None and BAD_UTF8 in error
    assert "Traceback" not in log.read_text(errors="replace")


@pytest.mark.parametrize("top_k", ["abc", -5, 0, 51, 2.5, True])
def test_6_top_k_out_of_range_or_type_is_refused(app, top_k):
    error = ask_error(app[0], json.dumps({"data": ["What is the EITI?", "hybrid", top_k, None, None]}))
    assert error is not None and "must be a whole number from 1 to 50" in error


def test_6_api_and_cli_give_the_same_message(app, tmp_path):
    api = ask_error(app[0], json.dumps({"data": ["What is the EITI?", "hybrid", "-5", None, None]}))
    done = cli("ask", "What is the EITI?", "--top-k", "-5", "--index", str(tmp_path / "none"), timeout=120)
    assert api and api in done.stderr.decode()
    api = ask_error(app[0], json.dumps({"data": ["\udcff What is the EITI?", "hybrid", 5, None, None]}))
    done = cli("ask", b"\xff What is the EITI?", "--index", str(tmp_path / "none"), timeout=120)
    assert api and done.stderr.decode().strip() == f"msiqa: {api}"


@pytest.mark.parametrize(
    "data, message",
    [
        (["What is the EITI?", "hybrid", 5, "eiti", None], "must be a list"),
        (["What is the EITI?", "hybrid", 5, None, "blog post"], "must be a list"),
        (["What is the EITI?", "sparse", 5, None, None], "must be one of dense, bm25, hybrid"),
        (["What is the EITI?", 7, 5, None, None], "must be one of dense, bm25, hybrid"),
        ([["not", "text"], "hybrid", 5, None, None], "must be text"),
        (["What is the EITI?", "hybrid", 5, [1, 2], None], "must be text"),
    ],
)
def test_6_wrong_typed_arguments_get_a_clear_message(app, data, message):
    error = ask_error(app[0], json.dumps({"data": data}))
    assert error is not None and message in error


# 7. Gradio extras: Host header, framing, body size and logging ----------------------------------------


def test_7_a_foreign_host_header_is_refused(app):
    url, _ = app
    port = url.rstrip("/").rsplit(":", 1)[1]
    for host in ("evil.example", f"evil.example:{port}", "127.0.0.1.nip.io", "", "localhost.evil"):
        response = httpx.get(url + "gradio_api/info", headers={"Host": host}, timeout=10)
        assert response.status_code == 421, host
        assert "named_endpoints" not in response.text
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", "LOCALHOST"):
        assert httpx.get(url + "gradio_api/info", headers={"Host": host}, timeout=10).status_code == 200


def test_7_pages_cannot_be_framed_or_sniffed(app):
    url, _ = app
    for path in ("", "gradio_api/info", "theme.css", "monitoring"):
        headers = httpx.get(url + path, timeout=10).headers
        assert headers["x-frame-options"] == "DENY", path
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert headers["x-content-type-options"] == "nosniff", path


def test_7_big_bodies_are_refused_and_never_logged_whole(app):
    url, log = app
    before = log.stat().st_size
    big = json.dumps({"data": ["x" * 10_000_000]})
    response = httpx.post(
        url + "gradio_api/call/ask", content=big, headers={"content-type": "application/json"}, timeout=60
    )
    assert response.status_code == 413
    # under the size limit but with too few inputs: Gradio logs the inputs it received, cut short
    error = ask_error(url, json.dumps({"data": ["y" * 900_000]}))
    assert error is None or "y" * 3000 not in error
    logged = log.read_bytes()[before:]
    assert len(logged) < 50_000 and b"y" * 3000 not in logged and b"x" * 3000 not in logged


def test_7_allowed_host_flag_extends_the_list():
    from msiqa.web.app import allowed_hosts, parse_args

    hosts = allowed_hosts(parse_args(["--host", "0.0.0.0", "--allowed-host", "msiqa.lan:7860"]))
    assert set(hosts) == {"localhost", "127.0.0.1", "::1", "msiqa.lan"}
    assert "192.168.1.20" in allowed_hosts(parse_args(["--host", "192.168.1.20"]))
