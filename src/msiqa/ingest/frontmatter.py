"""Text seeds: optional YAML front matter (id, title, author, kind, publisher, series, date, url,
year) between `---` lines, then the body, kept byte for byte as the document text.

The header is parsed safely and bounded: at most `MAX_FRONT_MATTER_CHARS`, no YAML anchors or aliases
(a few hundred bytes of nested aliases expand to gigabytes), plain scalar values of at most
`MAX_FIELD_CHARS`, and an `id` that can be an HTML anchor as it is. A header that breaks a rule raises
`ValueError` with the reason, so the corpus skips that one file and names it. Deliberately left out:
any YAML tag beyond the safe loader's, and keys other than the ones above (they are ignored).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import yaml

from msiqa.hashing import sha256_text
from msiqa.types import Document

MAX_FRONT_MATTER_CHARS = 16_384
MAX_FIELD_CHARS = 1_000
MAX_ID_CHARS = 100
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n", re.DOTALL)
_META_KEYS = ("title", "author", "kind", "publisher", "series", "date", "url", "year")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")  # what web/render.py keeps in an anchor, so anchors differ


class _NoAliasLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing anchors (`&a`) and aliases (`*a`) before anything is expanded."""

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise ValueError("front matter uses YAML anchors or aliases (& or *), which are not allowed")
        return super().compose_node(parent, index)


# An ATX heading ("## Findings ##"): its marks are markup, not words a reader would quote.
_MD_HEADING = re.compile(r"^[ ]{0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$", re.MULTILINE)


def strip_markdown_headings(body: str) -> str:
    """Markdown headings without their `#` marks: the document text is what a reader sees."""
    return _MD_HEADING.sub(lambda m: m.group(1), body)


def slugify(name: str) -> str:
    """A lower-case ASCII id for a file name: non-Latin scripts are transliterated (anyascii), and a
    name with nothing left after that gets `doc-` and a short hash of the name."""
    from anyascii import anyascii

    slug = re.sub(r"[^a-z0-9]+", "-", anyascii(name).lower()).strip("-")[:MAX_ID_CHARS].strip("-")
    return slug or "doc-" + hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:10]


def read_front_matter(header: str) -> dict[str, object]:
    """The front matter's keys and values; ValueError saying what is wrong with it."""
    if len(header) > MAX_FRONT_MATTER_CHARS:
        raise ValueError(
            f"front matter is {len(header):,} characters, over the {MAX_FRONT_MATTER_CHARS:,} limit"
        )
    try:
        loaded = yaml.load(header, Loader=_NoAliasLoader) or {}  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ValueError(f"front matter is not valid YAML ({exc.__class__.__name__})") from exc
    except RecursionError as exc:
        raise ValueError("front matter is nested too deeply") from exc
    if not isinstance(loaded, dict):
        raise ValueError("front matter must be a mapping of keys to values")
    for key in ("id", *_META_KEYS):
        value = loaded.get(key)
        if value is None:
            continue
        if isinstance(value, dict | list | set | bytes):
            raise ValueError(f"front matter {key!r} must be a single value, not a {type(value).__name__}")
        if len(str(value)) > MAX_FIELD_CHARS:
            raise ValueError(f"front matter {key!r} is over the {MAX_FIELD_CHARS:,}-character limit")
    if loaded.get("id") is not None:
        doc_id = str(loaded["id"])
        if len(doc_id) > MAX_ID_CHARS or not _ID.fullmatch(doc_id):
            raise ValueError(
                f"front matter id {doc_id[:MAX_ID_CHARS]!r} may use only letters, digits, '-' and '_' "
                f"(at most {MAX_ID_CHARS}); use e.g. {slugify(doc_id)!r}"
            )
    return loaded


def parse_seed(raw: str, path: Path) -> Document:
    """Split optional front matter from the body; the body is kept byte-for-byte as the text."""
    meta: dict[str, object] = {}
    body = raw
    match = _FRONT_MATTER.match(raw)
    if match:
        meta = read_front_matter(match.group(1))
        body = raw[match.end() :]
    if path.suffix.lower() == ".md":
        body = strip_markdown_headings(body)
    if not body.strip():
        raise ValueError("the file has no text")
    first_line = next((line.strip() for line in body.splitlines() if line.strip()), path.stem)
    values = {key: (str(meta[key]) if meta.get(key) is not None else None) for key in _META_KEYS}
    return Document(
        doc_id=str(meta.get("id") or slugify(path.stem)),
        title=values["title"] or first_line[:200],
        text=body,
        path=path.name,
        author=values["author"],
        kind=values["kind"] or "document",
        publisher=values["publisher"],
        series=values["series"],
        date=values["date"],
        url=values["url"],
        year=values["year"],
        content_hash=sha256_text(body),
    )
