"""The documentation: the site builds without a warning, every module a page names exists, and
the text speaks of the project as it is (no issue numbers or history of how it was built)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs").glob("*.md"))
TEXTS = [ROOT / "README.md", ROOT / "CHANGELOG.md", *PAGES]


def test_every_page_is_in_the_site_s_navigation():
    import yaml

    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"]
    listed = {next(iter(item.values())) for item in nav}
    assert {p.name for p in PAGES} <= listed, "a page in docs/ not in mkdocs.yml's nav"


@pytest.mark.parametrize("page", TEXTS, ids=lambda p: p.name)
def test_every_module_a_page_names_exists(page):
    text = page.read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:corrkin|benchmarks|tests|train)/[\w/.\-]*)`", text))
    missing = sorted(n for n in named if not (ROOT / n.split(" ")[0]).exists())
    assert not missing, f"{page.name} names what is not there: {missing}"


@pytest.mark.parametrize("page", TEXTS, ids=lambda p: p.name)
def test_the_text_speaks_of_the_project_as_it_is(page):
    text = page.read_text(encoding="utf-8")
    for pattern in (r"\bissue\s+#?\d+", r"\blast (stop|session)\b", r"\bwas lent\b", r"\bTODO\b"):
        assert not re.search(pattern, text, re.IGNORECASE), f"{page.name}: {pattern}"


def test_the_readme_is_a_start_not_a_manual():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 300
    assert lines[2:5] and "make demo" in lines[3] and "make test" in lines[4]


def test_the_readme_s_links_lead_somewhere():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#\s]+)", text):
        if "://" not in target:
            assert (ROOT / target).exists(), target


@pytest.mark.skipif(shutil.which("mkdocs", path=str(Path(sys.executable).parent)) is None
                    and shutil.which("mkdocs") is None, reason="mkdocs is not installed (pip install -e '.[docs]')")
def test_the_site_builds_without_a_warning(tmp_path):
    exe = shutil.which("mkdocs", path=str(Path(sys.executable).parent)) or shutil.which("mkdocs")
    done = subprocess.run([exe, "build", "--strict", "--site-dir", str(tmp_path / "site")], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "WARNING" not in done.stderr, done.stderr[-3000:]
    assert (tmp_path / "site" / "metrics" / "index.html").is_file()
    assert (tmp_path / "site" / "changelog" / "index.html").is_file()
