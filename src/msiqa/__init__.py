"""msiqa: cited question answering over the MSI Integrity "Not Fit-for-Purpose" documents.

The public API, for scripts and notebooks:

    from msiqa import Engine, Settings
    engine = Engine.open(Settings(seeds_dir=Path("seeds"), index_dir=Path("index")))
    answer = engine.ask("Why is the Kimberley Process definition of conflict diamonds criticized?")
    answer.text, [(c.reference, c.quote) for c in answer.citations]

`Engine` wires the one-way pipeline (seeds -> ingest -> indexing -> retrieval -> answer) together; the CLI,
the web app, the eval and the benchmarks all use it. Every error a user can act on is a subclass of
`errors.MsiqaError`. `import msiqa` stays light: `Engine` (and with it numpy, the retrieval and answer
modules) is imported on first use, and the model libraries only when an engine opens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from msiqa import errors
from msiqa.config import VERSION as __version__
from msiqa.config import Settings
from msiqa.errors import MsiqaError
from msiqa.types import Answer, Citation

if TYPE_CHECKING:
    from msiqa.engine import Engine

__all__ = ["Answer", "Citation", "Engine", "MsiqaError", "Settings", "__version__", "errors"]


def __getattr__(name: str) -> object:
    if name == "Engine":
        from msiqa.engine import Engine

        return Engine
    raise AttributeError(f"module 'msiqa' has no attribute {name!r}")
