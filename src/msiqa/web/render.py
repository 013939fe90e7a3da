"""Answer dicts and documents -> escaped HTML and Markdown for the web app (pure functions).

Everything that comes from a document or a user (titles, authors, quotes, passages, questions) passes
through `html.escape` here before it reaches the page, and chat Markdown is also backslash-escaped, so
document text can never become live HTML or Markdown formatting. Anchor ids are built from a slug of
the document id, never from raw text. Input is the JSON shape of `serialize.answer_to_dict`, so the
page shows exactly what the `/ask` API returns. Deliberately left out: Gradio (app.py owns the page),
any I/O, and any decision about what to answer.
"""

from __future__ import annotations

import bisect
import html
import re
from collections.abc import Mapping, Sequence

from msiqa.ingest.chunking import blocks
from msiqa.types import Document
from msiqa.web.assets import APP_CSS, APP_HEAD  # noqa: F401 - app.py takes the page assets from here

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
        link = f"[the closest passages]({'#'}turn-{turn})"
        return [md_escape(answer["answer"]), f" See {link} under Sources: they are not an answer."]
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
    found = blocks(doc.text)
    i = max(0, bisect.bisect_right([b.start for b in found], start) - 1)
    block = found[i] if found else None
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
    items = [get("author"), get("kind"), get("date") or get("year") or "undated"]
    if paragraph is not None:
        items.append(f"¶ {paragraph}")
    return " · ".join(esc(i) for i in items if i)


def inner_quotes(text: str) -> str:
    """Quotation marks inside a quoted passage become single ones, so “…” never nests as “…””."""
    return text.replace("“", "‘").replace("”", "’").replace('"', "'")


def reference_text(c: Mapping, doc: Document | None) -> str:
    """Author, “Title,” publisher, series, date (or year), paragraph, web address: plain text."""
    get = (lambda k: getattr(doc, k)) if doc is not None else (lambda k: c.get(k))
    parts = [get("author"), f"“{inner_quotes(get('title') or c['title'])}”", get("publisher"), get("series")]
    parts.append(get("date") or get("year") or "n.d.")
    if c.get("paragraph") is not None:
        parts.append(f"para. {int(c['paragraph'])}")
    text = ", ".join(p for p in parts if p) + "."
    url = get("url")
    return f"{text} {url}" if url else text


def citation_text(c: Mapping, doc: Document | None) -> str:
    """What "Copy citation" puts on the clipboard: the reference, then the quote in “…”."""
    quote = " ".join(c["quote"].split())
    return f"{reference_text(c, doc)} “{inner_quotes(quote)}”"


def answer_text(answer: Mapping, documents: Mapping[str, Document]) -> str:
    """The answer as plain text for notes: its sentences with [n] markers, then a numbered reference list."""
    if answer["abstained"]:
        return answer["answer"]
    body = " ".join(" ".join(s["text"].split()) for s in answer["sentences"])
    refs = [f"[{int(c['n'])}] {reference_text(c, documents.get(c['doc_id']))}" for c in answer["citations"]]
    return body + "\n\nReferences\n" + "\n".join(refs)


def filters_note(titles: Sequence[str], kinds: Sequence[str]) -> str:
    """ "*Searched only in: …*" for an answer asked with document or kind filters on, else nothing."""
    parts = []
    if titles:
        parts.append("documents " + "; ".join(f"“{t}”" for t in titles))
    if kinds:
        parts.append("kinds " + ", ".join(kinds))
    return f"*Searched only in {md_escape(' and '.join(parts))}.*\n\n" if parts else ""


def citation_card(c: Mapping, doc: Document | None, turn: int) -> str:
    body = (
        highlighted_paragraph(doc, c["start"], c["end"])
        if doc is not None
        else f"<mark>{esc(c['quote'])}</mark>"
    )
    copy = citation_text(c, doc)
    read = doc_anchor(c["doc_id"], c.get("paragraph"))
    return (
        f'<article class="msiqa-src" id="{src_anchor(turn, c["n"])}">'
        f'<header><span class="msiqa-n">[{int(c["n"])}]</span> <strong>{esc(c["title"])}</strong></header>'
        f'<div class="msiqa-meta">{_meta(doc, c, c.get("paragraph"))}</div>'
        f'<p class="msiqa-para">{body}</p>'
        f'<div class="msiqa-actions"><button type="button" class="msiqa-copy" data-copy="{esc(copy)}">'
        f'Copy citation</button> <a class="msiqa-read" href="#{read}" data-start="{int(c["start"])}" '
        f'data-end="{int(c["end"])}">Read in document</a></div></article>'
    )


def closest_card(h: Mapping, doc: Document | None, turn: int) -> str:
    return (
        f'<article class="msiqa-src msiqa-closest" id="hit-{turn}-{int(h["rank"])}">'
        f'<header><span class="msiqa-tag">not an answer</span> <strong>{esc(h["title"])}</strong></header>'
        f'<div class="msiqa-meta">{_meta(doc, h, h.get("paragraph"))}</div>'
        f'<p class="msiqa-para">{esc(h["text"]).replace(chr(10), "<br>")}</p>'
        f'<div class="msiqa-actions"><a class="msiqa-read" '
        f'href="#{doc_anchor(h["doc_id"], h.get("paragraph"))}">Read in document</a></div></article>'
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
    tools = (
        '<div class="msiqa-actions msiqa-turn-tools">'
        f'<button type="button" class="msiqa-copy msiqa-copy-answer" '
        f'data-copy="{esc(answer_text(answer, documents))}">Copy answer</button> '
        '<a class="msiqa-ask" href="#msiqa-question">↑ Ask another question</a></div>'
    )
    return (
        f'<details class="msiqa-turn" id="turn-{turn}"{" open" if latest else ""}>{summary}'
        f"{head}{''.join(cards)}{tools}</details>"
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


def _when(doc: Document) -> str:
    return doc.date or doc.year or "undated"


def document_html(doc: Document) -> str:
    """One document: a title that stays in view while it is read, then every paragraph with its anchor
    and its character offset (`data-start`), so the page can mark a quote's exact characters."""
    paras = []
    for b in blocks(doc.text):
        anchor = doc_anchor(doc.doc_id, b.paragraph)
        text = esc(doc.text[b.start : b.end]).replace("\n", "<br>")
        cls = "msiqa-p msiqa-h" if b.is_heading else "msiqa-p"
        paras.append(
            f'<p class="{cls}" id="{anchor}"><a class="msiqa-pn" href="#{anchor}">¶{b.paragraph}</a> '
            f'<span class="msiqa-t" data-start="{b.start}">{text}</span></p>'
        )
    extra = " · ".join(esc(x) for x in (doc.publisher, doc.series) if x)
    link = f' · <span class="msiqa-url">{esc(doc.url)}</span>' if doc.url else ""
    meta = " · ".join(esc(i) for i in (doc.author, doc.kind, _when(doc)) if i)
    return (
        f'<article class="msiqa-doc" id="{doc_anchor(doc.doc_id)}">'
        f'<h2 class="msiqa-doc-title">{esc(doc.title)}</h2>'
        f'<div class="msiqa-meta">{meta}{" · " + extra if extra else ""}{link}</div>'
        f"{''.join(paras)}</article>"
    )


def documents_html(documents: Mapping[str, Document]) -> str:
    """A bar (contents, and the way back to the answer), a table of contents, then every document in
    full with a `doc-<id>-p<n>` anchor per paragraph."""
    toc = "".join(
        f'<li><a href="#{doc_anchor(d.doc_id)}">{esc(d.title)}</a> '
        f'<span class="msiqa-meta">{esc(d.kind or "")} · {esc(_when(d))}</span></li>'
        for d in documents.values()
    )
    bar = (
        '<div class="msiqa-docbar">'
        '<a class="msiqa-back" href="#msiqa-question" hidden>← Back to the answer</a>'
        '<a class="msiqa-tocl" href="#msiqa-toc">Contents</a></div>'
    )
    return f'{bar}<nav class="msiqa-toc" id="msiqa-toc"><h2>Contents</h2><ol>{toc}</ol></nav>' + "".join(
        document_html(d) for d in documents.values()
    )


def corpus_note(documents: Mapping[str, Document]) -> str:
    """Landing text in Markdown: what the corpus is (each piece named, with its kind) and what it is not."""
    words = sum(len(d.text.split()) for d in documents.values())
    items = "\n".join(
        f"- {md_escape(d.title)} — *{md_escape(d.kind or 'document')}*" for d in documents.values()
    )
    return (
        f"The documents are **{len(documents)} short pieces** (about {words:,} words) from MSI Integrity's "
        "2020 *Not Fit-for-Purpose* campaign:\n\n"
        f"{items}\n\n"
        "They do **not** include the *Not Fit-for-Purpose* report itself: they are about it. "
        "Answers quote these pieces only."
    )
