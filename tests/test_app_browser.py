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
    pytest.mark.slow,
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
LINKED = """---
id: tinsel-review
title: 'The tinsel review'
author: Ada Quill
kind: blog post
publisher: Tinsel Quarterly
year: 2019
url: https://example.org/tinsel-review
---
The tinsel review

The tinsel inspectors called the certification scheme “a “gold standard” in name only” because its auditors never visited the tinsel workshops.
"""
LINKED_QUESTION = "What did the tinsel inspectors call the certification scheme?"


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    root = tmp_path_factory.mktemp("app_browser")
    shutil.copytree(SEEDS, root / "seeds")
    (root / "seeds" / "99_glitter-audit.txt").write_text(HOSTILE, encoding="utf-8")
    (root / "seeds" / "98_tinsel-review.txt").write_text(LINKED, encoding="utf-8")
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
    page.context.close()


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


def test_landing_names_the_corpus_and_offers_example_buttons(page):
    chat = page.locator("#msiqa-chat").inner_text()
    for title in ("Rethinking MSIs: Binding Brands to Create Change", "The tinsel review"):
        assert title in chat  # every piece is named on the landing page
    assert "blog post" in chat and "press release" in chat  # with its kind
    assert "not" in chat and "report itself" in chat  # and it says what the corpus is not
    example = page.get_by_role("button", name=KP)
    assert example.count() == 1
    example.click()
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


def test_conversation_survives_the_housekeeping_of_api_sessions(page, app_url):
    """Finished `/ask` sessions are dropped every 200 requests (web/sessions.py); a tab's conversation
    is not: 250 API calls between two turns, and the follow-up is still read in context."""
    import httpx

    from benchmarks.bench import ask_inputs, ask_rest

    ask(page, KP)
    base = app_url.rstrip("/")
    with httpx.Client(timeout=120) as client:
        inputs = ask_inputs(client.get(f"{base}/gradio_api/info").json(), "What is the EITI?")
        for _ in range(250):  # two requests each: well past two runs of the housekeeping
            assert "answer" in ask_rest(client, base, inputs)
    text = ask(page, "And what about the EITI?").inner_text()
    assert "Searched for:" in text and "EITI" in text.split("Searched for:")[1]


def test_abstention_lists_closest_passages_marked_not_an_answer(page):
    reply = ask(page, "Who won the 2018 FIFA World Cup?")
    panel = page.locator("#msiqa-sources details[open]")
    link = reply.locator("a[href^='#turn-']")  # the reply points at the panel, wherever the panel is
    assert link.count() == 1 and link.get_attribute("href") == "#" + panel.get_attribute("id")
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


def test_filters_are_shown_on_the_answer_and_clear_in_one_click(page):
    page.get_by_text("Advanced").click()
    page.locator("#msiqa-kind-filter input").click()
    page.get_by_role("option", name="blog post").click()
    page.keyboard.press("Escape")
    notice = page.locator(".msiqa-filters")
    notice.wait_for(state="visible", timeout=5000)
    assert "blog post" in notice.inner_text()
    reply = ask(page, KP)
    assert "blog post" in reply.inner_text()  # the answer says which filter was on
    page.locator("#msiqa-clear-filters").click()
    notice.wait_for(state="hidden", timeout=5000)
    assert "blog post" not in page.locator("#msiqa-kind-filter").inner_text()


def test_phone_width_answer_uses_the_width_and_sources_follow_it(browser, app_url):
    page = open_page(browser, app_url, width=390, height=844, touch=True)
    reply = ask(page, KP)
    chat = page.locator("#msiqa-chat").bounding_box()
    sources = page.locator("#msiqa-sources").bounding_box()
    advanced = page.locator(".msiqa-advanced").bounding_box()
    bubble = reply.bounding_box()
    assert chat["width"] <= 390 and sources["width"] <= 390
    assert bubble["width"] >= 0.9 * chat["width"]  # the answer uses the full width
    assert sources["y"] >= chat["y"] + chat["height"]
    assert advanced["y"] >= sources["y"] + sources["height"]  # Advanced comes after the sources
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.blocked == []
    page.context.close()


# --- Reachability, the Documents tab, copying and overlap (issue 11) -------------------------------------

SIZES = {"laptop": (1280, 900), "small-laptop": (1024, 768), "phone": (390, 844)}
THREE = (
    KP,
    "How did the Fair Food Program protect workers?",
    "Why are the Dutch RBC agreements not enough?",
)
REACHABLE = """el => [...el.getClientRects()].some((r) => {  // each line box of an inline element
    const top = Math.max(r.top, 0), bottom = Math.min(r.bottom, innerHeight);
    const left = Math.max(r.left, 0), right = Math.min(r.right, innerWidth);
    if (bottom - top < 4 || right - left < 4) return false;
    const hit = document.elementFromPoint((left + right) / 2, (top + bottom) / 2);
    return hit !== null && (hit === el || el.contains(hit)); })"""


def comes_into_view(locator, timeout_ms: int = 5000) -> bool:
    """`reachable`, allowing a loaded machine up to `timeout_ms` to finish scrolling."""
    for _ in range(timeout_ms // 100):
        if reachable(locator):
            return True
        locator.page.wait_for_timeout(100)
    return reachable(locator)


def reachable(locator) -> bool:
    """Some of the element is in the viewport and the topmost element at the centre of that part is
    the element itself: not clipped away by a scroll box, not covered by anything."""
    return locator.evaluate(REACHABLE)


def scroll_step(page, dy: int, x: float, touch: bool) -> None:
    """One real scroll: a mouse-wheel notch, or a finger swipe (touch events through chromium's input
    pipeline, so the browser itself scrolls) on a phone."""
    height = page.viewport_size["height"]
    if touch:
        start = height * 0.75 if dy > 0 else height * 0.25
        cdp = page.context.new_cdp_session(page)
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": start}]})
        for i in range(1, 21):
            point = {"x": x, "y": start - dy * i / 20}
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        cdp.detach()
    else:
        page.mouse.move(x, height / 2)
        page.mouse.wheel(0, dy)
    page.wait_for_timeout(150)


def scroll_to(page, locator, touch: bool, max_steps: int = 120) -> bool:
    """Scroll with the wheel (or swipes) towards `locator` until it is reachable; False when scrolling
    stops moving it first (it is clipped or stuck out of reach)."""
    height = page.viewport_size["height"]
    stuck = 0
    for _ in range(max_steps):
        if reachable(locator):
            return True
        box = locator.bounding_box()
        if box is None:
            return False
        step = 400 if box["y"] + box["height"] / 2 > height / 2 else -400
        x = min(max(box["x"] + box["width"] / 2, 5), page.viewport_size["width"] - 5)
        scroll_step(page, step, x, touch)
        moved = locator.bounding_box()
        stuck = stuck + 1 if moved and abs(moved["y"] - box["y"]) < 1 else 0
        if stuck >= 3:
            return False
    return False


@pytest.mark.parametrize(
    "size, touch", [("laptop", False), ("small-laptop", False), ("phone", True), ("phone", False)]
)
def test_wheel_and_touch_reach_every_card_every_paragraph_and_the_question_box(browser, app_url, size, touch):
    width, height = SIZES[size]
    page = open_page(browser, app_url, width, height, touch=touch)
    for question in THREE:
        ask(page, question)
    closed = page.locator("#msiqa-sources details:not([open]) > summary")
    while closed.count():
        closed.first.click()  # open the sources of the earlier answers too
    cards = page.locator("#msiqa-sources article.msiqa-src")
    assert cards.count() >= 6
    for i in range(cards.count()):  # top to bottom, down to the end of the last card
        for part in ("header", ".msiqa-actions"):
            assert scroll_to(page, cards.nth(i).locator(part), touch), f"source card {i} {part} out of reach"
    question = page.locator("#msiqa-question textarea")
    assert scroll_to(page, question, touch), "the question box is out of reach after the sources"
    page.get_by_role("tab", name="Documents").click()
    documents = page.locator("#msiqa-docs article.msiqa-doc")
    assert documents.count() == 11
    for i in range(documents.count()):
        last = documents.nth(i).locator("p.msiqa-p").last
        assert scroll_to(page, last, touch), f"the last paragraph of document {i} is out of reach"
    page.get_by_role("tab", name="Ask").click()
    assert scroll_to(page, question, touch), "the question box is out of reach after the documents"
    page.context.close()


def page_down_to_the_last_card(page) -> bool:
    """Ask two questions, give the page (not the question box) the keyboard, press PageDown until the
    last source card is reachable; whether it became so."""
    for question in THREE[:2]:
        ask(page, question)
    page.locator("h2").first.click()
    last_card = page.locator("#msiqa-sources details[open] article.msiqa-src").last.locator(".msiqa-actions")
    for _ in range(30):
        if reachable(last_card):
            break
        page.keyboard.press("PageDown")
        page.wait_for_timeout(150)
    return reachable(last_card)


def test_keyboard_reaches_the_last_card_and_the_last_paragraph(page):
    assert page_down_to_the_last_card(page), "PageDown does not reach the last source card"
    page.get_by_role("tab", name="Documents").click()
    page.locator("#msiqa-docs h2").first.click()
    page.keyboard.press("End")
    assert comes_into_view(page.locator("#msiqa-docs p.msiqa-p").last), (
        "End does not reach the last paragraph"
    )


@pytest.mark.xfail(
    strict=False,
    reason="known defect, open: in about half the runs Home leaves the window where PageDown took it "
    "(scrollY unchanged, focus on the body, the chat log scrolled by Gradio's autoscroll); cause not found",
)
def test_home_after_page_down_returns_to_the_question_box(page):
    page_down_to_the_last_card(page)
    page.keyboard.press("Home")
    assert comes_into_view(page.locator("#msiqa-question textarea")), (
        "Home does not bring back the question box"
    )


@pytest.mark.parametrize("size", ["laptop", "phone"])
def test_read_in_document_highlights_the_quote_and_leads_back(browser, app_url, size):
    width, height = SIZES[size]
    page = open_page(browser, app_url, width, height, touch=size == "phone")
    ask(page, KP)
    card = page.locator("#msiqa-sources details[open] article.msiqa-src").nth(1)
    quote = " ".join(card.locator("mark").inner_text().split())
    link = card.locator("a.msiqa-read")
    link.click()
    mark = page.locator("#msiqa-docs mark.msiqa-hl")
    mark.wait_for(state="visible", timeout=5000)
    page.wait_for_timeout(3000)  # the highlight stays: it is not a flash
    assert mark.count() == 1
    assert " ".join(mark.inner_text().split()) == quote  # exactly the quoted characters
    assert reachable(mark), "the highlighted quote is not in view"
    article = page.locator("#msiqa-docs article.msiqa-doc", has=page.locator("mark.msiqa-hl"))
    assert reachable(article.locator("h2")), "the document's title is not in view"
    page.locator("#msiqa-docs a.msiqa-back").click()
    page.wait_for_timeout(500)
    assert page.get_by_role("tab", name="Ask").get_attribute("aria-selected") == "true"
    assert reachable(link), "Back to the answer does not return to the link that led there"
    page.context.close()


def clipboard(page) -> str:
    return page.evaluate("navigator.clipboard.readText()")


def test_copy_answer_is_plain_text_with_a_numbered_reference_list(page):
    reply = ask(page, KP)
    markers = reply.locator("a[href^='#src-']").all_inner_texts()
    reply.hover()
    page.locator("#msiqa-chat .message-buttons button[aria-label='Copy message']").last.click()
    page.wait_for_timeout(300)
    text = clipboard(page)
    assert "\\" not in text and "](#" not in text  # no escaped Markdown, no link syntax
    body, _, references = text.partition("\n\n")
    assert " ".join(body.split()) == " ".join(reply.inner_text().split())  # the answer as shown
    lines = references.splitlines()[1:]
    titles = page.locator("#msiqa-sources details[open] article.msiqa-src header strong").all_inner_texts()
    assert [line.split(" ", 1)[0] for line in lines] == markers  # [1] [2] … in order
    assert all(title in line for title, line in zip(titles, lines, strict=True))
    page.locator("#msiqa-sources details[open] button.msiqa-copy-answer").click()
    page.wait_for_timeout(300)
    assert clipboard(page) == text  # the panel's Copy answer gives the same text


def test_copy_citation_gives_the_full_reference_and_the_quote(page):
    ask(page, KP)
    card = page.locator("#msiqa-sources details[open] article.msiqa-src").nth(1)
    card.locator("button.msiqa-copy").click()
    page.wait_for_timeout(300)
    text = clipboard(page)
    meta = card.locator(".msiqa-meta").inner_text()
    paragraph = meta.rsplit("¶", 1)[1].strip()
    assert text.startswith(meta.split(" · ")[0] + ", “")  # author, then the title in quotation marks
    assert card.locator("header strong").inner_text() in text
    assert "MSI Integrity" in text and "2020" in text and f"para. {paragraph}" in text
    assert "n.d." not in text
    quote = " ".join(card.locator("mark").inner_text().split()).replace("“", "‘").replace("”", "’")
    assert text.endswith(f"“{quote}”")
    ask(page, LINKED_QUESTION)
    card = page.locator("#msiqa-sources details[open] article.msiqa-src", has_text="The tinsel review").first
    card.locator("button.msiqa-copy").click()
    page.wait_for_timeout(300)
    text = clipboard(page)
    assert text.startswith("Ada Quill, “The tinsel review”, Tinsel Quarterly, 2019, para.")
    assert "https://example.org/tinsel-review" in text
    assert text.count("“") == text.count("”") and "””" not in text and "““" not in text


OVERLAPS = """() => {
  const visible = (el) => {  // the element's rectangle, clipped by every scroll box around it
    let r = el.getBoundingClientRect(); r = { l: r.left, t: r.top, r: r.right, b: r.bottom };
    for (let p = el.parentElement; p; p = p.parentElement) {
      const s = getComputedStyle(p);
      if (s.overflowX === 'visible' && s.overflowY === 'visible') continue;
      const c = p.getBoundingClientRect();
      r = { l: Math.max(r.l, c.left), t: Math.max(r.t, c.top),
            r: Math.min(r.r, c.right), b: Math.min(r.b, c.bottom) };
    }
    return r.r - r.l > 1 && r.b - r.t > 1 ? r : null;
  };
  const over = (a, b) => a.l < b.r - 1 && b.l < a.r - 1 && a.t < b.b - 1 && b.t < a.b - 1;
  const pick = (sel) => [...document.querySelectorAll(sel)].filter((e) => e.checkVisibility())
    .map((e) => [e, visible(e)]).filter(([, r]) => r);
  const chrome = pick('footer, [data-testid="block-label"], .msiqa-right > div:first-child');
  const text = pick('#msiqa-chat .message, #msiqa-sources article, #msiqa-docs p.msiqa-p, '
    + '.msiqa-turn > summary');
  const found = [];
  for (const [c, rc] of chrome) for (const [t, rt] of text)
    if (!c.contains(t) && !t.contains(c) && over(rc, rt)) {
      found.push(`${c.tagName}.${c.className} over ${t.tagName}.${t.className}`);
    }
  return found.slice(0, 5);
}"""


@pytest.mark.parametrize("size", list(SIZES))
def test_nothing_overlaps_the_text(browser, app_url, size):
    width, height = SIZES[size]
    page = open_page(browser, app_url, width, height)
    ask(page, KP)
    ask(page, "How did the Fair Food Program protect workers?")
    chat = page.locator("#msiqa-chat").bounding_box()
    page.mouse.move(chat["x"] + chat["width"] / 2, chat["y"] + min(chat["height"], height) / 2)
    for dy in (-300, 150):  # scroll the chat, where a label once sat on the text
        page.mouse.wheel(0, dy)
        page.wait_for_timeout(300)
        assert page.evaluate(OVERLAPS) == []
    page.get_by_role("tab", name="Documents").click()
    page.wait_for_timeout(300)
    page.mouse.move(width / 2, height / 2)
    for _ in range(3):  # at the top of the documents, further down, and at the end of the page
        assert page.evaluate(OVERLAPS) == []
        page.mouse.wheel(0, 20_000)
        page.wait_for_timeout(400)
    page.context.close()
