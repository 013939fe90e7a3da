"""Frozen records passed between pipeline stages.

Only data lives here: no I/O, no behaviour beyond trivial derived properties.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Document:
    """One source document; `text` is the exact body that all offsets point into."""

    doc_id: str
    title: str
    text: str
    path: str
    author: str | None = None
    kind: str | None = None
    publisher: str | None = None
    series: str | None = None
    date: str | None = None
    content_hash: str = ""
    page_starts: tuple[int, ...] = ()  # character offset where each PDF page begins (empty: no pages)
    url: str | None = None  # where the document can be read online, when the corpus says
    year: str | None = None  # publication year, when the full date is not known


@dataclass(frozen=True)
class Span:
    """A half-open character range `[start, end)` into a document's text."""

    start: int
    end: int


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage: `document.text[start:end] == text` always holds."""

    chunk_id: str
    doc_id: str
    text: str
    start: int
    end: int
    heading: str
    paragraph: int  # 1-based paragraph number of the chunk's first paragraph
    sentences: tuple[Span, ...] = ()  # sentence spans, document offsets
    page: int | None = None


@dataclass(frozen=True)
class Hit:
    """A chunk returned by a retriever, best first."""

    rank: int
    score: float
    chunk: Chunk
    document: Document


@dataclass(frozen=True)
class Citation:
    """A numbered source backing one or more answer sentences."""

    n: int
    document: Document
    chunk: Chunk
    start: int
    end: int
    quote: str
    paragraph: int
    reference: str


@dataclass(frozen=True)
class AnswerSentence:
    text: str
    citations: tuple[int, ...]
    verdict: str | None = None  # set for generated answers: "supported" / "unsupported"


@dataclass(frozen=True)
class Answer:
    """What `ask` returns: either cited sentences or an explicit abstention."""

    question: str
    text: str
    abstained: bool
    sentences: tuple[AnswerSentence, ...]
    citations: tuple[Citation, ...]
    hits: tuple[Hit, ...]
    search_query: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)
