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
