"""Names in a question (proper nouns, acronyms) and whether a passage mentions them (pure functions).

A question that names something the documents never mention ("the Forest Stewardship Council", "Ghana")
cannot be answered from them, however close its other words are. `named_phrases` finds runs of
capitalised words (joined by "of", "on", "the"...) and acronyms, skipping question words at the start
of a sentence; `mentions` checks a passage for the phrase word by word, allowing inflected endings
("Zimbabwean" matches "Zimbabwe", "Workers" matches "workers"). Deliberately left out: any NER model.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[^\W_]+(?:[’'][^\W_]+)*", re.UNICODE)
_SENTENCE_BREAK = re.compile(r"[.?!:;\"“”(]\s*$")
CONNECTORS = frozenset({"of", "on", "for", "the", "de", "van", "der", "du", "la", "le"})
SHORT_ACRONYM = 3  # "CSR", "PR", "UN": often written out in the documents, so not treated as names alone
# Capitalised only because they open a sentence (or are pronouns): never names.
SENTENCE_WORDS = frozenset(
    """
what who whom whose why how when where which is are was were do does did can could should would will
shall may might must has have had in on at according the a an and but or if tell give list name describe
explain summarise summarize compare i besides apart beyond other since after before during between from
to for with under over as please also so then now yet both each every all any some many much more most
according regarding concerning about does this that these those there their its it they we you he she
into onto roughly approximately exactly just only
""".split()
)


def _words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _TOKEN.findall(text)]


def named_phrases(question: str) -> list[tuple[str, ...]]:
    """Lower-cased word tuples of the names in `question`, e.g. ("forest", "stewardship", "council")."""
    return [words for words, _ in names_with_text(question)]


def names_with_text(question: str) -> list[tuple[tuple[str, ...], str]]:
    """Each name as (lower-cased words, the words as written in the question)."""
    phrases: list[tuple[tuple[str, ...], str]] = []
    current: list[str] = []
    pending: list[str] = []  # connectors seen after a name word, kept only if another name word follows
    span = [0, 0]
    previous_end = 0
    for match in _TOKEN.finditer(question):
        if current and question[previous_end : match.start()].strip(" -"):  # punctuation ends a name
            phrases.append((tuple(current), question[span[0] : span[1]]))
            current, pending = [], []
        previous_end = match.end()
        word = match.group()
        at_start = not question[: match.start()].strip() or bool(
            _SENTENCE_BREAK.search(question[: match.start()])
        )
        lower = word.lower()
        is_name = (word[0].isupper() or word.isupper() and len(word) > 1) and not (
            lower in SENTENCE_WORDS and (at_start or not word.isupper())
        )
        if is_name:
            if not current:
                span[0] = match.start()
            current += pending + [_strip_possessive(lower)]
            span[1] = match.end()
            pending = []
        elif current and lower in CONNECTORS:
            pending.append(lower)
        else:
            if current:
                phrases.append((tuple(current), question[span[0] : span[1]]))
            current, pending = [], []
    if current:
        phrases.append((tuple(current), question[span[0] : span[1]]))
    return [
        (words, re.sub(r"[’']s$", "", text))
        for words, text in phrases
        if not (len(words) == 1 and text.isupper() and len(text) <= SHORT_ACRONYM)
    ]


def _strip_possessive(word: str) -> str:
    return re.sub(r"'s$", "", word.replace("’", "'"))


def _matches(name_word: str, text_word: str) -> bool:
    if len(name_word) <= 4:
        return text_word in (name_word, name_word + "s")
    return text_word.startswith(name_word[: max(4, len(name_word) - 3)])


def mentions(text: str, phrase: tuple[str, ...]) -> bool:
    """Whether `text` names `phrase`: as consecutive words (inflected endings allowed), or, for a phrase
    of several names ("Dutch RBC agreements" -> "Dutch", "RBC"), with each of its name words somewhere."""
    words = _words(text)
    n = len(phrase)
    if any(all(_matches(phrase[j], words[i + j]) for j in range(n)) for i in range(len(words) - n + 1)):
        return True
    names = [w for w in phrase if w not in CONNECTORS]
    return len(names) > 1 and all(any(_matches(name, w) for w in words) for name in names)
