"""Optional generative answers from any OpenAI-compatible `/v1/chat/completions` server, verified.

`chat` posts the messages with httpx, streaming (server-sent events: `data: {...}` lines ending with
`data: [DONE]`) or not, under a timeout. Every failure — refused connection, timeout, an HTTP error
code, a malformed or empty reply — raises `LlmError`. `generate` numbers the retrieved passages in the
prompt, demands `[n]` markers, verifies each generated sentence (`verify.py`), and turns the passages a
sentence cites into sentence-level citations (the closest sentence of each cited passage, quoted with
exact offsets). On `LlmError` it returns the extractive answer with a note saying why.
Deliberately left out: reading env vars (the CLI builds `LlmConfig`), retries, tool calls, and
conversation rewriting with the model.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from msiqa.answer.compose import cite, speaker
from msiqa.answer.verify import Check, verify
from msiqa.errors import LlmError
from msiqa.indexing.embedding import Embedder
from msiqa.indexing.store import LoadedIndex
from msiqa.retrieval import Retrieval
from msiqa.types import Answer, AnswerSentence, Citation, Hit

SYSTEM_PROMPT = (
    "You answer questions about documents of MSI Integrity's 'Not Fit-for-Purpose' campaign, using only the "
    "numbered passages you are given. Write at most {max_sentences} short sentences. End every sentence with "
    "the number of the passage that supports it in square brackets, like [2]. Do not use outside knowledge. "
    "If the passages do not answer the question, say so in one sentence."
)
UNSUPPORTED_FLAG = "(unsupported: not backed by the cited passages)"


@dataclass(frozen=True)
class LlmConfig:
    url: str  # base URL such as http://127.0.0.1:11434/v1, or the full .../chat/completions URL
    model: str
    api_key: str | None = None
    timeout_s: float = 60.0  # for the whole reply, streaming included
    stream: bool = False
    max_tokens: int = 400
    temperature: float = 0.0


def endpoint(url: str) -> str:
    url = url.rstrip("/")
    if url.endswith("/chat/completions"):
        return url
    return f"{url}/chat/completions" if url.endswith("/v1") else f"{url}/v1/chat/completions"


def messages_for(question: str, hits: tuple[Hit, ...], max_sentences: int) -> list[dict]:
    passages = "\n\n".join(
        f"[{i}] {speaker(h.document)}, “{h.document.title}”, para. {h.chunk.paragraph}:\n{h.chunk.text}"
        for i, h in enumerate(hits, start=1)
    )
    return [
        {"role": "system", "content": SYSTEM_PROMPT.format(max_sentences=max_sentences)},
        {"role": "user", "content": f"Passages:\n\n{passages}\n\nQuestion: {question}"},
    ]


def _content(payload: dict, key: str) -> str:
    """`choices[0][key]["content"]` of a completion (key "message") or a stream chunk (key "delta")."""
    if "error" in payload:
        raise LlmError(f"the language model server reported an error: {payload['error']}")
    try:
        choices = payload["choices"]
        return (choices[0][key].get("content") or "") if choices else ""
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        raise LlmError(
            f"the language model server sent a malformed reply (no choices[0].{key}.content)"
        ) from exc


def _read_stream(response, deadline: float, on_token: Callable[[str], None] | None) -> str:
    parts: list[str] = []
    for line in response.iter_lines():
        if time.monotonic() > deadline:
            raise LlmError("the language model server was still streaming when the timeout ran out")
        if not line.startswith("data:"):
            continue  # blank separators, comments (": ping"), event names
        data = line[5:].strip()
        if data == "[DONE]":
            break
        try:
            delta = _content(json.loads(data), "delta")
        except json.JSONDecodeError as exc:
            raise LlmError("the language model server sent a malformed stream event (not JSON)") from exc
        if delta:
            parts.append(delta)
            if on_token:
                on_token(delta)
    return "".join(parts)


def chat(config: LlmConfig, messages: list[dict], on_token: Callable[[str], None] | None = None) -> str:
    """The assistant's reply text; raises `LlmError` on any failure or an empty reply."""
    import httpx

    url = endpoint(config.url)
    body = {
        "model": config.model,
        "messages": messages,
        "stream": config.stream,
        "temperature": config.temperature,
        "max_tokens": config.max_tokens,
    }
    headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
    deadline = time.monotonic() + config.timeout_s
    try:
        with httpx.Client(timeout=httpx.Timeout(config.timeout_s)) as client:
            with client.stream("POST", url, json=body, headers=headers) as response:
                if response.status_code != 200:
                    detail = response.read().decode("utf-8", "replace")[:200]
                    raise LlmError(
                        f"the language model server at {url} answered HTTP {response.status_code}: {detail}"
                    )
                if config.stream:
                    text = _read_stream(response, deadline, on_token)
                else:
                    try:
                        text = _content(json.loads(response.read()), "message")
                    except json.JSONDecodeError as exc:
                        raise LlmError("the language model server sent a malformed reply (not JSON)") from exc
    except httpx.TimeoutException as exc:
        raise LlmError(
            f"the language model server at {url} did not answer within {config.timeout_s:g}s"
        ) from exc
    except httpx.HTTPError as exc:
        raise LlmError(f"could not reach the language model server at {url} ({type(exc).__name__})") from exc
    if not text.strip():
        raise LlmError(f"the language model server at {url} sent an empty reply")
    return text


def to_answer(
    question: str, checks: list[Check], retrieval: Retrieval, index: LoadedIndex, config: LlmConfig
) -> Answer:
    """Checked claims -> an `Answer` whose citations quote the closest sentence of each cited passage."""
    numbers: dict[int, int] = {}  # sentence row -> citation number
    citations: list[Citation] = []
    sentences: list[AnswerSentence] = []
    for check in checks:
        own = []
        for n, row in zip(check.claim.cited, check.support_rows, strict=True):
            if row not in numbers:
                numbers[row] = len(numbers) + 1
                hit = retrieval.hits[n - 1]
                citations.append(cite(numbers[row], hit.document, hit.chunk, index.sentence_spans[row]))
            own.append(numbers[row])
        markers = "".join(f"[{k}]" for k in own)
        sentences.append(AnswerSentence(f"{check.claim.text} {markers}".strip(), tuple(own), check.verdict))
    text = " ".join(
        s.text + (f" {UNSUPPORTED_FLAG}" if s.verdict == "unsupported" else "") for s in sentences
    )
    notes = [f"Generated by {config.model}; each sentence was checked against the passages it cites."]
    unsupported = sum(s.verdict == "unsupported" for s in sentences)
    if unsupported:
        notes.append(
            f"{unsupported} of {len(sentences)} generated sentences are not supported by the passages "
            "they cite (marked unsupported)."
        )
    dropped = sorted({n for c in checks for n in c.claim.dropped})
    if dropped:
        notes.append(
            "Removed citation(s) to passage(s) that were never given: "
            + ", ".join(f"[{n}]" for n in dropped)
            + f" (only 1-{len(retrieval.hits)} were given)."
        )
    return Answer(
        question,
        text,
        False,
        tuple(sentences),
        tuple(citations),
        retrieval.hits,
        retrieval.query,
        tuple(notes),
    )


def generate(
    question: str,
    retrieval: Retrieval,
    index: LoadedIndex,
    embedder: Embedder,
    config: LlmConfig,
    extractive: Answer,
    max_sentences: int = 4,
    on_token: Callable[[str], None] | None = None,
) -> Answer:
    """A verified generated answer, or `extractive` with a note when the server fails or it abstained."""
    if extractive.abstained or not retrieval.hits:
        return replace(
            extractive,
            notes=extractive.notes
            + ("The language model was not asked: the documents don't cover this question.",),
        )
    try:
        text = chat(config, messages_for(retrieval.query, retrieval.hits, max_sentences), on_token)
        checks = verify(text, retrieval.hits, index, embedder)
        if not checks:
            raise LlmError("the language model's reply held no sentence")
    except LlmError as exc:
        return replace(
            extractive,
            notes=extractive.notes
            + (f"The language model could not be used ({exc}); this is the extractive answer instead.",),
        )
    return to_answer(extractive.question, checks, retrieval, index, config)
