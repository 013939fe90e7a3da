"""Text seeds: optional YAML front matter (id, title, author, kind, publisher, series, date, url,
year) between `---` lines, then the body, kept byte for byte as the document text."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import yaml

from msiqa.types import Document

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n", re.DOTALL)
_META_KEYS = ("title", "author", "kind", "publisher", "series", "date", "url", "year")
# An ATX heading ("## Findings ##"): its marks are markup, not words a reader would quote.
_MD_HEADING = re.compile(r"^[ ]{0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$", re.MULTILINE)


def strip_markdown_headings(body: str) -> str:
    """Markdown headings without their `#` marks: the document text is what a reader sees."""
    return _MD_HEADING.sub(lambda m: m.group(1), body)


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug or "document"


def parse_seed(raw: str, path: Path) -> Document:
    """Split optional front matter from the body; the body is kept byte-for-byte as the text."""
    meta: dict[str, object] = {}
    body = raw
    match = _FRONT_MATTER.match(raw)
    if match:
        try:
            loaded = yaml.safe_load(match.group(1)) or {}
        except yaml.YAMLError as exc:
            raise ValueError(f"front matter is not valid YAML ({exc.__class__.__name__})") from exc
        if not isinstance(loaded, dict):
            raise ValueError("front matter must be a mapping of keys to values")
        meta = loaded
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
        content_hash=hashlib.sha256(body.encode("utf-8")).hexdigest(),
    )
