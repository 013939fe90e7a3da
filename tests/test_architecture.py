"""Data flows one way: no module imports a module downstream of it, and no import cycle exists,
counting imports inside functions too (parsed with ast)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "src" / "msiqa"
# Lower numbers are upstream. A unit (a top-level module or a subpackage) may import only units at its
# level or above; within one unit, modules may import each other but never in a cycle.
LAYERS = {
    "types": 0,
    "errors": 0,
    "hashing": 0,
    "config": 0,
    "ingest": 1,
    "indexing": 2,
    "query": 3,
    "retrieval": 4,
    "answer": 5,
    "engine": 6,
    "serialize": 6,
    "evaluation": 7,
    "runtime": 8,
    "web": 9,
    "cli": 10,
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every msiqa module this file imports, anywhere in it (`from msiqa import x` counts as msiqa.x)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "msiqa":
                found |= {f"msiqa.{a.name}" for a in node.names}
            elif node.module.startswith("msiqa."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("msiqa.")}
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PKG.rglob("*.py")}
    edges = {}
    for name, path in modules.items():
        # an import of a name that is not a module (msiqa.__version__) points at the package itself
        edges[name] = {imp if imp in modules else imp.rsplit(".", 1)[0] for imp in imports_of(path)}
        edges[name] = {e for e in edges[name] if e in modules and e != name}
    return edges


def unit(module: str) -> str:
    return module.split(".")[1] if "." in module else "__init__"


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """A cycle in the import graph (depth-first search), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_no_import_points_upstream():
    problems = []
    for module, imported in graph().items():
        if module == "msiqa":
            continue
        layer = LAYERS.get(unit(module))
        if layer is None:
            problems.append(f"{module} belongs to no layer in tests/test_architecture.py")
            continue
        for target in imported:
            if target != "msiqa" and LAYERS.get(unit(target), 99) > layer:
                problems.append(f"{module} imports downstream {target}")
    assert not problems, problems


def test_no_import_cycle():
    assert find_cycle(graph()) is None


def test_cycle_finder_finds_a_cycle():
    # hand-made graph: a -> b -> c -> a, d on its own
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_library_never_reads_env_or_prints():
    for path in PKG.rglob("*.py"):
        if module_name(path) in ("msiqa.cli", "msiqa.runtime", "msiqa.web.app"):
            continue
        source = path.read_text(encoding="utf-8")
        assert "os.environ" not in source and "getenv" not in source, path.name
        assert not re.search(r"(?<![\w.])print\(", source), path.name


def test_import_msiqa_is_light_and_exposes_the_public_api():
    code = (
        "import sys, msiqa\n"
        "heavy = [m for m in ('numpy', 'torch', 'faiss', 'gradio', 'msiqa.engine') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "from msiqa import Answer, Citation, Engine, Settings, errors\n"
        "assert set(msiqa.__all__) >= {'Answer', 'Citation', 'Engine', 'Settings', 'errors'}\n"
        "assert Engine.__module__ == 'msiqa.engine' and issubclass(errors.IndexStale, errors.MsiqaError)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr


def test_every_error_type_lives_in_errors_py():
    found = set()
    for path in PKG.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            bases = [
                b.id if isinstance(b, ast.Name) else getattr(b, "attr", "")
                for b in getattr(node, "bases", [])
            ]
            if isinstance(node, ast.ClassDef) and any(b.endswith(("Error", "Exception")) for b in bases):
                found.add((module_name(path), node.name))
    elsewhere = sorted(f for f in found if f[0] != "msiqa.errors")
    assert not elsewhere, f"error types belong in msiqa/errors.py: {elsewhere}"
    assert {("msiqa.errors", "MsiqaError"), ("msiqa.errors", "IndexStale")} <= found  # the scan sees them
