"""The labelled question set is valid and big enough (eval/check_questions.py), and `msiqa train`
rebuilds the shipped selector file bit for bit from it."""

from __future__ import annotations

import runpy
import sys

import pytest
from conftest import REPO

from msiqa.answer.selector import WEIGHTS_FILE


def test_question_set_passes_its_checks(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["check_questions.py"])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(REPO / "eval" / "check_questions.py"), run_name="__main__")
    assert exit_info.value.code == 0, capsys.readouterr().out


@pytest.mark.slow
def test_training_reproduces_the_shipped_selector_bit_for_bit(seed_settings, tmp_path):
    """`msiqa build --full && msiqa train` (the documented commands, each in a fresh process, so nothing
    another test did to the shared index or to torch's threads counts) write selector.json byte for byte."""
    import os
    import subprocess

    out, index = tmp_path / "selector.json", tmp_path / "index"
    where = ["--seeds", str(seed_settings.seeds_dir), "--index", str(index)]
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    for args in (
        ["build", "--full", *where],
        ["train", *where, "--questions", str(REPO / "eval" / "questions.jsonl"), "--out", str(out)],
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "msiqa.cli", *args], capture_output=True, text=True, env=env
        )
        assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == WEIGHTS_FILE.read_bytes()
