"""Answers a researcher can check: ten questions read as cited replies whose quotes match the documents."""

from __future__ import annotations

import re

import pytest

from msiqa.answer.compose import speaker, trim_quotes
from msiqa.answer.lines import contact_lines, quotable, side_line
from msiqa.query.answer_types import asked_type, has_type
from msiqa.ingest.chunking import is_heading
from msiqa.serialize import answer_to_dict
from msiqa.types import Document, Span

# (question, the document whose words must be cited, a phrase one cited quote must contain)
TEN = [
    (
        "Why is the Kimberley Process definition of conflict diamonds criticized?",
        "bamenjo-lip-service",
        "narrow",
    ),
    ("How are local communities represented in the EITI?", "bamenjo-lip-service", "EITI"),
    (
        "What did MSI Integrity's report conclude about multi-stakeholder initiatives?",
        "press-release-2020-08-11",
        "report",
    ),
    ("What is the Fair Food Program and why is it different?", None, "Fair Food Program"),
    (
        "What does Harris Gleckman say about democracy and multi-stakeholder governance?",
        "gleckman-democracy",
        "governance",
    ),
    (
        "How did the COVID-19 pandemic expose failures of corporate social responsibility?",
        "press-release-2020-08-11",
        "COVID-19",
    ),
    (
        "Why is the Dutch policy on responsible business conduct agreements insufficient?",
        "wolfkamp-regulating-rbc",
        "insufficient",
    ),
    (
        "What did the Accord on Fire and Building Safety in Bangladesh achieve?",
        "miedema-binding-brands",
        "Accord",
    ),
    ("What did Amelia Evans say on Radio FM4?", "radio-fm4-evans-interview", "regulate"),
    (
        "Are ethical certifications enough to protect human rights?",
        "lexology-ethical-certifications",
        "certification",
    ),
]


@pytest.mark.parametrize("question, doc_id, phrase", TEN, ids=[f"q{i}" for i in range(1, 11)])
def test_ten_answers_are_coherent_cited_and_exact(engine, question, doc_id, phrase):
    answer = engine.ask(question)
    assert not answer.abstained, answer.text
    assert answer.sentences and answer.citations
    used = set()
    for sentence in answer.sentences:
        assert sentence.citations, sentence.text  # every sentence is cited ...
        assert re.search(r"\[\d+\]$", sentence.text)  # ... and carries its [n] at the end
        used |= set(sentence.citations)
    assert used == {c.n for c in answer.citations}  # no orphan source entry
    previous_doc = None
    for sentence, c in zip(answer.sentences, answer.citations):
        assert c.document.text[c.start : c.end] == c.quote  # the quote is the document text at its offsets
        assert c.quote in sentence.text
        assert quotable(c.document, c.quote)  # no heading, title, link line or question stands as an answer
        lead = f"{speaker(c.document)}: "
        assert sentence.text.startswith(lead) == (
            c.document.doc_id != previous_doc
        )  # who is speaking, once per source
        previous_doc = c.document.doc_id
        assert c.reference.endswith(f"para. {c.paragraph}.")
    words = [len(c.quote.split()) for c in answer.citations]
    assert sum(words) <= max(
        engine.settings.answer_max_words, words[0]
    )  # the word budget (a long first sentence may pass)
    assert len(answer.sentences) <= engine.settings.answer_max_sentences
    if doc_id:
        assert doc_id in {c.document.doc_id for c in answer.citations}
    assert any(phrase.lower() in c.quote.lower() for c in answer.citations), [
        c.quote for c in answer.citations
    ]


def test_sources_read_in_document_order_within_each_document_after_the_best(engine):
    answer = engine.ask(TEN[1][0])
    by_doc: dict[str, list[int]] = {}
    for c in answer.citations[1:]:  # the first sentence is the best one, wherever it stands
        if c.document.doc_id == answer.citations[0].document.doc_id and c.start < answer.citations[0].start:
            continue
        by_doc.setdefault(c.document.doc_id, []).append(c.start)
    assert all(starts == sorted(starts) for starts in by_doc.values())


def test_json_carries_sentences_kinds_paragraphs_and_references(engine):
    data = answer_to_dict(engine.ask(TEN[0][0]))
    assert data["sentences"] and all(s["citations"] and s["verdict"] is None for s in data["sentences"])
    for c in data["citations"]:
        assert c["kind"] == "blog post" and c["paragraph"] >= 1 and "reference" in c and "date" in c
        assert c["reference"].startswith("Jaff Bamenjo, “Rethinking MSIs")


def test_who_wrote_question_quotes_the_byline(engine):
    answer = engine.ask("Who wrote the blog post asking where the debate about democracy is?")
    assert answer.citations[0].quote.startswith("by Harris Gleckman")
    assert (
        answer.citations[0].document.text[answer.citations[0].start : answer.citations[0].end]
        == answer.citations[0].quote
    )


def test_why_question_quotes_the_reason(engine):
    answer = engine.ask("Why was the Kimberley Process set up?")
    assert answer.citations[0].quote.startswith("The KPCS was created in response to public outcry")


@pytest.mark.parametrize(
    "question, sentence, matches",
    [
        ("Why do brands resist?", "They resist because it costs money.", True),
        ("Why do brands resist?", "They resist.", False),
        ("What prompted the scheme?", "It was created in response to outcry.", True),
        ("In what year was it formed?", "Formed in 2003 by the UN.", True),
        ("When did MSIs appear?", "They emerged in the 1990s.", True),
        ("When did MSIs appear?", "They emerged long ago.", False),
        ("How many farms joined?", "Seven farms joined.", True),
        ("How much did the audit cost?", "The audit cost $40,000.", True),
        ("How much did the audit cost?", "The audit was thorough.", False),
        ("Who chairs the Tea Board?", "The Tea Board meets in spring.", False),  # names only what was asked
        ("Who chairs the Tea Board?", "Ama Mensah chairs the Tea Board.", True),
        ("What do MSIs do?", "They resist because it costs money.", False),  # no expected type
    ],
)
def test_answer_types(question, sentence, matches):
    assert has_type(sentence, asked_type(question), question) is matches


def test_contact_question_quotes_the_contact_entry(engine):
    answer = engine.ask("Who is the press contact for MSI Integrity and what is his email address?")
    quotes = [c.quote for c in answer.citations]
    assert not answer.abstained
    assert any("Teddy Ostrow" in q for q in quotes) and any("teddy@msi-integrity.org" in q for q in quotes)
    assert all(c.document.doc_id == "press-release-2020-08-11" for c in answer.citations)


def test_where_to_download_question_quotes_the_web_address(engine):
    answer = engine.ask("Where can I download the report?")
    assert not answer.abstained
    assert "www.msi-integrity.org/not-fit-for-purpose" in answer.citations[0].quote


def test_contact_lines_are_the_name_above_an_address_and_the_address():
    lines = [
        "PRESS RELEASE: A TITLE",
        "Contact: Teddy Ostrow",
        "teddy@msi-integrity.org",
        "+1 (718) 594-5873",
        "The report is out.",
        "Yaissy Solis, Coalition of Immokalee Workers",
        "yaissy@example.org / (239) 692-1482",
    ]
    assert contact_lines(lines) == [False, True, True, True, False, True, True]


@pytest.mark.parametrize(
    "line, heading",
    [
        ("Real solutions", True),
        ("Interview Requests:", True),  # a short label introduces what follows
        (
            "A press FAQ for the report is available from: www.msi-integrity.org/faq/",
            False,
        ),  # a link is content
        ("teddy@msi-integrity.org", False),
        ("Evans said the following about the report and its findings:", False),  # a long line ending in ":"
        ("by Ann Author", False),
    ],
)
def test_heading_rules(line, heading):
    assert is_heading(line) is heading


def test_abstention_lists_closest_passages_marked_not_an_answer(engine):
    answer = engine.ask("How long should I boil an egg to get a soft, runny yolk?")
    assert answer.abstained and not answer.sentences and answer.hits
    assert "not an answer" in answer.text


DOC = Document("d", "A Title Line", "", "d.txt", author="Ann Author", kind="blog post")


@pytest.mark.parametrize(
    "text, ok, side",
    [
        ("Rethinking MSIs: Regulating Responsible Business Conduct", False, False),  # heading: never quoted
        ("A Title Line", False, False),
        ("The verdict?", False, False),
        # side lines: quotable, but the selector's side_line feature weighs against them
        ("by Ann Author, Coordinator of RELUFA/Cameroon", True, True),
        ("Read the full article covering MSI Integrity’s new report, Not Fit-For-Purpose, here.", True, True),
        ("Contact: Teddy Ostrow", False, False),  # a lone unpunctuated line reads as a heading
        ("teddy@msi-integrity.org / +1 (718) 594-5873", False, False),  # only a contact question quotes it
        ("They are not effective in ensuring accountability for corporate abuse.", True, False),
        ("“We need to shift away from voluntary initiatives,” says Amelia Evans.", True, False),
    ],
)
def test_quotable_sentences(text, ok, side):
    assert quotable(DOC, text) is ok
    if ok:
        assert side_line(text) is side


def test_byline_is_a_side_line_unless_the_question_asks_who_wrote():
    assert quotable(DOC, "by Ann Author")
    assert side_line("by Ann Author") and not side_line("by Ann Author", asks_author=True)


def test_trim_quotes_drops_only_an_unmatched_mark():
    text = "x “The report is clear. They fail.” y"
    opening = Span(2, text.index("They") - 1)  # “The report is clear.
    assert text[trim_quotes(text, opening).start : trim_quotes(text, opening).end] == "The report is clear."
    closing = Span(text.index("They"), text.index("”") + 1)  # They fail.”
    assert text[trim_quotes(text, closing).start : trim_quotes(text, closing).end] == "They fail."
    balanced = Span(2, text.index("”") + 1)
    assert trim_quotes(text, balanced) == balanced


def test_speaker_names_author_or_publisher_and_kind():
    assert speaker(DOC) == "Ann Author (blog post)"
    assert (
        speaker(Document("n", "T", "", "n.txt", publisher="Lexology", kind="news coverage"))
        == "Lexology (news coverage)"
    )


def test_reference_uses_the_year_and_web_address_when_the_document_has_them():
    from msiqa.answer.compose import reference

    doc = Document("y", "Tea audits", "", "y.txt", author="Ama Mensah", year="2020", url="https://example.org/tea")
    assert reference(doc, 3) == "Ama Mensah, “Tea audits”, 2020, para. 3. https://example.org/tea"
    assert reference(Document("n", "T", "", "n.txt"), 1) == "“T”, n.d., para. 1."
