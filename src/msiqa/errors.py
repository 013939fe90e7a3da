"""Typed errors. Every message says what went wrong and, where there is one, the command that fixes it.

Only `cli.py` and `web/app.py` turn these into user-facing messages. Every error type of the package
lives here (tests/test_architecture.py checks).
"""


class MsiqaError(Exception):
    """Base class for every error a user can act on."""


class InvalidQuestion(MsiqaError):
    """The question is empty, too long, or has no searchable words."""


class CorpusError(MsiqaError):
    """`seeds/` is missing, empty, or holds no readable document."""


class IndexMissing(MsiqaError):
    """No index has been built at the given path."""


class IndexStale(MsiqaError):
    """The index was built from other seeds or settings than the current ones."""


class IndexCorrupt(MsiqaError):
    """An index file is truncated, unreadable or inconsistent with the manifest."""


class ModelError(MsiqaError):
    """The embedding model could not be found, verified or loaded."""


class QuestionSetError(MsiqaError):
    """An eval question file is unreadable, malformed, or quotes text that is not in the corpus."""


class LlmError(MsiqaError):
    """The language model server could not be used (refused, timed out, error code, bad reply).
    `msiqa ask --llm-url` catches it and falls back to the extractive answer with a note."""


class StoreUnavailable(MsiqaError):
    """An optional store (Milvus) is not installed, its URI is malformed, or it cannot be reached."""
