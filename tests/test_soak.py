"""Issue 14, defect 9 (memory under load): `python -m benchmarks.soak` runs clients against a real app
and reports its RSS over time. A short run here checks the command and its figures; the 16-client
soak and its result are in docs/performance.md. No memory threshold: figures belong in the benchmark."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from test_hardening import EITI, PROJECT_ROOT, QUOKKA, project


@pytest.mark.bench
@pytest.mark.slow
def test_9_soak_reports_rss_over_time(tmp_path, embedder):
    settings = project(tmp_path, embedder, {"quokka.md": QUOKKA, "eiti.txt": EITI})
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=f"{PROJECT_ROOT / 'src'}{os.pathsep}{PROJECT_ROOT}")
    args = ["--clients", "2", "--seconds", "8", "--sample-seconds", "2", "--warmup", "2"]
    args += ["--seeds", str(settings.seeds_dir), "--index", str(settings.index_dir)]
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.soak", *args], capture_output=True, env=env, timeout=600
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    result = json.loads(done.stdout)
    assert result["requests"] > 0 and result["errors"] == 0
    samples = result["samples"]
    assert len(samples) >= 4 and samples[-1]["t_s"] >= 8
    assert all(s["rss_mb"] > 50 for s in samples)  # a real process's resident memory, in MB
    assert [s["requests"] for s in samples] == sorted(s["requests"] for s in samples)
    assert result["rss_max_mb"] == max(s["rss_mb"] for s in samples)
