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


def engine_over(files: dict[str, str], tmp_path_factory, embedder) -> Engine:
    """An engine over a corpus of our own, in a fresh folder."""
    root = tmp_path_factory.mktemp("corpus")
    settings = Settings(seeds_dir=make_seeds(root / "seeds", files), index_dir=root / "index")
    return Engine.open(settings, embedder=embedder)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory, embedder) -> Engine:
    return engine_over(SYNTHETIC, tmp_path_factory, embedder)


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


SERIES = {
    f"{name}.txt": f"""---
id: {name}
title: {title}
author: {author}
kind: blog post
---
{title}

{body}

This is a contribution to a joint blog series by the Harbour Institute and the Fishers' Forum.
"""
    for name, title, author, body in [
        (
            "quotas",
            "Quotas without fishers",
            "Lena Berg",
            "The Baltic quota council sets catch limits behind closed doors. Small-scale fishers hold no seat "
            "on it and learn the limits from the radio.",
        ),
        (
            "ports",
            "Ports and power",
            "Omar Diallo",
            "Port authorities in Dakar charge landing fees that small boats cannot afford. The Harbour "
            "Institute found that the fees doubled between 2015 and 2019.",
        ),
        (
            "nets",
            "Nets that last",
            "Mia Sato",
            "Cooperatives in Hokkaido share repair workshops for nets. Members say the workshops cut their "
            "costs by a third.",
        ),
    ]
}


@pytest.fixture(scope="module")
def series(tmp_path_factory, embedder) -> Engine:
    return engine_over(SERIES, tmp_path_factory, embedder)


def test_a_footer_repeated_across_a_series_takes_one_place_and_is_not_the_answer(series):
    """The same footer closes every post; a question naming the series' publisher must not be answered
    with it, and it may take at most one of the hits."""
    answer = series.ask("What did the Harbour Institute find about fees?")
    assert not answer.abstained
    assert "fees doubled" in answer.citations[0].quote
    footers = [h for h in answer.hits if h.chunk.text.startswith("This is a contribution")]
    assert len(footers) <= 1
    assert not any("joint blog series" in c.quote for c in answer.citations)


def test_series_boilerplate_never_follows_as_if_the_author_wrote_it(engine):
    answer = engine.ask("Tell me about MSIs")
    assert not any("blog series" in c.quote or "The series will" in c.quote for c in answer.citations[1:])


def test_the_headline_of_a_named_document_is_quoted_from_its_title_line(engine):
    answer = engine.ask("What headline did Harris Gleckman give his post?")
    assert not answer.abstained
    assert answer.citations[0].quote.startswith("Rethinking MSIs: Where Is the Debate About Democracy")


def test_a_vague_many_is_not_taken_for_the_figure_a_how_many_question_asks(engine):
    """'many MSIs' gives no count: the answer must not open with it as if it did."""
    answer = engine.ask("How many MSIs were studied for the Not Fit-for-Purpose report?")
    assert answer.abstained or "many MSIs are no longer" not in answer.citations[0].quote


def test_neighbours_brought_along_count_against_the_word_budget(engine):
    for question in ("What is the Fair Food Program and why is it different?", "Tell me about MSIs"):
        answer = engine.ask(question)
        words = [len(c.quote.split()) for c in answer.citations]
        assert sum(words) <= max(engine.settings.answer_max_words, words[0])
