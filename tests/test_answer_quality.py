"""The failure classes of issue 16, each asked with questions of our own (none is in the eval set):
the first sentence answers, a qualifying "However" comes along, footers are not quoted as the
author's words, unstated details are refused with a reason, filters are named honestly, and
follow-ups never silently repeat (see test_conversation.py). Real model, real index."""

from __future__ import annotations

import pytest
from conftest import make_seeds

from msiqa.config import Settings
from msiqa.engine import Engine

pytestmark = pytest.mark.slow

SYNTHETIC = {
    "tea.txt": """---
id: tea-audits
title: Audits on tea estates
author: Ama Mensah
kind: blog post
---
Audits on tea estates

Certification auditors visit each tea estate in the Nilgiri hills once a year. Estate managers are told the date of every audit two weeks ahead. The auditors check wage slips, housing and the safety of pesticide stores.

Certification has brought the estates real benefits: buyers pay a premium for labelled tea and managers now keep written wage records. However, the premium rarely reaches the pickers, and wages on certified estates are no higher than on uncertified ones.

This is the second post in a series on plantation labour. Read the full series here.
""",
}


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory, embedder) -> Engine:
    root = tmp_path_factory.mktemp("synthetic")
    settings = Settings(seeds_dir=make_seeds(root / "seeds", SYNTHETIC), index_dir=root / "index")
    return Engine.open(settings, embedder=embedder)


def test_the_readme_example_opens_with_the_narrow_definition(engine):
    answer = engine.ask("Why is the Kimberley Process definition of conflict diamonds criticized?")
    assert "incredibly narrow" in answer.citations[0].quote


def test_a_qualifying_however_sentence_comes_with_the_sentence_it_qualifies(synthetic):
    answer = synthetic.ask("What benefits has certification brought the tea estates?")
    quotes = [c.quote for c in answer.citations]
    benefit = next(i for i, q in enumerate(quotes) if q.startswith("Certification has brought"))
    assert quotes[benefit + 1].startswith("However, the premium rarely reaches the pickers")


def test_the_first_sentence_is_the_best_one_not_the_first_in_reading_order(synthetic):
    answer = synthetic.ask("How far in advance are estate managers told about an audit?")
    assert answer.citations[0].quote.startswith("Estate managers are told the date of every audit two weeks")


def test_a_series_footer_is_not_quoted_as_an_answer(synthetic):
    answer = synthetic.ask("What do the auditors check on the tea estates?")
    assert not answer.abstained
    assert answer.citations[0].quote.startswith("The auditors check wage slips")
    assert not any("second post in a series" in c.quote for c in answer.citations)


@pytest.mark.parametrize(
    "question, fact",
    [
        ("In which part of Cameroon do the artisanal miners in the photo work?", "East Region"),
        ("How many agreements did the Dutch sector approach produce in five years?", "eleven"),
    ],
)
def test_a_factoid_answer_opens_with_the_sentence_that_holds_the_fact(engine, question, fact):
    answer = engine.ask(question)
    assert fact in answer.citations[0].quote


def test_an_unstated_detail_about_a_known_subject_is_refused_and_named(engine):
    answer = engine.ask("Who is the treasurer of RELUFA?")
    assert answer.abstained and answer.hits  # the closest passages still come with the refusal
    assert "RELUFA" in answer.text and "never say who" in answer.text


def test_a_kind_filter_does_not_claim_the_documents_never_mention_a_thing(engine):
    answer = engine.ask("What happened at Rana Plaza?", kinds=["press release"])
    assert answer.abstained
    assert answer.text.startswith("The selected documents")
    assert any("miedema-binding-brands" in note for note in answer.notes)


def test_a_document_filter_refuses_an_off_document_question(engine):
    answer = engine.ask("How does the Fair Food Program protect farmworkers?", doc_ids=["gleckman-democracy"])
    assert answer.abstained and not answer.citations
    assert "selected documents" in answer.text
    assert any("press-release-2020-08-11" in note for note in answer.notes)
