"""The `msiqa` command as a user runs it: real subprocesses, real model, a temporary index."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from conftest import SEEDS

pytestmark = pytest.mark.slow  # real `msiqa` subprocesses

KP = "Why is the Kimberley Process definition of conflict diamonds criticized?"


def msiqa(*args: str, cwd=None) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    return subprocess.run(
        [sys.executable, "-m", "msiqa.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    shutil.copytree(SEEDS, root / "seeds")
    return root


def test_help_lists_commands():
    result = msiqa("--help")
    assert result.returncode == 0
    assert "build" in result.stdout and "ask" in result.stdout


def test_build_then_ask_json(project):
    build = msiqa("build", "--seeds", str(project / "seeds"), "--index", str(project / "index"))
    assert build.returncode == 0, build.stderr
    assert "9 documents" in build.stdout
    result = msiqa("ask", "--json", KP, "--seeds", str(project / "seeds"), "--index", str(project / "index"))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) >= {"question", "answer", "abstained", "citations", "hits"}
    assert data["abstained"] is False
    texts = {
        d.stem: d.read_text(encoding="utf-8").split("\n---\n", 1)[1]
        for d in (project / "seeds").glob("*.txt")
    }
    by_id = {c["doc_id"] for c in data["citations"]}
    assert "bamenjo-lip-service" in by_id
    for c in data["citations"]:
        assert set(c) >= {"n", "doc_id", "title", "author", "chunk_id", "start", "end", "quote"}
        body = next(t for stem, t in texts.items() if stem.endswith(c["doc_id"]))
        assert body[c["start"] : c["end"]] == c["quote"]
    for h in data["hits"]:
        assert set(h) >= {"rank", "chunk_id", "doc_id", "score", "start", "end", "text"}


def test_off_topic_abstains_in_text_mode(project):
    result = msiqa(
        "ask",
        "Who won the 2018 FIFA World Cup?",
        "--seeds",
        str(project / "seeds"),
        "--index",
        str(project / "index"),
    )
    assert result.returncode == 0, result.stderr
    assert "don't cover" in result.stdout and "not an answer" in result.stdout


def test_empty_question_is_one_line_no_traceback(project):
    result = msiqa("ask", "  ", "--seeds", str(project / "seeds"), "--index", str(project / "index"))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "empty" in result.stderr
    assert "Traceback" not in result.stderr


def test_no_rebuild_on_stale_index_names_the_fix(project):
    (project / "seeds" / "extra.txt").write_text("Extra note\n\nA new document about cocoa farming.\n")
    result = msiqa(
        "ask", KP, "--no-rebuild", "--seeds", str(project / "seeds"), "--index", str(project / "index")
    )
    assert result.returncode == 2
    assert "msiqa build" in result.stderr and "Traceback" not in result.stderr
