"""Typed errors. Every message says what went wrong and, where there is one, the command that fixes it.

Only `cli.py` and `app.py` turn these into user-facing messages.
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


class StoreUnavailable(MsiqaError):
    """An optional store (Milvus) is not installed, its URI is malformed, or it cannot be reached."""
