"""Features of a candidate answer sentence: what the learned selector (`selector.py`) scores.

Every candidate is a sentence of a retrieved passage. Its features are plain numbers a person can read
off the question, the sentence and its place in the document; `FEATURES` names them in order, and the
selector's weights file lists its weights by the same names. All vectors are the ones stored at build
time, so no model runs here.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from msiqa.ingest.chunking import is_heading
from msiqa.query.answer_types import FACTOID_TYPES, REASON, has_type
from msiqa.query.entities import mentions, named_phrases

FEATURES = (
    "cosine",  # question . sentence
    "context_cosine",  # question . (previous + sentence + next), normalised
    "neighbour_cosine",  # the better of the neighbours' cosines
    "cosine_gap",  # cosine - the best cosine among all candidates (<= 0)
    "overlap",  # share of the question's content words found in the sentence
    "idf_overlap",  # the same, each word weighted by its rarity in the corpus (IDF over passages)
    "phrase_overlap",  # share of the question's adjacent content-word pairs found in the sentence
    "cosine_rank",  # 1 / rank of the sentence's cosine among all candidates
    "overlap_rank",  # 1 / rank of its idf_overlap among all candidates
    "doc_named",  # the question names the sentence's document, author, publisher or kind of source
    "restating",  # share of the sentence's content words that are the question's (restating it)
    "new_words",  # log(1 + content words the question does not have)
    "passage_prior",  # 1 / fused rank of the passage
    "first_in_paragraph",
    "position",  # index in the paragraph / (sentences in the paragraph - 1)
    "log_words",
    "side_line",  # a byline, caption, "Read ... here." line, or a line without closing punctuation
    "not_quotable",  # a heading, the title, a question, a bare address line
    "answered_outright",  # a byline for "who wrote", a contact line for "whom to contact", a web address
    "names_subject",  # mentions a name the question uses
    "asks_factoid",  # the question asks for a person/organisation/place/date/number/money
    "type_present",  # ... and this sentence carries that type
    "asks_reason",
    "reason_present",  # "why" asked and the sentence gives a reason
    "leans_back",  # opens with "This", "These", "Such", "Each of these" ...: needs the sentence before
    "qualifies",  # opens with "However", "But", "Yet" ...: qualifies the sentence before
    "last_paragraph",  # in the document's last paragraph (series footers, "read more" lines)
    "about_the_document",  # speaks about the text itself ("this blog series", "read the full post")
    "late_interaction",  # mean over the question's content word pieces of their best cosine in the sentence
    "focus_interaction",  # the same over the pieces of the words that are not names (what is asked)
    "repeated_elsewhere",  # another document has the same sentence: series boilerplate (`boilerplate.py`)
)

LEANS_BACK = re.compile(
    r"^[“\"‘']?(?:this|these|those|such|that|it|they|each of (?:these|those|them)|both|all three|"
    r"all of (?:these|them)|the (?:latter|former|same))\b",
    re.I,
)
QUALIFIES = re.compile(
    r"^[“\"‘']?(?:however|but|yet|nevertheless|nonetheless|still|even so|that said|instead|in fact|"
    r"on the other hand|at the same time)\b",
    re.I,
)


ABOUT_THE_DOCUMENT = re.compile(
    r"\b(?:this|the|our|a joint) (?:blog|post|series|article|piece|contribution|interview|statement|"
    r"proposal|page)\b|\bread (?:the|our|more)\b|\bclick\b|\bhere\.?[”\"]?\s*$|\bsubscribe\b",
    re.I,
)


@dataclass(frozen=True)
class SentenceContext:
    """What the features of one sentence need besides the question."""

    text: str
    cosine: float
    context_cosine: float
    neighbour_cosine: float
    passage_rank: int
    index_in_paragraph: int
    paragraph_sentences: int
    in_last_paragraph: bool
    late_interaction: float
    focus_interaction: float
    repeated_elsewhere: bool
    side_line: bool
    quotable: bool
    answered_outright: bool
    is_title: bool


@dataclass(frozen=True)
class QuestionContext:
    text: str
    terms: frozenset[str]
    names: tuple[tuple[str, ...], ...]
    asked: str | None
    pairs: frozenset[tuple[str, str]] = frozenset()


def question_context(
    question: str, terms: frozenset[str], asked: str | None, pairs: frozenset[tuple[str, str]] = frozenset()
) -> QuestionContext:
    return QuestionContext(question, terms, tuple(named_phrases(question)), asked, pairs)


@dataclass(frozen=True)
class Shared:
    """Per-candidate values that need the other candidates or the corpus (`candidates.py` fills them)."""

    idf_overlap: float
    phrase_overlap: float
    cosine_rank: int
    overlap_rank: int
    doc_named: bool


def features(
    q: QuestionContext, s: SentenceContext, sentence_terms: frozenset[str], best_cosine: float, shared: Shared
) -> list[float]:
    overlap = len(q.terms & sentence_terms) / len(q.terms) if q.terms else 0.0
    restating = len(q.terms & sentence_terms) / len(sentence_terms) if sentence_terms else 1.0
    factoid = q.asked in FACTOID_TYPES
    text = s.text.strip()
    return [
        s.cosine,
        s.context_cosine,
        s.neighbour_cosine,
        s.cosine - best_cosine,
        overlap,
        shared.idf_overlap,
        shared.phrase_overlap,
        1.0 / shared.cosine_rank,
        1.0 / shared.overlap_rank,
        float(shared.doc_named),
        restating,
        math.log1p(len(sentence_terms - q.terms)),
        1.0 / s.passage_rank,
        float(s.index_in_paragraph == 0),
        s.index_in_paragraph / max(1, s.paragraph_sentences - 1),
        math.log1p(len(text.split())),
        float(s.side_line),
        float(not s.quotable or s.is_title or is_heading(text)),
        float(s.answered_outright),
        float(any(mentions(text, name) for name in q.names)),
        float(factoid),
        float(factoid and has_type(text, q.asked, q.text)),
        float(q.asked == REASON),
        float(q.asked == REASON and has_type(text, REASON)),
        float(bool(LEANS_BACK.match(text))),
        float(bool(QUALIFIES.match(text))),
        float(s.in_last_paragraph),
        float(bool(ABOUT_THE_DOCUMENT.search(text))),
        s.late_interaction,
        s.focus_interaction,
        float(s.repeated_elsewhere),
    ]


def context_vector(vectors: np.ndarray, i: int) -> np.ndarray:
    """The normalised sum of a sentence's vector and its neighbours' within one passage."""
    window = vectors[max(0, i - 1) : i + 2].sum(axis=0)
    norm = float(np.linalg.norm(window))
    return window / norm if norm else window
