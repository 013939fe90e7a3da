#!/usr/bin/env python3
"""Validate eval/questions.jsonl against the corpus (stdlib only).

Usage: python3 eval/check_questions.py [questions.jsonl] [corpus.txt]

Checks
  * every line is a JSON object with the expected fields and value types;
  * ids are unique and sequential (q001, q002, ...);
  * every evidence quote occurs in the corpus (whitespace runs collapsed to a
    single space on both sides) and is 40-300 characters long;
  * answerable questions have >= 1 quote and a known doc; unanswerable ones
    have no evidence and doc null;
  * minimum counts: >= 105 answerable, >= 30 unanswerable, every document
    covered, >= 8 multi_passage questions, some off_topic and near_miss;
  * splits are "tune"/"heldout" with roughly a third held out per document
    and per type.
Prints counts per doc / type / split and exits non-zero, naming the
offending question, on any failure.
"""

import json
import os
import re
import sys
from collections import Counter, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_QUESTIONS = os.path.join(HERE, "questions.jsonl")
DEFAULT_CORPUS = "/work/shared/seeds/000_b29d7c38feb04f95.txt"

DOCS = [
    "lexology-ethical-certifications",
    "bamenjo-lip-service",
    "gleckman-democracy",
    "press-release-2020-08-11",
    "wolfkamp-regulating-rbc",
    "zebras-unite-pivot-to-people",
    "radio-fm4-evans-interview",
    "miedema-binding-brands",
    "ciw-new-study",
]
ANSWERABLE_TYPES = {"paraphrase", "why_how", "multi_passage", "entity", "number_date"}
UNANSWERABLE_TYPES = {"off_topic", "near_miss"}
SPLITS = {"tune", "heldout"}
FIELDS = {"id", "question", "evidence", "answerable", "doc", "split", "type"}

MIN_ANSWERABLE = 105
MIN_UNANSWERABLE = 30
MIN_MULTI_PASSAGE = 8
MIN_PER_UNANSWERABLE_TYPE = 10
MIN_QUOTE, MAX_QUOTE = 40, 300
# held-out share allowed per document / type (small strata get slack below)
HELDOUT_LO, HELDOUT_HI = 0.2, 0.45


def collapse(s):
    return re.sub(r"\s+", " ", s).strip()


def main(argv):
    qpath = argv[1] if len(argv) > 1 else DEFAULT_QUESTIONS
    cpath = argv[2] if len(argv) > 2 else DEFAULT_CORPUS
    errors = []

    def fail(qid, msg):
        errors.append(f"{qid}: {msg}")

    with open(cpath, encoding="utf-8") as f:
        corpus = collapse(f.read())

    rows = []
    with open(qpath, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                fail(f"line {lineno}", "blank line")
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                fail(f"line {lineno}", f"invalid JSON ({e})")
                continue
            if not isinstance(obj, dict):
                fail(f"line {lineno}", "not a JSON object")
                continue
            rows.append(obj)

    seen = set()
    for i, r in enumerate(rows, 1):
        qid = r.get("id", f"<row {i}>")
        if set(r) != FIELDS:
            fail(qid, f"fields {sorted(r)} != {sorted(FIELDS)}")
            continue
        if qid in seen:
            fail(qid, "duplicate id")
        seen.add(qid)
        if qid != f"q{i:03d}":
            fail(qid, f"id out of sequence (expected q{i:03d})")
        if not isinstance(r["question"], str) or len(r["question"].strip()) < 10:
            fail(qid, "question missing or too short")
        if r["split"] not in SPLITS:
            fail(qid, f"bad split {r['split']!r}")
        ev = r["evidence"]
        if not isinstance(ev, list) or not all(isinstance(e, str) for e in ev):
            fail(qid, "evidence must be a list of strings")
            continue
        if r["answerable"] is True:
            if r["type"] not in ANSWERABLE_TYPES:
                fail(qid, f"bad type {r['type']!r} for an answerable question")
            if r["doc"] not in DOCS:
                fail(qid, f"unknown doc {r['doc']!r}")
            if not ev:
                fail(qid, "answerable question without evidence")
            if r["type"] == "multi_passage" and len(ev) < 2:
                fail(qid, "multi_passage question needs >= 2 quotes")
            for e in ev:
                if not MIN_QUOTE <= len(e) <= MAX_QUOTE:
                    fail(qid, f"quote length {len(e)} outside {MIN_QUOTE}-{MAX_QUOTE}: {e[:60]!r}")
                if collapse(e) not in corpus:
                    fail(qid, f"evidence not found in corpus: {e[:80]!r}")
        elif r["answerable"] is False:
            if r["type"] not in UNANSWERABLE_TYPES:
                fail(qid, f"bad type {r['type']!r} for an unanswerable question")
            if ev:
                fail(qid, "unanswerable question must have empty evidence")
            if r["doc"] is not None:
                fail(qid, "unanswerable question must have doc null")
        else:
            fail(qid, "answerable must be true or false")

    ans = [r for r in rows if r.get("answerable") is True]
    una = [r for r in rows if r.get("answerable") is False]
    if len(ans) < MIN_ANSWERABLE:
        fail("totals", f"{len(ans)} answerable < {MIN_ANSWERABLE}")
    if len(una) < MIN_UNANSWERABLE:
        fail("totals", f"{len(una)} unanswerable < {MIN_UNANSWERABLE}")
    by_doc = Counter(r["doc"] for r in ans)
    for d in DOCS:
        if by_doc[d] < 2:
            fail("totals", f"doc {d} has only {by_doc[d]} answerable questions")
    by_type = Counter(r.get("type") for r in rows)
    if by_type["multi_passage"] < MIN_MULTI_PASSAGE:
        fail("totals", f"{by_type['multi_passage']} multi_passage < {MIN_MULTI_PASSAGE}")
    for t in sorted(UNANSWERABLE_TYPES):
        if by_type[t] < MIN_PER_UNANSWERABLE_TYPE:
            fail("totals", f"{by_type[t]} {t} < {MIN_PER_UNANSWERABLE_TYPE}")

    # split balance per stratum; strata under 6 items only need 1..n-1 held out
    def check_balance(label, key):
        strata = defaultdict(Counter)
        for r in rows:
            strata[key(r)][r.get("split")] += 1
        for name, c in sorted(strata.items(), key=lambda kv: str(kv[0])):
            n, h = sum(c.values()), c["heldout"]
            if n < 6:
                ok = n < 2 or 1 <= h <= n - 1
            else:
                ok = HELDOUT_LO <= h / n <= HELDOUT_HI
            if not ok:
                fail("splits", f"{label} {name}: {h}/{n} held out")
        return strata

    doc_strata = check_balance("doc", lambda r: r.get("doc"))
    type_strata = check_balance("type", lambda r: r.get("type"))

    def show(title, strata):
        print(title)
        for name, c in sorted(strata.items(), key=lambda kv: str(kv[0])):
            print(
                f"  {str(name):34s} total={sum(c.values()):3d}  "
                f"tune={c['tune']:3d}  heldout={c['heldout']:3d}"
            )

    print(f"{len(rows)} questions: {len(ans)} answerable, {len(una)} unanswerable")
    show("per doc (None = unanswerable):", doc_strata)
    show("per type:", type_strata)
    split_c = Counter(r.get("split") for r in rows)
    print("per split:", dict(sorted(split_c.items())))

    if errors:
        print(f"\nFAILED with {len(errors)} problem(s):", file=sys.stderr)
        for e in errors:
            print("  " + e, file=sys.stderr)
        return 1
    print("\nOK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
