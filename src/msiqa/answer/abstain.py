"""Whether to answer at all, and what to say when not.

Three reasons to abstain, checked in this order:
1. the question names something no passage mentions (`Retrieval.unknown_names`);
2. it asks for a figure (how many X, what fee) that no passage near its names gives
   (`Retrieval.missing_answer`);
3. the learned answer model (`selector.py`, trained by `msiqa train`) puts the chance that the
   retrieved sentences answer it below its threshold. Its inputs include whether any sentence about
   the question's subject carries the type of answer asked for (a person for "who", a date for
   "when"...), so a question that asks for a detail the documents never state about something they
   do discuss is refused, and the reply says what is missing.
The closest passages are always shown with the refusal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from msiqa.query.answer_types import DATE, MONEY, NUMBER, ORGANISATION, PERSON, PLACE
from msiqa.query.entities import names_with_text
from msiqa.retrieval import Retrieval

NOT_COVERED = "don't cover this question"
CLOSEST = "The closest passages are shown with this reply, but they are not an answer."
_WHAT_IS_MISSING = {
    PERSON: "who",
    ORGANISATION: "which organisation",
    PLACE: "where",
    DATE: "when",
    NUMBER: "how many or how much",
    MONEY: "how much money",
}
_AUXILIARY = re.compile(
    r"^(?:who|whom|whose|which|what|where|when|how many|how much)(?:\s+\w+)?\s+"
    r"(?:did|does|do|has|have|had|can|could|will|would|should)\b",
    re.I,
)
_WH_START = re.compile(r"^(?:who|whom|whose|which|what|where|when|how many|how much)\b", re.I)
_LEAD_IN = re.compile(r"^(?:according to [^,]+,|in [^,]+,|so|and|also|ok|okay|hey)\s+", re.I)


@dataclass(frozen=True)
class Decision:
    abstain: bool
    reason: str = ""  # the message, when abstaining


def scope_word(filtered: bool) -> str:
    return "The selected documents" if filtered else "The documents"


def indirect(question: str) -> str | None:
    """ "Who chairs the EITI's board?" -> "who chairs the EITI's board"; None where the words would
    have to be reordered ("When did the EITI start?")."""
    text = _LEAD_IN.sub("", question.strip()).rstrip(" ?.!")
    if not _WH_START.match(text) or _AUXILIARY.match(text):
        return None
    return text[0].lower() + text[1:]


def missing_detail(question: str, asked: str | None, filtered: bool) -> str:
    """ "The documents discuss “EITI” but never say who chairs the EITI's board." """
    subjects = [written for _, written in names_with_text(question)]
    scope = scope_word(filtered)
    about = f"discuss {', '.join(f'“{s}”' for s in subjects)} but " if subjects else ""
    clause = indirect(question)
    if clause:
        return f"{scope} {about}never say {clause}."
    what = _WHAT_IS_MISSING.get(asked or "", "")
    if what:
        return f"{scope} {about}never say {what}: “{question.strip()}” is left open."
    return f"{scope} {NOT_COVERED}."


def decide(
    question: str,
    retrieval: Retrieval,
    answer_probability: float,
    threshold: float,
    asked: str | None,
    filtered: bool,
) -> Decision:
    scope = scope_word(filtered)
    if retrieval.unknown_names:
        names = ", ".join(f"“{name}”" for name in retrieval.unknown_names)
        return Decision(True, f"{scope} never mention {names}. {scope} {NOT_COVERED}. {CLOSEST}")
    if retrieval.missing_answer:
        names = [written for _, written in names_with_text(retrieval.query)]
        about = " for " + ", ".join(f"“{name}”" for name in names) if names else ""
        gives = f"None of {scope.lower()} gives {retrieval.missing_answer}{about}."
        return Decision(True, f"{gives} {scope} {NOT_COVERED}. {CLOSEST}")
    if answer_probability < threshold:
        if asked in _WHAT_IS_MISSING:
            return Decision(True, f"{missing_detail(question, asked, filtered)} {CLOSEST}")
        return Decision(True, f"{scope} {NOT_COVERED}. {CLOSEST}")
    return Decision(False)
