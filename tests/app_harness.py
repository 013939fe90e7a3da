"""Start `app.py` in a subprocess on a free port and drive it with Debian's chromium through playwright.

Used by tests/test_app_*.py. Run directly to refresh the screenshots in docs/ from a real session:
    HF_HUB_OFFLINE=1 .venv/bin/python tests/app_harness.py docs/
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from benchmarks.bench import AppServer

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
KP = "Why is the Kimberley Process definition of conflict diamonds criticized?"


@contextmanager
def running_app(
    seeds: Path, index: Path, log_path: Path, extra_env: dict | None = None, timeout_s: float = 420
):
    """Yield (base URL, process) of `app.py` serving `seeds`/`index` on a free port; stop it afterwards."""
    server = AppServer(seeds, index, log_path, extra_env=extra_env)
    try:
        server.wait_ready(timeout_s)
        yield server.base + "/", server.proc
    finally:
        server.stop()


def launch_browser(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def open_page(browser, url: str, width: int = 1280, height: int = 900, touch: bool = False):
    """A page on `url` (in its own context, allowed to read the clipboard; a phone-like touch screen when
    `touch`) where every request not to 127.0.0.1 is blocked and recorded in `page.blocked`."""
    context = browser.new_context(
        viewport={"width": width, "height": height},
        has_touch=touch,
        is_mobile=touch,
        permissions=["clipboard-read", "clipboard-write"],
    )
    page = context.new_page()
    page.blocked = []
    page.dialogs = []
    page.errors = []

    def route(r):
        if r.request.url.startswith("http://127.0.0.1:"):
            r.continue_()
        else:
            page.blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(url)
    page.wait_for_selector("#msiqa-question textarea", timeout=60_000)
    return page


def ask(page, question: str, wait_for: str = "#msiqa-sources article.msiqa-src", timeout_ms: int = 60_000):
    """Type a question, submit it, and wait until the reply is complete (the box is cleared or reset)."""
    before = page.locator("#msiqa-chat [data-testid='bot']").count()
    page.fill("#msiqa-question textarea", question)
    page.locator("#msiqa-question textarea").press("Enter")
    page.wait_for_function(
        "n => { const m = document.querySelectorAll('#msiqa-chat [data-testid=\"bot\"]');"
        " return m.length > n && !m[m.length - 1].innerText.includes('Searching the documents'); }",
        arg=before,
        timeout=timeout_ms,
    )
    if wait_for:
        page.wait_for_selector(wait_for, timeout=timeout_ms)
    settle(page, "#msiqa-chat, #msiqa-sources", timeout_ms)
    return page.locator("#msiqa-chat [data-testid='bot']").last


def settle(page, selector: str, timeout_ms: int, quiet_ms: int = 800) -> None:
    """Wait until what `selector` shows stops changing for `quiet_ms`: the reply streams in sentence by
    sentence, and a loaded machine may still be rendering it when the answer's first words appear."""
    page.wait_for_function(
        """([sel, quiet]) => {
            const now = [...document.querySelectorAll(sel)].map(e => e.innerHTML).join('\u0000');
            const w = window.__msiqaSettle ??= {text: null, since: 0};
            if (now !== w.text) { w.text = now; w.since = performance.now(); return false; }
            return performance.now() - w.since >= quiet; }""",
        arg=[selector, quiet_ms],
        polling=100,
        timeout=timeout_ms,
    )


def screenshots(out_dir: Path) -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(ROOT / "seeds", Path(tmp) / "seeds")
        with (
            running_app(Path(tmp) / "seeds", Path(tmp) / "index", Path(tmp) / "app.log") as (url, _),
            sync_playwright() as p,
        ):
            browser = launch_browser(p)
            for name, width, height in (("screenshot.png", 1280, 860), ("screenshot-phone.png", 390, 844)):
                page = open_page(browser, url, width, height)
                ask(page, KP)
                page.locator("#msiqa-chat a[href^='#src-']").first.click()
                page.wait_for_timeout(900)
                page.evaluate("window.scrollTo(0, 0)")
                page.wait_for_timeout(300)
                if width < 600:  # the question, the answer and the first highlighted source, stacked
                    page.screenshot(
                        path=str(out_dir / name),
                        full_page=True,
                        clip={"x": 0, "y": 0, "width": width, "height": 1760},
                    )
                else:
                    page.screenshot(path=str(out_dir / name))
                page.context.close()
            page = open_page(browser, url, 1280, 860)  # "Read in document": the quote marked in place
            ask(page, KP)
            page.locator("#msiqa-sources details[open] a.msiqa-read").nth(1).click()
            page.wait_for_selector("#msiqa-docs mark.msiqa-hl", timeout=5000)
            page.wait_for_timeout(500)
            page.screenshot(path=str(out_dir / "screenshot-document.png"))
            browser.close()


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs")
    target.mkdir(parents=True, exist_ok=True)
    screenshots(target)
    print(f"wrote screenshot.png, screenshot-phone.png and screenshot-document.png in {target}")
