"""msiqa: cited question answering over the MSI Integrity "Not Fit-for-Purpose" documents.

The package is a one-way pipeline (seeds -> corpus -> chunking -> embedding -> store -> retrieval ->
answer); `msiqa.engine.Engine` wires it together for the CLI and the web app.
"""

__version__ = "0.1.0"
