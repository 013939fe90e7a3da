"""Evaluation: load a labelled question set, score retrieval, answers and abstention with pure metrics.

Relevance is defined on text, never on chunk ids: an evidence quote is located in its document
(whitespace-insensitive) and a retrieved chunk is relevant to it when it comes from that document and
covers at least half of the quote's characters. So labels survive re-chunking. The runner reuses one
open `Engine` (model loaded once, questions embedded in one batch) and answers through `Engine.ask`,
the same path users take. Deliberately left out: printing and report formatting (`eval_report.py`)
and any choice of parameters (the abstention calibration only *measures*; `config.py` holds values).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from msiqa.errors import QuestionSetError
from msiqa.types import Document, Span

K_CUTOFFS = (1, 5, 10)
RANK_DEPTH = 10  # retrieval metrics look this deep into each ranked list
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 20200811  # fixed: the date of the "Not Fit-for-Purpose" press release
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Gold:
    """One evidence quote located in the corpus."""

    doc_id: str
    start: int
    end: int


@dataclass(frozen=True)
class Question:
    qid: str
    question: str
    answerable: bool
    evidence: tuple[str, ...] = ()
    gold: tuple[Gold, ...] = ()
    split: str = "all"
    kind: str = ""  # the question's `type` label (paraphrase, entity, near_miss, ...)


# ----------------------------------------------------------------------------------------------------
# locating quotes


def collapsed(text: str) -> tuple[str, list[int]]:
    """`text` with every whitespace run replaced by one space, and each kept char's original offset."""
    out: list[str] = []
    offsets: list[int] = []
    for match in re.finditer(r"\s+|\S+", text):
        if match.group()[0].isspace():
            out.append(" ")
            offsets.append(match.start())
        else:
            out.append(match.group())
            offsets.extend(range(match.start(), match.end()))
    return "".join(out), offsets


def locate(quote: str, text: str) -> Span | None:
    """Where `quote` occurs in `text`, ignoring differences in whitespace; None when it does not."""
    needle = _SPACE.sub(" ", quote).strip()
    if not needle:
        return None
    haystack, offsets = collapsed(text)
    found = haystack.find(needle)
    if found < 0:
        return None
    return Span(offsets[found], offsets[found + len(needle) - 1] + 1)


T = TypeVar("T")


def _field(row: dict, name: str, kind: type[T], qid: str, path: Path, default: object = None) -> T:
    value = row.get(name, default)
    if not isinstance(value, kind):
        raise QuestionSetError(f"{path}: question {qid} has no valid {name!r} ({kind.__name__} expected).")
    return value


def parse_question(row: object, line: int, path: Path, documents: dict[str, Document]) -> Question:
    if not isinstance(row, dict):
        raise QuestionSetError(f"{path}:{line} is not a JSON object.")
    qid = str(row.get("id") or f"line {line}")
    text = _field(row, "question", str, qid, path)
    answerable = _field(row, "answerable", bool, qid, path, True)
    evidence = _field(row, "evidence", list, qid, path, [])
    if answerable and not evidence:
        raise QuestionSetError(f"{path}: question {qid} is answerable but has no evidence quotes.")
    doc = row.get("doc")
    # the labelled document first, then the rest (a two-passage question may quote two documents)
    search = sorted(documents.values(), key=lambda d: d.doc_id != doc)
    gold: list[Gold] = []
    for quote in evidence:
        spans = ((d, locate(str(quote), d.text)) for d in search)
        found = next(((d, s) for d, s in spans if s is not None), None)
        if found is None:
            raise QuestionSetError(
                f"{path}: question {qid}: evidence quote not found in the corpus: "
                f"{str(quote)[:80]!r}. Fix the quote so it matches the text exactly."
            )
        gold.append(Gold(found[0].doc_id, found[1].start, found[1].end))
    return Question(
        qid,
        text,
        answerable,
        tuple(str(q) for q in evidence),
        tuple(gold),
        str(row.get("split") or "all"),
        str(row.get("type") or ""),
    )


def load_questions(path: Path, documents: dict[str, Document]) -> list[Question]:
    """Read a JSONL question set and locate every quote; fails loudly, naming the question."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionSetError(f"Cannot read the question file {path} ({exc.__class__.__name__}).") from exc
    questions: list[Question] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise QuestionSetError(f"{path}:{number} is not valid JSON ({exc.msg}).") from exc
        questions.append(parse_question(row, number, Path(path), documents))
    if not questions:
        raise QuestionSetError(f"{path} holds no questions.")
    ids = [q.qid for q in questions]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise QuestionSetError(f"{path}: duplicate question id(s): {', '.join(duplicates)}.")
    return questions


# ----------------------------------------------------------------------------------------------------
# pure metric functions


def overlap(a_start: int, a_end: int, b_start: int, b_end: int) -> int:
    """Characters shared by two half-open ranges."""
    return max(0, min(a_end, b_end) - max(a_start, b_start))


def covers(doc_id: str, start: int, end: int, gold: Gold) -> bool:
    """A span covers a quote when it is in the quote's document and holds at least half its characters."""
    return doc_id == gold.doc_id and 2 * overlap(start, end, gold.start, gold.end) >= gold.end - gold.start


def relevance(ranked: list[tuple[str, int, int]], gold: tuple[Gold, ...]) -> list[frozenset[int]]:
    """For each ranked (doc_id, start, end), the indices of the gold quotes it covers."""
    return [frozenset(i for i, g in enumerate(gold) if covers(d, s, e, g)) for d, s, e in ranked]


def hit_at(rel: list[frozenset[int]], k: int) -> float:
    return 1.0 if any(rel[:k]) else 0.0


def recall_at(rel: list[frozenset[int]], n_gold: int, k: int) -> float:
    """Share of the gold quotes covered by some chunk in the top k."""
    return len(frozenset().union(*rel[:k])) / n_gold if n_gold else 0.0


def reciprocal_rank(rel: list[frozenset[int]], k: int) -> float:
    return next((1.0 / rank for rank, r in enumerate(rel[:k], start=1) if r), 0.0)


def ndcg_at(rel: list[frozenset[int]], n_relevant: int, k: int) -> float:
    """Binary-gain nDCG: a chunk gains 1 when relevant; the ideal ranks all `n_relevant` chunks first."""
    dcg = sum(1.0 / math.log2(rank + 1) for rank, r in enumerate(rel[:k], start=1) if r)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(n_relevant, k) + 1))
    return dcg / ideal if ideal else 0.0


def merged_cover(spans: list[tuple[str, int, int]], gold: Gold) -> int:
    """Characters of `gold` covered by the union of spans (overlapping spans counted once)."""
    inside = sorted(
        (max(s, gold.start), min(e, gold.end))
        for d, s, e in spans
        if d == gold.doc_id and overlap(s, e, gold.start, gold.end)
    )
    covered, reach = 0, gold.start
    for start, end in inside:
        start = max(start, reach)
        if end > start:
            covered += end - start
            reach = end
    return covered


def evidence_found(cited: list[tuple[str, int, int]], gold: tuple[Gold, ...]) -> bool:
    """True when the cited spans together cover at least half of some gold quote."""
    return any(2 * merged_cover(cited, g) >= g.end - g.start for g in gold)


def precise_citations(cited: list[tuple[str, int, int]], gold: tuple[Gold, ...]) -> int:
    """How many citations overlap some gold quote (same document, at least one character)."""
    return sum(any(d == g.doc_id and overlap(s, e, g.start, g.end) for g in gold) for d, s, e in cited)


def ratio(numerators: np.ndarray, denominators: np.ndarray) -> float:
    total = float(np.sum(denominators))
    return float(np.sum(numerators)) / total if total else float("nan")


def bootstrap_ci(
    numerators: list[float],
    denominators: list[float] | None = None,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float]:
    """95% percentile bootstrap interval of sum(num)/sum(den), resampling questions with a fixed seed.

    With `denominators` None each question weighs 1 (a plain mean). Empty input gives (nan, nan).
    """
    num = np.asarray(numerators, dtype=float)
    den = np.ones_like(num) if denominators is None else np.asarray(denominators, dtype=float)
    if not len(num):
        return (float("nan"), float("nan"))
    picks = np.random.default_rng(seed).integers(0, len(num), size=(resamples, len(num)))
    sums = den[picks].sum(axis=1)
    stats = np.divide(num[picks].sum(axis=1), sums, out=np.full(resamples, np.nan), where=sums > 0)
    stats = stats[~np.isnan(stats)]
    if not len(stats):
        return (float("nan"), float("nan"))
    low, high = np.percentile(stats, [2.5, 97.5])
    return (float(low), float(high))


@dataclass
class Metric:
    """Per-question numerators (and denominators, for pooled ratios like citation precision)."""

    num: list[float] = field(default_factory=list)
    den: list[float] = field(default_factory=list)

    def add(self, value: float, weight: float = 1.0) -> None:
        self.num.append(value)
        self.den.append(weight)

    def value(self) -> float:
        return ratio(np.asarray(self.num), np.asarray(self.den))

    def ci(self) -> tuple[float, float]:
        return bootstrap_ci(self.num, self.den)


# ----------------------------------------------------------------------------------------------------
# the runner: one open engine, every question, per-question records (plain dicts, JSON-ready)


def retrieval_record(
    rel: list[frozenset[int]], n_gold: int, n_relevant: int
) -> dict[str, float | int | None]:
    first = next((rank for rank, r in enumerate(rel, start=1) if r), None)
    return {
        "hit@1": hit_at(rel, 1),
        "hit@5": hit_at(rel, 5),
        "recall@5": recall_at(rel, n_gold, 5),
        "recall@10": recall_at(rel, n_gold, 10),
        "mrr@10": reciprocal_rank(rel, 10),
        "ndcg@10": ndcg_at(rel, n_relevant, 10),
        "first_relevant_rank": first,
    }


def answer_record(question: Question, answer) -> dict[str, object]:
    cited = [(c.document.doc_id, c.start, c.end) for c in answer.citations]
    record: dict[str, object] = {"abstained": answer.abstained, "citations": len(cited)}
    if question.answerable:
        record["evidence_found"] = (not answer.abstained) and evidence_found(cited, question.gold)
        record["precise_citations"] = precise_citations(cited, question.gold)
        if cited:  # the first sentence quotes evidence (`first_sentence_precision`)
            record["first_sentence_evidence"] = precise_citations(cited[:1], question.gold) == 1
    return record


def evaluate(
    engine,
    questions: list[Question],
    retrievers: tuple[str, ...],
    top_k: int | None = None,
) -> list[dict[str, object]]:
    """Score every question with each retriever (10 deep) and answer it through `engine.ask`.

    Questions are embedded in one batch for the retrieval metrics.
    """
    vectors = engine.embedder.encode([q.question for q in questions])  # retrieval metrics need no tokens
    chunk_spans = [(c.doc_id, c.start, c.end) for c in engine.index.chunks]
    records = []
    for question, vector in zip(questions, vectors, strict=True):
        record: dict[str, Any] = {
            "id": question.qid,
            "split": question.split,
            "type": question.kind,
            "answerable": question.answerable,
            "question": question.question,
        }
        if question.answerable:
            n_relevant = sum(1 for r in relevance(chunk_spans, question.gold) if r)
            record["retrieval"] = {}
            for name in retrievers:
                hits = engine.retriever.search(question.question, name, RANK_DEPTH, query_vector=vector).hits
                rel = relevance([(h.chunk.doc_id, h.chunk.start, h.chunk.end) for h in hits], question.gold)
                record["retrieval"][name] = retrieval_record(rel, len(question.gold), n_relevant)
        answer = engine.ask(question.question, top_k=top_k)
        record["answer"] = answer_record(question, answer)
        records.append(record)
    return records
