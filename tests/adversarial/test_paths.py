"""Paths are paths: a file or folder name holding what Hydra's grammar reserves is read as the name,
an empty one is an error, suffixes match in any case, and the output folder is never read as input."""

from __future__ import annotations

import csv
import shutil
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
