"""Bring-your-own documents: PDF/HTML/Markdown/text loaders, `add` with incremental indexing, `docs`,
and bad files that never hurt good ones. PDFs and pages are written inside the tests (fpdf2, pypdf)."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import make_seeds

from msiqa.config import Settings
from msiqa.engine import Engine, build_index, ensure_index
from msiqa.indexing.build import add_files, describe_documents
from msiqa.indexing.store import load_index, read_manifest
from msiqa.ingest.loaders import read_document

SEEDS = {
    "kp.txt": "The Kimberley Process\n\nThe Kimberley Process certifies that rough diamonds are conflict "
    "free, but it ignores human rights abuses committed by state security forces at the mines.\n",
    "eiti.md": "---\ntitle: The EITI\nauthor: A. Analyst\nkind: blog post\n---\nThe EITI\n\nThe Extractive "
    "Industries Transparency Initiative publishes the payments that oil, gas and mining companies make to "
    "governments.\n",
}
PDF_PAGES = [
    "Working conditions on fishing vessels. Crews on distant-water fishing boats often work twenty hours a "
    "day and many are never paid their wages.",
    "Cobalt mining in the Congo. Artisanal cobalt miners in Katanga are paid by the sack and children "
    "carry the ore out of the tunnels.",
    "Conclusion. Multi-stakeholder initiatives rarely give affected communities a vote on their boards.",
]
HTML = """<!doctype html><html><head><title>Palm oil smallholders | Example Watch</title>
<meta name="author" content="Rosa Verde">
<meta property="article:published_time" content="2021-03-04">
</head><body><nav><a href="/">Home</a> <a href="/about">About us</a> <a href="/donate">Donate now</a></nav>
<article><h1>Palm oil smallholders</h1>
<p>Smallholder farmers in Sumatra sell fresh fruit bunches to mills that are certified by the Roundtable on
Sustainable Palm Oil, yet the farmers themselves are rarely consulted about the certification.</p>
<p>The Roundtable's complaints panel took four years to decide a land-grab case brought by villagers in
West Kalimantan, and the plantation kept operating throughout.</p>
</article><footer>Subscribe to our newsletter. Cookie settings. Copyright Example Watch.</footer>
</body></html>
"""


def make_pdf(
    pages: list[str], title: str | None = "Labour at sea and underground", author: str | None = "M. Writer"
) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    if title:
        pdf.set_title(title)
    if author:
        pdf.set_author(author)
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        if text:
            pdf.multi_cell(0, 8, text)
        else:
            pdf.rect(20, 20, 80, 80, style="F")  # a page with only a drawing: no text layer
    return bytes(pdf.output())


@pytest.fixture()
def project(tmp_path, embedder):
    settings = Settings(seeds_dir=make_seeds(tmp_path / "seeds", SEEDS), index_dir=tmp_path / "index")
    build_index(settings, embedder)
    return settings


def incoming(tmp_path: Path) -> Path:
    folder = tmp_path / "incoming"
    folder.mkdir(exist_ok=True)
    (folder / "labour.pdf").write_bytes(make_pdf(PDF_PAGES))
    (folder / "palm-oil.html").write_text(HTML, encoding="utf-8")
    return folder


def cited_docs(answer) -> set[str]:
    return {c.document.doc_id for c in answer.citations}


def test_pdf_loader_keeps_pages_and_metadata(tmp_path):
    path = tmp_path / "labour.pdf"
    path.write_bytes(make_pdf(PDF_PAGES))
    doc = read_document(path)
    assert (
        doc.title == "Labour at sea and underground"
        and doc.author == "M. Writer"
        and doc.kind == "PDF document"
    )
    assert len(doc.page_starts) == 3 and doc.page_starts[0] == 0
    second = doc.text[doc.page_starts[1] : doc.page_starts[2]]
    assert "Cobalt mining in the Congo" in second and "fishing" not in second


def test_html_loader_drops_boilerplate_and_reads_page_metadata(tmp_path):
    path = tmp_path / "palm-oil.html"
    path.write_text(HTML, encoding="utf-8")
    doc = read_document(path)
    assert doc.title == "Palm oil smallholders" and doc.author == "Rosa Verde" and doc.date == "2021-03-04"
    assert "West Kalimantan" in doc.text
    for boilerplate in ("Donate now", "About us", "newsletter", "Cookie"):
        assert boilerplate not in doc.text
    assert "\n\n" in doc.text  # paragraphs stay separate blocks for chunking and "para. N"


def test_add_pdf_and_html_then_ask_cites_them_with_page(project, embedder, tmp_path):
    report = add_files(project, embedder, [incoming(tmp_path)])
    assert set(report.added) == {"labour.pdf", "palm-oil.html"} and not report.skipped
    assert (project.seeds_dir / "labour.pdf").is_file() and (project.seeds_dir / "palm-oil.html").is_file()
    assert set(report.build.unchanged) == {"eiti.md", "kp.txt"} and report.chunks_embedded > 0
    engine = Engine.open(project, rebuild=False, embedder=embedder)
    answer = engine.ask("How are artisanal cobalt miners in Katanga paid?")
    assert not answer.abstained
    cobalt = [c for c in answer.citations if c.document.doc_id == "labour"]
    page_two = [c for c in cobalt if "Cobalt" in c.quote or "sack" in c.quote]
    assert page_two and all("p. 2, para." in c.reference for c in page_two)
    for c in cobalt:
        assert c.document.text[c.start : c.end] == c.quote
        page = sum(
            start <= c.start for start in c.document.page_starts
        )  # pages whose start precedes the quote
        assert f"p. {page}, para." in c.reference
    answer = engine.ask("How long did the palm oil complaints panel take to decide the land-grab case?")
    assert "palm-oil" in cited_docs(answer)


def test_deleted_document_is_never_retrieved_again(project, embedder, tmp_path):
    add_files(project, embedder, [incoming(tmp_path)])
    (project.seeds_dir / "labour.pdf").unlink()
    index = ensure_index(project, embedder)  # seeds/ changed by hand: brought in step before answering
    assert "labour" not in index.documents
    assert all(c.doc_id != "labour" for c in index.chunks)
    assert read_manifest(project.index_dir)["last_build"]["chunks_embedded"] == 0
    engine = Engine(project, embedder, index)
    for retriever in ("dense", "bm25", "hybrid"):
        hits = engine.retrieve(
            "cobalt miners in Katanga paid by the sack", retriever=retriever, top_k=10
        ).hits
        assert all(h.chunk.doc_id != "labour" and "cobalt" not in h.chunk.text.lower() for h in hits)
    assert "palm-oil" in cited_docs(engine.ask("Who sells fresh fruit bunches to certified mills?"))


def test_re_adding_unchanged_files_embeds_nothing(project, embedder, tmp_path):
    folder = incoming(tmp_path)
    first = add_files(project, embedder, [folder])
    assert first.chunks_embedded > 0
    again = add_files(project, embedder, [folder])
    assert again.added == () and again.updated == ()
    assert set(again.unchanged) == {"labour.pdf", "palm-oil.html"}
    assert again.chunks_embedded == 0


def test_changed_file_is_updated_and_only_it_is_embedded(project, embedder, tmp_path):
    folder = incoming(tmp_path)
    add_files(project, embedder, [folder])
    (folder / "palm-oil.html").write_text(HTML.replace("four years", "seven years"), encoding="utf-8")
    report = add_files(project, embedder, [folder / "palm-oil.html"])
    assert report.updated == ("palm-oil.html",)
    index = load_index(project.index_dir)
    palm = [c for c in index.chunks if c.doc_id == "palm-oil"]
    assert report.chunks_embedded == len(palm)
    assert any("seven years" in c.text for c in palm) and not any("four years" in c.text for c in palm)


def test_incremental_and_full_builds_retrieve_the_same(project, embedder, tmp_path):
    add_files(project, embedder, [incoming(tmp_path)])
    (project.seeds_dir / "kp.txt").write_text(
        SEEDS["kp.txt"].replace("rough diamonds", "rough gems"), encoding="utf-8"
    )
    build_index(project, embedder, incremental=True)
    incremental = load_index(project.index_dir)
    full_settings = project.with_(index_dir=tmp_path / "full-index")
    build_index(full_settings, embedder)
    full = load_index(full_settings.index_dir)
    assert [c.chunk_id for c in incremental.chunks] == [c.chunk_id for c in full.chunks]
    assert np.allclose(incremental.chunk_vectors, full.chunk_vectors, atol=1e-5)
    assert np.allclose(incremental.sentence_vectors, full.sentence_vectors, atol=1e-5)
    questions = [
        "Who is paid by the sack?",
        "What does the Kimberley Process certify?",
        "Which payments does the EITI publish?",
        "Who decides land-grab complaints?",
    ]
    for question in questions:
        got = [
            Engine(s, embedder, i).retrieve(question, top_k=5).hits
            for s, i in ((project, incremental), (full_settings, full))
        ]
        assert [h.chunk.chunk_id for h in got[0]] == [h.chunk.chunk_id for h in got[1]], question


def test_bad_files_are_reported_by_name_and_good_ones_indexed(project, embedder, tmp_path):
    from pypdf import PdfReader, PdfWriter

    bad = tmp_path / "bad"
    bad.mkdir()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(PDF_PAGES))))
    writer.encrypt("secret", algorithm="RC4-128")
    encrypted = io.BytesIO()
    writer.write(encrypted)
    pdf = make_pdf(PDF_PAGES)
    files = {
        "encrypted.pdf": encrypted.getvalue(),
        "damaged.pdf": pdf[: len(pdf) // 3],
        "scanned.pdf": make_pdf(["", ""], title=None, author=None),
        "report-renamed.txt": pdf,
        "binary.txt": bytes(range(256)) * 8,
        "empty.md": b"",
        "huge.txt": b"Big file. " * 2000,  # over the limit set below; a 200 MB file is refused the same way
        "mixed.txt": "Caf\u00e9 in UTF-8\n".encode() + "Caf\u00e9 in Latin-1\n".encode("latin-1"),
        "kp-copy.txt": SEEDS["kp.txt"].encode(),
        "notes.docx": b"PK\x03\x04 not really",
        "good.txt": b"Fair Food Program\n\nFlorida tomato pickers can report abuse to an independent "
        b"council.\n",
    }
    make_seeds(bad, files)
    settings = project.with_(max_file_bytes=10_000)
    report = add_files(settings, embedder, [bad])
    reasons = {s.path.rsplit("/", 1)[-1]: s.reason for s in report.skipped}
    assert report.added == ("good.txt",)
    assert "encrypted" in reasons["encrypted.pdf"]
    assert "damaged" in reasons["damaged.pdf"]
    assert "no text layer" in reasons["scanned.pdf"] and "OCR" in reasons["scanned.pdf"]
    assert "binary" in reasons["report-renamed.txt"] and "PDF" in reasons["report-renamed.txt"]
    assert "binary" in reasons["binary.txt"]
    assert "empty" in reasons["empty.md"]
    assert "over the 10,000 bytes limit" in reasons["huge.txt"]
    assert "mixed encodings" in reasons["mixed.txt"] and "line 2" in reasons["mixed.txt"]
    assert "duplicate of kp.txt" in reasons["kp-copy.txt"]
    assert "unsupported file type .docx" in reasons["notes.docx"]
    assert len(reasons) == len(files) - 1
    index = load_index(project.index_dir)
    assert set(index.documents) == {"kp", "eiti", "good"}
    assert sorted(p.name for p in project.seeds_dir.iterdir()) == ["eiti.md", "good.txt", "kp.txt"]


def test_bad_files_dropped_into_seeds_by_hand_are_skipped_with_reasons(project, embedder):
    make_seeds(
        project.seeds_dir,
        {
            "scanned.pdf": make_pdf([""], title=None),
            "empty.txt": b"",
            "huge.txt": b"x " * 3000,
            "labour.pdf": make_pdf(PDF_PAGES),
        },
    )
    report = build_index(project.with_(max_file_bytes=5000), embedder, incremental=True)
    reasons = {s.path: s.reason for s in report.skipped}
    assert set(reasons) == {"scanned.pdf", "empty.txt", "huge.txt"}
    assert report.added == ("labour.pdf",) and set(report.unchanged) == {"eiti.md", "kp.txt"}
    assert read_manifest(project.index_dir)["skipped"] == [
        {"path": p, "reason": r} for p, r in reasons.items()
    ]


class ExplodingEmbedder:
    """The real model that fails part way through the update (like a crash or a full disk)."""

    def __init__(self, real):
        self._real = real
        self.model_id, self.weights_sha256, self.dim = real.model_id, real.weights_sha256, real.dim

    def encode(self, texts, batch_size=32):
        raise RuntimeError("killed half way")


def test_failed_add_leaves_seeds_and_index_as_they_were(project, embedder, tmp_path):
    before_manifest = read_manifest(project.index_dir)
    before_seeds = {p.name: p.read_bytes() for p in project.seeds_dir.iterdir()}
    folder = incoming(tmp_path)
    (folder / "kp.txt").write_text(SEEDS["kp.txt"] + "\nAn edited closing line.\n", encoding="utf-8")
    with pytest.raises(RuntimeError, match="killed half way"):
        add_files(project, ExplodingEmbedder(embedder), [folder])
    assert {p.name: p.read_bytes() for p in project.seeds_dir.iterdir()} == before_seeds
    assert read_manifest(project.index_dir) == before_manifest
    assert set(load_index(project.index_dir).documents) == {"kp", "eiti"}
    assert not [p for p in tmp_path.rglob("*") if ".tmp-" in p.name or ".add-backup-" in p.name]


def test_docs_lists_metadata_pages_paragraphs_and_chunks(project, embedder, tmp_path):
    add_files(project, embedder, [incoming(tmp_path)])
    rows = {r["id"]: r for r in describe_documents(load_index(project.index_dir))}
    assert rows["labour"]["pages"] == 3 and rows["labour"]["kind"] == "PDF document"
    assert rows["palm-oil"]["author"] == "Rosa Verde" and rows["palm-oil"]["date"] == "2021-03-04"
    assert (
        rows["eiti"]["title"] == "The EITI"
        and rows["eiti"]["kind"] == "blog post"
        and rows["eiti"]["pages"] is None
    )
    assert rows["kp"]["paragraphs"] == 2
    index = load_index(project.index_dir)
    for doc_id, row in rows.items():
        assert row["chunks"] == sum(c.doc_id == doc_id for c in index.chunks) > 0


def test_cli_add_json_and_docs_json(project, tmp_path, capsys):
    from msiqa.cli import main

    folder = incoming(tmp_path)
    common = ["--seeds", str(project.seeds_dir), "--index", str(project.index_dir)]
    assert main(["add", str(folder), *common, "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert set(first["added"]) == {"labour.pdf", "palm-oil.html"} and first["chunks_embedded"] > 0
    assert main(["add", str(folder / "labour.pdf"), str(tmp_path / "missing.pdf"), *common, "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["unchanged"] == ["labour.pdf"] and again["chunks_embedded"] == 0
    assert again["skipped"] == [{"path": str(tmp_path / "missing.pdf"), "reason": "no such file or folder"}]
    assert main(["docs", *common, "--json"]) == 0
    docs = {d["id"]: d for d in json.loads(capsys.readouterr().out)}
    assert docs["labour"]["pages"] == 3 and set(docs) == {"kp", "eiti", "labour", "palm-oil"}
    shutil.rmtree(project.seeds_dir)
    project.seeds_dir.mkdir()
    assert main(["add", str(tmp_path / "nothing-here.txt"), *common]) == 2
    assert "Nothing was added" in capsys.readouterr().err
