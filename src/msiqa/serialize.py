"""`Answer` -> the JSON shape shared by `msiqa ask --json` and the web app's `/ask` endpoint."""

from __future__ import annotations

from msiqa.types import Answer, Citation, Hit


def citation_to_dict(c: Citation) -> dict:
    return {
        "n": c.n,
        "doc_id": c.document.doc_id,
        "title": c.document.title,
        "author": c.document.author,
        "kind": c.document.kind,
        "date": c.document.date,
        "chunk_id": c.chunk.chunk_id,
        "paragraph": c.paragraph,
        "page": c.chunk.page,
        "start": c.start,
        "end": c.end,
        "quote": c.quote,
        "reference": c.reference,
    }


def hit_to_dict(h: Hit) -> dict:
    return {
        "rank": h.rank,
        "chunk_id": h.chunk.chunk_id,
        "doc_id": h.document.doc_id,
        "title": h.document.title,
        "kind": h.document.kind,
        "score": round(h.score, 6),
        "paragraph": h.chunk.paragraph,
        "heading": h.chunk.heading,
        "page": h.chunk.page,
        "start": h.chunk.start,
        "end": h.chunk.end,
        "text": h.chunk.text,
    }


def answer_to_dict(a: Answer) -> dict:
    return {
        "question": a.question,
        "search_query": a.search_query or a.question,
        "answer": a.text,
        "abstained": a.abstained,
        "sentences": [
            {"text": s.text, "citations": list(s.citations), "verdict": s.verdict} for s in a.sentences
        ],
        "citations": [citation_to_dict(c) for c in a.citations],
        "hits": [hit_to_dict(h) for h in a.hits],
        "notes": list(a.notes),
    }
