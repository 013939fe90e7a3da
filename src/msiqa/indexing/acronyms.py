"""Acronyms a document defines ("Kimberley Process Certification Scheme (KPCS)") and their long forms (pure).

`definitions` finds each "long form (SHORT)" pair with the Schwartz–Hearst rule (Schwartz & Hearst,
PSB 2003): the short form's letters, read right to left, must appear in order in the words before the
bracket, its first letter at the start of a word, within min(len+5, 2*len) words. A plural short form
("CSOs") is matched without its "s". `corpus_acronyms` keeps the acronyms that at most half the passages
use: an acronym in nearly every passage ("MSIs" here) tells passages apart no better than its long form,
and writing that long form into every passage would drown its words' IDF. `expansions` gives the long
forms a text uses, so BM25 (passages and queries alike) matches "KPCS" with "Kimberley Process".
Deliberately left out: acronyms never defined in the corpus, and any hand-made list of expansions.
"""

from __future__ import annotations

import re

# "(KPCS)", "(CSOs)": one bracketed token of 2-10 characters; `is_acronym` asks for two capitals.
_SHORT = re.compile(r"\(([A-Z][A-Za-z0-9&\-]{1,9})\)")
_WORD = re.compile(r"[^\W_]+(?:[’'\-][^\W_]+)*", re.UNICODE)


def _core(short: str) -> str:
    """The short form without a plural "s" ("CSOs" -> "CSO")."""
    return short[:-1] if len(short) > 2 and short.endswith("s") and short[:-1].isupper() else short


def is_acronym(short: str) -> bool:
    core = _core(short)
    return sum(ch.isupper() for ch in core) >= 2 and any(ch.isalpha() for ch in core)


def long_form(short: str, before: str) -> str | None:
    """The Schwartz–Hearst long form of `short` at the end of `before` (the text up to "("), or None."""
    core = _core(short)
    words = _WORD.findall(before)[-min(len(core) + 5, 2 * len(core)) :]
    if not words:
        return None
    candidate = " ".join(words)
    s, i = len(core) - 1, len(candidate) - 1
    while s >= 0:
        ch = core[s].lower()
        if not ch.isalnum():
            s -= 1
            continue
        while i >= 0 and (candidate[i].lower() != ch or (s == 0 and i > 0 and candidate[i - 1].isalnum())):
            i -= 1
        if i < 0:
            return None
        i -= 1
        s -= 1
    found = candidate[candidate.rfind(" ", 0, i + 1) + 1 :]
    if len(found.split()) < 2 or found.lower() == core.lower():
        return None
    return found


def definitions(text: str) -> dict[str, str]:
    """Short form (without plural "s") -> long form, for every acronym `text` defines; first one wins."""
    found: dict[str, str] = {}
    for match in _SHORT.finditer(text):
        short = match.group(1)
        if not is_acronym(short) or _core(short) in found:
            continue
        before = text[max(0, match.start() - 200) : match.start()]
        before = re.split(r"[.;:!?()\n]", before)[-1]  # the long form stays within the clause
        long = long_form(short, before)
        if long:
            found[_core(short)] = long
    return found


def corpus_acronyms(texts: list[str], passages: list[str], max_share: float = 0.5) -> dict[str, str]:
    """Short -> long form over all `texts` (first definition wins), keeping the acronyms that at most
    `max_share` of `passages` use."""
    found: dict[str, str] = {}
    for text in texts:
        for short, long in definitions(text).items():
            found.setdefault(short, long)
    counts = dict.fromkeys(found, 0)
    for passage in passages:
        for short in used(passage, found):
            counts[short] += 1
    return {
        short: long for short, long in sorted(found.items()) if counts[short] <= max_share * len(passages)
    }


def used(text: str, known: dict[str, str]) -> list[str]:
    """The acronyms of `known` that `text` uses (as a word, plural or not), in first-use order."""
    out: list[str] = []
    for word in _WORD.findall(text):
        core = _core(word)
        if core in known and core not in out:
            out.append(core)
    return out


def expansions(text: str, known: dict[str, str]) -> str:
    """The long forms of the acronyms `text` uses that `text` does not already spell out, one line
    ("Kimberley Process Certification Scheme (KPCS)"); "" when there are none."""
    lowered = text.lower()
    return "; ".join(f"{known[a]} ({a})" for a in used(text, known) if known[a].lower() not in lowered)
