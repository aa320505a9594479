"""What never imports what (README "Layout"): data flows one way, command -> read -> perceive ->
analyse -> measure -> draw -> write. Read from the source (lazy imports inside functions
included), so a rule broken anywhere in a module fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "corrkin"


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}  # from corrkin import ops
    return found


GRAPH = {_module(p): _imports(p) for p in PACKAGE.rglob("*.py")}


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _offenders(importers: tuple[str, ...], forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    out = {}
    for mod, imports in GRAPH.items():
        if _within(mod, importers):
            bad = sorted(i for i in imports if _within(i, forbidden) and not _within(i, (mod,)))
            if bad:
                out[mod] = bad
    return out


STAGES = ("corrkin.io", "corrkin.pose", "corrkin.bat", "corrkin.perception", "corrkin.analysis", "corrkin.library",
          "corrkin.technique", "corrkin.ops", "corrkin.skeleton", "corrkin.timing", "corrkin.synth")
DRAWING = ("corrkin.plots", "corrkin.render", "matplotlib")


def test_the_graph_is_read():
    assert "corrkin.commands.analyse" in GRAPH and "corrkin.runtime" in GRAPH["corrkin.commands.analyse"]


@pytest.mark.parametrize("importers, forbidden, rule", [
    (("corrkin.ops",), ("corrkin",), "ops is pure tensor maths: nothing of corrkin but itself and timing"),
    (STAGES + DRAWING + ("corrkin.runtime", "corrkin.config"), ("corrkin.commands",),
     "only the command line and the notebook API call the commands"),
    (STAGES, DRAWING, "the stages never draw"),
    (DRAWING, ("corrkin.analysis.engine", "corrkin.ops", "corrkin.runtime", "corrkin.perception"),
     "figures draw from results: they run no analysis"),
    (("corrkin.io",), ("corrkin.analysis", "corrkin.bat", "corrkin.library", "corrkin.technique", "corrkin.perception",
                       "corrkin.runtime"), "io reads and writes formats: no stage above it"),
])
def test_what_never_imports_what(importers, forbidden, rule):
    allowed = {"corrkin.ops": ("corrkin.ops", "corrkin.timing")}
    bad = {m: [i for i in imps if not any(_within(i, allowed.get(p, ())) for p in importers if _within(m, (p,)))]
           for m, imps in _offenders(importers, forbidden).items()}
    offenders = {m: i for m, i in bad.items() if i}
    assert not offenders, f"{rule}: {offenders}"


def _module_edges() -> dict[str, set[str]]:
    """Module -> the corrkin modules it imports, lazy imports included: ``from corrkin.x import
    y`` is ``corrkin.x.y`` where that is a module (a package's module named through it), else
    ``corrkin.x``."""
    edges = {}
    for path in PACKAGE.rglob("*.py"):
        mod, found = _module(path), set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                for a in node.names:
                    found.add(f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in GRAPH else node.module)
        edges[mod] = {i for i in found if i in GRAPH and i not in (mod, "corrkin")}
    return edges


def test_no_import_cycles():
    """No module reaches itself through the modules it imports (a cycle ties two concerns into
    one that cannot be changed apart); a package's ``__init__`` re-exporting its own modules is
    not a cycle."""
    edges = _module_edges()
    cycles = set()

    def visit(start, node, path):
        for nxt in edges.get(node, ()):
            if nxt == start:
                cycle = path + [nxt]
                if not all(a.startswith(b + ".") or b.startswith(a + ".") for a, b in zip(cycle, cycle[1:])):
                    k = cycle.index(min(cycle[:-1]))
                    cycles.add(" -> ".join(cycle[k:-1] + cycle[:k + 1]))
            elif nxt not in path and len(path) < 8:
                visit(start, nxt, path + [nxt])

    for mod in edges:
        visit(mod, mod, [mod])
    assert not cycles, "\n".join(sorted(cycles))


def test_no_module_reaches_into_another_s_private_names():
    """``from corrkin.a import _b`` from outside ``corrkin.a``'s own package (the package's
    private modules, ``corrkin.ops._math``, are its modules'; the top level's modules are each a
    concern of their own): a private name is the module's to change, and what others need is
    made public where it belongs."""
    bad = []
    for path in PACKAGE.rglob("*.py"):
        mod = _module(path)
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("corrkin")):
                continue
            is_package = (PACKAGE.parent / node.module.replace(".", "/") / "__init__.py").is_file()
            source_package = node.module if is_package else node.module.rpartition(".")[0]
            for a in node.names:
                private = a.name.startswith("_") and not a.name.startswith("__")
                if private and (package != source_package or package == "corrkin"):
                    bad.append(f"{mod}: from {node.module} import {a.name}")
    assert not bad, "\n".join(sorted(bad))
