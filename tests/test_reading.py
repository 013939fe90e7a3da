"""Documents are read as people write them: a hard-wrapped paragraph is prose, not one fragment per
line; headings, list items and blank lines stay boundaries; offsets stay exact; Markdown headings lose
their # marks. Checked on wrapped .txt, wrapped .md, HTML and PDF files (no model needed)."""

from __future__ import annotations

import re
import textwrap

from test_ingest import make_pdf

from msiqa.ingest.chunking import chunk_document
from msiqa.ingest.loaders import read_document

SENTENCES = [
    "Cooperative audits of cocoa farms in the Tano valley were announced in advance, which lets "
    "managers hide the children who work during the harvest.",
    "The certifier answered that surprise visits would cost too much and upset its members.",
    "Inspectors from the ministry, e.g. those posted to Sunyani, saw the same pattern in 2019.",
    "However, the cooperatives kept their labels, because no rule let the certifier withdraw them.",
]
PARAGRAPH = " ".join(SENTENCES)


def collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def sentences_of(doc) -> list[str]:
    spans = [s for chunk in chunk_document(doc, chunk_chars=900) for s in chunk.sentences]
    for span in spans:  # offsets are exact: the quote is the document's own text
        assert doc.text[span.start : span.end] == doc.text[span.start : span.end].strip()
    return [collapse(doc.text[s.start : s.end]) for s in spans]


def test_hard_wrapped_txt_keeps_whole_sentences(tmp_path):
    path = tmp_path / "cocoa.txt"
    wrapped = textwrap.fill(PARAGRAPH, width=72)
    assert wrapped.count("\n") >= 4  # really hard-wrapped, lines broken mid-sentence
    path.write_text(f"Cocoa audits\n\n{wrapped}\n", encoding="utf-8")
    found = sentences_of(read_document(path))
    assert found == ["Cocoa audits", *SENTENCES]


def test_wrapped_markdown_keeps_sentences_and_drops_heading_marks(tmp_path):
    path = tmp_path / "cocoa.md"
    wrapped = textwrap.fill(PARAGRAPH, width=80)
    path.write_text(
        f"# Cocoa audits in the Tano valley\n\n## What the inspectors saw\n\n{wrapped}\n", "utf-8"
    )
    doc = read_document(path)
    assert doc.title == "Cocoa audits in the Tano valley"
    assert "#" not in doc.text
    found = sentences_of(doc)
    assert found[:2] == ["Cocoa audits in the Tano valley", "What the inspectors saw"]
    assert found[2:] == SENTENCES


def test_list_items_and_short_lines_stay_separate(tmp_path):
    path = tmp_path / "contacts.txt"
    path.write_text(
        "The certifier promised three changes:\n"
        "- unannounced audits on every farm in the valley from next season onwards\n"
        "- a hotline for workers that is answered in the local languages of the region\n\n"
        "Contact: Ama Mensah\nama@example.org\n",
        encoding="utf-8",
    )
    found = sentences_of(read_document(path))
    assert "- unannounced audits on every farm in the valley from next season onwards" in found
    assert "- a hotline for workers that is answered in the local languages of the region" in found
    assert "Contact: Ama Mensah" in found and "ama@example.org" in found


def test_html_paragraph_keeps_whole_sentences(tmp_path):
    path = tmp_path / "cocoa.html"
    body = textwrap.fill(PARAGRAPH, width=60)
    path.write_text(
        f"<html><head><title>Cocoa audits</title></head><body><article><h1>Cocoa audits</h1>"
        f"<p>{body}</p></article></body></html>",
        encoding="utf-8",
    )
    found = sentences_of(read_document(path))
    for sentence in SENTENCES:
        assert sentence in found


def test_pdf_lines_broken_by_the_layout_keep_whole_sentences(tmp_path):
    path = tmp_path / "cocoa.pdf"
    path.write_bytes(make_pdf([PARAGRAPH], title="Cocoa audits", author="A. Writer"))
    doc = read_document(path)
    assert doc.text.strip().count("\n") >= 2  # the PDF's text layer breaks lines where the page does
    found = sentences_of(doc)
    for sentence in SENTENCES:
        assert sentence in found
