"""The learned answer-sentence selector and the learned answer/abstain decision, read from JSON.

Both are logistic regressions over standardised features (`features.FEATURES` for sentences,
`QUESTION_FEATURES` for the decision to answer), trained by `msiqa train` on the train split of
`eval/questions.jsonl` (`evaluation/train.py`) and stored in `selector.json` beside this module: the
features by name with their weights, the standardisation, and the abstention threshold. No pickle; the
file is small enough to read, and `msiqa train` rewrites it bit for bit from the same data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from msiqa.answer.features import FEATURES
from msiqa.errors import MsiqaError

WEIGHTS_FILE = Path(__file__).with_name("selector.json")
FORMAT = 1
QUESTION_FEATURES = (
    "top_probability",  # the selector's best sentence
    "second_probability",
    "best_cosine",  # question . closest sentence of any hit
    "term_coverage",  # IDF-weighted share of the question's words found in the hits
    "asks_factoid",
    "typed_probability",  # the best sentence that carries the asked-for type (factoid questions)
    "subject_probability",  # the best sentence that names the question's subject (when it names one)
    "best_idf_overlap",  # the most of the question's (IDF-weighted) words any one sentence has
    "top_idf_overlap",  # ... that the selector's best sentence has
    "rarest_missing_word",  # IDF of the rarest question word no retrieved sentence has (/ unseen IDF)
    "never_in_corpus",  # IDF-weighted share of the question's words the corpus never uses
    "answered_outright",  # a line answers the question outright (a byline, contact, web address, title)
)


@dataclass(frozen=True)
class Logistic:
    """p = sigmoid(w . (x - mean) / scale + b)."""

    names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    intercept: float

    def probability(self, rows: np.ndarray) -> np.ndarray:
        z = ((rows - self.mean) / self.scale) @ self.weights + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def to_json(self) -> dict:
        return {
            "features": {
                name: {"weight": _round(w), "mean": _round(m), "scale": _round(s)}
                for name, w, m, s in zip(self.names, self.weights, self.mean, self.scale, strict=True)
            },
            "intercept": _round(self.intercept),
        }

    @classmethod
    def from_json(cls, data: dict, names: tuple[str, ...]) -> Logistic:
        table = data["features"]
        if tuple(table) != names:
            raise KeyError("feature names differ")
        mean, scale, weights = (
            np.asarray([float(table[n][key]) for n in names]) for key in ("mean", "scale", "weight")
        )
        return cls(names, mean, scale, weights, float(data["intercept"]))


@dataclass(frozen=True)
class Selector:
    sentence: Logistic
    answer: Logistic
    answer_threshold: float  # answer when P(answerable) >= this
    trained_on: dict

    def to_json(self) -> str:
        data = {
            "format": FORMAT,
            "trained_on": self.trained_on,
            "sentence_model": self.sentence.to_json(),
            "answer_model": {**self.answer.to_json(), "threshold": _round(self.answer_threshold)},
        }
        return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def _round(value: float) -> float:
    return float(f"{float(value):.6g}")


def parse(text: str, source: str) -> Selector:
    try:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise KeyError("format")
        answer = data["answer_model"]
        return Selector(
            Logistic.from_json(data["sentence_model"], FEATURES),
            Logistic.from_json(answer, QUESTION_FEATURES),
            float(answer["threshold"]),
            dict(data.get("trained_on", {})),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise MsiqaError(
            f"The answer selector {source} is unreadable or was made for other features ({exc}); "
            "retrain it with: msiqa train"
        ) from exc


@lru_cache(maxsize=4)
def load(path: Path = WEIGHTS_FILE) -> Selector:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MsiqaError(f"The answer selector {path} is missing; rebuild it with: msiqa train") from exc
    return parse(text, str(path))
