"""Names in questions, and whether a passage mentions them (pure functions, no model)."""

from __future__ import annotations

import pytest

from msiqa.query.entities import mentions, named_phrases, names_with_text


@pytest.mark.parametrize(
    "question, expected",
    [
        (
            "How does the Forest Stewardship Council audit timber companies?",
            [("forest", "stewardship", "council")],
        ),
        (
            "What did it say about the Roundtable on Sustainable Palm Oil's panel?",
            [("roundtable", "on", "sustainable", "palm", "oil")],
        ),
        ("When were the Kimberley Process and the EITI created?", [("kimberley", "process"), ("eiti",)]),
        ("posts by Miedema, Wolfkamp and Gleckman", [("miedema",), ("wolfkamp",), ("gleckman",)]),
        ("What is the world's main voluntary CSR programme?", []),  # short acronyms are often written out
        ("Who wrote that?", []),
        (
            "Which Coalition of Immokalee Workers representative spoke?",
            [("coalition", "of", "immokalee", "workers")],
        ),
    ],
)
def test_named_phrases(question, expected):
    assert named_phrases(question) == expected


def test_names_keep_their_written_form_without_possessive():
    assert names_with_text("What is India’s record?") == [(("india",), "India")]


@pytest.mark.parametrize(
    "text, phrase, found",
    [
        ("the Marange fields in Zimbabwe", ("zimbabwean",), True),  # inflected ending
        ("Coalition of Immokalee Workers (CIW)", ("coalition", "of", "immokalee", "workers"), True),
        ("the Dutch government and the RBC agreements", ("dutch", "rbc"), True),  # each name somewhere
        ("the forest council met", ("forest", "stewardship", "council"), False),
        ("the UN General Assembly", ("un",), True),
        ("unclear outcomes", ("un",), False),  # short names must match whole words
    ],
)
def test_mentions(text, phrase, found):
    assert mentions(text, phrase) is found
