"""Paths are paths: a file or folder name holding what Hydra's grammar reserves is read as the name,
an empty one is an error, suffixes match in any case, and the output folder is never read as input."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from corrkin.cli import main
from tests.adversarial.test_bad_input import GOOD, good  # noqa: F401  (the fixture)

NAMES = ["clips (1)", "a#b", "x[1]", "a,b", "a;b", "it's", "x${y}", "back\\slash", "=eq", "café", "sp ace"]


def _rows(out: Path) -> list[tuple[str, str]]:
    with open(out / "summary.csv", newline="", encoding="utf-8") as f:
        return [(r["clip"], r["status"]) for r in csv.DictReader(f)]


@pytest.mark.parametrize("name", NAMES)
def test_a_folder_name_is_read_as_the_name(name, good, tmp_path):  # noqa: F811
    folder = tmp_path / name
    folder.mkdir()
    shutil.copy(good / "clips" / f"{GOOD[0]}.npz", folder / "clip.npz")
    out = tmp_path / "out"
    assert main(["analyse", f"input={folder}", f"output={out}", "progress=false", "plots=false", "io_workers=0"]) == 0
    assert _rows(out) == [("clip", "ok")]


@pytest.mark.parametrize("name", [n for n in NAMES if "${" not in n])
def test_an_output_folder_name_is_the_name(name, good, tmp_path):  # noqa: F811
    out = tmp_path / name
    assert main(["analyse", f"input={good / 'clips' / f'{GOOD[0]}.npz'}", f"output={out}", "progress=false",
                 "plots=false", "io_workers=0"]) == 0
    assert _rows(out) == [(GOOD[0], "ok")]
    assert main(["report", f"input={out}", "composite=0"]) == 0
    assert (out / "report" / "index.html").is_file()


def test_an_output_hydra_cannot_name_is_one_line(good, tmp_path, capsys):  # noqa: F811
    code = main(["analyse", f"input={good / 'clips'}", f"output={tmp_path / 'x${y}'}", "progress=false"])
    assert code == 2
    err = capsys.readouterr().err
    assert "${" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("key", ["input", "output"])
def test_an_empty_path_is_an_error_not_the_current_folder(key, good, tmp_path, capsys, monkeypatch):  # noqa: F811
    monkeypatch.chdir(tmp_path)
    args = {"input": str(good / "clips"), "output": str(tmp_path / "out")} | {key: ""}
    assert main(["analyse", f"input={args['input']}", f"output={args['output']}", "progress=false"]) == 2
    assert f"{key} is empty" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # nothing read from or written to the current folder


def test_suffixes_match_in_any_case(good, tmp_path):  # noqa: F811
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(good / "clips" / f"{GOOD[0]}.npz", folder / "UPPER.NPZ")
    shutil.copy(good / "clips" / f"{GOOD[1]}.npz", folder / "Mixed.Npz")
    assert main(["analyse", f"input={folder}", f"output={tmp_path / 'out'}", "progress=false", "plots=false"]) == 0
    assert sorted(_rows(tmp_path / "out")) == [("Mixed", "ok"), ("UPPER", "ok")]


def test_an_output_inside_the_input_is_never_read_back(good, tmp_path):  # noqa: F811
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(good / "clips" / f"{GOOD[0]}.npz", folder / "a.npz")
    args = ["analyse", f"input={folder}", f"output={folder / 'out'}", "recursive=true", "progress=false", "plots=false"]
    for _ in range(2):
        assert main(args) == 0
        assert _rows(folder / "out") == [("a", "ok")]


def test_a_report_elsewhere_leaves_its_input_untouched(good, tmp_path):  # noqa: F811
    before = sorted(p.relative_to(good / "clean") for p in (good / "clean").rglob("*"))
    assert main(["report", f"input={good / 'clean'}", f"output={tmp_path / 'page'}", "composite=0"]) == 0
    assert (tmp_path / "page" / "index.html").is_file() and (tmp_path / "page" / ".hydra").is_dir()
    assert sorted(p.relative_to(good / "clean") for p in (good / "clean").rglob("*")) == before


def test_a_report_of_a_missing_folder_makes_nothing(tmp_path, capsys):
    assert main(["report", f"input={tmp_path / 'nosuch'}"]) == 2
    assert "no such folder" in capsys.readouterr().err
    assert not (tmp_path / "nosuch").exists()


def _unprivileged() -> list[str] | None:
    """The command prefix that runs a process as a user without write permission on what
    this one made read-only: none where this process is not root; ``setpriv`` to ``nobody``
    where it is (root writes anywhere); None where neither is possible."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"] if setpriv else None


@pytest.fixture
def read_only(good):  # noqa: F811
    """A place a user without privileges can write, holding a copy of the clean results made
    read-only, and how to run the CLI as that user."""
    prefix = _unprivileged()
    if prefix is None:
        pytest.skip("running as root without setpriv: no read-only folder can be made")
    place = Path(tempfile.mkdtemp(prefix="corrkin-ro-"))  # tmp_path's parents are its owner's alone
    place.chmod(0o777)
    shutil.copytree(good / "clean", place / "results")
    for p in [place / "results", *(place / "results").rglob("*")]:
        p.chmod(p.stat().st_mode & ~0o222)
    env = os.environ | {"HOME": str(place), "MPLCONFIGDIR": str(place / "mpl")}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*prefix, sys.executable, "-m", "corrkin", *args], capture_output=True, text=True,
                              env=env, cwd=place, timeout=300)

    yield place, run
    for p in [place / "results", *(place / "results").rglob("*")]:
        p.chmod(p.stat().st_mode | 0o200)
    shutil.rmtree(place)


def test_read_only_results_report_elsewhere_and_refuse_in_place(read_only):
    place, run = read_only
    before = sorted(str(p) for p in (place / "results").rglob("*"))
    done = run("report", f"input={place / 'results'}", f"output={place / 'page'}", "composite=0")
    assert done.returncode == 0, done.stderr
    assert (place / "page" / "index.html").is_file()
    refused = run("report", f"input={place / 'results'}")
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        f"corrkin report: input={place / 'results'}: cannot make {place / 'results' / 'report'} (Permission denied); "
        "pass output=<a folder you can write>"]
    assert sorted(str(p) for p in (place / "results").rglob("*")) == before


def test_a_read_only_output_is_one_line_before_any_work(read_only, good):  # noqa: F811
    place, run = read_only
    shutil.copytree(good / "clips", place / "clips")
    done = run("analyse", f"input={place / 'clips'}", f"output={place / 'results'}", "progress=false")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"corrkin analyse: output={place / 'results'}: the folder is read-only"]
