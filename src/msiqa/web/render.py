"""Answer dicts and documents -> escaped HTML and Markdown for the web app (pure functions).

Everything that comes from a document or a user (titles, authors, quotes, passages, questions) passes
through `html.escape` here before it reaches the page, and chat Markdown is also backslash-escaped, so
document text can never become live HTML or Markdown formatting. Anchor ids are built from a slug of
the document id, never from raw text. Input is the JSON shape of `serialize.answer_to_dict`, so the
page shows exactly what the `/ask` API returns. Deliberately left out: Gradio (app.py owns the page),
any I/O, and any decision about what to answer.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence

from msiqa.ingest.chunking import block_at, blocks
from msiqa.types import Document

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$^=:])")  # & < > are left to html.escape
_NOT_ID = re.compile(r"[^A-Za-z0-9_-]+")
QUESTION_ECHO_CHARS = 400


def esc(text: object) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def md_escape(text: str) -> str:
    """Text shown literally by a Markdown renderer that also accepts HTML: no tags, no formatting."""
    return html.escape(_MD_SPECIAL.sub(r"\\\1", text), quote=False).replace("\n", " ")


def slug(doc_id: str) -> str:
    return _NOT_ID.sub("-", doc_id).strip("-") or "doc"


def doc_anchor(doc_id: str, paragraph: int | None = None) -> str:
    base = f"doc-{slug(doc_id)}"
    return base if paragraph is None else f"{base}-p{paragraph}"


def src_anchor(turn: int, n: int) -> str:
    return f"src-{turn}-{n}"


def question_echo(question: str) -> str:
    """The user's question as a chat bubble: escaped, one line, long ones shortened."""
    text = " ".join((question or "").split())
    if len(text) > QUESTION_ECHO_CHARS:
        text = f"{text[:QUESTION_ECHO_CHARS]}… ({len(question):,} characters)"
    return md_escape(text) if text else "*(empty question)*"


def searched_note(answer: Mapping) -> str:
    """ "*Searched for: …*" when a follow-up was rewritten from the conversation, else nothing."""
    query = answer.get("search_query") or answer["question"]
    if query.strip() == answer["question"].strip():
        return ""
    return f"*Searched for: {md_escape(query)}*\n\n"


def answer_pieces(answer: Mapping, turn: int) -> list[str]:
    """The chat reply as Markdown pieces (one per sentence), each `[n]` a link to its source card."""
    if answer["abstained"]:
        return [md_escape(answer["answer"]), " The closest passages are in the sources panel."]
    pieces = []
    for sentence in answer["sentences"]:
        text = sentence["text"]
        for n in sentence["citations"]:
            text = text.removesuffix(f" [{n}]")
        links = "".join(f" [\\[{n}\\]](#{src_anchor(turn, n)})" for n in sentence["citations"])
        pieces.append(("" if not pieces else " ") + md_escape(text) + links)
    return pieces


def _paragraph(doc: Document, start: int, end: int) -> tuple[int, int, int]:
    """(paragraph number, start, end) of the block holding `[start, end)`."""
    block = block_at(doc.text, start)
    if block is None or end > block.end:
        return (block.paragraph if block else 1), start, end
    return block.paragraph, block.start, block.end


def highlighted_paragraph(doc: Document, start: int, end: int) -> str:
    """The paragraph around `[start, end)`, escaped, with those characters inside <mark>."""
    _, p_start, p_end = _paragraph(doc, start, end)
    text = doc.text
    parts = (esc(text[p_start:start]), esc(text[start:end]), esc(text[end:p_end]))
    return f"{parts[0]}<mark>{parts[1]}</mark>{parts[2]}".replace("\n", "<br>")


def _meta(doc: Document | None, fallback: Mapping, paragraph: int | None) -> str:
    get = (lambda k: getattr(doc, k)) if doc is not None else fallback.get
    items = [get("author"), get("kind"), get("date") or "undated"]
    if paragraph is not None:
        items.append(f"¶ {paragraph}")
    return " · ".join(esc(i) for i in items if i)


def citation_card(c: Mapping, doc: Document | None, turn: int) -> str:
    body = (
        highlighted_paragraph(doc, c["start"], c["end"])
        if doc is not None
        else f"<mark>{esc(c['quote'])}</mark>"
    )
    copy = f"{c.get('reference') or c['title']} “{c['quote']}”"
    return (
        f'<article class="msiqa-src" id="{src_anchor(turn, c["n"])}">'
        f'<header><span class="msiqa-n">[{int(c["n"])}]</span> <strong>{esc(c["title"])}</strong></header>'
        f'<div class="msiqa-meta">{_meta(doc, c, c.get("paragraph"))}</div>'
        f'<p class="msiqa-para">{body}</p>'
        f'<div class="msiqa-actions"><button type="button" class="msiqa-copy" data-copy="{esc(copy)}">'
        f'Copy citation</button> <a class="msiqa-read" href="#{doc_anchor(c["doc_id"], c.get("paragraph"))}">'
        f"Read in document</a></div></article>"
    )


def closest_card(h: Mapping, doc: Document | None, turn: int) -> str:
    return (
        f'<article class="msiqa-src msiqa-closest" id="hit-{turn}-{int(h["rank"])}">'
        f'<header><span class="msiqa-tag">not an answer</span> <strong>{esc(h["title"])}</strong></header>'
        f'<div class="msiqa-meta">{_meta(doc, h, h.get("paragraph"))}</div>'
        f'<p class="msiqa-para">{esc(h["text"]).replace(chr(10), "<br>")}</p>'
        f'<div class="msiqa-actions"><a class="msiqa-read" href="#{doc_anchor(h["doc_id"], h.get("paragraph"))}">'
        f"Read in document</a></div></article>"
    )


def turn_html(answer: Mapping, turn: int, documents: Mapping[str, Document], latest: bool) -> str:
    question = " ".join(answer["question"].split())
    if len(question) > 160:
        question = question[:160] + "…"
    if answer["abstained"]:
        head = (
            '<p class="msiqa-notanswer">The documents don\'t cover this question. '
            "These are the closest passages, <strong>not an answer</strong>.</p>"
        )
        cards = [closest_card(h, documents.get(h["doc_id"]), turn) for h in answer["hits"]]
    else:
        head = ""
        cards = [citation_card(c, documents.get(c["doc_id"]), turn) for c in answer["citations"]]
    summary = f"<summary>Sources for “{esc(question)}”</summary>"
    return (
        f'<details class="msiqa-turn" id="turn-{turn}"{" open" if latest else ""}>{summary}'
        f"{head}{''.join(cards)}</details>"
    )


def sources_html(turns: Sequence[Mapping], documents: Mapping[str, Document]) -> str:
    """All turns' sources, newest first; `turns` holds {"turn": int, "answer": answer dict}."""
    if not turns:
        return (
            '<div class="msiqa-empty">Sources appear here: each cited passage inside its paragraph, '
            "with the quoted words highlighted. Click a [n] marker in the answer to jump to it.</div>"
        )
    ordered = list(reversed(turns))
    return "".join(turn_html(t["answer"], t["turn"], documents, i == 0) for i, t in enumerate(ordered))


def document_html(doc: Document) -> str:
    paras = []
    for b in blocks(doc.text):
        anchor = doc_anchor(doc.doc_id, b.paragraph)
        text = esc(doc.text[b.start : b.end]).replace("\n", "<br>")
        cls = "msiqa-p msiqa-h" if b.is_heading else "msiqa-p"
        paras.append(
            f'<p class="{cls}" id="{anchor}"><a class="msiqa-pn" href="#{anchor}">¶{b.paragraph}</a> '
            f"{text}</p>"
        )
    extra = " · ".join(esc(x) for x in (doc.publisher, doc.series) if x)
    return (
        f'<article class="msiqa-doc" id="{doc_anchor(doc.doc_id)}"><h2>{esc(doc.title)}</h2>'
        f'<div class="msiqa-meta">{_meta(doc, {}, None)}{" · " + extra if extra else ""}</div>'
        f"{''.join(paras)}</article>"
    )


def documents_html(documents: Mapping[str, Document]) -> str:
    """Every document in full, with a contents list and a `doc-<id>-p<n>` anchor per paragraph."""
    toc = "".join(
        f'<li><a href="#{doc_anchor(d.doc_id)}">{esc(d.title)}</a> '
        f'<span class="msiqa-meta">{esc(d.kind or "")}</span></li>'
        for d in documents.values()
    )
    return f'<nav class="msiqa-toc"><ol>{toc}</ol></nav>' + "".join(
        document_html(d) for d in documents.values()
    )


APP_CSS = """
#msiqa-sources { max-height: 78vh; overflow-y: auto; scroll-behavior: smooth; }
#msiqa-docs { max-height: 82vh; overflow-y: auto; }
.msiqa-turn { margin: 0 0 .75rem; }
.msiqa-turn > summary { cursor: pointer; font-weight: 600; margin-bottom: .5rem; overflow-wrap: anywhere; }
.msiqa-src { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: .7rem .85rem;
  margin: 0 0 .7rem; background: var(--background-fill-primary); transition: box-shadow .3s; }
.msiqa-src header { line-height: 1.35; }
.msiqa-n { font-weight: 700; color: var(--color-accent); }
.msiqa-meta { font-size: .85em; color: var(--body-text-color-subdued); margin: .2rem 0 .4rem; }
.msiqa-para { margin: 0 0 .5rem; line-height: 1.55; overflow-wrap: anywhere; }
.msiqa-para mark { background: #fde68a; color: #1f2937; padding: 0 .1em; border-radius: 3px; }
.msiqa-actions { display: flex; gap: .8rem; align-items: center; flex-wrap: wrap; font-size: .9em; }
.msiqa-src .msiqa-copy { border: 1px solid var(--border-color-primary); border-radius: 6px;
  padding: .15rem .6rem; font-size: .85rem; font-weight: 500; background: var(--button-secondary-background-fill);
  cursor: pointer; }
#msiqa-chat a[href^="#src-"] { font-weight: 700; text-decoration: none; color: var(--color-accent);
  white-space: nowrap; }
.msiqa-notanswer { background: #fef3c7; color: #78350f; border-radius: 8px; padding: .5rem .7rem; }
.msiqa-tag { font-size: .75em; text-transform: uppercase; letter-spacing: .04em; background: #fde68a;
  color: #78350f; border-radius: 4px; padding: .05rem .35rem; }
.msiqa-closest { border-style: dashed; }
.msiqa-flash { box-shadow: 0 0 0 3px var(--color-accent); }
.msiqa-empty { color: var(--body-text-color-subdued); padding: .5rem; }
.msiqa-doc { margin: 0 0 2.5rem; max-width: 46rem; }
.msiqa-p { line-height: 1.6; overflow-wrap: anywhere; }
.msiqa-h { font-weight: 700; }
.msiqa-pn { font-size: .75em; color: var(--body-text-color-subdued); text-decoration: none; margin-right: .3em; }
p.msiqa-flash { background: #fef9c3; box-shadow: none; }
"""

# One delegated listener (capture phase) for the page's own links and buttons: `[n]` markers and
# "Read in document" links switch to the right tab, open the source's <details>, scroll its highlighted
# quote (or, without one, the source) into view and flash it; "Copy citation" copies the reference
# (with a fallback outside secure contexts).
APP_HEAD = """<script>
(() => {
  const tab = (name) => {
    const b = [...document.querySelectorAll('button[role="tab"]')].find((x) => x.textContent.trim() === name);
    if (b && b.getAttribute('aria-selected') !== 'true') b.click();
  };
  const flash = (el) => { el.classList.remove('msiqa-flash'); void el.offsetWidth; el.classList.add('msiqa-flash');
    setTimeout(() => el.classList.remove('msiqa-flash'), 2500); };
  const reveal = (id, tries) => {
    const el = document.getElementById(id);
    if (!el) { if (tries > 0) setTimeout(() => reveal(id, tries - 1), 60); return; }
    const d = el.closest('details'); if (d) d.open = true;
    (el.querySelector('mark') || el).scrollIntoView({ behavior: 'smooth', block: 'center' }); flash(el);
  };
  const copy = (text, button) => {
    const done = () => { const old = button.textContent; button.textContent = 'Copied ✓';
      setTimeout(() => { button.textContent = old; }, 1500); };
    const fallback = () => { const t = document.createElement('textarea'); t.value = text; document.body.appendChild(t);
      t.select(); try { document.execCommand('copy'); done(); } finally { t.remove(); } };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, fallback);
    else fallback();
  };
  document.addEventListener('click', (ev) => {
    const t = ev.target instanceof Element ? ev.target : null;
    if (!t) return;
    const button = t.closest('button.msiqa-copy');
    if (button) { ev.preventDefault(); copy(button.dataset.copy || '', button); return; }
    const a = t.closest('a[href^="#src-"], a[href^="#hit-"], a[href^="#doc-"]');
    if (!a) return;
    ev.preventDefault(); ev.stopPropagation();
    const id = a.getAttribute('href').slice(1);
    tab(id.startsWith('doc-') ? 'Documents' : 'Ask');
    reveal(id, 30);
  }, true);
})();
</script>"""
