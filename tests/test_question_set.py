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
def test_training_reproduces_the_shipped_selector_bit_for_bit(engine, seed_settings, tmp_path):
    """`msiqa train` on a full build of the seeds writes selector.json byte for byte."""
    import os
    import subprocess

    out = tmp_path / "selector.json"
    command = [sys.executable, "-m", "msiqa.cli", "train", "--seeds", str(seed_settings.seeds_dir)]
    command += [
        "--index",
        str(seed_settings.index_dir),
        "--questions",
        str(REPO / "eval" / "questions.jsonl"),
    ]
    proc = subprocess.run(
        [*command, "--out", str(out)],
        capture_output=True,
        text=True,
        env=dict(os.environ, HF_HUB_OFFLINE="1"),
    )
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == WEIGHTS_FILE.read_bytes()
