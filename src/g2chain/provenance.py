"""What a result depends on besides its inputs and its config: the library code that made it.

The import graph of the package is read from the source with ``ast`` (function-level imports
included, nothing is imported), so a workflow rule can hash exactly the modules its script runs:
a change of ``omega_a/`` then reruns the omega_a rules and not the production.
"""

from __future__ import annotations

import ast
import functools
import hashlib
from pathlib import Path

SRC = Path(__file__).resolve().parents[1]  # the folder that holds the g2chain package


def module_name(path: Path, src: Path) -> str:
    """The dotted module name of a file under ``src`` ("g2chain.omega_a.fit")."""
    parts = list(path.relative_to(src).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, module: str, known: set) -> set:
    """Every g2chain module ``path`` imports, at any depth of the file (function bodies too).
    ``from pkg import name`` counts as an import of pkg.name when that is a module."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "g2chain"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "g2chain":
                continue
            subs = {f"{target}.{a.name}" for a in node.names} & known
            out |= subs if subs else {target}
            if subs and len(subs) < len(node.names):
                out.add(target)
    return out - {module}


def import_graph(src: Path = SRC) -> dict:
    """{module: the g2chain modules it imports} for every module of the package under ``src``."""
    files = {module_name(p, src): p for p in sorted(src.rglob("*.py")) if "g2chain" in p.relative_to(src).parts[:1]}
    known = set(files)
    return {m: imports_of(p, m, known) for m, p in files.items()}


@functools.lru_cache(maxsize=4)
def _graph_and_sources(src: str) -> tuple[dict, dict]:
    """The import graph of the package under ``src`` and each module's source bytes, read once
    per process (a workflow hashes the code of every rule while it parses)."""
    graph = import_graph(Path(src))
    sources = {}
    for m in graph:
        path = Path(src) / (m.replace(".", "/") + ".py")
        if not path.exists():
            path = Path(src) / m.replace(".", "/") / "__init__.py"
        sources[m] = path.read_bytes()
    return graph, sources


def closure(graph: dict, roots) -> set:
    """The modules ``roots`` import, directly or through others, with the roots themselves and
    the packages they sit in (whose ``__init__`` runs first)."""
    seen, todo = set(), [r for r in roots if r in graph]
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        parts = m.split(".")
        todo += [p for p in (".".join(parts[:i]) for i in range(1, len(parts))) if p in graph]
        todo += [t for t in graph[m] if t in graph]
    return seen


def code_hash(modules, src: Path = SRC) -> str:
    """Short hash of the source of ``modules`` and of every g2chain module they need."""
    graph, sources = _graph_and_sources(str(src))
    h = hashlib.sha256()
    for m in sorted(closure(graph, modules)):
        h.update(m.encode() + b"\0" + sources[m])
    return h.hexdigest()[:16]


def script_code_hash(script: Path, src: Path = SRC) -> str:
    """``code_hash`` of the g2chain modules a workflow script imports."""
    graph, _ = _graph_and_sources(str(src))
    return code_hash(imports_of(Path(script), f"workflow.scripts.{Path(script).stem}", set(graph)), src)
