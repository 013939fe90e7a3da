"""Read `seeds/` into sorted `Document`s with metadata.

A seed is a top-level `.txt` or `.md` file, optionally opening with YAML front matter between `---`
lines (id, title, author, kind, publisher, series, date), or an `.html`/`.htm`/`.pdf` file read by
`loaders.py`. Sub-folders and names starting with `_` or
`.` are not indexed (`seeds/_source/` keeps the original concatenated file), nor are symbolic links:
they are named in `CorpusLoad.skipped` (and so in the manifest). Files that cannot be read
are reported in `CorpusLoad.skipped`, never silently dropped, and never stop the other documents.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from msiqa.config import MAX_FILE_BYTES
from msiqa.errors import CorpusError
from msiqa.hashing import sha256_files
from msiqa.ingest.loaders import SUFFIXES, read_document
from msiqa.types import Document

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


@dataclass(frozen=True)
class CorpusLoad:
    documents: tuple[Document, ...]
    skipped: tuple[Skipped, ...]


def seed_files(seeds_dir: Path) -> list[Path]:
    """The files of `seeds_dir` that the loader considers, sorted by name (symbolic links never)."""
    return [p for p in _candidates(seeds_dir) if not p.is_symlink() and p.is_file()]


def seed_links(seeds_dir: Path) -> list[Path]:
    """The symbolic links among the seed names: never followed, reported as skipped."""
    return [p for p in _candidates(seeds_dir) if p.is_symlink()]


def _candidates(seeds_dir: Path) -> list[Path]:
    if not seeds_dir.is_dir():
        raise CorpusError(
            f"Seeds folder not found: {seeds_dir}. Create it and put .txt/.md/.html/.pdf files in it."
        )
    return sorted(
        p for p in seeds_dir.iterdir() if not p.name.startswith((".", "_")) and p.suffix.lower() in SUFFIXES
    )


def seeds_fingerprint(seeds_dir: Path) -> str:
    """sha256 over the names and bytes of every seed file: changes whenever `seeds/` does."""
    return sha256_files(seed_files(seeds_dir))


def load_corpus(seeds_dir: Path, max_file_bytes: int = MAX_FILE_BYTES) -> CorpusLoad:
    """All usable documents of `seeds_dir`, sorted by file name, plus the files skipped and why."""
    documents: list[Document] = []
    skipped = [Skipped(p.name, "symbolic link: msiqa never follows links") for p in seed_links(seeds_dir)]
    seen_ids: dict[str, str] = {}
    seen_hashes: dict[str, str] = {}
    for path in seed_files(seeds_dir):
        try:
            doc = read_document(path, max_file_bytes)
        except (OSError, ValueError) as exc:
            skipped.append(Skipped(path.name, str(exc)))
            log.warning("skipped %s: %s", path.name, exc)
            continue
        if doc.content_hash in seen_hashes:
            skipped.append(Skipped(path.name, f"exact duplicate of {seen_hashes[doc.content_hash]}"))
            log.warning("skipped %s: exact duplicate of %s", path.name, seen_hashes[doc.content_hash])
            continue
        if doc.doc_id in seen_ids:
            skipped.append(
                Skipped(path.name, f"document id {doc.doc_id!r} already used by {seen_ids[doc.doc_id]}")
            )
            continue
        seen_ids[doc.doc_id] = path.name
        seen_hashes[doc.content_hash] = path.name
        documents.append(doc)
    if not documents:
        raise CorpusError(f"No readable .txt, .md, .html or .pdf documents in {seeds_dir}.")
    return CorpusLoad(tuple(documents), tuple(skipped))
