"""Acronym definitions (Schwartz–Hearst) and their use in BM25 passages and queries."""

from __future__ import annotations

from msiqa.indexing.acronyms import corpus_acronyms, definitions, expansions, long_form
from msiqa.indexing.store import bm25_terms, bm25_text


def test_definitions_find_long_forms():
    text = (
        "the Kimberley Process Certification Scheme (KPCS) and civil society organisations (CSOs), "
        "the CIW-founded Fair Food Program (FFP). See the report (Annex) and (MSI Integrity)."
    )
    assert definitions(text) == {
        "KPCS": "Kimberley Process Certification Scheme",
        "CSO": "civil society organisations",
        "FFP": "Fair Food Program",
    }


def test_long_form_needs_the_letters_in_order():
    assert (
        long_form("WSR", "the Worker-driven Social Responsibility") == "Worker-driven Social Responsibility"
    )
    assert long_form("XYZ", "nothing like it here") is None


def test_corpus_acronyms_drop_those_most_passages_use():
    texts = ["Multi-stakeholder initiatives (MSIs) and the Fair Food Program (FFP)."]
    passages = ["MSIs here", "MSIs there", "the FFP and MSIs", "nothing"]
    assert corpus_acronyms(texts, passages) == {"FFP": "Fair Food Program"}


def test_expansions_spell_out_acronyms_once():
    known = {"FFP": "Fair Food Program", "CSO": "civil society organisations"}
    assert (
        expansions("Which FFP tools help CSOs?", known)
        == "Fair Food Program (FFP); civil society organisations (CSO)"
    )
    assert expansions("The Fair Food Program (FFP)", known) == ""
    assert bm25_text("no acronym", known) == "no acronym"


def test_bm25_terms_add_neighbouring_pairs():
    assert bm25_terms(["the Fair Food Program"]) == [["fair", "food", "program", "fair_food", "food_program"]]
