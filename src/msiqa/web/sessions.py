"""Housekeeping of Gradio's per-session memory, run by the HTTP guard every few hundred requests.

Every `/gradio_api/call/ask` request is a new Gradio session: Gradio builds it a `SessionState` (a copy
of the page's config, about 50 KB here) and keeps it until STATE_SESSIONS newer sessions push it out,
and it never drops the session's message queue. `drop_pristine_sessions` drops, as soon as they are
finished, the sessions Gradio would rebuild exactly as they are (nothing stored, nothing updated): an
`/ask` call leaves no state behind, while a browser tab that has asked something keeps its conversation.
`forget_finished_sessions` then drops the message queues of sessions no longer in the state. Deliberately
left out: anything that changes what a session sees.
"""

from __future__ import annotations


def finished(queue, session: str) -> bool:
    """True when the session has no undelivered message and no event id pending: Gradio keeps an event's
    id there while it waits, runs, and until its reply has been streamed to the client."""
    messages = queue.pending_messages_per_session.get(session)
    return (messages is None or messages.empty()) and not queue.pending_event_ids_session.get(session)


def pristine(state, default_blocks: dict) -> bool:
    """True when Gradio would rebuild this `SessionState` as it is: no `gr.State` value read or written,
    and no component replaced by an update (the session's blocks are still the page's own objects)."""
    blocks = state.blocks_config.blocks
    return (
        not state.state_data
        and not state._state_ttl
        and len(blocks) == len(default_blocks)
        and all(blocks.get(key) is block for key, block in default_blocks.items())
    )


def drop_pristine_sessions(holder, queue, blocks) -> int:
    """Drop from `holder` (Gradio's StateHolder) every finished, pristine session of `blocks`."""
    default_blocks = blocks.default_config.blocks
    with holder.lock:
        dropped = [
            session
            for session, state in list(holder.session_data.items())
            if pristine(state, default_blocks) and finished(queue, session)
        ]
        for session in dropped:
            holder.session_data.pop(session, None)
            holder.time_last_used.pop(session, None)
    return len(dropped)


def forget_finished_sessions(holder, queue) -> int:
    """Drop Gradio's message queue and event-id set of every finished session no longer in `holder`:
    Gradio 6 never drops them for `/gradio_api/call/` requests (about 10 KB each)."""
    live = holder.session_data
    stale = [
        session
        for session in list(queue.pending_messages_per_session)
        if session not in live and finished(queue, session)
    ]
    for session in stale:
        queue.pending_messages_per_session.pop(session, None)
        queue.pending_event_ids_session.pop(session, None)
    return len(stale)


def housekeeping(demo) -> int:
    """Both of the above on a launched Blocks; the number of message queues dropped."""
    holder, queue = demo.server_app.state_holder, demo._queue
    drop_pristine_sessions(holder, queue, demo)
    return forget_finished_sessions(holder, queue)
