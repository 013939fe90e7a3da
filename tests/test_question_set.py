"""The labelled question set is valid and big enough (eval/check_questions.py), and `msiqa train`
rebuilds the shipped selector file bit for bit from it."""

from __future__ import annotations

import runpy
import sys

import pytest

from msiqa.answer.selector import WEIGHTS_FILE
from msiqa.config import PROJECT_ROOT


def test_question_set_passes_its_checks(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["check_questions.py"])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(PROJECT_ROOT / "eval" / "check_questions.py"), run_name="__main__")
    assert exit_info.value.code == 0, capsys.readouterr().out


@pytest.mark.slow
def test_training_reproduces_the_shipped_selector_bit_for_bit(engine, tmp_path):
    from msiqa.evaluation.runner import load_questions
    from msiqa.evaluation.train import train, write

    questions = load_questions(PROJECT_ROOT / "eval" / "questions.jsonl", engine.index.documents)
    out = tmp_path / "selector.json"
    write(train(engine, questions, "questions.jsonl"), out)
    assert out.read_bytes() == WEIGHTS_FILE.read_bytes()
