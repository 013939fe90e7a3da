"""The app's session housekeeping (web/sessions.py) on Gradio's own StateHolder and Queue: a finished
`/ask`-style session goes, while a conversation, an updated page or a running event stays."""

from __future__ import annotations

import asyncio

import pytest

gr = pytest.importorskip("gradio")
from gradio.state_holder import StateHolder  # noqa: E402

from msiqa.web.sessions import drop_pristine_sessions, forget_finished_sessions  # noqa: E402


@pytest.fixture()
def page():
    with gr.Blocks() as demo:
        turns = gr.State([])
        note = gr.Markdown("")
    demo.queue()
    holder = StateHolder()
    holder.set_blocks(demo)
    return demo, holder, demo._queue, turns, note


def test_only_finished_pristine_sessions_are_dropped(page):
    demo, holder, queue, turns, note = page
    holder["api-call"]  # what an /ask call leaves: a SessionState nobody stored anything in
    holder["chat"][turns._id] = [("q", "a")]  # a browser tab with a conversation
    holder["read"][turns._id]  # reading a gr.State stores its initial value for the session
    holder["updated"][note._id] = gr.Markdown("Searched only in …")  # a component changed by an update
    holder["running"]
    queue.pending_event_ids_session["running"] = {"event-1"}
    queue.event_ids_to_events["event-1"] = object()

    assert drop_pristine_sessions(holder, queue, demo) == 1
    assert set(holder.session_data) == {"chat", "read", "updated", "running"}
    assert holder["chat"][turns._id] == [("q", "a")]

    del queue.event_ids_to_events["event-1"]  # the event finished, its reply is being streamed
    assert drop_pristine_sessions(holder, queue, demo) == 0
    queue.pending_event_ids_session["running"].discard("event-1")  # the reply was delivered
    assert drop_pristine_sessions(holder, queue, demo) == 1
    assert "running" not in holder.session_data


def test_message_queues_go_only_with_their_session_and_once_delivered(page):
    demo, holder, queue, turns, _ = page
    holder["chat"][turns._id] = [("q", "a")]
    for session in ("chat", "gone", "undelivered"):
        queue.pending_messages_per_session[session] = asyncio.Queue()
    queue.pending_messages_per_session["undelivered"].put_nowait("a reply not yet read")

    assert forget_finished_sessions(holder, queue) == 1
    assert set(queue.pending_messages_per_session) == {"chat", "undelivered"}
