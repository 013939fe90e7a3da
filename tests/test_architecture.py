"""Data flows one way: no module imports a module downstream of it (parsed with ast)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "src" / "msiqa"
# Lower numbers are upstream. A module may import only modules at its level or above.
LAYERS = {
    "types": 0, "errors": 0, "config": 0,
    "corpus": 1, "loaders": 1, "chunking": 1, "entities": 1, "acronyms": 1, "quantities": 1,
    "embedding": 2, "store": 3, "indexing": 4,
    "retrieval": 5, "answer": 6, "verify": 6, "llm": 6, "conversation": 6,
    "engine": 7, "serialize": 7, "evaluation": 8, "eval_report": 8,
    "render_html": 9, "bench": 9, "bench_scale": 9, "cli": 10,
}


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("msiqa."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("msiqa.")}
    return found


def test_no_import_points_upstream():
    problems = []
    for path in sorted(PKG.glob("*.py")):
        name = path.stem
        if name == "__init__":
            continue
        layer = LAYERS.get(name)
        if layer is None:
            problems.append(f"{name}.py has no layer in tests/test_architecture.py")
            continue
        for imported in imports_of(path):
            if LAYERS.get(imported, 99) > layer:
                problems.append(f"{name} imports downstream {imported}")
    assert not problems, problems


def test_library_never_reads_env_or_prints():
    for path in PKG.glob("*.py"):
        if path.stem in ("cli", "bench", "bench_scale"):
            continue
        source = path.read_text(encoding="utf-8")
        assert "os.environ" not in source and "getenv" not in source, path.name
        assert not re.search(r"(?<![\w.])print\(", source), path.name
