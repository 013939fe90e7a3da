"""Rewrite eval/thresholds.json from eval/results/latest/eval.json: each floor is the measured figure
minus the margin, each ceiling the figure plus it, rounded to 3 decimals (the keys already listed are
kept). Run after `msiqa eval --retriever all --out eval/results/latest`, in the same commit as the
change that moved the figures: python scripts/record_thresholds.py"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
THRESHOLDS = ROOT / "eval" / "thresholds.json"
RESULTS = ROOT / "eval" / "results" / "latest" / "eval.json"


def figure(summary: dict, dotted: str) -> float:
    value: object = summary
    for part in dotted.split(".", 2):  # "retrievers.hybrid.hit@5", "answer.evidence_recall"
        value = value[part]  # type: ignore[index]
    return float(value)  # type: ignore[arg-type]


def main() -> None:
    gate = json.loads(THRESHOLDS.read_text(encoding="utf-8"))
    summary = json.loads(RESULTS.read_text(encoding="utf-8"))
    margin = float(gate["margin"])
    for bound, sign in (("min", -1), ("max", 1)):
        for scope, figures in gate[bound].items():
            source = summary if scope == "all" else summary["splits"][scope]
            for key in figures:
                figures[key] = round(figure(source, key) + sign * margin, 3)
    THRESHOLDS.write_text(json.dumps(gate, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {THRESHOLDS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
