"""Turn per-question eval records into figures (overall, per split, per question type), a Markdown
report and a baseline comparison.

Everything here is pure: records in (from `evaluation.evaluate`), dicts and strings out. The summary has
the shape `msiqa eval --json` promises (`n_answerable`, `n_unanswerable`, `retrievers`, `answer`,
`abstention`) plus extra keys: `ci` (95% bootstrap intervals) and `splits` (the same figures per split).
Deliberately left out: running the engine (`evaluation.py`) and printing or writing files (`cli.py`).
"""

from __future__ import annotations

import math

from msiqa.evaluation.runner import Metric

RETRIEVAL_METRICS = ("hit@1", "hit@5", "recall@5", "recall@10", "mrr@10", "ndcg@10")


def _clean(value: float) -> float | None:
    return None if value is None or math.isnan(value) else round(float(value), 4)


def figures(records: list[dict], retrievers: tuple[str, ...]) -> dict:
    """The summary shape for one set of records, with 95% bootstrap intervals under `ci`."""
    answerable = [r for r in records if r["answerable"]]
    unanswerable = [r for r in records if not r["answerable"]]
    metrics: dict[str, dict[str, Metric]] = {"retrievers": {}, "answer": {}, "abstention": {}}
    for name in retrievers:
        per = {m: Metric() for m in RETRIEVAL_METRICS}
        for r in answerable:
            for m in RETRIEVAL_METRICS:
                per[m].add(r["retrieval"][name][m])
        metrics["retrievers"][name] = per
    recall, precision, wrongly, first = Metric(), Metric(), Metric(), Metric()
    for r in answerable:
        recall.add(float(r["answer"]["evidence_found"]))
        precision.add(r["answer"]["precise_citations"], r["answer"]["citations"])
        wrongly.add(float(r["answer"]["abstained"]))
        if not r["answer"]["abstained"] and "first_sentence_evidence" in r["answer"]:
            first.add(float(r["answer"]["first_sentence_evidence"]))
    abstained = Metric()
    for r in unanswerable:
        abstained.add(float(r["answer"]["abstained"]))
    metrics["answer"] = {
        "evidence_recall": recall,
        "first_sentence_precision": first,
        "citation_precision": precision,
    }
    metrics["abstention"] = {"unanswerable_abstained": abstained, "answerable_abstained": wrongly}
    out: dict = {"n_answerable": len(answerable), "n_unanswerable": len(unanswerable)}
    ci: dict = {}
    for group in ("retrievers", "answer", "abstention"):
        nested = group == "retrievers"
        out[group] = {
            k: ({m: _clean(x.value()) for m, x in v.items()} if nested else _clean(v.value()))
            for k, v in metrics[group].items()
        }
        ci[group] = {
            k: (
                {m: [_clean(c) for c in x.ci()] for m, x in v.items()}
                if nested
                else [_clean(c) for c in v.ci()]
            )
            for k, v in metrics[group].items()
        }
    out["ci"] = ci
    return out


def summarise(records: list[dict], retrievers: tuple[str, ...]) -> dict:
    """Figures on all questions; under `splits` the same figures for each split (train, dev, test), and
    under `types` the answer and abstention figures for each question type."""
    summary = figures(records, retrievers)
    splits = sorted({r["split"] for r in records})
    if len(splits) > 1:
        summary["splits"] = {s: figures([r for r in records if r["split"] == s], retrievers) for s in splits}
    kinds = sorted({r["type"] for r in records})
    summary["types"] = {t: by_type([r for r in records if r["type"] == t]) for t in kinds}
    return summary


def by_type(records: list[dict]) -> dict:
    """Answer and abstention figures for one question type (no retrieval, no intervals)."""
    fig = figures(records, ())
    return {"n": len(records), **fig["answer"], **fig["abstention"]}


TYPE_COLUMNS = (
    "evidence_recall",
    "first_sentence_precision",
    "answerable_abstained",
    "unanswerable_abstained",
)


def types_markdown(types: dict) -> list[str]:
    header = "| type | n | " + " | ".join(TYPE_COLUMNS) + " |"
    lines = ["### By question type", "", header, "|---" * (len(TYPE_COLUMNS) + 2) + "|"]
    for name, fig in types.items():
        lines.append(f"| {name} | {fig['n']} | " + " | ".join(_fmt(fig[k]) for k in TYPE_COLUMNS) + " |")
    return lines + [""]


def misses(records: list[dict], retriever: str) -> list[dict[str, str]]:
    """One row per failure a maintainer should look at: id, split, type, what went wrong, question."""
    rows = []
    for r in records:
        problems = []
        if r["answerable"]:
            rank = (
                r["retrieval"].get(retriever, {}).get("first_relevant_rank", 0) if r.get("retrieval") else 0
            )
            if retriever in r.get("retrieval", {}) and (rank is None or rank > 5):
                problems.append(f"{retriever}: no relevant passage in top 5 (first at {rank or '>10'})")
            if r["answer"]["abstained"]:
                problems.append("abstained on an answerable question")
            elif not r["answer"]["evidence_found"]:
                problems.append("answer does not cover any evidence quote")
        elif not r["answer"]["abstained"]:
            problems.append("answered an unanswerable question")
        if problems:
            rows.append(
                {
                    "id": r["id"],
                    "split": r["split"],
                    "type": r["type"],
                    "problem": "; ".join(problems),
                    "question": r["question"],
                }
            )
    return rows


def _fmt(value: float | None, interval: list | None = None) -> str:
    if value is None:
        return "–"
    if interval and None not in interval:
        return f"{value:.3f} [{interval[0]:.2f}, {interval[1]:.2f}]"
    return f"{value:.3f}"


def figures_markdown(title: str, fig: dict) -> list[str]:
    lines = [
        f"### {title} ({fig['n_answerable']} answerable, {fig['n_unanswerable']} unanswerable)",
        "",
        "| retriever | " + " | ".join(RETRIEVAL_METRICS) + " |",
        "|---" * (len(RETRIEVAL_METRICS) + 1) + "|",
    ]
    for name, values in fig["retrievers"].items():
        cells = [_fmt(values[m], fig["ci"]["retrievers"][name][m]) for m in RETRIEVAL_METRICS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "| answer / abstention | value [95% CI] |", "|---|---|"]
    for group in ("answer", "abstention"):
        for key, value in fig[group].items():
            lines.append(f"| {key} | {_fmt(value, fig['ci'][group][key])} |")
    return lines + [""]


def markdown(summary: dict, miss_rows: list[dict], command: str) -> str:
    lines = [
        "# msiqa evaluation",
        "",
        f"Command: `{command}`",
        "",
        "Figures with 95% bootstrap confidence intervals (1,000 resamples of questions, fixed seed).",
        "",
    ]
    lines += figures_markdown("All questions", summary)
    for split, fig in summary.get("splits", {}).items():
        lines += figures_markdown(f"Split `{split}`", fig)
    lines += types_markdown(summary.get("types", {}))
    lines += [
        f"## Misses ({len(miss_rows)})",
        "",
        "| id | split | type | problem | question |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {m['id']} | {m['split']} | {m['type']} | {m['problem']} | {m['question']} |" for m in miss_rows
    ]
    return "\n".join(lines) + "\n"


def _outcomes(record: dict, retriever: str) -> dict[str, bool]:
    """Pass/fail per check for one question, for comparing two runs."""
    if not record["answerable"]:
        return {"abstained (correct)": bool(record["answer"]["abstained"])}
    out = {
        "answered (not abstained)": not record["answer"]["abstained"],
        "evidence found in answer": bool(record["answer"]["evidence_found"]),
    }
    retrieval = record.get("retrieval", {}).get(retriever)
    if retrieval:
        out[f"{retriever} hit@5"] = bool(retrieval["hit@5"])
        out[f"{retriever} hit@1"] = bool(retrieval["hit@1"])
    return out


def compare(baseline: dict, current: dict, retriever: str) -> dict[str, list[dict]]:
    """Per-question regressions and improvements between two full eval JSONs (matched by id)."""
    before = {r["id"]: r for r in baseline.get("per_question", [])}
    changes: dict[str, list[dict]] = {"regressions": [], "improvements": []}
    for record in current.get("per_question", []):
        old = before.get(record["id"])
        if old is None or old["answerable"] != record["answerable"]:
            continue
        was, now = _outcomes(old, retriever), _outcomes(record, retriever)
        for check in sorted(set(was) & set(now)):
            if was[check] != now[check]:
                kind = "improvements" if now[check] else "regressions"
                changes[kind].append({"id": record["id"], "check": check, "question": record["question"]})
    return changes


def compare_markdown(changes: dict[str, list[dict]], baseline: dict, current: dict, retriever: str) -> str:
    lines = ["## Compared with the baseline", "", "| figure | baseline | now |", "|---|---|---|"]
    for group in ("answer", "abstention"):
        for key, value in current.get(group, {}).items():
            lines.append(f"| {key} | {_fmt(baseline.get(group, {}).get(key))} | {_fmt(value)} |")
    for m in RETRIEVAL_METRICS:
        old = baseline.get("retrievers", {}).get(retriever, {}).get(m)
        lines.append(
            f"| {retriever} {m} | {_fmt(old)} | {_fmt(current['retrievers'].get(retriever, {}).get(m))} |"
        )
    for kind in ("regressions", "improvements"):
        lines += ["", f"### {kind.capitalize()} ({len(changes[kind])})", ""]
        lines += [f"- {c['id']}: {c['check']} — {c['question']}" for c in changes[kind]] or ["- none"]
    return "\n".join(lines) + "\n"
