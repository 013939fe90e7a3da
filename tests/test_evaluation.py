"""Evaluation: metric functions against hand-worked examples, loud question loading, the CLI, and the
CI gate that runs the real eval on the real index against eval/thresholds.json."""

from __future__ import annotations

import json
import math

import pytest

from msiqa.config import PROJECT_ROOT, RETRIEVERS
from msiqa.evaluation import report as eval_report
from msiqa.evaluation.runner import (
    Gold,
    QuestionSetError,
    bootstrap_ci,
    covers,
    evaluate,
    evidence_found,
    hit_at,
    load_questions,
    locate,
    merged_cover,
    ndcg_at,
    precise_citations,
    recall_at,
    reciprocal_rank,
    relevance,
)
from msiqa.types import Span

QUESTIONS = PROJECT_ROOT / "eval" / "questions.jsonl"
THRESHOLDS = PROJECT_ROOT / "eval" / "thresholds.json"


def test_locate_ignores_whitespace_differences():
    text = "Intro.\nThe  report\n\nconcludes that\tMSIs failed. End."
    span = locate("The report concludes that MSIs failed.", text)
    # "The" starts at 7; "failed." ends at index 47 (exclusive): 7 + len("The  report\n\nconcludes that\tMSIs failed.") = 7 + 40
    assert span == Span(7, 47)
    assert text[span.start : span.end] == "The  report\n\nconcludes that\tMSIs failed."
    # "The" 7..10, two spaces, "report" 12..18, "\n\n", "concludes" 20..29
    assert locate("  The report\nconcludes  ", text) == Span(7, 29)
    assert locate("The report says nothing", text) is None


def test_a_chunk_is_relevant_when_it_covers_half_the_quote_in_the_same_document():
    gold = Gold("a", 100, 140)  # a 40-character quote
    assert covers("a", 120, 200, gold)  # overlap 120..140 = 20 chars = exactly half -> relevant
    assert not covers("a", 121, 200, gold)  # 19 of 40 chars -> not relevant
    assert not covers("b", 0, 1000, gold)  # other document
    # chunk 1 covers 100..130 = 30 of 40 -> relevant; chunk 2 covers 130..140 = 10 of 40 -> not
    assert relevance([("a", 0, 130), ("a", 130, 300)], (gold,)) == [frozenset({0}), frozenset()]


def test_ranking_metrics_hand_worked():
    # ranks 1..5; quote 0 covered at rank 2, quote 1 at rank 4; 2 quotes, 3 relevant chunks in the index
    rel = [frozenset(), frozenset({0}), frozenset(), frozenset({1}), frozenset()]
    assert hit_at(rel, 1) == 0.0
    assert hit_at(rel, 5) == 1.0
    assert recall_at(rel, 2, 3) == 0.5  # top 3 cover quote 0 only: 1/2
    assert recall_at(rel, 2, 5) == 1.0  # top 5 cover both: 2/2
    assert reciprocal_rank(rel, 10) == 0.5  # first relevant at rank 2 -> 1/2
    assert reciprocal_rank(rel, 1) == 0.0
    # DCG = 1/log2(3) + 1/log2(5) = 0.63093 + 0.43068 = 1.06161
    # IDCG (3 relevant chunks) = 1/log2(2) + 1/log2(3) + 1/log2(4) = 1 + 0.63093 + 0.5 = 2.13093
    assert ndcg_at(rel, 3, 10) == pytest.approx(1.06161 / 2.13093, abs=1e-4)
    assert ndcg_at([frozenset({0})], 1, 10) == 1.0
    assert ndcg_at([frozenset()], 0, 10) == 0.0


def test_answer_metrics_hand_worked():
    gold = (Gold("a", 100, 200), Gold("b", 0, 50))  # quotes of 100 and 50 characters
    # two citations in doc a: 100..130 and 120..160 -> union 100..160 = 60 of 100 chars >= half
    assert merged_cover([("a", 100, 130), ("a", 120, 160)], gold[0]) == 60
    assert evidence_found([("a", 100, 130), ("a", 120, 160)], gold)
    # 100..140 = 40 of 100 (< 50) and doc b 0..24 = 24 of 50 (< 25): neither quote half covered
    assert not evidence_found([("a", 100, 140), ("b", 0, 24)], gold)
    # citations: a 190..210 overlaps quote a; b 60..90 misses; c 0..50 wrong document -> 1 of 3 precise
    assert precise_citations([("a", 190, 210), ("b", 60, 90), ("c", 0, 50)], gold) == 1


def test_bootstrap_interval_is_fixed_seed_and_brackets_the_mean():
    values = [1.0] * 8 + [0.0] * 2  # mean 0.8
    low, high = bootstrap_ci(values)
    assert (low, high) == bootstrap_ci(values)  # same seed, same interval
    assert low < 0.8 < high and 0.0 <= low and high <= 1.0
    assert bootstrap_ci([1.0] * 5) == (1.0, 1.0)
    # pooled ratio: 3 precise of 4 citations + 0 of 0 -> every resample is 3/4 or nan-free subsets
    low, high = bootstrap_ci([3.0, 0.0], [4.0, 0.0])
    assert low <= 0.75 <= high
    assert all(math.isnan(x) for x in bootstrap_ci([]))


def write_questions(path, rows):
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_loading_fails_loudly_naming_the_question_whose_quote_is_missing(engine, tmp_path):
    path = write_questions(
        tmp_path / "q.jsonl",
        [
            {
                "id": "ok1",
                "question": "Why?",
                "answerable": True,
                "doc": "bamenjo-lip-service",
                "evidence": ["the Kimberley Process Certification Scheme (KPCS)"],
            },
            {
                "id": "bad7",
                "question": "What?",
                "answerable": True,
                "evidence": ["This sentence is in no seed at all."],
            },
        ],
    )
    with pytest.raises(QuestionSetError, match="bad7.*not found in the corpus"):
        load_questions(path, engine.index.documents)


def test_loading_locates_quotes_whitespace_insensitively_and_across_documents(engine, tmp_path):
    doc = engine.index.documents["press-release-2020-08-11"]
    start = doc.text.index("Examples of MSIs include")
    original = doc.text[start : start + 60]
    spaced = "  " + original.replace(" ", " \n ") + " "
    path = write_questions(
        tmp_path / "q.jsonl",
        [
            {"id": "x1", "question": "Examples?", "doc": "bamenjo-lip-service", "evidence": [spaced]},
            {"id": "x2", "question": "Capital of Peru?", "answerable": False, "evidence": []},
        ],
    )
    first, second = load_questions(path, engine.index.documents)
    assert first.gold == (Gold("press-release-2020-08-11", start, start + 60),)
    assert first.answerable and not second.answerable and second.split == "all"


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json\n", "not valid JSON"),
        ("", "no questions"),
        ('{"id": "q1", "question": "Why?", "evidence": []}\n', "no evidence"),
    ],
)
def test_malformed_question_files_get_one_line_messages(engine, tmp_path, content, message):
    path = tmp_path / "q.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(QuestionSetError, match=message):
        load_questions(path, engine.index.documents)


def record(qid, answerable, abstained, split="tune", best=0.5, coverage=0.5, hit5=1.0, found=True):
    r = {
        "id": qid,
        "split": split,
        "type": "t",
        "answerable": answerable,
        "question": qid,
        "answer": {"abstained": abstained, "citations": 2},
    }
    if answerable:
        r["retrieval"] = {
            "hybrid": {"hit@5": hit5, "hit@1": hit5, "first_relevant_rank": 1 if hit5 else None}
        }
        r["answer"].update(evidence_found=found, precise_citations=1)
    return r


def test_baseline_comparison_lists_per_question_regressions_and_improvements():
    before = {
        "per_question": [
            record("q1", True, False),
            record("q2", True, False, hit5=0.0),
            record("q3", False, True),
        ]
    }
    after = {
        "per_question": [
            record("q1", True, True, found=False),
            record("q2", True, False),
            record("q3", False, True),
        ]
    }
    changes = eval_report.compare(before, after, "hybrid")
    assert {(c["id"], c["check"]) for c in changes["regressions"]} == {
        ("q1", "answered (not abstained)"),
        ("q1", "evidence found in answer"),
    }
    assert {(c["id"], c["check"]) for c in changes["improvements"]} == {
        ("q2", "hybrid hit@5"),
        ("q2", "hybrid hit@1"),
    }


def test_summary_has_the_promised_shape_per_split():
    records = [
        record("a", True, False),
        record("b", True, True, split="heldout", found=False),
        record("u", False, True),
    ]
    for r in records:
        if r["answerable"]:
            r["retrieval"]["hybrid"].update(
                {"recall@5": 1.0, "recall@10": 1.0, "mrr@10": 1.0, "ndcg@10": 1.0}
            )
    summary = eval_report.summarise(records, ("hybrid",))
    assert summary["n_answerable"] == 2 and summary["n_unanswerable"] == 1
    assert set(summary["retrievers"]["hybrid"]) == set(eval_report.RETRIEVAL_METRICS)
    assert summary["answer"]["evidence_recall"] == 0.5  # a found, b abstained: 1 of 2
    assert summary["answer"]["citation_precision"] == 0.5  # 1 precise of 2 citations per question: 2/4
    assert summary["abstention"] == {"unanswerable_abstained": 1.0, "answerable_abstained": 0.5}
    assert set(summary["splits"]) == {"heldout", "tune"}
    assert summary["splits"]["heldout"]["n_unanswerable"] == 0
    assert summary["splits"]["heldout"]["abstention"]["unanswerable_abstained"] is None


def test_cli_eval_json_on_another_question_file_and_baseline(tmp_path, seed_settings, engine, capsys):
    from msiqa.cli import main

    path = write_questions(
        tmp_path / "mine.jsonl",
        [
            {
                "id": "m1",
                "question": "Why is the Kimberley Process definition of conflict diamonds criticized?",
                "evidence": [
                    "The commonly used definition of conflict diamonds, however, is incredibly narrow"
                ],
            },
            {"id": "m2", "question": "Who won the 2018 FIFA World Cup?", "answerable": False, "evidence": []},
        ],
    )
    args = [
        "eval",
        "--seeds",
        str(seed_settings.seeds_dir),
        "--index",
        str(seed_settings.index_dir),
        "--questions",
        str(path),
        "--retriever",
        "hybrid",
        "--json",
        "--out",
        str(tmp_path / "out"),
    ]
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) >= {"n_answerable", "n_unanswerable", "retrievers", "answer", "abstention"}
    assert (result["n_answerable"], result["n_unanswerable"]) == (1, 1)
    assert result["retrievers"]["hybrid"]["hit@5"] == 1.0
    assert result["abstention"]["unanswerable_abstained"] == 1.0
    assert (tmp_path / "out" / "report.md").read_text(encoding="utf-8").startswith("# msiqa evaluation")
    assert main(args[:-2] + ["--baseline", str(tmp_path / "out" / "eval.json")]) == 0
    assert json.loads(capsys.readouterr().out)["baseline_changes"] == {"regressions": [], "improvements": []}


def test_cli_eval_names_the_bad_question_without_a_traceback(tmp_path, seed_settings, engine, capsys):
    from msiqa.cli import main

    path = write_questions(
        tmp_path / "bad.jsonl", [{"id": "z9", "question": "Q?", "evidence": ["not in any seed text"]}]
    )
    code = main(
        [
            "eval",
            "--seeds",
            str(seed_settings.seeds_dir),
            "--index",
            str(seed_settings.index_dir),
            "--questions",
            str(path),
        ]
    )
    err = capsys.readouterr().err
    messages = [line for line in err.splitlines() if line.startswith("msiqa:")]
    assert code == 2 and "Traceback" not in err
    assert len(messages) == 1 and "question z9" in messages[0] and "not found in the corpus" in messages[0]


def lookup(summary: dict, dotted: str) -> float:
    """`retrievers.hybrid.hit@5` or `answer.evidence_recall` -> the figure."""
    group, rest = dotted.split(".", 1)
    if group == "retrievers":
        name, metric = rest.split(".", 1)
        return summary[group][name][metric]
    return summary[group][rest]


@pytest.mark.eval
def test_ci_gate_eval_figures_stay_above_recorded_thresholds(engine):
    """Runs the real eval (real model, real index of the seeds) and fails when a figure drops below
    eval/thresholds.json (measured figures minus the margin stated there)."""
    thresholds = json.loads(THRESHOLDS.read_text(encoding="utf-8"))
    records = evaluate(engine, load_questions(QUESTIONS, engine.index.documents), RETRIEVERS)
    summary = eval_report.summarise(records, RETRIEVERS)
    failures = []
    for scope, figures in (("all", summary), *summary["splits"].items()):
        for key, floor in thresholds["min"].get(scope, {}).items():
            if lookup(figures, key) < floor:
                failures.append(f"{scope} {key} = {lookup(figures, key):.3f} < {floor}")
        for key, ceiling in thresholds["max"].get(scope, {}).items():
            if lookup(figures, key) > ceiling:
                failures.append(f"{scope} {key} = {lookup(figures, key):.3f} > {ceiling}")
    assert not failures, "eval dropped below eval/thresholds.json: " + "; ".join(failures)
