"""Chunks keep exact offsets, deterministic ids, their heading and paragraph number."""

from __future__ import annotations

from itertools import pairwise

from conftest import SEEDS

from msiqa.ingest.chunking import block_at, chunk_document, paragraph_of, sentence_spans
from msiqa.ingest.corpus import load_corpus
from msiqa.types import Document


def seed_docs():
    return load_corpus(SEEDS).documents


def test_offsets_are_exact_for_every_chunk_and_sentence():
    for doc in seed_docs():
        for size in (300, 700, 1200):
            for chunk in chunk_document(doc, size):
                assert doc.text[chunk.start : chunk.end] == chunk.text
                assert chunk.sentences, chunk.chunk_id
                for s in chunk.sentences:
                    assert chunk.start <= s.start < s.end <= chunk.end
                    assert doc.text[s.start : s.end].strip() == doc.text[s.start : s.end]


def test_chunks_cover_all_text_in_order_and_respect_size():
    for doc in seed_docs():
        chunks = chunk_document(doc, 700)
        covered = "".join(doc.text[c.start : c.end] for c in chunks)
        assert "".join(covered.split()) == "".join(doc.text.split())  # every word, once, in order
        assert all(a.end <= b.start for a, b in pairwise(chunks))
        assert max(len(c.text) for c in chunks) < 700 + 160  # a short trailing sentence may be joined


def test_ids_are_deterministic():
    doc = seed_docs()[1]
    first, second = chunk_document(doc, 700), chunk_document(doc, 700)
    assert [c.chunk_id for c in first] == [c.chunk_id for c in second]
    assert first[0].chunk_id == f"{doc.doc_id}#0000"


def test_heading_and_paragraph_numbers():
    bamenjo = next(d for d in seed_docs() if d.doc_id == "bamenjo-lip-service")
    narrow = next(c for c in chunk_document(bamenjo, 700) if "incredibly narrow" in c.text)
    assert narrow.heading.startswith("The Kimberley Process Certification Scheme")
    blocks = [b for b in bamenjo.text.split("\n\n") if b.strip()]
    assert blocks[narrow.paragraph - 1].startswith(narrow.text[:40])


def test_sentence_spans_split_on_sentence_ends_not_abbreviations():
    text = "Brands act, e.g. in Bangladesh. The Accord is binding! Is it? “Yes.” Done"
    doc = Document("d", "t", text, "d.txt")
    pieces = [text[s.start : s.end] for s in sentence_spans(doc.text, 0, len(text))]
    assert pieces == ["Brands act, e.g. in Bangladesh.", "The Accord is binding!", "Is it?", "“Yes.”", "Done"]


def test_paragraph_lookup_by_offset():
    text = "\n\nTitle\n\nFirst line\nsame paragraph.\n\n\nThird."
    # blocks by hand: "Title" at 2-7 (para 1), "First line\nsame paragraph." at 9-35 (para 2), "Third." at 38
    assert [paragraph_of(text, i) for i in (0, 2, 6, 8, 9, 20, 36, 38, 43)] == [1, 1, 1, 1, 2, 2, 2, 3, 3]
    assert text[block_at(text, 20).start : block_at(text, 20).end] == "First line\nsame paragraph."
    assert block_at("  \n ", 1) is None and paragraph_of("", 0) == 1
