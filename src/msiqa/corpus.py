"""Read `seeds/` into sorted `Document`s with metadata.

A seed is a top-level `.txt` or `.md` file, optionally opening with YAML front matter between `---`
lines (id, title, author, kind, publisher, series, date), or an `.html`/`.htm`/`.pdf` file read by
`loaders.py`. Sub-folders and names starting with `_` or
`.` are not indexed (`seeds/_source/` keeps the original concatenated file). Files that cannot be read
are reported in `CorpusLoad.skipped`, never silently dropped, and never stop the other documents.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from msiqa.errors import CorpusError
from msiqa.types import Document

log = logging.getLogger(__name__)

TEXT_SUFFIXES = (".txt", ".md")
SEED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf")  # the readers live in loaders.py
MAX_FILE_BYTES = 50 * 1024 * 1024
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n", re.DOTALL)
_META_KEYS = ("title", "author", "kind", "publisher", "series", "date")


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


@dataclass(frozen=True)
class CorpusLoad:
    documents: tuple[Document, ...]
    skipped: tuple[Skipped, ...]


def seed_files(seeds_dir: Path) -> list[Path]:
    """The files of `seeds_dir` that the loader considers, sorted by name."""
    if not seeds_dir.is_dir():
        raise CorpusError(f"Seeds folder not found: {seeds_dir}. Create it and put .txt/.md/.html/.pdf files in it.")
    return sorted(
        p for p in seeds_dir.iterdir()
        if p.is_file() and not p.name.startswith((".", "_")) and p.suffix.lower() in SEED_SUFFIXES
    )


def seeds_fingerprint(seeds_dir: Path) -> str:
    """sha256 over the names and bytes of every seed file: changes whenever `seeds/` does."""
    digest = hashlib.sha256()
    for path in seed_files(seeds_dir):
        digest.update(path.name.encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


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
        body = raw[match.end():]
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
        content_hash=hashlib.sha256(body.encode("utf-8")).hexdigest(),
    )


def read_seed(path: Path, max_file_bytes: int = MAX_FILE_BYTES) -> Document:
    """Read one seed file of any supported format; raises ValueError with a human reason when it cannot be used."""
    from msiqa.loaders import read_document  # loaders imports parse_seed from here

    return read_document(path, max_file_bytes)


def load_corpus(seeds_dir: Path, max_file_bytes: int = MAX_FILE_BYTES) -> CorpusLoad:
    """All usable documents of `seeds_dir`, sorted by file name, plus the files skipped and why."""
    documents: list[Document] = []
    skipped: list[Skipped] = []
    seen_ids: dict[str, str] = {}
    seen_hashes: dict[str, str] = {}
    for path in seed_files(seeds_dir):
        try:
            doc = read_seed(path, max_file_bytes)
        except (OSError, ValueError) as exc:
            skipped.append(Skipped(path.name, str(exc)))
            log.warning("skipped %s: %s", path.name, exc)
            continue
        if doc.content_hash in seen_hashes:
            skipped.append(Skipped(path.name, f"exact duplicate of {seen_hashes[doc.content_hash]}"))
            log.warning("skipped %s: exact duplicate of %s", path.name, seen_hashes[doc.content_hash])
            continue
        if doc.doc_id in seen_ids:
            skipped.append(Skipped(path.name, f"document id {doc.doc_id!r} already used by {seen_ids[doc.doc_id]}"))
            continue
        seen_ids[doc.doc_id] = path.name
        seen_hashes[doc.content_hash] = path.name
        documents.append(doc)
    if not documents:
        raise CorpusError(f"No readable .txt, .md, .html or .pdf documents in {seeds_dir}.")
    return CorpusLoad(tuple(documents), tuple(skipped))
