"""How-many questions: what they count, what texts count, and refusing when no passage counts it."""

from __future__ import annotations

import pytest

from msiqa.quantities import counted_noun, counted_phrase, counted_words


@pytest.mark.parametrize("question, noun", [
    ("How many farms take part in the Fair Food Program?", "farms"),
    ("How many member companies does the Fair Labor Association have?", "companies"),
    ("Into how many other languages was it translated?", "languages"),
    ("How many pages, and which chapters?", None),  # two parts: one may be answerable, never refused
    ("How many workers, and how many factories?", None),
    ("How much does it cost?", None),  # not a count of things
    ("What do MSIs do?", None),
])
def test_counted_noun(question, noun):
    assert counted_noun(question) == noun


def test_counted_phrase_is_written_as_asked():
    assert counted_phrase("How many member companies does the FLA have?") == "member companies"


def test_counted_words_follow_a_number():
    assert counted_words("The 235-page report") == ["page", "report"]
    assert "workers" in counted_words("made factories safer for over 2 million workers and more")
    assert "grounds" in counted_words("evaluated on at least four grounds: first")
    assert counted_words("No figures at all here.") == []


def test_how_many_question_about_something_never_counted_abstains_and_says_why(engine):
    answer = engine.ask("How many staff members does MSI Integrity employ?")
    assert answer.abstained
    assert answer.text.startswith("None of the documents gives a number of staff members for “MSI Integrity”.")


def test_how_many_question_the_documents_count_is_answered(engine):
    answer = engine.ask("How many workers has the Bangladesh Accord made factories safer for?")
    assert not answer.abstained
    assert any("2 million workers" in c.quote for c in answer.citations)


def test_near_synonym_counts_as_the_same_thing(engine):
    # the press release counts "companies"; "firms" is a near-synonym (MiniLM word cosine ~0.87)
    assert engine.retriever.search("How many firms take part in MSIs?", "hybrid", 5).uncounted is None
