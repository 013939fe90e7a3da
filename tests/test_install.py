"""The package works installed as a wheel, away from the source tree: default paths come from the working
directory or $MSIQA_HOME, never from where the package lives.

The wheel test builds a real wheel, installs it into a fresh folder and runs its `msiqa` console script
with `python -S` (no site-packages processing, so the source checkout's editable install is invisible)
and PYTHONPATH = that folder + the venv's site-packages (for the dependencies)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from conftest import REPO, SEEDS

from msiqa.runtime import common_parser, settings_from


def parse(*argv: str):
    return settings_from(common_parser().parse_args(list(argv)))


def test_default_paths_come_from_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("MSIQA_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    settings = parse()
    assert (settings.seeds_dir, settings.index_dir) == (tmp_path / "seeds", tmp_path / "index")


def test_msiqa_home_sets_the_default_paths_and_flags_win(tmp_path, monkeypatch):
    monkeypatch.setenv("MSIQA_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    settings = parse()
    home = tmp_path / "home"
    assert (settings.seeds_dir, settings.index_dir) == (home / "seeds", home / "index")
    settings = parse("--seeds", "mine", "--index", "idx")
    assert (settings.seeds_dir, settings.index_dir) == (tmp_path / "mine", tmp_path / "idx")


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A folder holding msiqa installed from a freshly built wheel (no dependencies)."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"  # a copy, so the build writes nothing into the checkout
    shutil.copytree(REPO / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    built = subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(root / "dist"), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (root / "dist").glob("msiqa-*.whl")
    target = root / "site"
    done = subprocess.run(
        [*pip, "install", "--no-deps", "--no-index", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return target


def run_installed(target: Path, args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """`msiqa ARGS` through the wheel's own console script, with only the installed copy importable."""
    path = os.pathsep.join([str(target), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MSIQA_HOME")}
    environ |= {"PYTHONPATH": path, "HF_HUB_OFFLINE": "1", **env}
    return subprocess.run(
        [sys.executable, "-S", str(target / "bin" / "msiqa"), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environ,
        timeout=300,
    )


def small_project(root: Path) -> Path:
    (root / "seeds").mkdir(parents=True)
    for seed in sorted(SEEDS.glob("0[12]_*.txt")):
        shutil.copy(seed, root / "seeds" / seed.name)
    return root


@pytest.mark.slow
def test_installed_wheel_answers_from_any_directory(installed, tmp_path):
    origin = subprocess.run(
        [sys.executable, "-S", "-c", "import msiqa.config; print(msiqa.config.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(installed)},
    )
    assert Path(origin.stdout.strip()).is_relative_to(installed), origin.stdout + origin.stderr

    project = small_project(tmp_path / "project")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    question = "What is the Lip Service report about?"
    flags = ["--seeds", str(project / "seeds"), "--index", str(project / "index")]
    result = run_installed(installed, ["ask", "--json", question, *flags], elsewhere)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["citations"] and (project / "index" / "manifest.json").is_file()
    assert not (elsewhere / "index").exists() and not (installed / "index").exists()

    # No flags: ./seeds and ./index of the working directory, then $MSIQA_HOME's.
    result = run_installed(installed, ["docs", "--json"], project)
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)) == 2
    result = run_installed(installed, ["docs", "--json"], elsewhere, MSIQA_HOME=str(project))
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)) == 2
    assert not (installed / "seeds").exists()
