"""Start-up figures: each command in a fresh interpreter, its import seconds (`python -X importtime`),
whether it loaded torch, wall and CPU seconds and peak RSS; and the plain reference's cold start.

The plain reference is what a user without msiqa would write: load `SentenceTransformer` from the same
verified folder, read the same `index.faiss`, encode the question, search. CPU seconds are reported
beside wall seconds because on a shared machine the wall clock also counts waiting for a core.
Deliberately left out: warm latency (`bench.measure_queries`) and any pass/fail judgement.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from msiqa.config import Settings
from msiqa.indexing.embedding import resolve_model

QUESTIONS = Path(__file__).resolve().parents[1] / "eval" / "questions.jsonl"

REFERENCE_SCRIPT = """
import json, sys
import faiss
from sentence_transformers import SentenceTransformer
folder, index_path, question = sys.argv[1:4]
model = SentenceTransformer(folder, device="cpu", local_files_only=True, trust_remote_code=False)
index = faiss.read_index(index_path)
vector = model.encode([question], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
print(json.dumps(index.search(vector, 5)[1][0].tolist()))
"""


@dataclass(frozen=True)
class Run:
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    import_s: float | None  # None when not run under -X importtime
    torch: bool | None
    stdout: str


def env() -> dict[str, str]:
    return dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")


def parse_importtime(stderr: str) -> tuple[float, set[str]]:
    """Total import seconds (the sum of every module's own time) and the modules imported."""
    total_us, modules = 0, set()
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, _, name = line.removeprefix("import time:").split("|", 2)
        total_us += int(own)
        modules.add(name.strip())
    return total_us / 1e6, modules


# A small launcher forks the command and reports its rusage. Measured from the (large) benchmark process
# itself, a child's ru_maxrss would start at the parent's peak, which Linux carries across fork and exec.
LAUNCHER = """
import json, os, sys, time
report, cmd = sys.argv[1], sys.argv[2:]
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execv(cmd[0], cmd)
_, status, usage = os.wait4(pid, 0)
with open(report, "w") as handle:
    json.dump({"wall_s": time.perf_counter() - started, "cpu_s": usage.ru_utime + usage.ru_stime,
               "peak_rss_mb": usage.ru_maxrss / 1024.0}, handle)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_process(args: list[str], importtime: bool = False, stdin: str | None = None) -> Run:
    """`python [-X importtime] ARGS` to completion through `LAUNCHER`; raises with its stderr when it
    fails. Output goes through files, so a long importtime listing never blocks the child on a pipe."""
    cmd = [sys.executable, *(["-X", "importtime"] if importtime else []), *args]
    with (
        tempfile.TemporaryFile("w+") as out,
        tempfile.TemporaryFile("w+") as err,
        tempfile.TemporaryDirectory(prefix="msiqa-run-") as tmp,
    ):
        report = Path(tmp) / "usage.json"
        proc = subprocess.run(
            [sys.executable, "-c", LAUNCHER, str(report), *cmd],
            input=stdin or "",
            stdout=out,
            stderr=err,
            env=env(),
            text=True,
        )
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
        if proc.returncode != 0 or not report.is_file():
            raise RuntimeError(f"{' '.join(args[:4])} failed ({proc.returncode}): {stderr[-800:]}")
        usage = json.loads(report.read_text(encoding="utf-8"))
    import_s, modules = parse_importtime(stderr) if importtime else (None, set())
    return Run(
        wall_s=round(usage["wall_s"], 3),
        cpu_s=round(usage["cpu_s"], 3),
        peak_rss_mb=round(usage["peak_rss_mb"], 1),  # ru_maxrss is in KB on Linux
        import_s=None if import_s is None else round(import_s, 3),
        torch=("torch" in modules) if importtime else None,
        stdout=stdout,
    )


def commands(settings: Settings, work: Path, question: str) -> dict[str, tuple[list[str], str | None]]:
    """Each CLI command as a user runs it on an up-to-date index: argv after `python`, and its stdin."""
    where = ["--seeds", str(settings.seeds_dir), "--index", str(settings.index_dir)]
    few = work / "three-questions.jsonl"
    few.write_text("\n".join(QUESTIONS.read_text(encoding="utf-8").splitlines()[:3]) + "\n", encoding="utf-8")
    cli = ["-m", "msiqa.cli"]
    return {
        "help": ([*cli, "--help"], None),
        "ask": ([*cli, "ask", "--json", "--no-rebuild", *where, question], None),
        "chat": ([*cli, "chat", "--no-rebuild", *where], f"{question}\n/quit\n"),
        "docs": ([*cli, "docs", "--json", *where], None),
        "eval": ([*cli, "eval", "--json", "--retriever", "hybrid", "--questions", str(few), *where], None),
    }


def measure_commands(settings: Settings, work: Path, question: str) -> dict[str, dict]:
    """Import seconds, torch yes/no, wall and CPU seconds and peak RSS of each command (one run each)."""
    out = {}
    for name, (args, stdin) in commands(settings, work, question).items():
        run = run_process(args, importtime=True, stdin=stdin)
        out[name] = {k: v for k, v in asdict(run).items() if k != "stdout"}
    return out


def cli_cold_start(settings: Settings, question: str) -> Run:
    """`msiqa ask --json` from process start to the printed answer (no -X importtime)."""
    where = ["--seeds", str(settings.seeds_dir), "--index", str(settings.index_dir)]
    run = run_process(["-m", "msiqa.cli", "ask", "--no-rebuild", "--json", *where, question])
    if not json.loads(run.stdout).get("question"):
        raise RuntimeError("msiqa ask printed no answer")
    return run


def reference_cold_start(settings: Settings, question: str) -> Run:
    """The plain sentence-transformers + FAISS script, from process start to printed neighbours."""
    folder = resolve_model(settings.model)
    index = settings.index_dir / "index.faiss"
    run = run_process(["-c", REFERENCE_SCRIPT, str(folder), str(index), question])
    if len(json.loads(run.stdout)) != 5:
        raise RuntimeError("the reference script printed no neighbours")
    return run
