"""The web app's API and HTTP surface, against a real `app.py` subprocess: `/ask` through gradio_client
returns exactly `answer_to_dict` of the same question, no file can be read through `/gradio_api/file=`,
a foreign Origin gets no CORS grant, uploads are refused, and the server listens on loopback only."""

from __future__ import annotations

import http.client
import shutil
import time

import httpx
import psutil
import pytest
from app_harness import KP, running_app
from conftest import SEEDS

from benchmarks.bench import AppServer

pytestmark = pytest.mark.slow  # a real app subprocess


@pytest.fixture(scope="module")
def app(engine, seed_settings, tmp_path_factory):
    """The app on a copy of the seeds and of the session's already built index (no rebuild needed)."""
    root = tmp_path_factory.mktemp("app_api")
    shutil.copytree(seed_settings.seeds_dir, root / "seeds")
    shutil.copytree(seed_settings.index_dir, root / "index")
    with running_app(root / "seeds", root / "index", root / "app.log") as (url, proc):
        yield url, proc, root


@pytest.fixture(scope="module")
def client(app):
    from gradio_client import Client

    return Client(app[0], verbose=False)


def test_ask_endpoint_returns_the_cli_json(client, engine):
    from msiqa.serialize import answer_to_dict

    result = client.predict(KP, api_name="/ask")
    assert result == answer_to_dict(engine.ask(KP))
    assert result["abstained"] is False
    assert any(c["doc_id"] == "bamenjo-lip-service" for c in result["citations"])
    documents = engine.index.documents
    for c in result["citations"]:
        assert documents[c["doc_id"]].text[c["start"] : c["end"]] == c["quote"]


def test_ask_endpoint_options_restrict_the_search(client, engine):
    result = client.predict(KP, "bm25", 3, ["gleckman-democracy"], None, api_name="/ask")
    assert len(result["hits"]) <= 3
    assert {h["doc_id"] for h in result["hits"]} == {"gleckman-democracy"}


def test_ask_endpoint_bad_question_is_a_clear_error(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="The question is empty"):
        client.predict("   ", api_name="/ask")
    with pytest.raises(AppError, match="limit is"):
        client.predict("why " * 25_000, api_name="/ask")


def test_app_leaves_out_pyarrow(app, client):
    """Gradio's pandas would load pyarrow (about 33 MB resident, docs/performance.md) if let: the app,
    having answered, has no Arrow library mapped."""
    client.predict(KP, api_name="/ask")
    maps = psutil.Process(app[1].pid).memory_maps()
    assert maps and not [m.path for m in maps if "libarrow" in m.path]


def test_only_ask_is_a_public_endpoint(app):
    info = httpx.get(app[0] + "gradio_api/info").json()
    assert list(info["named_endpoints"]) == ["/ask"]
    assert not info["unnamed_endpoints"]


TRAVERSALS = [
    "../../../../../../etc/passwd",
    "/etc/passwd",
    "..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "%2Fetc%2Fpasswd",
    "%252e%252e%252f%252e%252e%252fetc%252fpasswd",
    "....//....//....//etc/passwd",
    "..\\..\\..\\..\\etc\\passwd",
    "/proc/self/environ",
]


@pytest.mark.parametrize("target", TRAVERSALS)
def test_file_route_serves_no_file_outside_the_page(app, target):
    # http.client sends the path as written; httpx would normalise `..` away before sending it.
    host, port = app[0].removeprefix("http://").rstrip("/").split(":")
    for prefix in ("/gradio_api/file=", "/file="):
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request("GET", prefix + target)
        response = conn.getresponse()
        body = response.read()
        conn.close()
        assert response.status in (400, 403, 404), (prefix + target, response.status)
        assert b"root:" not in body and b"PATH=" not in body


def test_file_route_serves_no_seed_index_or_source_file(app):
    url, _, root = app
    for path in [
        *sorted((root / "seeds").glob("*.txt"))[:1],
        root / "index" / "manifest.json",
        root / "index" / "chunks.jsonl",
        shutil.which("python3") or "/usr/bin/env",
    ]:
        response = httpx.get(url + "gradio_api/file=" + str(path))
        assert response.status_code in (403, 404), path
        assert len(response.content) < 200


def test_foreign_origin_gets_no_cors_grant(app):
    url = app[0]
    own = httpx.get(url + "gradio_api/info", headers={"Origin": url.rstrip("/")})
    assert own.headers.get("access-control-allow-origin") == url.rstrip("/")  # the check below can fail
    for origin in ("https://evil.example", "null", "http://127.0.0.1.evil.example"):
        simple = httpx.get(url + "gradio_api/info", headers={"Origin": origin})
        preflight = httpx.options(
            url + "gradio_api/queue/join", headers={"Origin": origin, "Access-Control-Request-Method": "POST"}
        )
        for response in (simple, preflight):
            assert response.headers.get("access-control-allow-origin") not in (origin, "*"), origin


def test_uploads_are_refused(app):
    response = httpx.post(app[0] + "gradio_api/upload", files={"files": ("a.txt", b"hello")})
    assert response.status_code == 403
    big = httpx.post(app[0] + "gradio_api/upload", files={"files": ("b.txt", b"x" * 2_000_000)})
    assert big.status_code in (403, 413)


def test_listens_on_loopback_only(app):
    _, proc, _ = app
    addresses = {
        c.laddr.ip
        for c in psutil.Process(proc.pid).net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    }
    assert addresses and addresses <= {"127.0.0.1"}, addresses


def test_first_start_shows_a_notice_until_the_index_is_built(tmp_path):
    shutil.copytree(SEEDS, tmp_path / "seeds")
    server = AppServer(tmp_path / "seeds", tmp_path / "index", tmp_path / "app.log")
    try:
        notice = None
        for _ in range(300):  # the notice appears within seconds, long before the index is built
            try:
                notice = httpx.get(server.base + "/", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert notice is not None and notice.status_code == 503
        assert "Building the search index" in notice.text and notice.headers["retry-after"]
        assert "<script src" not in notice.text and "http" not in notice.text.split("<body>")[1]
        server.wait_ready(420)  # then the app itself takes the port over
        page = httpx.get(server.base + "/", timeout=10)
        assert page.status_code == 200 and "msiqa-building" not in page.text
    finally:
        server.stop()
