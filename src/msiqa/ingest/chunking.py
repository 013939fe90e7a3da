"""`Document` -> `Chunk`s with exact character offsets (pure; no I/O, no model).

Blocks are runs of non-blank lines. A heading (a short single line without closing punctuation) and
other short blocks (bylines, captions) are joined to the block that follows, so every chunk carries its
context. A unit longer than `chunk_chars` is split on sentence boundaries by langchain's
`RecursiveCharacterTextSplitter`. Offsets are found, never guessed: `doc.text[c.start:c.end] == c.text`.
Sentence spans are kept per chunk so that answers can quote single sentences.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from msiqa.ingest.sentences import sentence_spans
from msiqa.types import Chunk, Document, Span

_BLOCK = re.compile(r"\S(?:.*\S)?(?:\n[ \t]*\S.*)*")  # non-blank lines with no blank line between
SHORT_BLOCK_CHARS = 160
LABEL_WORDS = 4  # "Interview Requests:", "Media contact:" are headings; a longer line ending in ":" is not
WEB_ADDRESS = re.compile(r"\bwww\.|://")
_EMAIL = re.compile(r"\S@\S")


@dataclass(frozen=True)
class Block:
    start: int
    end: int
    paragraph: int
    is_heading: bool


def is_heading(line: str) -> bool:
    """A short single line without closing punctuation ("Real solutions"), or a short label that
    introduces what follows ("Interview Requests:"). Bylines, quotations and lines carrying a web or
    e-mail address are content, never headings."""
    text = line.strip()
    if "\n" in text or not text or len(text) > 140:
        return False
    if (
        text.lower().startswith("by ")
        or text[0] in "“\"‘'"
        or WEB_ADDRESS.search(text)
        or _EMAIL.search(text)
    ):
        return False
    if text.endswith(":"):
        return len(text.split()) <= LABEL_WORDS
    return text[-1] not in '.!;,”"’)'


def blocks(text: str) -> list[Block]:
    found = [(m.start(), m.end()) for m in _BLOCK.finditer(text)]
    return [Block(s, e, i + 1, is_heading(text[s:e])) for i, (s, e) in enumerate(found)]


def units(text: str) -> list[tuple[int, int, int, str]]:
    """(start, end, paragraph, heading) units: headings and short blocks joined to what follows."""
    out: list[tuple[int, int, int, str]] = []
    heading = ""
    pending: Block | None = None
    for block in blocks(text):
        if block.is_heading:
            heading = text[block.start : block.end]
        first = pending or block
        if block.is_heading or block.end - first.start < SHORT_BLOCK_CHARS:
            pending = first
            continue
        out.append((first.start, block.end, first.paragraph, heading))
        pending = None
    if pending is not None:
        out.append((pending.start, len(text.rstrip()), pending.paragraph, heading))
    return out


def split_long(text: str, start: int, end: int, chunk_chars: int, overlap_chars: int) -> list[Span]:
    """Split `text[start:end]` on sentence boundaries into pieces of at most ~`chunk_chars`."""
    if end - start <= chunk_chars:
        return [Span(start, end)]
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_chars,
        chunk_overlap=overlap_chars,
        separators=["\n\n", r"(?:(?<=[.!?])|(?<=[.!?][”’\"')\]]))\s+(?=\S)", "\n", r"(?<=[;:,])\s+", " "],
        is_separator_regex=True,
        keep_separator="end",
        strip_whitespace=True,
    )
    spans: list[Span] = []
    cursor = start
    for piece in splitter.split_text(text[start:end]):
        found = text.find(piece, cursor, end)
        if found < 0:  # overlap moved the piece before the cursor: search from the last start
            found = text.find(piece, spans[-1].start + 1 if spans else start, end)
        spans.append(Span(found, found + len(piece)))
        cursor = found + 1
    return spans


def page_of(doc: Document, offset: int) -> int | None:
    if not doc.page_starts:
        return None
    return bisect.bisect_right(doc.page_starts, offset)


def merge_short(spans: list[Span]) -> list[Span]:
    """Join a short piece (a lone heading, a trailing sentence) to its neighbour in the same unit."""
    out: list[Span] = []
    carry: int | None = None
    for span in spans:
        start = span.start if carry is None else carry
        if span.end - start < SHORT_BLOCK_CHARS and span is not spans[-1]:
            carry = start
            continue
        out.append(Span(start, span.end))
        carry = None
    if len(out) > 1 and out[-1].end - out[-1].start < SHORT_BLOCK_CHARS:
        out[-2:] = [Span(out[-2].start, out[-1].end)]
    return out


def chunk_document(doc: Document, chunk_chars: int, overlap_chars: int = 0) -> list[Chunk]:
    chunks: list[Chunk] = []
    block_starts = [b.start for b in blocks(doc.text)]
    for start, end, _, heading in units(doc.text):
        for span in merge_short(split_long(doc.text, start, end, chunk_chars, overlap_chars)):
            first_para = bisect.bisect_right(block_starts, span.start)
            chunks.append(
                Chunk(
                    chunk_id=f"{doc.doc_id}#{len(chunks):04d}",
                    doc_id=doc.doc_id,
                    text=doc.text[span.start : span.end],
                    start=span.start,
                    end=span.end,
                    heading=heading,
                    paragraph=first_para,
                    sentences=sentence_spans(doc.text, span.start, span.end),
                    page=page_of(doc, span.start),
                )
            )
    return chunks
