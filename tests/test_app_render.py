"""The page's HTML and chat Markdown (msiqa.render_html): escaped, anchored, highlighted exactly.
Fast checks without a server; the browser tests prove the same things on the live page."""

from __future__ import annotations

import html
import re

from msiqa.types import Document
from msiqa.web.render import (
    answer_pieces,
    answer_text,
    citation_text,
    corpus_note,
    documents_html,
    filters_note,
    highlighted_paragraph,
    md_escape,
    question_echo,
    sources_html,
)

KP = "Why is the Kimberley Process definition of conflict diamonds criticized?"
TEXT = (
    "Title line\n\nFirst paragraph. It has <b>two</b> sentences & more.\n\nSecond *para* [x](javascript:y)."
)
DOC = Document(
    doc_id="d/1 x", title="A <i>title</i>", text=TEXT, path="d.txt", author="O'Neil & Co", kind="memo"
)


def test_md_escape_leaves_no_markup_or_formatting():
    out = md_escape('<img src=x onerror="a()"> **bold** [l](javascript:x) $x$ `c` # h & <b>')
    assert "<" not in out and ">" not in out
    assert "&lt;img" in out and "&amp;" in out
    for raw in ("**", "[l]", "](", "$x$", "`c`"):
        assert raw not in out
    assert (
        re.sub(r"\\(.)", r"\1", html.unescape(out))
        == '<img src=x onerror="a()"> **bold** [l](javascript:x) $x$ `c` # h & <b>'
    )


def test_question_echo_shortens_long_questions():
    echo = question_echo("why " * 25_000)
    assert len(echo) < 600 and "100,000 characters" in echo


def test_highlight_marks_exactly_the_quoted_characters():
    start = TEXT.index("It has")
    end = TEXT.index("more.") + len("more.")
    out = highlighted_paragraph(DOC, start, end)
    assert out == "First paragraph. <mark>It has &lt;b&gt;two&lt;/b&gt; sentences &amp; more.</mark>"


def test_documents_html_escapes_and_anchors_every_paragraph():
    out = documents_html({DOC.doc_id: DOC})
    assert "<i>" not in out and "<b>" not in out and "javascript:y)" in out  # text, not a link
    assert 'href="javascript' not in out
    assert re.findall(r'id="(doc-d-1-x-p\d+)"', out) == ["doc-d-1-x-p1", "doc-d-1-x-p2", "doc-d-1-x-p3"]
    assert "O&#x27;Neil &amp; Co" in out


def test_real_answer_markers_cards_and_document_anchors_agree(engine):
    from msiqa.serialize import answer_to_dict

    answer = answer_to_dict(engine.ask(KP))
    chat = "".join(answer_pieces(answer, turn=3))
    markers = re.findall(r"\]\(#(src-3-\d+)\)", chat)
    assert markers == [f"src-3-{c['n']}" for c in answer["citations"]]
    panel = sources_html([{"turn": 3, "answer": answer}], engine.index.documents)
    docs = documents_html(engine.index.documents)
    for c in answer["citations"]:
        card = re.search(
            rf'<article class="msiqa-src" id="src-3-{c["n"]}">(.*?)</article>', panel, re.S
        ).group(1)
        assert (
            html.unescape(re.search(r"<mark>(.*?)</mark>", card, re.S).group(1)).replace("<br>", "\n")
            == c["quote"]
        )
        anchor = re.search(r'class="msiqa-read" href="#([^"]+)"', card).group(1)
        paragraph = re.search(rf'<p class="[^"]*" id="{anchor}">(.*?)</p>', docs, re.S).group(1)
        assert c["quote"] in html.unescape(re.sub(r"<a [^>]*>.*?</a> ", "", paragraph).replace("<br>", "\n"))


def test_abstention_lists_closest_passages_as_not_an_answer(engine):
    from msiqa.serialize import answer_to_dict

    answer = answer_to_dict(engine.ask("Who won the 2018 FIFA World Cup?"))
    assert answer["abstained"]
    panel = sources_html([{"turn": 1, "answer": answer}], engine.index.documents)
    assert "not an answer" in panel
    assert panel.count('class="msiqa-src msiqa-closest"') == len(answer["hits"]) > 0
    assert "<mark>" not in panel


LINKED = Document(
    doc_id="t",
    title="The “tinsel” review",
    text="Tinsel\n\nThey called it “a “gold standard” in name only”.",
    path="t.txt",
    author="Ada Quill",
    kind="blog post",
    publisher="Tinsel Quarterly",
    series="Notes, part 2",
    year="2019",
    url="https://example.org/t",
)


def test_documents_html_paragraph_offsets_point_into_the_text():
    out = documents_html({DOC.doc_id: DOC})
    for start, body in re.findall(r'<span class="msiqa-t" data-start="(\d+)">(.*?)</span>', out):
        text = html.unescape(body.replace("<br>", "\n"))
        assert TEXT[int(start) : int(start) + len(text)] == text
    assert 'id="msiqa-toc"' in out and "Back to the answer" in out


def test_citation_text_has_every_part_and_never_doubles_quotation_marks():
    start = LINKED.text.index("a “gold")
    c = {"n": 1, "doc_id": "t", "title": LINKED.title, "paragraph": 2, "quote": LINKED.text[start:-1]}
    out = citation_text(c, LINKED)
    # author, title (its own quotation marks made single), publisher, series, year, paragraph, address, quote
    assert out == (
        "Ada Quill, “The ‘tinsel’ review”, Tinsel Quarterly, Notes, part 2, 2019, para. 2. "
        "https://example.org/t “a ‘gold standard’ in name only’”"
    )


def test_citation_prefers_the_full_date_and_says_nd_without_one():
    c = {"n": 1, "doc_id": "d/1 x", "title": DOC.title, "paragraph": 1, "quote": "It has"}
    assert ", n.d., para. 1." in citation_text(c, DOC)
    dated = Document(**{**DOC.__dict__, "date": "2020-08-11", "year": "2020"})
    assert ", 2020-08-11, para. 1." in citation_text(c, dated)


def test_answer_text_is_the_sentences_then_a_numbered_reference_list():
    answer = {
        "abstained": False,
        "answer": "",
        "sentences": [{"text": "One. [1]", "citations": [1]}, {"text": "Two\n words. [2]", "citations": [2]}],
        "citations": [
            {"n": 1, "doc_id": "t", "title": LINKED.title, "paragraph": 2, "quote": "q"},
            {"n": 2, "doc_id": "d/1 x", "title": DOC.title, "paragraph": 1, "quote": "q"},
        ],
    }
    out = answer_text(answer, {"t": LINKED, DOC.doc_id: DOC})
    body, refs = out.split("\n\nReferences\n")
    assert body == "One. [1] Two words. [2]"
    assert refs.splitlines()[0].startswith("[1] Ada Quill, “The ‘tinsel’ review”")
    assert refs.splitlines()[1].startswith("[2] O'Neil & Co, “A <i>title</i>”")  # plain text: not escaped
    assert "\\" not in out and "](#" not in out


def test_filters_note_names_the_filters_and_is_empty_without_them():
    assert filters_note([], []) == ""
    note = filters_note(["A <b>doc</b>"], ["blog post"])
    assert "A" in note and "blog post" in note and "<b>" not in note


def test_corpus_note_names_each_piece_with_its_kind_and_what_is_missing():
    out = corpus_note({DOC.doc_id: DOC, LINKED.doc_id: LINKED})
    assert "**2 short pieces**" in out and "memo" in out and "blog post" in out
    assert "&lt;i&gt;" in out and "<i>" not in out  # titles escaped
    assert "not" in out and "report itself" in out


def test_abstention_reply_links_to_its_panel():
    answer = {"abstained": True, "answer": "No.", "sentences": [], "citations": [], "hits": []}
    assert "](#turn-4)" in "".join(answer_pieces(answer, 4))
