"""The web app in a real browser: Debian's chromium driven by playwright against a real `app.py`
subprocess, every request that is not to 127.0.0.1 blocked. The seeds are the project's plus one
hostile document full of markup, to prove that document text never becomes live HTML."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from app_harness import CHROMIUM, KP, ask, launch_browser, open_page, running_app
from conftest import SEEDS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="needs Debian's chromium: run `bash scripts/setup.sh --browser`"
    ),
]

HOSTILE = (
    """---
id: glitter-audit
title: 'Glitter audit <script>window.__xss = 1</script> notes'
author: '<img src=x onerror="window.__xss = 2">'
kind: statement
---
The Glitter Audit

"""
    "The glitter audit of sequin supply chains found <script>window.__xss = 3; alert(3)</script> "
    "widespread problems in sequin factories.\n\n"
    'Sequin certification schemes failed sparkle workers <img src=x onerror="window.__xss = 4; alert(4)"> '
    "according to the glitter audit [link](javascript:window.__xss=5) **bold** "
    '<b onmouseover="window.__xss=6">hover</b> $x^2$.\n'
)
HOSTILE_QUESTION = "What did the glitter audit find about sequin supply chains?"


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    root = tmp_path_factory.mktemp("app_browser")
    shutil.copytree(SEEDS, root / "seeds")
    (root / "seeds" / "99_glitter-audit.txt").write_text(HOSTILE, encoding="utf-8")
    with running_app(root / "seeds", root / "index", root / "app.log") as (url, _):
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_browser(p)
        yield b
        b.close()


@pytest.fixture
def page(browser, app_url):
    page = open_page(browser, app_url)
    yield page
    assert page.blocked == [], f"the page tried to reach other hosts: {page.blocked}"
    page.close()


def in_view(page, selector: str) -> bool:
    """Whether a user sees the element: some of its lines lie in the viewport, and the topmost element at
    the centre of one of them is the element itself (not clipped by a scrolling panel or covered)."""
    return page.evaluate(
        """sel => { const el = document.querySelector(sel);
                    return [...el.getClientRects()].some(r => {
                      const y = (r.top + r.bottom) / 2, x = (r.left + r.right) / 2;
                      if (y < 0 || y > innerHeight) return false;
                      const hit = document.elementFromPoint(x, y);
                      return hit !== null && (hit === el || el.contains(hit)); }); }""",
        selector,
    )


def test_examples_show_on_first_load(page):
    examples = page.locator("#msiqa-chat").get_by_text(KP)
    assert examples.count() >= 1
    examples.first.click()
    page.wait_for_selector("#msiqa-sources article.msiqa-src", timeout=60_000)


def test_answer_sources_marker_click_and_highlight(page, tmp_path):
    reply = ask(page, KP)
    markers = reply.locator("a[href^='#src-']")
    assert markers.count() >= 2
    cards = page.locator("#msiqa-sources details[open] article.msiqa-src")
    assert cards.count() == markers.count()
    first = cards.first
    narrow = cards.filter(
        has=page.locator("mark", has_text="incredibly narrow")
    )  # the key quote, highlighted
    assert narrow.count() == 1
    assert "Rethinking MSIs" in narrow.locator("header").inner_text()
    assert "Jaff Bamenjo" in narrow.locator(".msiqa-meta").inner_text()
    seed_text = (SEEDS / "02_bamenjo-lip-service.txt").read_text(encoding="utf-8")
    for mark in page.locator("#msiqa-sources mark").all_inner_texts():
        assert " ".join(mark.split()) in " ".join(
            seed_text.split()
        )  # the highlight is the document's own words
    assert first.locator("button.msiqa-copy").get_attribute("data-copy").startswith("Jaff Bamenjo")
    last = markers.last
    target = last.get_attribute("href")
    last.click()
    page.wait_for_function(
        "id => document.getElementById(id).classList.contains('msiqa-flash')", arg=target[1:], timeout=5000
    )
    page.wait_for_timeout(800)  # smooth scroll
    assert in_view(page, f"{target} mark")
    page.screenshot(path=str(tmp_path / "answer.png"))
    assert (tmp_path / "answer.png").stat().st_size > 10_000


def test_follow_up_is_searched_in_the_context_of_the_conversation(page):
    ask(page, KP)
    reply = ask(page, "And what about the EITI?")
    text = reply.inner_text()
    assert "Searched for:" in text and "EITI" in text.split("Searched for:")[1]
    newest = page.locator("#msiqa-sources details[open] article.msiqa-src")
    assert any("EITI" in t for t in newest.all_inner_texts())


def test_read_in_document_opens_the_paragraph(page):
    ask(page, KP)
    quote = page.locator("#msiqa-sources article.msiqa-src").first.locator("mark").inner_text()
    link = page.locator("#msiqa-sources a.msiqa-read").first
    anchor = link.get_attribute("href")[1:]
    link.click()
    paragraph = page.locator(f"[id='{anchor}']")
    paragraph.wait_for(state="visible", timeout=5000)
    page.wait_for_timeout(800)
    box = paragraph.bounding_box()
    assert box and box["y"] < 900 and box["y"] + box["height"] > 0
    assert " ".join(quote.split()) in " ".join(paragraph.inner_text().split())  # the quoted paragraph


def test_abstention_lists_closest_passages_marked_not_an_answer(page):
    reply = ask(page, "Who won the 2018 FIFA World Cup?")
    assert "don't cover" in reply.inner_text()
    panel = page.locator("#msiqa-sources details[open]")
    assert "not an answer" in panel.locator(".msiqa-notanswer").inner_text()
    closest = panel.locator("article.msiqa-closest")
    assert closest.count() >= 1
    assert closest.first.locator(".msiqa-tag").inner_text().lower() == "not an answer"


@pytest.mark.parametrize(
    "question, expected",
    [
        ("", "The question is empty"),
        ("why " * 25_000, "the limit is"),
        ("?!… 🙂🙂🎉 —", "no words"),
        ("金伯利进程为什么受到批评？", "English"),
    ],
)
def test_bad_input_gets_a_friendly_chat_message(page, question, expected):
    reply = ask(page, question, wait_for="")
    assert expected in reply.inner_text()
    page.wait_for_timeout(300)
    assert page.locator(".toast-body").count() == 0
    assert "Traceback" not in page.content()


def test_hostile_document_text_never_becomes_html(page):
    reply = ask(page, HOSTILE_QUESTION)
    assert "glitter audit" in reply.inner_text().lower()
    panel = page.locator("#msiqa-sources").inner_text()
    assert "<script>window.__xss = 1</script>" in panel  # shown as text, in the card title
    page.get_by_role("tab", name="Documents").click()
    page.locator("#doc-glitter-audit").wait_for(state="visible", timeout=5000)
    docs_text = page.locator("#doc-glitter-audit").inner_text()
    assert '<img src=x onerror="window.__xss = 4; alert(4)">' in docs_text
    page.locator("#doc-glitter-audit").hover()
    page.wait_for_timeout(500)
    assert page.evaluate("window.__xss") is None
    assert page.dialogs == []
    assert page.errors == []
    found = page.evaluate("""() => ({
        imgs: document.querySelectorAll('img[src="x"], img[onerror]').length,
        handlers: [...document.querySelectorAll('*')].filter(e => [...e.attributes].some(
            a => a.name.startsWith('on')
                || (['src', 'href'].includes(a.name) && a.value.includes('__xss')))).length,
        // Gradio's config script carries document text inside JSON strings, with < escaped as \\u003c
        scripts: [...document.scripts].filter(s => s.textContent.includes('__xss') &&
            (s.textContent.includes('<script') || s.textContent.includes('onerror="'))).length,
        jsLinks: document.querySelectorAll('a[href^="javascript:"]').length,
    })""")
    assert found == {"imgs": 0, "handlers": 0, "scripts": 0, "jsLinks": 0}


def test_hostile_question_is_shown_as_text(page):
    question = '<img src=x onerror="window.__xss=7"> glitter audit <script>window.__xss=8</script>?'
    ask(page, question, wait_for="")
    user = page.locator("#msiqa-chat [data-testid='user']").last
    assert "<img src=x" in user.inner_text()
    assert page.evaluate("window.__xss") is None
    assert page.locator('#msiqa-chat img[src="x"], #msiqa-chat script').count() == 0


def test_phone_width_stacks_sources_below_the_chat(browser, app_url, tmp_path):
    page = open_page(browser, app_url, width=390, height=844)
    ask(page, KP)
    chat = page.locator("#msiqa-chat").bounding_box()
    sources = page.locator("#msiqa-sources").bounding_box()
    assert chat["width"] <= 390 and sources["width"] <= 390
    assert sources["y"] >= chat["y"] + chat["height"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.locator("#msiqa-chat a[href^='#src-']").first.click()
    page.wait_for_timeout(900)
    page.screenshot(path=str(tmp_path / "phone.png"))
    assert page.blocked == []
    page.close()
