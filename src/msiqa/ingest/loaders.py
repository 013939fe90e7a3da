"""Per-format readers: one file's bytes -> one `Document`, or a `ValueError` with a human reason.

`.txt`/`.md` are UTF-8 text with optional front matter (`frontmatter.parse_seed`); `.html`/`.htm` keep the
page's main text only (trafilatura drops navigation, footers and other boilerplate) and take title,
author and date from the page's metadata; `.pdf` is read page by page with pypdf and
`Document.page_starts` records where each page begins, so citations can say "p. 12".
Deliberately left out: OCR of scanned PDFs, guessing the encoding of text that is not UTF-8 (a guess
could misquote), passwords for encrypted PDFs, and any network access (links in pages are not followed).
"""

from __future__ import annotations

import io
import logging
import os
import re
import stat
from pathlib import Path

from msiqa.config import MAX_FILE_BYTES
from msiqa.hashing import sha256_text
from msiqa.ingest.frontmatter import parse_seed, slugify
from msiqa.types import Document

log = logging.getLogger(__name__)

SUFFIXES = {".txt": "text", ".md": "text", ".html": "html", ".htm": "html", ".pdf": "pdf"}
# Signatures of binary formats that are sometimes renamed to .txt by mistake.
_MAGIC = {
    b"%PDF-": "a PDF",
    b"PK\x03\x04": "a ZIP or Office file",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\xd0\xcf\x11\xe0": "an old Office file",
}
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")


def read_document(path: Path, max_file_bytes: int = MAX_FILE_BYTES) -> Document:
    """Read `path` with the reader for its suffix; raises ValueError saying why it cannot be used."""
    return parse_document(read_file_bytes(path, max_file_bytes), path)


def read_file_bytes(path: Path, max_file_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of a supported type, never through a symbolic link (O_NOFOLLOW on
    the open itself, so a link swapped in after a check is refused too)."""
    if SUFFIXES.get(path.suffix.lower()) is None:
        raise ValueError(
            f"unsupported file type {path.suffix or '(no suffix)'}; supported: {', '.join(sorted(SUFFIXES))}"
        )
    if path.is_symlink():
        raise ValueError("it is a symbolic link; msiqa never follows links (copy the file itself)")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        raise ValueError(f"cannot open it ({exc.strerror or exc.__class__.__name__})") from exc
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("it is not a regular file")
        if info.st_size > max_file_bytes:
            raise ValueError(f"file is {_size(info.st_size)}, over the {_size(max_file_bytes)} limit")
        if info.st_size == 0:
            raise ValueError("the file is empty (0 bytes): it has no text")
        data = handle.read(max_file_bytes + 1)
    if len(data) > max_file_bytes:
        raise ValueError(f"file grew over the {_size(max_file_bytes)} limit while being read")
    return data


def parse_document(data: bytes, path: Path) -> Document:
    """One file's bytes -> a `Document`, by the reader for the suffix of `path` (its name only)."""
    kind = SUFFIXES.get(path.suffix.lower())
    if kind == "pdf":
        return read_pdf(data, path)
    text = decode_text(data)
    return read_html(text, path) if kind == "html" else parse_seed(text, path)


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 2**20:.0f} MB" if n_bytes >= 2**20 else f"{n_bytes:,} bytes"


def decode_text(data: bytes) -> str:
    """Strict UTF-8 (a BOM is dropped, CRLF becomes LF); binary data and other encodings are refused."""
    for magic, what in _MAGIC.items():
        if data.startswith(magic):
            raise ValueError(
                f"file looks binary ({what}, judging by its first bytes), not text; give it its real suffix"
            )
    head = data[:8192]
    if b"\0" in head or len(_CONTROL.findall(head)) > max(8, len(head) // 100):
        raise ValueError("file looks binary (contains NUL or control bytes), not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(_encoding_reason(data, exc)) from exc
    return text.replace("\r\n", "\n")


def _encoding_reason(data: bytes, exc: UnicodeDecodeError) -> str:
    lines = data.split(b"\n")
    bad = [i + 1 for i, line in enumerate(lines) if not _is_utf8(line)]
    where = f"bad byte at offset {exc.start}, line {bad[0]}" if bad else f"bad byte at offset {exc.start}"
    n_text_lines = len([line for line in lines if line.strip()])
    if bad and len(bad) < n_text_lines:
        return (
            f"file is not valid UTF-8: mixed encodings, {len(bad)} of {n_text_lines} lines are in "
            f"another encoding ({where}); re-save it as UTF-8"
        )
    return f"file is not valid UTF-8 ({where}); re-save it as UTF-8"


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def read_html(html: str, path: Path) -> Document:
    """The page's main text, one paragraph per block, with title/author/date from its metadata."""
    import trafilatura
    from trafilatura.settings import Document as Extracted

    extracted = trafilatura.bare_extraction(
        html, with_metadata=True, include_comments=False, include_tables=True, favor_recall=True
    )
    raw = (extracted.text or "") if isinstance(extracted, Extracted) else ""
    paragraphs = [line.strip() for line in raw.splitlines() if line.strip()]
    if not paragraphs or not isinstance(extracted, Extracted):
        raise ValueError("no main text found in the HTML page (only navigation, scripts or markup)")
    text = "\n\n".join(paragraphs) + "\n"
    return Document(
        doc_id=slugify(path.stem),
        title=(extracted.title or paragraphs[0])[:200],
        text=text,
        path=path.name,
        author=extracted.author or None,
        kind="web page",
        publisher=extracted.sitename or None,
        date=extracted.date or None,
        content_hash=sha256_text(text),
    )


def read_pdf(data: bytes, path: Path) -> Document:
    """Text per page; `page_starts[i]` is where page i+1 begins in the joined text."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        locked = reader.is_encrypted and not reader.decrypt("")
        pages = [] if locked else [(p.extract_text() or "").replace("\x00", "").strip() for p in reader.pages]
        meta = None if locked else reader.metadata
    except DependencyError:  # AES encryption needs the optional `cryptography` package to even try
        locked, pages, meta = True, [], None
    except (
        PyPdfError,
        OSError,
        ValueError,
        KeyError,
        IndexError,
        TypeError,
        AttributeError,
        RecursionError,
        NotImplementedError,
        AssertionError,
    ) as exc:  # pypdf raises all of these on damaged files
        raise ValueError(f"PDF is damaged or unreadable ({exc.__class__.__name__}: {exc})") from exc
    if locked:
        raise ValueError("PDF is encrypted (password-protected); save an unencrypted copy and add that")
    if not pages:
        raise ValueError("PDF has no pages")
    if not any(pages):
        raise ValueError(
            f"PDF has no text layer on any of its {len(pages)} page(s) (a scan?); "
            f"run OCR on it first (e.g. ocrmypdf) and add the result"
        )
    text, starts = "", []
    for page_text in pages:
        starts.append(len(text))
        text += page_text + "\n\n" if page_text else "\n"
    first_line = next(line.strip() for line in text.splitlines() if line.strip())
    return Document(
        doc_id=slugify(path.stem),
        title=(_meta(meta, "title") or first_line)[:200],
        text=text,
        path=path.name,
        author=_meta(meta, "author"),
        kind="PDF document",
        date=_pdf_date(meta),
        content_hash=sha256_text(text),
        page_starts=tuple(starts),
    )


def _meta(meta: object, name: str) -> str | None:
    value = getattr(meta, name, None)
    return str(value).strip() or None if value else None


def _pdf_date(meta: object) -> str | None:
    try:
        created = getattr(meta, "creation_date", None)
    except (ValueError, TypeError):  # an unparseable /CreationDate string
        return None
    return created.date().isoformat() if created else None
