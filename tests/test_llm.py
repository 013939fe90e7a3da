"""Generated answers through the real httpx client against an OpenAI-compatible server started here.

The server (stdlib http.server on 127.0.0.1, in a thread) speaks /v1/chat/completions, JSON and
server-sent events. The model name picks its behaviour. Its reply copies the first sentence of
passage [1] from the prompt it receives (supported), adds an invented sentence (must be flagged) and
cites a passage number that was never given (must be removed).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from msiqa.answer.generate import UNSUPPORTED_FLAG, LlmConfig, endpoint
from msiqa.answer.verify import calibrate, split_claims

KP = "Why is the Kimberley Process definition of conflict diamonds criticized?"
INVENTED = "The Kimberley Process was founded by penguins on the Moon in 1850 to regulate cheese exports."


def reply_for(prompt: str) -> str:
    """A reply as a model might write it: a sentence copied from passage [1] (twice: once citing a
    passage that was never given), and an invented sentence citing passage [2]."""
    passage_1 = re.search(r"^\[1\] [^\n]*:\n(.+?)(?:\n\n\[2\]|\n\nQuestion:)", prompt, re.S | re.M).group(1)
    sentences = re.findall(r"[A-Z][^\n]*?[.!?][”\"’]?(?=\s|$)", passage_1)
    first = next(x for x in sentences if len(x.split()) >= 8)
    return f"{first} [1] {INVENTED} [2] {first} [1][9]"


class Handler(BaseHTTPRequestHandler):
    requests: list = []

    def log_message(self, *args):  # keep pytest output clean
        pass

    def send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Handler.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **request})
        model = request["model"]
        if self.path != "/v1/chat/completions":
            return self.send(404, b'{"error": "not found"}')
        if model.startswith("http-"):
            return self.send(int(model[5:]), b'{"error": {"message": "boom"}}')
        if model == "slow":
            time.sleep(1.5)
        if model == "malformed":
            return self.send(200, b"this is not json")
        text = "" if model == "empty" else reply_for(request["messages"][-1]["content"])
        if not request.get("stream"):
            body = {
                "id": "c1",
                "object": "chat.completion",
                "model": model,
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                ],
            }
            return self.send(200, json.dumps(body).encode())
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        self.wfile.write(b": keep-alive comment, ignored by clients\n\n")
        for piece in re.findall(r"\S+\s*", text):
            chunk = {
                "id": "c1",
                "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": {"content": piece}}],
            }
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
            if model == "slow-stream":
                time.sleep(0.1)
        self.wfile.write(b"data: [DONE]\n\n")


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()
    httpd.server_close()


def config(url: str, model: str = "test-model", **kw) -> LlmConfig:
    return LlmConfig(url=url, model=model, api_key="secret", timeout_s=kw.pop("timeout_s", 10.0), **kw)


def check_generated(answer, engine):
    assert not answer.abstained
    verdicts = [s.verdict for s in answer.sentences]
    assert verdicts == ["supported", "unsupported", "supported"], [
        (s.text, s.verdict) for s in answer.sentences
    ]
    invented = answer.sentences[1]
    assert invented.text.startswith(INVENTED)
    assert re.search(re.escape(INVENTED) + r" \[\d+\] " + re.escape(UNSUPPORTED_FLAG), answer.text)
    assert "[9]" not in answer.text and "[9]" not in answer.sentences[2].text
    assert answer.sentences[2].citations == answer.sentences[0].citations  # [1] kept, [9] removed
    assert any("never given: [9]" in note for note in answer.notes)
    assert any("1 of 3 generated sentences are not supported" in note for note in answer.notes)
    for c in answer.citations:  # sentence-level citations: the closest sentence of each cited passage
        assert c.document.text[c.start : c.end] == c.quote
    assert answer.sentences[0].text.startswith(answer.citations[0].quote.rstrip(".")[:40])


def test_generated_answer_is_verified(engine, server):
    Handler.requests.clear()
    answer = engine.ask(KP, llm=config(server))
    check_generated(answer, engine)
    request = Handler.requests[-1]
    assert (
        request["auth"] == "Bearer secret" and request["stream"] is False and request["model"] == "test-model"
    )
    prompt = request["messages"][-1]["content"]
    assert "[1] Jaff Bamenjo (blog post)" in prompt and f"Question: {KP}" in prompt
    assert "[n]" not in request["messages"][0]["content"] and "[2]" in request["messages"][0]["content"]


def test_streamed_answer_arrives_in_pieces_and_is_verified(engine, server):
    tokens: list[str] = []
    answer = engine.ask(KP, llm=config(server, stream=True), on_token=tokens.append)
    assert len(tokens) > 5
    assert INVENTED in "".join(tokens) and "[9]" in "".join(tokens)  # the raw stream, before verification
    check_generated(answer, engine)


@pytest.mark.parametrize(
    "model, stream, timeout_s, reason",
    [
        ("http-500", False, 10.0, "HTTP 500"),
        ("http-401", True, 10.0, "HTTP 401"),
        ("http-429", False, 10.0, "HTTP 429"),
        ("slow", False, 0.5, "did not answer within 0.5s"),
        ("slow-stream", True, 0.5, "still streaming when the timeout ran out"),
        ("malformed", False, 10.0, "malformed reply"),
        ("empty", False, 10.0, "empty reply"),
        ("empty", True, 10.0, "empty reply"),
    ],
)
def test_server_failures_fall_back_to_the_extractive_answer(engine, server, model, stream, timeout_s, reason):
    extractive = engine.ask(KP)
    answer = engine.ask(KP, llm=config(server, model, stream=stream, timeout_s=timeout_s))
    assert answer.text == extractive.text and answer.citations == extractive.citations
    assert all(s.verdict is None for s in answer.sentences)
    assert len(answer.notes) == 1 and reason in answer.notes[0] and "extractive answer" in answer.notes[0]


def test_stopped_server_falls_back_with_a_note(engine):
    from http.server import HTTPServer

    probe = HTTPServer(("127.0.0.1", 0), Handler)
    port = probe.server_address[1]
    probe.server_close()  # nothing listens on this port any more
    answer = engine.ask(KP, llm=config(f"http://127.0.0.1:{port}/v1"))
    assert answer.text == engine.ask(KP).text
    assert "could not reach the language model server" in answer.notes[0]


def test_the_model_is_not_asked_when_the_documents_are_silent(engine, server):
    Handler.requests.clear()
    answer = engine.ask("Who won the 2018 FIFA World Cup?", llm=config(server))
    assert answer.abstained and not Handler.requests
    assert "not asked" in answer.notes[0]


def test_cli_ask_with_llm_env_prints_verdicts_as_json(engine, server, seed_settings):
    env = dict(
        os.environ,
        HF_HUB_OFFLINE="1",
        MSIQA_LLM_URL=server,
        MSIQA_LLM_MODEL="test-model",
        MSIQA_LLM_TIMEOUT="10",
    )
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "msiqa.cli",
            "ask",
            KP,
            "--json",
            "--no-rebuild",
            "--seeds",
            str(seed_settings.seeds_dir),
            "--index",
            str(seed_settings.index_dir),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert [s["verdict"] for s in data["sentences"]] == ["supported", "unsupported", "supported"]
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "msiqa.cli",
            "ask",
            KP,
            "--no-rebuild",
            "--llm-url",
            server,
            "--seeds",
            str(seed_settings.seeds_dir),
            "--index",
            str(seed_settings.index_dir),
        ],
        capture_output=True,
        text=True,
        env={**env, "MSIQA_LLM_MODEL": ""},
        timeout=300,
    )
    assert bad.returncode == 2 and "--llm-model" in bad.stderr and "Traceback" not in bad.stderr


def test_split_claims_attaches_markers_and_drops_passages_never_given():
    claims = split_claims(
        "The KP is narrow [1]. Governments refused. [2][7] It failed [1, 3, 0]", n_passages=5
    )
    assert [c.text for c in claims] == ["The KP is narrow.", "Governments refused.", "It failed"]
    assert [c.cited for c in claims] == [(1,), (2,), (1, 3)]
    assert [c.dropped for c in claims] == [(), (7,), (0,)]


def test_endpoint_accepts_base_or_full_urls():
    assert endpoint("http://h:1") == "http://h:1/v1/chat/completions"
    assert endpoint("http://h:1/v1/") == "http://h:1/v1/chat/completions"
    assert endpoint("http://h:1/v1/chat/completions") == "http://h:1/v1/chat/completions"


def test_calibrate_picks_the_strictest_thresholds_near_the_best_balanced_accuracy():
    positives = [(0.9, 0.8), (0.7, 0.5)]
    negatives = [(0.3, 0.9), (0.6, 0.1)]
    # Accepting both positives needs cosine <= 0.70 and overlap <= 0.50; rejecting (0.3, 0.9) needs
    # cosine > 0.30, rejecting (0.6, 0.1) needs cosine > 0.60 or overlap > 0.10. Those points score
    # (1 + 1) / 2 = 1.0; the strictest has the highest overlap (0.50), then the highest cosine (0.70).
    assert calibrate(positives, negatives) == (0.70, 0.50, 1.0)
