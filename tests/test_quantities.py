"""Questions asking for a figure (how many X, what fee) and refusing when no passage gives it."""

from __future__ import annotations

import pytest

from msiqa.query.quantities import asks_amount, counted_noun, counted_phrase, counted_words, states_amount


@pytest.mark.parametrize(
    "question, noun",
    [
        ("How many farms take part in the Fair Food Program?", "farms"),
        ("How many member companies does the Fair Labor Association have?", "companies"),
        ("Into how many other languages was it translated?", "languages"),
        ("How many pages, and which chapters?", None),  # two parts: one may be answerable, never refused
        ("How many workers, and how many factories?", None),
        ("How much does it cost?", None),  # not a count of things
        ("What do MSIs do?", None),
    ],
)
def test_counted_noun(question, noun):
    assert counted_noun(question) == noun


def test_counted_phrase_is_written_as_asked():
    assert counted_phrase("How many member companies does the FLA have?") == "member companies"


def test_counted_words_follow_a_number():
    assert counted_words("The 235-page report") == ["page", "report"]
    assert "workers" in counted_words("made factories safer for over 2 million workers and more")
    assert "grounds" in counted_words("evaluated on at least four grounds: first")
    assert counted_words("No figures at all here.") == []


def test_near_synonym_counts_as_the_same_thing(engine):
    # the press release counts "companies"; "firms" is a near-synonym (MiniLM word cosine ~0.87)
    assert engine.retriever.search("How many firms take part in MSIs?", "hybrid", 5).missing_answer is None


@pytest.mark.parametrize(
    "question, asks",
    [
        ("How much does a copy of the report cost?", True),
        ("What membership fee do brands pay to join the Accord?", True),
        ("What price did the brands pay?", True),
        ("Which three resources determine how much influence a member can wield?", False),
        ("How much does it cost, and who pays?", False),  # two parts
    ],
)
def test_asks_amount(question, asks):
    assert asks_amount(question) is asks


def test_states_amount():
    assert states_amount("workers were paid $0 for it") and states_amount("a fund of 5 million euros")
    assert not states_amount("over 2 million workers")


@pytest.mark.parametrize(
    "question, reason",
    [
        (
            "How many staff members does MSI Integrity employ?",
            "a number of staff members for “MSI Integrity”",
        ),
        (
            "How much do brands pay to sign the Bangladesh Accord?",
            "an amount of money for “Bangladesh Accord”",
        ),
    ],
)
def test_figure_the_documents_never_give_abstains_and_says_why(engine, question, reason):
    answer = engine.ask(question)
    assert answer.abstained
    assert answer.text.startswith(f"None of the documents gives {reason}.")


@pytest.mark.parametrize(
    "question, quoted",
    [
        ("How many workers has the Bangladesh Accord made factories safer for?", "2 million workers"),
        ("How much were workers on Sri Lankan tea plantations paid?", "US $0.14 a day"),
    ],
)
def test_figure_the_documents_give_is_answered(engine, question, quoted):
    answer = engine.ask(question)
    assert not answer.abstained and any(quoted in c.quote for c in answer.citations)


def test_vague_quantifiers_are_not_figures():
    """ "Many well-documented cases" gives no count of cases: a how-many question is not answered by it."""
    assert counted_words("Many well-documented cases of abuse") == []
    assert counted_words("several farms and a few buyers") == []
    assert "farms" in counted_words("fifteen farms")
