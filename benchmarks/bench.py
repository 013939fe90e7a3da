"""`python -m benchmarks`: build, warm latency, cold start, imports, peak RSS and load, each beside a
plain reference.

Every msiqa figure is measured in the same run as a reference done the plain way on the same chunks
(`SentenceTransformer.encode` + `faiss.IndexFlatIP`, `rank_bm25.BM25Okapi`), interleaved query by query
so that load from other processes hits both alike; the ratio is what to read on a shared machine.
Each figure is the median over `repeats` rounds. Cold start and RSS run the real CLI and the real app
in subprocesses, beside a plain sentence-transformers + FAISS script (`startup.py`), which also gives
each command's import seconds and whether it loaded torch; the query encoders are compared in
`encoders.py`; the load test talks to the app's `/ask` REST endpoint on 127.0.0.1.
Deliberately left out: the synthetic scale runs (`scale.py`) and any pass/fail judgement.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks import encoders, startup
from msiqa.config import RETRIEVERS, Settings
from msiqa.engine import Engine, build_index
from msiqa.indexing.embedding import load_embedder
from msiqa.indexing.store import passage_text

log = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parents[1]  # benchmarks run from a source checkout
QUESTIONS = REPO / "eval" / "questions.jsonl"
APP = REPO / "app.py"


@dataclass(frozen=True)
class BenchConfig:
    repeats: int = 3  # rounds per figure; the median round is reported
    queries: int = 200  # per round: the eval questions, repeated
    load_clients: int = 16
    load_seconds: float = 60.0
    top_k: int = 5

    @classmethod
    def quick(cls) -> BenchConfig:
        return cls(repeats=1, queries=12, load_clients=4, load_seconds=3.0)


def percentiles(ms: list[float]) -> dict[str, float]:
    p50, p95, p99 = np.percentile(np.asarray(ms, dtype=float), [50, 95, 99])
    return {"p50": round(float(p50), 3), "p95": round(float(p95), 3), "p99": round(float(p99), 3)}


def median_of(rounds: list[dict[str, float]]) -> dict[str, float]:
    return {key: round(statistics.median(r[key] for r in rounds), 3) for key in rounds[0]}


def distinct_questions(path: Path = QUESTIONS) -> list[str]:
    return [
        json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def questions(n: int, path: Path = QUESTIONS) -> list[str]:
    """`n` eval questions, the set repeated as often as needed."""
    qs = distinct_questions(path)
    return [qs[i % len(qs)] for i in range(n)]


class References:
    """The plain way: one SentenceTransformer + IndexFlatIP, and BM25Okapi on whitespace tokens."""

    def __init__(self, embedder: object, texts: list[str]) -> None:
        import faiss
        from rank_bm25 import BM25Okapi

        self.embedder = embedder  # msiqa's SentenceTransformerEmbedder; the reference uses its model only
        self.model = model = embedder._model
        started = time.perf_counter()
        vectors = model.encode(
            texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        self.flat = faiss.IndexFlatIP(vectors.shape[1])
        self.flat.add(np.ascontiguousarray(vectors, dtype=np.float32))
        self.build_seconds = time.perf_counter() - started
        self.okapi = BM25Okapi([t.lower().split() for t in texts])

    def dense(self, question: str, k: int) -> object:
        vector = self.model.encode(
            [question], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return self.flat.search(np.ascontiguousarray(vector, dtype=np.float32), k)

    def bm25(self, question: str, k: int) -> object:
        return np.argsort(-self.okapi.get_scores(question.lower().split()))[:k]


def _timed_ms(fn, *args) -> float:
    started = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - started) * 1000.0


def measure_queries(engine: Engine, refs: References, config: BenchConfig) -> dict:
    """Warm latency of `ask`, each retriever and both references, interleaved per question."""
    k = config.top_k
    calls = {
        "ask": lambda q: engine.ask(q, top_k=k),
        **{r: (lambda q, r=r: engine.retrieve(q, retriever=r, top_k=k)) for r in RETRIEVERS},
        "ref_dense": lambda q: refs.dense(q, k),
        "ref_bm25": lambda q: refs.bm25(q, k),
    }
    batch = questions(config.queries)
    for q in batch[:5]:  # warm-up: first calls allocate buffers and fill caches
        for fn in calls.values():
            fn(q)
    rounds: dict[str, list[dict]] = {name: [] for name in calls}
    for _ in range(config.repeats):
        samples: dict[str, list[float]] = {name: [] for name in calls}
        for q in batch:
            for name, fn in calls.items():
                samples[name].append(_timed_ms(fn, q))
        for name in calls:
            rounds[name].append(percentiles(samples[name]))
    med = {name: median_of(r) for name, r in rounds.items()}
    return {
        "queries_per_round": len(batch),
        "ask_ms": med["ask"],
        "retrievers_ms": {r: med[r] for r in RETRIEVERS},
        "reference_ms": {"dense": med["ref_dense"], "bm25": med["ref_bm25"]},
    }


def measure_build(
    seeds: Path, work: Path, config: BenchConfig, device: str = "cpu"
) -> tuple[dict, Engine, References]:
    """Model load, then `repeats` index builds of `seeds` (median), then the reference build."""
    settings = Settings(seeds_dir=seeds, index_dir=work / f"index-{device}", device=device)
    started = time.perf_counter()
    embedder = load_embedder(settings.model, settings.model_sha256, device)
    model_load = time.perf_counter() - started
    reports = [build_index(settings, embedder) for _ in range(config.repeats)]
    seconds = statistics.median(r.seconds for r in reports)
    engine = Engine.open(settings, rebuild=False, embedder=embedder)  # questions: settings.query_encoder
    texts = [passage_text(engine.index.documents[c.doc_id], c) for c in engine.index.chunks]
    refs = References(embedder, texts)
    build = {
        "seconds": round(seconds, 3),
        "chunks_per_s": round(reports[0].chunks / seconds, 2),
        "chunks": reports[0].chunks,
        "sentences": reports[0].sentences,
        "model_load_s": round(model_load, 3),
        "device": device,
        "reference_seconds": round(refs.build_seconds, 3),
        "faiss_index": engine.index.manifest.get("faiss_index"),
    }
    return build, engine, refs


def _env() -> dict[str, str]:
    return dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ask_rest(client: object, base: str, data: list) -> dict:
    """One call to the app's `/ask` over Gradio's REST protocol: POST, then read the event stream."""
    posted = client.post(f"{base}/gradio_api/call/ask", json={"data": data})
    posted.raise_for_status()
    event = None
    with client.stream("GET", f"{base}/gradio_api/call/ask/{posted.json()['event_id']}") as stream:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line.removeprefix("event:").strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                if event == "error":
                    raise RuntimeError(f"/ask returned an error: {line[:300]}")
                result = json.loads(line.removeprefix("data:"))[0]
                return json.loads(result) if isinstance(result, str) else result
    raise RuntimeError("/ask stream ended without a result")


def ask_inputs(info: dict, question: str) -> list:
    """The question, then each remaining `/ask` parameter's default, as `/gradio_api/info` lists them."""
    params = info["named_endpoints"]["/ask"]["parameters"]
    return [question] + [p.get("parameter_default") for p in params[1:]]


class AppServer:
    """`python app.py` on a free port of 127.0.0.1, until `stop()`."""

    def __init__(
        self,
        seeds: Path,
        index: Path,
        log_path: Path,
        extra_env: dict[str, str] | None = None,
        python_flags: tuple[str, ...] = (),
    ) -> None:
        import httpx

        env = {**_env(), **(extra_env or {})}
        env.pop("GRADIO_SERVER_NAME", None)  # the app must bind 127.0.0.1 whatever the caller's shell says
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self._log = log_path.open("wb")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                *python_flags,
                str(APP),
                "--port",
                str(self.port),
                "--seeds",
                str(seeds),
                "--index",
                str(index),
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        self.client = httpx.Client(timeout=120)

    def wait_ready(self, timeout_s: float = 180.0) -> dict:
        deadline = time.perf_counter() + timeout_s
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app.py exited with {self.proc.returncode}; see {self._log.name}")
            try:
                reply = self.client.get(f"{self.base}/gradio_api/info", timeout=2)
                if reply.status_code == 200:
                    return reply.json()
            except Exception:  # noqa: BLE001 - not listening yet
                pass
            time.sleep(0.1)
        raise RuntimeError(f"app.py did not answer /gradio_api/info within {timeout_s:.0f}s")

    def peak_rss_mb(self) -> float:
        import psutil

        status = Path(f"/proc/{self.proc.pid}/status")
        if status.is_file():
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
        return psutil.Process(self.proc.pid).memory_info().rss / 2**20

    def stop(self) -> None:
        self.client.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


@dataclass
class Clients:
    """Client threads asking the eval questions through `/ask` until a deadline (`start_clients`); each
    reply is recorded under `lock`: its latency, or the error it ended with."""

    threads: list[threading.Thread]
    lock: threading.Lock
    latencies: list[float]
    errors: list[str]

    def running(self) -> bool:
        return any(t.is_alive() for t in self.threads)

    def join(self) -> None:
        for t in self.threads:
            t.join()


def start_clients(base: str, info: dict, clients: int, seconds: float) -> Clients:
    """Start `clients` threads, each asking every `clients`-th eval question in turn for `seconds`."""
    import httpx

    qs = questions(200)
    deadline = time.perf_counter() + seconds
    out = Clients([], threading.Lock(), [], [])

    def client_loop(n: int) -> None:
        with httpx.Client(timeout=120) as client:
            i = n
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    ok = "answer" in ask_rest(client, base, ask_inputs(info, qs[i % len(qs)]))
                    error = None if ok else "reply without an answer"
                except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
                    error = f"{exc.__class__.__name__}: {exc}"
                with out.lock:
                    if error:
                        out.errors.append(error)
                    else:
                        out.latencies.append((time.perf_counter() - started) * 1000)
                i += clients

    out.threads = [threading.Thread(target=client_loop, args=(n,), daemon=True) for n in range(clients)]
    for t in out.threads:
        t.start()
    return out


def load_test(base: str, info: dict, clients: int, seconds: float) -> dict:
    """`clients` threads asking the eval questions through `/ask` for `seconds`; errors are counted."""
    started = time.perf_counter()
    run = start_clients(base, info, clients, seconds)
    run.join()
    elapsed = time.perf_counter() - started
    latencies, errors = run.latencies, run.errors
    stats = percentiles(latencies) if latencies else {"p50": None, "p95": None, "p99": None}
    return {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests": len(latencies),
        "errors": len(errors),
        "error_examples": sorted(set(errors))[:3],
        "throughput_rps": round(len(latencies) / elapsed, 2),
        "p50_ms": stats["p50"],
        "p95_ms": stats["p95"],
    }


def measure_app(seeds: Path, index: Path, work: Path, config: BenchConfig, question: str) -> dict:
    """Cold start and peak RSS of the app (median of `repeats` starts), then the load test on the last."""
    if not APP.is_file():
        return {"error": f"{APP} not found"}
    colds, rss, load = [], [], None
    for attempt in range(config.repeats):
        server = AppServer(seeds, index, work / f"app-{attempt}.log")
        try:
            info = server.wait_ready()
            ask_rest(server.client, server.base, ask_inputs(info, question))
            colds.append(time.perf_counter() - server.started)
            if attempt == config.repeats - 1 and config.load_seconds > 0:
                load = load_test(server.base, info, config.load_clients, config.load_seconds)
            rss.append(server.peak_rss_mb())
        finally:
            server.stop()
    return {
        "cold_start_s": round(statistics.median(colds), 3),
        "peak_rss_mb": round(statistics.median(rss), 1),
        "load": load,
        "imports": app_imports(seeds, index, work, question),
    }


def app_imports(seeds: Path, index: Path, work: Path, question: str) -> dict:
    """One more app start under `python -X importtime`, up to its first answer: import seconds, torch."""
    server = AppServer(seeds, index, work / "app-importtime.log", python_flags=("-X", "importtime"))
    try:
        ask_rest(server.client, server.base, ask_inputs(server.wait_ready(), question))
    finally:
        server.stop()
    seconds, modules = startup.parse_importtime((work / "app-importtime.log").read_text(errors="replace"))
    return {"import_s": round(seconds, 3), "torch": "torch" in modules}


def measure_encoders(engine: Engine, reference: object, config: BenchConfig) -> dict:
    """Query-encoder latency (median of `repeats` rounds) and cosine to sentence-transformers."""
    variants = encoders.variants(engine, reference)
    rounds: dict[str, list[dict]] = {name: [] for name in variants}
    for _ in range(config.repeats):
        for name, ms in encoders.latency(variants, questions(config.queries)).items():
            rounds[name].append(percentiles(ms))
    return {
        "query_encoder": engine.settings.query_encoder,
        "query_encoder_ms": {name: median_of(r) for name, r in rounds.items()},
        "encoder_equivalence": encoders.equivalence(engine, variants, distinct_questions()),
    }


def measure_cold_starts(settings: Settings, config: BenchConfig, question: str) -> dict:
    """`msiqa ask` and the plain reference script from a cold start, alternated, median of `repeats`."""
    runs: dict[str, list[startup.Run]] = {"cli": [], "reference": []}
    for _ in range(config.repeats):
        runs["cli"].append(startup.cli_cold_start(settings, question))
        runs["reference"].append(startup.reference_cold_start(settings, question))
    med = lambda name, key: round(statistics.median(getattr(r, key) for r in runs[name]), 3)  # noqa: E731
    return {name: {key: med(name, key) for key in ("wall_s", "cpu_s", "peak_rss_mb")} for name in runs}


def run(seeds: Path, config: BenchConfig, work: Path | None = None, app: bool = True) -> dict:
    """Every figure of `msiqa bench`, as one JSON-ready dict (see README "Performance")."""
    import torch

    with tempfile.TemporaryDirectory(prefix="msiqa-bench-") as tmp:
        work = work or Path(tmp)
        build, engine, refs = measure_build(seeds, work, config)
        if torch.cuda.is_available():
            build["gpu"] = measure_build(seeds, work, config, device="cuda")[0]
        result = {"config": vars(config) | {"cpu_count": os.cpu_count()}, "build": build}
        result |= measure_queries(engine, refs, config)
        result |= measure_encoders(engine, refs.embedder, config)
        question = questions(1)[0]
        cold = measure_cold_starts(engine.settings, config, question)
        commands = startup.measure_commands(engine.settings, work, question)
        app_figures = measure_app(seeds, engine.settings.index_dir, work, config, question) if app else {}
    app_imports_ = app_figures.get("imports") or {}
    result["cold_start_s"] = {
        "cli": cold["cli"]["wall_s"],
        "app": app_figures.get("cold_start_s"),
        "reference": cold["reference"]["wall_s"],
    }
    result["cold_start_cpu_s"] = {"cli": cold["cli"]["cpu_s"], "reference": cold["reference"]["cpu_s"]}
    result["peak_rss_mb"] = {
        "cli": cold["cli"]["peak_rss_mb"],
        "app": app_figures.get("peak_rss_mb"),
        "reference": cold["reference"]["peak_rss_mb"],
    }
    result["import_s"] = {name: c["import_s"] for name, c in commands.items()} | {
        "app": app_imports_.get("import_s")
    }
    result["torch_loaded"] = {name: c["torch"] for name, c in commands.items()} | {
        "app": app_imports_.get("torch")
    }
    result["commands"] = commands
    result["load"] = app_figures.get("load") or {"error": app_figures.get("error", "not run")}
    result["ratios"] = ratios(result)
    return result


def ratios(r: dict) -> dict[str, float]:
    dense_ref, bm25_ref = r["reference_ms"]["dense"], r["reference_ms"]["bm25"]
    out = {
        "ask_p50_vs_dense_ref": r["ask_ms"]["p50"] / dense_ref["p50"],
        "ask_p95_vs_dense_ref": r["ask_ms"]["p95"] / dense_ref["p95"],
        "build_vs_ref": r["build"]["seconds"] / r["build"]["reference_seconds"],
        "cli_cold_start_vs_ref": r["cold_start_s"]["cli"] / r["cold_start_s"]["reference"],
        "cli_cold_start_cpu_vs_ref": r["cold_start_cpu_s"]["cli"] / r["cold_start_cpu_s"]["reference"],
        "cli_peak_rss_vs_ref": r["peak_rss_mb"]["cli"] / r["peak_rss_mb"]["reference"],
    }
    enc = r["query_encoder_ms"]
    out["query_encoder_p50_vs_ref"] = enc[r["query_encoder"]]["p50"] / enc["sentence-transformers"]["p50"]
    for name in RETRIEVERS:
        out[f"{name}_p50_vs_dense_ref"] = r["retrievers_ms"][name]["p50"] / dense_ref["p50"]
    out["bm25_p50_vs_bm25_ref"] = r["retrievers_ms"]["bm25"]["p50"] / bm25_ref["p50"]
    return {k: round(v, 3) for k, v in out.items()}


def _row(name: str, ours: float | None, ref: float | None = None, target: str = "") -> str:
    ratio = f"{ours / ref:.2f}x" if ours is not None and ref else ""
    fmt = lambda v: "n/a" if v is None else f"{v:g}"  # noqa: E731
    return f"| {name} | {fmt(ours)} | {fmt(ref)} | {ratio} | {target} |"


def to_markdown(r: dict) -> str:
    """The table README "Performance" quotes."""
    b, ask, ret, ref = r["build"], r["ask_ms"], r["retrievers_ms"], r["reference_ms"]
    load = r.get("load") or {}
    lines = [
        "| figure | msiqa | plain reference | ratio | target |",
        "|---|---|---|---|---|",
        _row("build seeds/ (s, model loaded)", b["seconds"], b["reference_seconds"], "<= 5 s"),
        _row("build chunks/s", b["chunks_per_s"]),
        _row("model load (s)", b["model_load_s"]),
    ]
    if "gpu" in b:
        lines.append(_row("build chunks/s on GPU", b["gpu"]["chunks_per_s"]))
    lines += [
        _row("ask p50 (ms)", ask["p50"], ref["dense"]["p50"], "<= 1.0x dense ref"),
        _row("ask p95 (ms)", ask["p95"], ref["dense"]["p95"], "<= 25 ms"),
        _row("ask p99 (ms)", ask["p99"], ref["dense"]["p99"]),
    ]
    for name, reference in (("dense", "dense"), ("hybrid", "dense"), ("bm25", "bm25")):
        target = "<= 1.2x dense ref" if name == "hybrid" else ""
        lines += [
            _row(f"{name} p50 (ms)", ret[name]["p50"], ref[reference]["p50"], target),
            _row(f"{name} p95 (ms)", ret[name]["p95"], ref[reference]["p95"]),
        ]
    enc, cold, cpu, rss = r["query_encoder_ms"], r["cold_start_s"], r["cold_start_cpu_s"], r["peak_rss_mb"]
    st = enc["sentence-transformers"]
    for name, figures in enc.items():
        if name != "sentence-transformers":
            lines.append(_row(f"encode one question p50 (ms), {name}", figures["p50"], st["p50"]))
    for name, eq in r["encoder_equivalence"].items():
        lines.append(_row(f"min cosine to sentence-transformers, {name} ({eq['texts']} texts)", eq["min"]))
    lines += [
        _row("CLI cold start to first answer (s)", cold["cli"], cold["reference"], "<= 1.5 s"),
        _row("CLI cold start, CPU seconds", cpu["cli"], cpu["reference"]),
        _row("app cold start to first answer (s)", cold["app"]),
        _row("CLI peak RSS (MB)", rss["cli"], rss["reference"], "<= 300 MB"),
        _row("app peak RSS (MB)", rss["app"], None, "<= 350 MB"),
    ]
    for name, seconds in r["import_s"].items():
        torch = {None: "n/a", True: "yes", False: "no"}[r["torch_loaded"].get(name)]
        target = "instant" if name == "help" else "no torch"
        lines.append(_row(f"import seconds, {name} (torch loaded: {torch})", seconds, None, target))
    lines += [
        _row(
            f"load: {load.get('clients')} clients x {load.get('seconds')} s, requests/s",
            load.get("throughput_rps"),
        ),
        _row("load: p95 (ms)", load.get("p95_ms")),
        _row("load: errors", load.get("errors"), None, "0"),
    ]
    return "\n".join(lines) + "\n"


def save(result: dict, markdown: str, out: Path, stem: str) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / f"{stem}.json", out / f"{stem}.md"
    json_path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    md_path.write_text(markdown, encoding="utf-8")
    return json_path, md_path
