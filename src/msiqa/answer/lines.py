"""What a line of a passage is, read from its words: a byline, a contact entry, a web-address line, a
heading or question that answers nothing, a side line ("Read the full post here."), and what a question
asks for that such a line answers outright (`Asks`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from msiqa.ingest.chunking import WEB_ADDRESS, is_heading
from msiqa.types import Document

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
# "What is the headline of ...?", "According to the title of ...": the document's title line is the answer.
_TITLE_QUESTION = re.compile(r"(?<!job )\b(title|titled|headlines?|headlined)\b", re.I)  # not a job title
_CONTACT_HEAD = re.compile(r"^contact\b", re.I)  # "Contact: Teddy Ostrow"
_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+\.\w|\(?\+?\d[\d ()./-]{7,}\d")  # an e-mail address or phone number
ADDRESS_LINE_CHARS = 60  # a line this short that starts with an address is a contact line, not prose
_LINK_LINE = re.compile(
    r"(read|listen to|watch|click|download|subscribe)\b", re.I
)  # "Read the full post here."
# Expected answer types (classic QA): a "why" question is answered by a reason, a "when" question by a
# time. A sentence that carries the expected type gains


def quotable(doc: Document, text: str) -> bool:
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


@dataclass(frozen=True)
class Asks:
    """What a question asks for, read from its words: who wrote it, whom to contact, where to find it
    online, what a piece is called (a line answers these outright)."""

    author: bool
    contact: bool
    link: bool
    title: bool = False

    @classmethod
    def of(cls, question: str) -> Asks:
        return cls(
            bool(_AUTHOR_QUESTION.search(question)),
            bool(_CONTACT_QUESTION.search(question)),
            bool(_LINK_QUESTION.search(question)),
            bool(_TITLE_QUESTION.search(question)),
        )

    def answered_outright(self, text: str, is_contact: bool, is_title: bool = False) -> bool:
        """A byline for "who wrote?", a contact line for "whom to contact?", a web address for "where
        online?", the title line for "what is the headline?": these lines are the answer, whatever
        their cosine."""
        return (
            is_contact
            or (self.author and bool(_BYLINE.match(text)))
            or (self.link and bool(WEB_ADDRESS.search(text)))
            or (self.title and is_title)
        )
