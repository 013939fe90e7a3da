"""Follow-ups understood from history: the rules, the engine with the real index, and `msiqa chat`."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from msiqa.answer.features import LEANS_BACK
from msiqa.query.conversation import entities, resolve, swap_entity
from msiqa.types import Answer

KP = "Why is the Kimberley Process definition of conflict diamonds criticized?"


def bare(question: str, search_query: str = "") -> Answer:
    return Answer(question, "", False, (), (), (), search_query or question)


def test_entities_skip_question_words_and_possessives():
    assert entities(KP) == ["Kimberley Process"]
    assert entities("What did MSI Integrity's report say about the Fair Food Program?") == [
        "MSI Integrity",
        "Fair Food Program",
    ]
    assert entities("why did they reject it?") == []


def test_swap_entity_keeps_the_question_frame():
    quotes = ["The commonly used definition of conflict diamonds, however, is incredibly narrow."]
    assert swap_entity(KP, "the EITI", quotes) == "Why is the EITI criticized?"
    assert (
        swap_entity(KP, "the EITI") == "Why is the EITI definition of conflict diamonds criticized?"
    )  # nothing quoted
    assert swap_entity("why do brands fail?", "EITI") == "EITI: why do brands fail?"  # no entity to swap


@pytest.mark.parametrize(
    "follow_up, rule",
    [
        ("And what about the EITI?", "new entity"),
        ("How about the Bangladesh Accord?", "new entity"),
        ("And the Fair Food Program?", "new entity"),
        ("Same question for the EITI", "new entity"),
        ("Why did they reject it?", "pronoun"),
        ("Who wrote that?", "pronoun"),  # no citations to point at
        ("What does the press release say about COVID-19?", "as asked"),
    ],
)
def test_rules(follow_up, rule):
    assert resolve(follow_up, [(KP, bare(KP))]).rule == rule


def test_no_history_means_as_asked():
    assert resolve("And what about the EITI?").query == "And what about the EITI?"


def test_follow_up_about_a_new_entity_retrieves_its_passage(engine):
    first = engine.ask(KP)
    follow = engine.ask("And what about the EITI?", history=[(KP, first)])
    assert follow.question == "And what about the EITI?"
    assert follow.search_query == "Why is the EITI criticized?"
    assert any("one handicap of the EITI" in h.chunk.text for h in follow.hits)
    assert not follow.abstained
    assert "EITI" in follow.citations[0].quote
    # each later quote is about the EITI, or leans on the quote before it ("It is therefore clear ...")
    for before, c in zip(follow.citations, follow.citations[1:], strict=False):
        assert "EITI" in c.quote or (LEANS_BACK.match(c.quote) and before.end <= c.start)
    assert all(c.document.text[c.start : c.end] == c.quote for c in follow.citations)


def test_who_wrote_that_resolves_to_the_previous_answers_document(engine):
    question = "What does Harris Gleckman say about the language of democracy and inclusion?"
    first = engine.ask(question)
    assert {c.document.doc_id for c in first.citations} == {"gleckman-democracy"}
    follow = engine.ask("Who wrote that?", history=[(question, first)])
    assert {h.document.doc_id for h in follow.hits} == {"gleckman-democracy"}
    assert follow.citations[0].quote.startswith("by Harris Gleckman")
    assert any("Harris Gleckman (blog post)" in note for note in follow.notes)
    alone = engine.ask("Who wrote that?")  # without history "that" points nowhere
    assert not any(c.quote.startswith("by Harris Gleckman") for c in alone.citations)


def test_pronoun_follow_up_carries_the_previous_topic(engine):
    first = engine.ask(KP)
    follow = engine.ask("Why did governments reject it?", history=[(KP, first)])
    assert follow.search_query == f"Why did governments reject it? — {KP}"
    assert any(
        "Kimberley" in c.quote or "KPCS" in c.quote or "governments" in c.quote for c in follow.citations
    )


def test_follow_up_never_silently_repeats_the_previous_answer(engine):
    first = engine.ask(KP)
    follow = engine.ask("Why did governments refuse to change it?", history=[(KP, first)])
    before = {(c.document.doc_id, c.start) for c in first.citations}
    after = [(c.document.doc_id, c.start) for c in follow.citations]
    repeated = [k for k in after if k in before]
    # it leads with something new, or says that there is nothing new
    assert (after and after[0] not in before) or any("nothing more" in n for n in follow.notes), (
        after,
        before,
    )
    assert len(repeated) < len(after) or follow.notes


def test_source_turns_do_not_replace_the_topic(engine):
    first = engine.ask(KP)
    who = engine.ask("Who wrote that?", history=[(KP, first)])
    follow = engine.ask("And what about the EITI?", history=[(KP, first), ("Who wrote that?", who)])
    assert follow.search_query == "Why is the EITI criticized?"


def test_chat_repl_keeps_history_and_shows_the_search(seed_settings, engine):
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    env.pop("MSIQA_LLM_URL", None)
    script = f"{KP}\nAnd what about the EITI?\n\n/reset\nAnd what about the EITI?\n/quit\n"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "msiqa.cli",
            "chat",
            "--seeds",
            str(seed_settings.seeds_dir),
            "--index",
            str(seed_settings.index_dir),
            "--no-rebuild",
        ],
        input=script,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    turns = run.stdout.split("you> ")
    assert "Searched for:" not in turns[1] and "incredibly narrow" in turns[1]
    assert "Searched for: Why is the EITI criticized?" in turns[2]
    assert turns[3].strip() == ""  # an empty line is skipped
    assert "(conversation forgotten)" in turns[4]
    assert "Searched for:" not in turns[5] and "Sources:" in turns[5]  # history forgotten: asked as is
