#!/usr/bin/env python3
"""Validate the question set against the seeds (stdlib only).

Usage: python3 eval/check_questions.py [FILE ...]   (default: eval/questions.jsonl eval/sealed/test.jsonl)

Checks every line of every file:
  * a JSON object with exactly the fields id, question, evidence, answerable, doc, split, type,
    answer_type; ids unique across files;
  * split in train/dev (eval/questions.jsonl) or test (eval/sealed/test.jsonl);
  * every evidence quote occurs in a seed body (whitespace runs collapsed) and is 40-300 characters;
    answerable questions have >= 1 quote and a known doc, unanswerable ones none and doc null;
and the whole set against the minimum counts of issue 16 (>= 600 questions; >= 150 factoid; >= 150
why_how + opinion; >= 80 multi_part + comparison + attribution; >= 120 unanswerable with >= 60
near_miss; the test split >= 25%). Prints counts only (never a question of the sealed split) and
exits non-zero, naming the offending id, on any failure.
"""

import json
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_FILES = [HERE / "questions.jsonl", HERE / "sealed" / "test.jsonl"]
SEEDS = HERE.parent / "seeds"
FIELDS = ["id", "question", "evidence", "answerable", "doc", "split", "type", "answer_type"]
ANSWERABLE_TYPES = {"factoid", "why_how", "opinion", "multi_part", "comparison", "attribution"}
UNANSWERABLE_TYPES = {"near_miss", "off_topic"}
MIN_QUOTE, MAX_QUOTE = 40, 300
MINIMUMS = {
    "total": 600,
    "factoid": 150,
    "why_how+opinion": 150,
    "multi_part+comparison+attribution": 80,
    "unanswerable": 120,
    "near_miss": 60,
}
MIN_TEST_SHARE = 0.25


def collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def seed_bodies() -> dict[str, str]:
    bodies = {}
    for path in sorted(SEEDS.glob("*.txt")):
        raw = path.read_text(encoding="utf-8")
        meta, body = re.match(r"---\n(.*?)\n---\n(.*)", raw, re.S).groups()
        doc_id = re.search(r"^id:\s*(\S+)", meta, re.M).group(1)
        bodies[doc_id] = collapse(body)
    return bodies


def check_row(row: dict, split_ok: set[str], bodies: dict[str, str]) -> list[str]:
    qid = row.get("id", "?")
    if list(row) != FIELDS:
        return [f"{qid}: fields {list(row)} != {FIELDS}"]
    errors = []
    if row["split"] not in split_ok:
        errors.append(f"{qid}: split {row['split']!r} not allowed in this file ({sorted(split_ok)})")
    corpus = " ".join(bodies.values())
    if row["answerable"] is True:
        if row["type"] not in ANSWERABLE_TYPES or row["doc"] not in bodies or not row["evidence"]:
            errors.append(f"{qid}: answerable needs a type of {sorted(ANSWERABLE_TYPES)}, a doc and evidence")
        for quote in row["evidence"]:
            if not MIN_QUOTE <= len(quote) <= MAX_QUOTE:
                errors.append(f"{qid}: a quote of {len(quote)} characters")
            if collapse(quote) not in corpus:
                errors.append(f"{qid}: a quote is not in the seeds")
    elif row["answerable"] is False:
        if row["type"] not in UNANSWERABLE_TYPES or row["evidence"] or row["doc"] is not None:
            errors.append(
                f"{qid}: unanswerable needs a type of {sorted(UNANSWERABLE_TYPES)}, no evidence, doc null"
            )
    else:
        errors.append(f"{qid}: answerable must be true or false")
    return errors


def main(argv: list[str]) -> int:
    files = [Path(a) for a in argv[1:]] or DEFAULT_FILES
    bodies = seed_bodies()
    rows, errors = [], []
    for path in files:
        split_ok = {"test"} if path.parent.name == "sealed" else {"train", "dev"}
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                errors.append(f"{path.name}:{number}: not JSON ({exc.msg})")
                continue
            errors += check_row(row, split_ok, bodies)
            rows.append(row)
    ids = Counter(r.get("id") for r in rows)
    errors += [f"{i}: duplicate id" for i, n in ids.items() if n > 1]
    types = Counter(r.get("type") for r in rows)
    splits = Counter(r.get("split") for r in rows)
    counts = {
        "total": len(rows),
        "factoid": types["factoid"],
        "why_how+opinion": types["why_how"] + types["opinion"],
        "multi_part+comparison+attribution": types["multi_part"] + types["comparison"] + types["attribution"],
        "unanswerable": types["near_miss"] + types["off_topic"],
        "near_miss": types["near_miss"],
    }
    if len(files) == len(DEFAULT_FILES):
        errors += [f"totals: {k} = {counts[k]} < {m}" for k, m in MINIMUMS.items() if counts[k] < m]
        if splits["test"] < MIN_TEST_SHARE * len(rows):
            errors.append(f"totals: test split {splits['test']} < {MIN_TEST_SHARE:.0%} of {len(rows)}")
    print(json.dumps({"counts": counts, "splits": dict(splits), "types": dict(types)}, indent=1))
    for error in errors:
        print("ERROR", error)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
