"""The web app's event handlers: the `/ask` API function, the streaming chat reply, and the filter
notice. Each takes the engine explicitly and returns what the page shows; errors become chat messages
(a traceback never reaches the page). Deliberately left out: the layout (app.py) and HTML (render.py).
"""

from __future__ import annotations

import logging
import time

from msiqa.errors import InvalidQuestion, MsiqaError

log = logging.getLogger("msiqa.app")

MAX_TURNS = 20  # sources of this many past answers stay in the panel
STREAM_PAUSE_S = 0.04  # between streamed sentences, so the reply visibly builds up


def friendly(exc: MsiqaError) -> str:
    from msiqa.web.render import md_escape

    return f"⚠️ {md_escape(str(exc))}"


def language_hint(question: str) -> str:
    """A note for questions mostly in a non-Latin script: the documents and the model are English."""
    letters = [ch for ch in question if ch.isalpha()]
    foreign = sum(1 for ch in letters if not ch.isascii() and ord(ch) > 0x24F)
    if letters and foreign / len(letters) > 0.3:
        return (
            "\n\n*The documents are in English and msiqa searches them in English; "
            "asking in English gives the best answers.*"
        )
    return ""


def chosen_filters(documents, doc_ids, kinds) -> tuple[list[str], list[str]]:
    """(titles of the chosen documents, chosen kinds), as the page names them."""
    titles = [documents[d].title for d in (doc_ids or []) if d in documents]
    return titles, list(kinds or [])


def filters_update(gr, documents, doc_ids, kinds):
    """Show "Searched only in …" with a Clear filters button while a filter is on; hide it otherwise."""
    from msiqa.web.render import filters_note

    note = filters_note(*chosen_filters(documents, doc_ids, kinds))
    return gr.update(visible=bool(note)), note.strip()


def api_ask(engine):
    import gradio as gr

    from msiqa.serialize import answer_to_dict

    def ask(
        question: str,
        retriever: str = "hybrid",
        top_k: int = 5,
        doc_ids: list[str] | None = None,
        kinds: list[str] | None = None,
    ) -> dict:
        """Answer a question with cited quotes: the same JSON as `msiqa ask --json`."""
        try:
            return answer_to_dict(
                engine.ask(
                    question,
                    retriever=retriever,
                    top_k=int(top_k),
                    doc_ids=doc_ids or None,
                    kinds=kinds or None,
                )
            )
        except MsiqaError as exc:
            raise gr.Error(str(exc), print_exception=False) from None

    return ask


def _answer(engine, question, turns, retriever, top_k, doc_ids, kinds):
    """(result, None) or (None, (chat message, text to leave in the box))."""
    past = [(t["question"], t["obj"]) for t in turns if "obj" in t]  # follow-ups read earlier turns
    try:
        result = engine.ask(
            question,
            retriever=retriever,
            top_k=int(top_k),
            doc_ids=doc_ids or None,
            kinds=kinds or None,
            history=past,
        )
        return result, None
    except InvalidQuestion as exc:
        return None, (friendly(exc), "")
    except MsiqaError as exc:
        return None, (friendly(exc), question)
    except Exception:  # the page must never show a traceback; the log keeps it
        log.exception("answering %r failed", question[:200])
        return None, ("⚠️ Something went wrong while answering. Please try again.", question)


def responder(engine):
    import gradio as gr

    from msiqa.serialize import answer_to_dict
    from msiqa.web.render import answer_pieces, filters_note, question_echo, searched_note, sources_html

    documents = engine.index.documents
    hide = gr.update(visible=False)

    def respond(question, history, turns, retriever, top_k, doc_ids, kinds):
        history = list(history or []) + [
            {"role": "user", "content": question_echo(question)},
            {"role": "assistant", "content": "Searching the documents…"},
        ]
        panel = sources_html(turns, documents)
        yield history, "", turns, panel, hide
        result, failed = _answer(engine, question, turns, retriever, top_k, doc_ids, kinds)
        if failed is not None:
            history[-1]["content"], box = failed
            yield history, box, turns, panel, hide
            return
        answer = answer_to_dict(result)
        turn = (turns[-1]["turn"] + 1) if turns else 1
        turns = (list(turns) + [{"turn": turn, "answer": answer, "question": question, "obj": result}])[
            -MAX_TURNS:
        ]
        panel = sources_html(turns, documents)
        text = filters_note(*chosen_filters(documents, doc_ids, kinds)) + searched_note(answer)
        for piece in answer_pieces(answer, turn):
            text += piece
            history[-1]["content"] = text
            yield history, "", turns, panel, hide
            time.sleep(STREAM_PAUSE_S)
        history[-1]["content"] = text + language_hint(question)
        yield history, "", turns, panel, hide

    return respond
