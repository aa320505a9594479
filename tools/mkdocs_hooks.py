"""MkDocs hooks (``hooks:`` in mkdocs.yml): the changelog lives at the repository's top, where
people and tools look for it, and is added to the site as a page rather than copied."""

from __future__ import annotations

from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[1]


def on_files(files, config):
    files.append(File.generated(config, "changelog.md", content=(ROOT / "CHANGELOG.md").read_text(encoding="utf-8")))
    return files
