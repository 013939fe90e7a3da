"""Hits -> an `Answer` of quoted sentences, each cited `[n]`, or an explicit abstention.

Sentences are scored against the question with vectors stored at build time (no model call here): cosine
similarity plus a bonus for shared content words, and one for carrying the kind of answer the question
asks for (a reason for "why", a time for "when"). The best few are kept, near-duplicates dropped, and
they are ordered by document and position so the reply reads in the source's order. Headings, titles,
contact lines and questions are never quoted as answers (they answer nothing); when the question asks
who wrote something, a byline is the answer. The first sentence from each source says who is speaking
("Jaff Bamenjo (blog post): ..."); likewise, contact lines (name, e-mail, phone) answer "who should I
contact ...?" and lines with a web address answer "where can I download ...?" (`Asks`). Every citation
quotes one sentence exactly, with its document offsets (a dangling opening or closing quotation mark is
trimmed off the span, not the text). When the evidence is too weak (`should_abstain`), msiqa says the
documents do not cover the question and lists the closest passages. Deliberately left out: free-text
generation (`llm.py`), conversation memory (`conversation.py`).
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass, replace

import numpy as np

from msiqa.config import Settings
from msiqa.errors import InvalidQuestion
from msiqa.indexing.store import LoadedIndex, terms
from msiqa.ingest.chunking import WEB_ADDRESS, blocks, is_heading, page_of
from msiqa.query.entities import names_with_text
from msiqa.retrieval import Retrieval
from msiqa.types import Answer, AnswerSentence, Chunk, Citation, Document, Span

ABSTAIN_TEXT = (
    "The documents don't cover this question. The closest passages are listed below, "
    "but they are not an answer."
)
LEXICAL_BONUS = 0.5  # weight of the share of question terms a sentence contains
DUPLICATE_COSINE = 0.92
RANK_BONUS = 0.2  # bonus for sentences of the best-ranked passages: RANK_BONUS / rank
SIDE_LINE_PENALTY = 0.15
SCORE_MARGIN = 0.3  # keep sentences within this much of the best sentence's score
BYLINE_BONUS = 1.0  # a byline ("who wrote?"), contact line ("who to contact?"), web address ("where online?")
_AUTHOR_QUESTION = re.compile(
    r"\bwho\b.*\b(wr[io]tes?|written|authored)\b|\b(the|its|an?) authors?\b"
    r"|\bauthors? of\b",
    re.I,
)
_BYLINE = re.compile(r"by\s+\w", re.I)
# "Who should journalists contact ...?", "What is the press contact's email?": contact lines are the answer.
_CONTACT_QUESTION = re.compile(
    r"\bcontact|\be-?mail|\b(tele)?phone\b|\binterview requests?\b"
    r"|\b(press|media) (enquir|inquir|office)",
    re.I,
)
# "Where can I download the report?", "Is there a website?": a line with a web address is the answer.
_LINK_QUESTION = re.compile(
    r"\b(download|online|websites?|web ?site|web ?page|url|link)\b"
    r"|\bwhere (can|do|could|should) (i|we|you|one) (find|get|read|access|see)\b",
    re.I,
)
_CONTACT_HEAD = re.compile(r"^contact\b", re.I)  # "Contact: Teddy Ostrow"
_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+\.\w|\(?\+?\d[\d ()./-]{7,}\d")  # an e-mail address or phone number
ADDRESS_LINE_CHARS = 60  # a line this short that starts with an address is a contact line, not prose
_LINK_LINE = re.compile(
    r"(read|listen to|watch|click|download|subscribe)\b", re.I
)  # "Read the full post here."
# Expected answer types (classic QA): a "why" question is answered by a reason, a "when" question by a
# time. A sentence that carries the expected type gains ANSWER_TYPE_BONUS. Chosen on the tune half of
# eval/questions.jsonl (0.15-0.3 all gave the same gain). For "how many" questions neither any number nor a
# count of the asked-about thing helped there, so counts only decide abstention (`retrieval.missing_answer`).
ANSWER_TYPE_BONUS = 0.2
ANSWER_TYPES = (
    (
        re.compile(
            r"^\s*why\b|\bwhat (makes|made|prompted|led|causes?|caused|explains?|drove)\b|\bfor what reason\b",
            re.I,
        ),
        re.compile(
            r"\b(because|since|due to|owing to|in response to|as a result|thanks to|in order to|so that"
            r"|leads? to|led to|results? in|resulted in)\b",
            re.I,
        ),
    ),
    (
        re.compile(r"\b(when|since when|(in )?(what|which) (year|decade|month))\b", re.I),
        re.compile(
            r"\b(1[89]|20)\d\d(s)?\b|\b(decade|century|years? (ago|later)|january|february|march|april|may"
            r"|june|july|august|september|october|november|december)\b",
            re.I,
        ),
    ),
)
_OPEN_QUOTES, _CLOSE_QUOTES = "“‘", "”’"


@dataclass(frozen=True)
class Candidate:
    row: int  # sentence row in the index
    span: Span
    doc: Document
    chunk_row: int
    score: float
    cosine: float
    quotable: bool = True  # False for headings, titles and questions


def quotable(doc: Document, text: str, asks_author: bool = False) -> bool:
    """Whether a sentence can stand in an answer at all: not a heading, title, question or a bare
    e-mail/phone line (those answer only a contact question: `contact_lines`)."""
    text = text.strip()
    if _BYLINE.match(text):
        return True
    return not (
        text == doc.title
        or text.rstrip("”’\"' ").endswith("?")
        or is_heading(text)
        or bool(_ADDRESS.match(text))
        and len(text) < ADDRESS_LINE_CHARS
    )


def side_line(text: str, asks_author: bool = False) -> bool:
    """A byline, contact, caption or "Read … here." line: quotable, but only when clearly the best match
    (it loses SIDE_LINE_PENALTY), except a byline when the question asks who wrote something."""
    text = text.strip()
    if _BYLINE.match(text):
        return not asks_author
    return bool(_LINK_LINE.match(text)) or text[-1:] not in '.!”’")'


def trim_quotes(text: str, span: Span) -> Span:
    """Drop an opening (closing) quotation mark from the span when the sentence never closes (opens) it."""
    start, end = span.start, span.end
    piece = text[start:end]
    opens, closes = sum(piece.count(q) for q in _OPEN_QUOTES), sum(piece.count(q) for q in _CLOSE_QUOTES)
    if piece[:1] in _OPEN_QUOTES and opens > closes:
        start += 1
    elif piece[-1:] in _CLOSE_QUOTES and closes > opens and end - start > 1:
        end -= 1
    while start < end and text[start].isspace():
        start += 1
    return Span(start, end)


def speaker(doc: Document) -> str:
    """Who is speaking in a document: author (or publisher, or title) and the kind of source."""
    who = doc.author or doc.publisher or doc.title
    return f"{who} ({doc.kind})" if doc.kind else who


def validate_question(question: str, max_chars: int) -> str:
    text = (question or "").strip()
    if not text:
        raise InvalidQuestion("The question is empty. Type a question about the MSI documents.")
    if len(text) > max_chars:
        raise InvalidQuestion(
            f"The question is {len(text):,} characters long; the limit is {max_chars:,}. "
            "Shorten it to the part you want answered."
        )
    if not re.search(r"\w", text):
        raise InvalidQuestion("The question has no words to search for. Ask it in words.")
    return text


@functools.lru_cache(maxsize=256)
def _block_starts(text: str) -> tuple[int, ...]:
    return tuple(b.start for b in blocks(text))


def paragraph_of(doc: Document, offset: int) -> int:
    return max(1, bisect.bisect_right(_block_starts(doc.text), offset))


def reference(doc: Document, paragraph: int, page: int | None = None) -> str:
    """A copyable reference: author, “title”, publisher (series), date, paragraph (and page)."""
    parts = [doc.author] if doc.author else []
    parts.append(f"“{doc.title}”")
    parts += [doc.publisher or "", doc.series or ""]
    parts.append(doc.date or "n.d.")
    parts.append(f"p. {page}, para. {paragraph}" if page else f"para. {paragraph}")
    return ", ".join(p for p in parts if p) + "."


def contact_lines(texts: list[str]) -> list[bool]:
    """Which lines of a passage belong to a contact entry: a "Contact: ..." line, an e-mail address or
    phone number, and the name line right above an address ("Teddy Ostrow, MSI Integrity")."""
    address = [bool(_ADDRESS.search(t)) for t in texts]
    return [
        address[i]
        or bool(_CONTACT_HEAD.match(t.strip()))
        or (i + 1 < len(texts) and address[i + 1] and not t.rstrip().endswith((".", "?", "!", ":")))
        for i, t in enumerate(texts)
    ]


def entries_scored_together(scored: list[Candidate], contact: list[bool]) -> list[Candidate]:
    """Give each run of consecutive contact lines (name, e-mail, phone) their mean score, so that an
    answer quotes the whole entry rather than an address without the name."""
    out = list(scored)
    i = 0
    while i < len(out):
        j = i
        while j < len(out) and contact[j]:
            j += 1
        if j > i:
            mean = sum(c.score for c in out[i:j]) / (j - i)
            out[i:j] = [replace(c, score=mean) for c in out[i:j]]
        i = j + 1
    return out


@dataclass(frozen=True)
class Asks:
    """What a question asks for, read from its words: who wrote it, whom to contact, where to find it
    online (a line answers these outright), and the expected answer types (`ANSWER_TYPES`)."""

    author: bool
    contact: bool
    link: bool
    answer_types: tuple[re.Pattern, ...]

    @classmethod
    def of(cls, question: str) -> Asks:
        return cls(
            bool(_AUTHOR_QUESTION.search(question)),
            bool(_CONTACT_QUESTION.search(question)),
            bool(_LINK_QUESTION.search(question)),
            tuple(answer for asks, answer in ANSWER_TYPES if asks.search(question)),
        )

    def answered_outright(self, text: str, is_contact: bool) -> bool:
        """A byline for "who wrote?", a contact line for "whom to contact?", a web address for "where
        online?": these lines are the answer, whatever their cosine."""
        return (
            is_contact
            or (self.author and bool(_BYLINE.match(text)))
            or (self.link and bool(WEB_ADDRESS.search(text)))
        )

    def typed(self, text: str) -> bool:
        return any(answer.search(text) for answer in self.answer_types)


def candidates(question: str, retrieval: Retrieval, index: LoadedIndex) -> list[Candidate]:
    query_terms = terms(question)
    asks = Asks.of(question)
    out: list[Candidate] = []
    for hit in retrieval.hits:
        chunk_row = index.chunk_rows[hit.chunk.chunk_id]
        rows = index.sentence_rows(chunk_row)
        if not len(rows):
            continue
        cosines = index.sentence_vectors[rows.start : rows.stop] @ retrieval.query_vector
        spans = [index.sentence_spans[row] for row in rows]
        texts = [hit.document.text[span.start : span.end] for span in spans]
        contact = contact_lines(texts) if asks.contact else [False] * len(texts)
        scored: list[Candidate] = []
        for row, cosine, span, text, is_contact in zip(rows, cosines, spans, texts, contact):
            overlap = len(query_terms & terms(text)) / len(query_terms) if query_terms else 0.0
            outright = asks.answered_outright(text, is_contact)
            bonus = (BYLINE_BONUS if outright else 0.0) + (ANSWER_TYPE_BONUS if asks.typed(text) else 0.0)
            prior = RANK_BONUS / hit.rank  # the fused ranking already weighed BM25 and both vector views
            prior -= SIDE_LINE_PENALTY if side_line(text, asks.author) and not outright else 0.0
            scored.append(
                Candidate(
                    row,
                    span,
                    hit.document,
                    chunk_row,
                    float(cosine) + LEXICAL_BONUS * overlap + bonus + prior,
                    float(cosine),
                    outright or quotable(hit.document, text, asks.author),
                )
            )
        out += entries_scored_together(scored, contact)
    return out


def select(cands: list[Candidate], index: LoadedIndex, settings: Settings) -> list[Candidate]:
    """Best sentences within the margin and word budget, no near-duplicates, in reading order."""
    chosen: list[Candidate] = []
    words = 0
    if any(c.quotable for c in cands):
        cands = [c for c in cands if c.quotable]
    ranked = sorted(cands, key=lambda c: (-c.score, c.row))
    best = ranked[0].score if ranked else 0.0
    for cand in ranked:
        if len(chosen) >= settings.answer_max_sentences or cand.score < best - SCORE_MARGIN:
            break
        if any(
            float(index.sentence_vectors[cand.row] @ index.sentence_vectors[c.row]) > DUPLICATE_COSINE
            for c in chosen
        ):
            continue
        n_words = len(cand.doc.text[cand.span.start : cand.span.end].split())
        if chosen and words + n_words > settings.answer_max_words:
            continue
        chosen.append(cand)
        words += n_words
    first_seen = {c.doc.doc_id: i for i, c in reversed(list(enumerate(chosen)))}
    return sorted(chosen, key=lambda c: (first_seen[c.doc.doc_id], c.span.start))


def best_sentence_cosine(retrieval: Retrieval, index: LoadedIndex) -> float:
    """Cosine of the question with the closest stored sentence of any hit (what `compose` sees)."""
    best = 0.0
    for hit in retrieval.hits:
        rows = index.sentence_rows(index.chunk_rows[hit.chunk.chunk_id])
        if len(rows):
            best = max(
                best, float(np.max(index.sentence_vectors[rows.start : rows.stop] @ retrieval.query_vector))
            )
    return best


def abstention_evidence(retrieval: Retrieval, best_sentence_cosine: float, settings: Settings) -> float:
    """How strongly the hits support the question: the best sentence's cosine plus the IDF-weighted share
    of question terms the hits contain (so "Who is Gerardo Reyes?" counts its two rare names as found)."""
    return best_sentence_cosine + settings.abstain_coverage_weight * retrieval.term_coverage


def should_abstain(retrieval: Retrieval, best_sentence_cosine: float, settings: Settings) -> bool:
    """Abstain when the question names something no passage mentions, asks for a figure no passage near
    its names gives ("how many X?", "what fee?"), or the evidence score is below the cut-off calibrated
    on the tune half of the eval set (`msiqa eval --calibrate`; README "Evaluation")."""
    if retrieval.unknown_names or retrieval.missing_answer:
        return True
    return abstention_evidence(retrieval, best_sentence_cosine, settings) < settings.min_evidence


def abstain_text(retrieval: Retrieval) -> str:
    """The abstention message; it names what the documents never mention (or the figure they never give)
    when that is the reason."""
    if retrieval.unknown_names:
        names = ", ".join(f"“{name}”" for name in retrieval.unknown_names)
        return f"The documents never mention {names}. " + ABSTAIN_TEXT
    if retrieval.missing_answer:
        names = [written for _, written in names_with_text(retrieval.query)]
        about = " for " + ", ".join(f"“{name}”" for name in names) if names else ""
        return f"None of the documents gives {retrieval.missing_answer}{about}. " + ABSTAIN_TEXT
    return ABSTAIN_TEXT


def compose(question: str, retrieval: Retrieval, index: LoadedIndex, settings: Settings) -> Answer:
    """Answer `question` from `retrieval`; sentences are scored against the search query actually run."""
    cands = candidates(retrieval.query, retrieval, index)
    best_cosine = max((c.cosine for c in cands), default=0.0)
    if not cands or should_abstain(retrieval, best_cosine, settings):
        return Answer(question, abstain_text(retrieval), True, (), (), retrieval.hits, retrieval.query)
    citations: list[Citation] = []
    sentences: list[AnswerSentence] = []
    previous_doc = None
    for n, cand in enumerate(select(cands, index, settings), start=1):
        citation = cite(n, cand.doc, index.chunks[cand.chunk_row], cand.span)
        lead = f"{speaker(cand.doc)}: " if cand.doc.doc_id != previous_doc else ""
        previous_doc = cand.doc.doc_id
        citations.append(citation)
        sentences.append(AnswerSentence(f"{lead}{citation.quote} [{n}]", (n,)))
    text = " ".join(s.text for s in sentences)
    return Answer(question, text, False, tuple(sentences), tuple(citations), retrieval.hits, retrieval.query)


def cite(n: int, doc: Document, chunk: Chunk, span: Span) -> Citation:
    """Citation `n` quoting `doc.text` at `span` (quotation marks trimmed), with paragraph and reference."""
    span = trim_quotes(doc.text, span)
    paragraph = paragraph_of(doc, span.start)
    return Citation(
        n,
        doc,
        chunk,
        span.start,
        span.end,
        doc.text[span.start : span.end],
        paragraph,
        reference(doc, paragraph, page_of(doc, span.start)),
    )  # the quote's page, not the chunk's first
