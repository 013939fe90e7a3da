"""Sentence spans with exact document offsets, read as people write text.

pySBD (rule-based sentence boundary detection, the "Golden Rules" set) finds the sentences. What it is
given is a paragraph with its *soft* line breaks turned into spaces: a hard-wrapped paragraph (lines
broken at about 80 columns, as most .txt and .md files are written) reads as one run of prose, so a
sentence that spans a line break stays one sentence. The replacement keeps every character's offset,
so `text[span.start:span.end]` is always the sentence as it stands in the document (line break
included). A line break stays a boundary where a person would see one:

- before a list item ("- ", "* ", "• ", "1. ", "(a) ");
- after a short line (a heading, byline, caption, contact or address line), unless the next line
  carries on a sentence in lower case;
- blank lines always separate (they separate blocks before this module is called).
"""

from __future__ import annotations

import functools
import re

from msiqa.types import Span

WRAPPED_LINE_CHARS = 50  # a line at least this long, broken mid-paragraph, is a hard wrap of prose
_LIST_ITEM = re.compile(r"[ \t]*(?:[-*•–]\s|\d{1,3}[.)]\s|\([a-z0-9]{1,3}\)\s)")
_CONTINUES = re.compile(r"[ \t]*[a-z(“‘\"'][\w’'-]*[ ,;:]")  # a plain lower-case word carries a sentence on


@functools.lru_cache(maxsize=1)
def _segmenter():  # type: ignore[no-untyped-def]
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=False)


def soft_break(line: str, next_line: str) -> bool:
    """Whether the line break between `line` and `next_line` is a hard wrap inside a sentence run."""
    if _LIST_ITEM.match(next_line) or not line.strip() or not next_line.strip():
        return False
    if _CONTINUES.match(next_line) and not line.rstrip().endswith((".", "!", "?", ":")):
        return True
    return len(line.strip()) >= WRAPPED_LINE_CHARS and not line.lstrip().startswith("#")


def runs(text: str, start: int, end: int) -> list[Span]:
    """`text[start:end]` cut at its hard line breaks into runs of prose."""
    out: list[Span] = []
    run_start = start
    lines = text[start:end].split("\n")
    cursor = start
    for i, line in enumerate(lines[:-1]):
        line_end = cursor + len(line)
        if not soft_break(line, lines[i + 1]):
            out.append(Span(run_start, line_end))
            run_start = line_end + 1
        cursor = line_end + 1
    out.append(Span(run_start, end))
    return out


def sentence_spans(text: str, start: int, end: int) -> tuple[Span, ...]:
    """Sentence spans within `text[start:end]`, as document offsets, whitespace trimmed."""
    spans: list[Span] = []
    for run in runs(text, start, end):
        prose = text[run.start : run.end].replace("\n", " ")  # same length: offsets are unchanged
        cursor = 0
        for sentence in _segmenter().segment(prose):
            stripped = sentence.strip()
            if not stripped:
                continue
            found = prose.find(stripped, cursor)
            if found < 0:  # pySBD never rewrites text with clean=False; guard against it anyway
                continue
            spans.append(Span(run.start + found, run.start + found + len(stripped)))
            cursor = found + len(stripped)
    return tuple(spans)
