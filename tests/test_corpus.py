"""The seed corpus: nothing of the original file lost or duplicated; metadata; unreadable files reported."""

from __future__ import annotations

import re

import pytest
from conftest import SEEDS, make_seeds

from msiqa.errors import CorpusError
from msiqa.ingest.corpus import load_corpus
from msiqa.ingest.loaders import read_document

ORIGINAL = SEEDS / "_source" / "000_b29d7c38feb04f95.txt"


def test_seed_bodies_concatenate_to_the_original_exactly():
    docs = load_corpus(SEEDS).documents
    original = ORIGINAL.read_text(encoding="utf-8")
    front = {}
    for path in sorted(SEEDS.glob("*.txt")):
        raw = path.read_text(encoding="utf-8")
        front[path.name] = re.search(r"^source_lines: (\d+)-(\d+)$", raw, re.M).groups()
    ordered = sorted(docs, key=lambda d: int(front[d.path][0]))
    assert "".join(d.text for d in ordered) == original
    # The declared line ranges partition the original's lines: each line exactly once.
    ranges = sorted((int(a), int(b)) for a, b in front.values())
    covered = [line for a, b in ranges for line in range(a, b + 1)]
    assert covered == list(range(1, original.count("\n") + 2))
    for doc in ordered:
        a, b = (int(x) for x in front[doc.path])
        assert doc.text == "".join(original.splitlines(keepends=True)[a - 1 : b])


def test_nine_documents_with_metadata():
    docs = {d.doc_id: d for d in load_corpus(SEEDS).documents}
    assert len(docs) == 9
    assert docs["bamenjo-lip-service"].author == "Jaff Bamenjo"
    assert docs["bamenjo-lip-service"].kind == "blog post"
    assert docs["press-release-2020-08-11"].date == "2020-08-11"
    assert docs["press-release-2020-08-11"].kind == "press release"
    assert docs["radio-fm4-evans-interview"].kind == "interview"
    assert docs["lexology-ethical-certifications"].kind == "news coverage"
    assert {d.kind for d in docs.values()} == {
        "blog post",
        "press release",
        "news coverage",
        "interview",
        "statement",
    }
    assert all(d.title for d in docs.values())


def test_source_folder_is_not_indexed():
    assert all(not d.path.startswith("_") for d in load_corpus(SEEDS).documents)
    assert len(load_corpus(SEEDS).documents) == 9


def test_front_matter_is_optional_and_body_is_exact(tmp_path):
    folder = make_seeds(
        tmp_path / "seeds",
        {
            "plain.txt": "A Title Line\n\nSome body text here.\n",
            "meta.md": "---\nid: my-doc\ntitle: Given Title\nauthor: Someone\nkind: report\n---\nBody.\n",
        },
    )
    docs = {d.doc_id: d for d in load_corpus(folder).documents}
    assert docs["plain"].title == "A Title Line"
    assert docs["plain"].text == "A Title Line\n\nSome body text here.\n"
    assert docs["my-doc"].title == "Given Title" and docs["my-doc"].author == "Someone"
    assert docs["my-doc"].text == "Body.\n"


def test_unreadable_files_are_skipped_with_reasons(tmp_path):
    folder = make_seeds(
        tmp_path / "seeds",
        {
            "good.txt": "Good document about the Kimberley Process.\n",
            "empty.txt": "",
            "latin1.txt": "Caf\xe9 cr\xe8me".encode("latin-1"),
            "binary.txt": b"\x00\x01\x02\x03binary",
            "zz-copy.txt": "Good document about the Kimberley Process.\n",
        },
    )
    load = load_corpus(folder)
    assert [d.path for d in load.documents] == ["good.txt"]
    reasons = {s.path: s.reason for s in load.skipped}
    assert "no text" in reasons["empty.txt"]
    assert "UTF-8" in reasons["latin1.txt"]
    assert "binary" in reasons["binary.txt"]
    assert "duplicate of good.txt" in reasons["zz-copy.txt"]


def test_empty_or_missing_seeds_folder_is_a_clear_error(tmp_path):
    with pytest.raises(CorpusError, match="No readable"):
        load_corpus(make_seeds(tmp_path / "seeds", {"empty.txt": ""}))
    with pytest.raises(CorpusError, match="not found"):
        load_corpus(tmp_path / "nowhere")


def test_bad_front_matter_is_reported(tmp_path):
    path = tmp_path / "bad.md"
    path.write_text("---\n: : [\n---\nbody\n", encoding="utf-8")
    with pytest.raises(ValueError, match="front matter"):
        read_document(path)
