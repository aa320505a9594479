"""MkDocs hooks (``hooks:`` in mkdocs.yml): the changelog lives at the repository's top, where
people and tools look for it, and is added to the site as a page rather than copied; and every
module of the package gets a reference page (``reference/<module>.md``, its docstrings through
mkdocstrings), so that a page naming a module is one click from its code's documentation."""

from __future__ import annotations

from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "corrkin"


def modules() -> list[str]:
    """Every module of the package, dotted (``corrkin.analysis.engine``), packages by their ``__init__``."""
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        out.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return out


def on_files(files, config):
    files.append(File.generated(config, "changelog.md", content=(ROOT / "CHANGELOG.md").read_text(encoding="utf-8")))
    for name in modules():
        files.append(File.generated(config, f"reference/{name}.md", content=f"# `{name}`\n\n::: {name}\n"))
    return files
