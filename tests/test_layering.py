"""Enforced layering of the fitkit package: no import cycle, no upward import, no oversized module.

The module graph is built statically with :mod:`ast` from every ``.py`` file under ``fitkit/``.
Every ``import`` / ``from ... import`` statement counts, wherever it is: at module level, inside
functions (a function-level import is still a dependency, only a hidden one), inside ``try`` blocks,
and inside ``if TYPE_CHECKING:`` blocks.  Importing ``a.b.c`` also counts as importing the package
``a.b`` (its ``__init__`` runs first), except the importer's own enclosing packages.

Why TYPE_CHECKING imports count: they do not run, so they cannot break an import at run time, but
they are still knowledge of the other module (its types appear in this module's signatures, and
``typing.get_type_hints`` or a documentation build resolves them).  A lower layer that names an
upper layer's types in its API depends on it; letting that pass would allow exactly the config <->
pipeline knot this test exists to prevent.  So the rule is simply: every import statement is an edge.

Layer order (``/work/shared/CONVENTIONS.md``, "Dependency direction"), lowest first; a module may
import its own layer and the layers listed as allowed for it, nothing else:

=================  =====================================================================
layer              may import (besides itself)
=================  =====================================================================
base               (``constants``, ``errors``, ``registry``, ``_version``) only each other
units              base
physics            base (the conventions say ``constants`` only; ``errors`` is base too)
io                 base, units
models             base, units, physics
preprocess         base, units, io (the preprocessing steps work on a ``Sweep``)
fitting            base, units, physics, io, models, preprocess
analysis           base, units, physics, io, models, preprocess, fitting
report             base, units, fitting (record); ``models`` to evaluate a fitted curve
registries         ``fitkit.pipeline.registry`` (the job-kind registry): base only
config             base, units, io, models, preprocess, registries (to validate keys)
pipeline           everything below cli
cli                everything
=================  =====================================================================

``fitkit.pipeline.registry`` is its own layer so that ``config`` can look job kinds up without
importing the pipeline: it loads the built-in kinds by *module name* (the entry-point mechanism,
also used for third-party kinds), which is not an import edge and runs only after ``config`` is
fully imported.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "fitkit"
MAX_LINES = 800

LAYER_ALLOWED: dict[str, set[str]] = {
    "base": set(),
    "units": {"base"},
    "physics": {"base"},
    "io": {"base", "units"},
    "models": {"base", "units", "physics"},
    "preprocess": {"base", "units", "io"},
    "fitting": {"base", "units", "physics", "io", "models", "preprocess"},
    "analysis": {"base", "units", "physics", "io", "models", "preprocess", "fitting"},
    "report": {"base", "units", "fitting", "models"},
    "registries": {"base"},
    "config": {"base", "units", "io", "models", "preprocess", "registries"},
    "pipeline": {
        "base", "units", "physics", "io", "models", "preprocess", "fitting", "analysis", "report",
        "registries", "config",
    },
    "cli": set(),  # filled below: everything
}
LAYER_ALLOWED["cli"] = set(LAYER_ALLOWED) - {"cli"}

_BASE = {"fitkit.constants", "fitkit.errors", "fitkit.registry", "fitkit._version"}


def layer_of(module: str) -> str:
    """Layer of a ``fitkit`` module name (package ``__init__`` modules take their package's layer)."""
    if module == "fitkit":
        return "cli"  # the top-level package re-exports the public API of every layer
    if module in _BASE:
        return "base"
    if module == "fitkit.pipeline.registry":
        return "registries"
    if module == "fitkit.__main__":
        return "cli"
    part = module.split(".")[1]
    known = {
        "units": "units", "physics": "physics", "io": "io", "models": "models", "preprocess": "preprocess",
        "fitting": "fitting", "analysis": "analysis", "report": "report", "config": "config",
        "pipeline": "pipeline", "cli": "cli",
    }
    if part not in known:
        raise AssertionError(f"module {module} is in no layer; add it to tests/test_layering.py")
    return known[part]


def module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(node: ast.ImportFrom, current: str, is_pkg: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = current.split(".")
    if not is_pkg:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def build_graph() -> tuple[dict[str, set[str]], dict[tuple[str, str], int]]:
    """Module -> imported fitkit modules, and the line of each edge's first import statement."""
    files = sorted(PKG.rglob("*.py"))
    modules = {module_name(p): p for p in files}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    lines: dict[tuple[str, str], int] = {}

    def target(name: str) -> str | None:
        # the longest existing module prefix: "fitkit.io.sweep.Sweep" -> "fitkit.io.sweep"
        parts = name.split(".")
        while parts:
            cand = ".".join(parts)
            if cand in modules:
                return cand
            parts.pop()
        return None

    for mod, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                src = _resolve(node, mod, is_pkg)
                # "from fitkit.pipeline import kinds" imports the submodule fitkit.pipeline.kinds
                names = [f"{src}.{a.name}" if f"{src}.{a.name}" in modules else src for a in node.names]
            for n in names:
                if not (n == "fitkit" or n.startswith("fitkit.")):
                    continue
                t = target(n)
                if t is None or t == mod:
                    continue
                # importing a.b.c runs the package a.b's __init__ first: that is an edge too,
                # except to the importer's own packages (already being initialised)
                parts = t.split(".")
                for k in range(2, len(parts) + 1):
                    dep = ".".join(parts[:k])
                    if dep == mod or dep not in modules or _is_ancestor_package(dep, mod):
                        continue
                    graph[mod].add(dep)
                    lines.setdefault((mod, dep), node.lineno)
    return graph, lines


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _is_ancestor_package(a: str, b: str) -> bool:
    """``a`` is a package containing ``b`` (``fitkit.io`` and ``fitkit.io.sweep``)."""
    return b.startswith(a + ".")


def test_graph_sees_function_level_and_type_checking_imports(tmp_path: Path) -> None:
    """The parser must not miss hidden imports (else the other tests prove nothing)."""
    src = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from fitkit.config import RunConfig\n"
        "def f():\n    from fitkit.pipeline import engine\n    import fitkit.report.writer as w\n"
        "try:\n    from .sweep import Sweep\nexcept ImportError:\n    pass\n"
    )
    tree = ast.parse(src)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            found.append(_resolve(node, "fitkit.io.base", False))
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names]
    assert sorted(found) == sorted(
        ["typing", "fitkit.config", "fitkit.pipeline", "fitkit.report.writer", "fitkit.io.sweep"]
    )


def test_no_import_cycles() -> None:
    graph, lines = build_graph()
    # a package importing its own submodules (re-exports in __init__) and a submodule importing its
    # package's __init__ is one unit; only cycles between distinct units are reported.
    cycles = []
    for comp in find_cycles(graph):
        shown = []
        for a in comp:
            for b in sorted(graph[a]):
                if b in comp:
                    shown.append(f"{a} -> {b} (line {lines[(a, b)]})")
        cycles.append("cycle: " + "; ".join(shown))
    assert not cycles, "\n".join(cycles)


def test_no_upward_imports() -> None:
    graph, lines = build_graph()
    bad = []
    for mod, targets in sorted(graph.items()):
        la = layer_of(mod)
        for t in sorted(targets):
            lt = layer_of(t)
            if lt == la or lt in LAYER_ALLOWED[la] or _is_ancestor_package(mod, t):
                continue
            bad.append(f"{mod} ({la}) imports {t} ({lt}) at line {lines[(mod, t)]}")
    assert not bad, "upward or sideways imports:\n" + "\n".join(bad)


def test_no_import_error_fallbacks_around_fitkit() -> None:
    """No ``try: import fitkit.x ... except ImportError`` (it keeps dead second implementations alive)."""
    bad = []
    for path in sorted(PKG.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Try):
                continue
            catches = {
                ast.unparse(h.type) for h in node.handlers if h.type is not None
            }
            if not any("ImportError" in c or "ModuleNotFoundError" in c for c in catches):
                continue
            mod = module_name(path)
            for sub in node.body:
                for n in ast.walk(sub):
                    src = ""
                    if isinstance(n, ast.ImportFrom):
                        src = _resolve(n, mod, path.name == "__init__.py")
                    elif isinstance(n, ast.Import):
                        src = n.names[0].name
                    if src == "fitkit" or src.startswith("fitkit."):
                        bad.append(f"{mod} line {n.lineno}: import of {src} guarded by except ImportError")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("path", sorted(PKG.rglob("*.py")), ids=lambda p: str(p.relative_to(PKG)))
def test_module_size(path: Path) -> None:
    """A module over ~800 lines must say why in its docstring (a sentence with "long because")."""
    text = path.read_text(encoding="utf-8")
    n = text.count("\n")
    if n <= MAX_LINES:
        return
    doc = ast.get_docstring(ast.parse(text)) or ""
    assert "long because" in doc.lower(), (
        f"{path.relative_to(PKG.parent)} has {n} lines (> {MAX_LINES}); split it, or give the reason "
        "in its docstring ('long because ...')"
    )
