"""`msiqa train`: fit the answer-sentence selector and the answer/abstain model from labelled questions.

Data: the `train` split of the question set (never `test`). For each question the engine retrieves
passages exactly as `ask` does; every sentence of those passages is a candidate with the features of
`answer/features.py`, labelled 1 when it overlaps an evidence quote of the question (every sentence
that answers is listed in the set). Sentences retrieved for unanswerable questions are all 0.

1. Sentence model: logistic regression (scikit-learn, L2, lbfgs) on standardised features.
2. Answer model: logistic regression on `selector.QUESTION_FEATURES`, answerable vs not, over the
   questions the fixed rules (unknown names, missing figures) do not already refuse. Its inputs use
   out-of-fold sentence probabilities (5 folds by question), so it learns from the selector as it
   behaves on questions it was not fitted to.
3. Threshold: the highest that abstains on at most `MAX_ANSWERABLE_ABSTAINED` of the answerable
   training questions (out-of-fold probabilities).

Deterministic: same data, same file, bit for bit (fixed fold assignment, a deterministic solver, and
weights written with six significant digits).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from msiqa.answer.candidates import Candidate, candidates, question_row
from msiqa.answer.features import FEATURES
from msiqa.answer.selector import QUESTION_FEATURES, Logistic, Selector
from msiqa.evaluation.runner import Gold, Question, overlap
from msiqa.retrieval import Retrieval

log = logging.getLogger(__name__)

FOLDS = 5
REGULARISATION_C = 1.0  # scikit-learn's default strength
FEATURE_DECIMALS = 4
MAX_ANSWERABLE_ABSTAINED = 0.015  # on training questions; the target on unseen ones is 0.02


@dataclass(frozen=True)
class Example:
    question: Question
    retrieval: Retrieval
    cands: list[Candidate]
    labels: np.ndarray  # one per candidate
    refused_by_rule: bool


def is_evidence(cand: Candidate, gold: tuple[Gold, ...]) -> bool:
    """A candidate answers when it shares at least half of itself or of an evidence quote with it."""
    d, s, e = cand.key
    for g in gold:
        if d == g.doc_id and overlap(s, e, g.start, g.end):
            shared = min(e, g.end) - max(s, g.start)
            if 2 * shared >= min(e - s, g.end - g.start):
                return True
    return False


def examples(engine, questions: list[Question]) -> list[Example]:
    vectors, tokens = engine.embedder.encode_with_tokens([q.question for q in questions])
    out = []
    for question, vector, token_set in zip(questions, vectors, tokens, strict=True):
        retrieval = engine.retriever.search(
            question.question,
            engine.settings.retriever,
            engine.settings.top_k,
            query_vector=vector,
            query_tokens=token_set,
        )
        cands = candidates(retrieval.query, retrieval, engine.index, None)
        labels = np.asarray([question.answerable and is_evidence(c, question.gold) for c in cands], dtype=int)
        refused = bool(retrieval.unknown_names or retrieval.missing_answer)
        out.append(Example(question, retrieval, cands, labels, refused))
    return out


def fit_logistic(x: np.ndarray, y: np.ndarray, names: tuple[str, ...]) -> Logistic:
    from sklearn.linear_model import LogisticRegression

    x = np.round(x, FEATURE_DECIMALS)  # last-digit float noise (thread scheduling) must not move the fit
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    # the L2-regularised problem has one optimum; a tight tolerance lands on it whatever the start
    model = LogisticRegression(C=REGULARISATION_C, max_iter=20000, tol=1e-12, solver="lbfgs")
    model.fit((x - mean) / scale, y)
    return Logistic(names, mean, scale, model.coef_[0].astype(float), float(model.intercept_[0]))


def _rounded(model: Logistic) -> Logistic:
    """The model as the JSON file will hold it (six significant digits), so thresholds match the file."""
    r = np.vectorize(lambda v: float(f"{v:.6g}"))
    return Logistic(
        model.names, r(model.mean), r(model.scale), r(model.weights), float(f"{model.intercept:.6g}")
    )


def fold_of(qid: str) -> int:
    return int(hashlib.sha256(qid.encode()).hexdigest(), 16) % FOLDS


def with_probabilities(example: Example, model: Logistic) -> list[Candidate]:
    from dataclasses import replace

    if not example.cands:
        return []
    probs = model.probability(np.asarray([c.features for c in example.cands]))
    return [replace(c, probability=float(p)) for c, p in zip(example.cands, probs, strict=True)]


def sentence_data(chosen: list[Example]) -> tuple[np.ndarray, np.ndarray]:
    rows = [c.features for ex in chosen for c in ex.cands]
    labels = [int(v) for ex in chosen for v in ex.labels]
    return np.asarray(rows, dtype=float).reshape(-1, len(FEATURES)), np.asarray(labels, dtype=int)


def train(engine, questions: list[Question], source: str) -> Selector:
    chosen_questions = [q for q in questions if q.split == "train"]
    if not chosen_questions:
        raise ValueError("no questions in the train split")
    data = examples(engine, chosen_questions)
    x, y = sentence_data(data)
    sentence = _rounded(fit_logistic(x, y, FEATURES))
    # out-of-fold sentence probabilities -> question rows
    question_rows, answerable = [], []
    for fold in range(FOLDS):
        fit_on = [ex for ex in data if fold_of(ex.question.qid) != fold]
        held = [ex for ex in data if fold_of(ex.question.qid) == fold]
        fx, fy = sentence_data(fit_on)
        fold_model = fit_logistic(fx, fy, FEATURES)
        for ex in held:
            if ex.refused_by_rule:
                continue
            scored = with_probabilities(ex, fold_model)
            question_rows.append(question_row(ex.retrieval.query, ex.retrieval, scored, engine.index))
            answerable.append(int(ex.question.answerable))
    qx, qy = np.asarray(question_rows, dtype=float), np.asarray(answerable, dtype=int)
    answer = _rounded(fit_logistic(qx, qy, QUESTION_FEATURES))
    threshold = threshold_for(answer.probability(qx[qy == 1]))
    held_out = cross_validated_abstention(
        qx, qy, [fold_of(ex.question.qid) for ex in data if not ex.refused_by_rule]
    )
    refused = sum(ex.refused_by_rule for ex in data if not ex.question.answerable)
    n_unanswerable = sum(not ex.question.answerable for ex in data)
    trained_on = {
        "questions": source,
        "split": "train",
        "questions_used": len(chosen_questions),
        "answerable": int(sum(q.answerable for q in chosen_questions)),
        "sentences": int(len(y)),
        "evidence_sentences": int(y.sum()),
        "answer_model_questions": int(len(qy)),
        "max_answerable_abstained": MAX_ANSWERABLE_ABSTAINED,
        "cross_validated": {  # the answer model fitted on 4/5 of the questions, scored on the rest
            "answerable_abstained": round(held_out[0], 4),
            "unanswerable_abstained": round(
                (held_out[1] * (n_unanswerable - refused) + refused) / n_unanswerable, 4
            )
            if n_unanswerable
            else None,
        },
    }
    log.info("trained on %s", trained_on)
    return Selector(sentence, answer, threshold, trained_on)


def threshold_for(answerable_probabilities: np.ndarray) -> float:
    """The highest threshold below which at most MAX_ANSWERABLE_ABSTAINED of these questions fall."""
    probs = np.sort(answerable_probabilities)
    if not len(probs):
        return 0.5
    allowed = int(np.floor(MAX_ANSWERABLE_ABSTAINED * len(probs)))
    return float(f"{float(probs[allowed]) * (1 - 1e-6):.6g}")  # just below that question's probability


def cross_validated_abstention(qx: np.ndarray, qy: np.ndarray, folds: list[int]) -> tuple[float, float]:
    """(answerable abstained, unanswerable abstained) of the answer model on questions it was not fitted
    to, each fold's threshold chosen on its own training folds."""
    fold_ids = np.asarray(folds)
    wrong = right = 0
    for fold in range(FOLDS):
        train_mask, test_mask = fold_ids != fold, fold_ids == fold
        model = fit_logistic(qx[train_mask], qy[train_mask], QUESTION_FEATURES)
        threshold = threshold_for(model.probability(qx[train_mask & (qy == 1)]))
        below = model.probability(qx[test_mask]) < threshold
        wrong += int(np.sum(below & (qy[test_mask] == 1)))
        right += int(np.sum(below & (qy[test_mask] == 0)))
    n_yes, n_no = int(np.sum(qy == 1)), int(np.sum(qy == 0))
    return (wrong / n_yes if n_yes else 0.0, right / n_no if n_no else 0.0)


def write(selector: Selector, path: Path) -> None:
    path.write_text(selector.to_json(), encoding="utf-8")
