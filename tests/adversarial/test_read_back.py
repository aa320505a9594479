"""Results read back: one cut-off, damaged or foreign file is named and left out, never the end of
a command that reads results (report, align, metrics, ``load_results``, a library's resume)."""

from __future__ import annotations

import csv
import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from corrkin.cli import main
from corrkin.io.results import ResultError, read_result, read_results
from tests.adversarial.test_bad_input import GOOD, good  # noqa: F401  (the fixture)

DAMAGE = {
    "result.json cut off": ("result.json", lambda b: b[: len(b) // 2]),
    "result.json empty": ("result.json", lambda b: b""),
    "result.json another program's": ("result.json", lambda b: b'{"name": "x", "frames": [1, 2]}'),
    "result.json a list": ("result.json", lambda b: b"[1, 2, 3]"),
    "result.json not UTF-8": ("result.json", lambda b: b"\xff\xfe\x00{"),
    "series.npz cut off": ("series.npz", lambda b: b[: len(b) // 3]),
    "series.npz middle damaged": ("series.npz", lambda b: b[:200] + bytes(400) + b[600:]),
    "series.npz empty": ("series.npz", lambda b: b""),
}


def _results(root: Path, tmp: Path) -> Path:
    out = tmp / "res"
    shutil.copytree(root / "clean", out)
    return out


def _damage(folder: Path, case: str) -> Path:
    name, cut = DAMAGE[case]
    path = folder / GOOD[0] / name
    path.write_bytes(cut(path.read_bytes()))
    return path


@pytest.mark.parametrize("case", list(DAMAGE))
def test_read_result_names_the_file_and_the_others_are_read(case, good, tmp_path):  # noqa: F811
    out = _results(good, tmp_path)
    damaged = _damage(out, case)
    with pytest.raises(ResultError, match=str(damaged).replace("\\", "\\\\")):
        read_result(damaged.parent, series=True)
    readable, unreadable = read_results(out, series=True)
    assert [rec["clip"] for _, rec, _ in readable] == [GOOD[1]]
    assert [d.name for d, _ in unreadable] == [GOOD[0]]
    assert len(unreadable[0][1].splitlines()) == 1


@pytest.mark.parametrize("case", ["result.json cut off", "series.npz cut off", "result.json another program's"])
def test_report_leaves_out_the_damaged_clip_by_name(case, good, tmp_path, capsys):  # noqa: F811
    out = _results(good, tmp_path)
    damaged = _damage(out, case)
    code = main(["report", f"input={out}", f"output={tmp_path / 'rep'}", "composite=0"])
    assert code == 1
    said = capsys.readouterr()
    assert str(damaged) in said.out + said.err
    assert "Traceback" not in said.out + said.err
    page = (tmp_path / "rep" / "index.html").read_text()
    assert f"<h3>{GOOD[1]}</h3>" in page and f"<h3>{GOOD[0]}</h3>" not in page
    assert "could not be read" in page


def test_load_results_warns_and_keeps_the_rest(good, tmp_path):  # noqa: F811
    from corrkin import load_results
    from corrkin.api import Results

    out = _results(good, tmp_path)
    damaged = _damage(out, "result.json cut off")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        frame = load_results(out)
    assert list(frame["clip"]) == [GOOD[1]]
    assert any(str(damaged) in str(w.message) for w in seen)
    assert [Path(d).name for d, _ in Results(out).unreadable()] == [GOOD[0]]
    with pytest.raises(ResultError, match="result.json"):
        Results(out)[GOOD[0]]


def test_align_leaves_out_a_damaged_series(good, tmp_path):  # noqa: F811
    out = _results(good, tmp_path)
    (out / "third").mkdir()
    for f in (out / GOOD[1]).iterdir():
        shutil.copy(f, out / "third" / f.name)
    rec = json.loads((out / "third" / "result.json").read_text())
    rec["clip"] = "third"
    (out / "third" / "result.json").write_text(json.dumps(rec))
    _damage(out, "series.npz middle damaged")
    code = main(["align", f"input={out}", f"output={tmp_path / 'al'}", "plots=false", "formats=[csv]"])
    assert code == 1  # a clip failed to load, named in alignment.json
    summary = json.loads((tmp_path / "al" / "alignment.json").read_text())
    assert [f["clip"] for f in summary["failed"]] == [GOOD[0]]
    assert "series.npz" in summary["failed"][0]["error"]
    with open(tmp_path / "al" / "clips.csv", newline="") as f:
        assert sorted(r["clip"] for r in csv.DictReader(f)) == sorted([GOOD[1], "third"])


def test_a_foreign_summary_is_kept_aside_not_parsed(good, tmp_path):  # noqa: F811
    out = tmp_path / "out"
    out.mkdir()
    foreign = "name;score\nalpha;1\nbeta;2\n"
    (out / "summary.csv").write_text(foreign)
    assert main(["analyse", f"input={good / 'clips'}", f"output={out}", "progress=false", "io_workers=0"]) == 0
    with open(out / "summary.csv", newline="") as f:
        assert sorted(r["clip"] for r in csv.DictReader(f)) == sorted(GOOD)
    assert (out / "summary.csv.not-corrkin").read_text() == foreign


def test_a_library_redoes_a_clip_whose_result_was_cut_off(good, tmp_path):  # noqa: F811
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("path,batter,shot\n" + "".join(f"{good / 'clips' / f'{n}.npz'},ann,drive\n" for n in GOOD))
    out = tmp_path / "lib"
    args = ["library", f"input={manifest}", f"output={out}", "progress=false", "formats=[csv]", "align=false"]
    assert main(args) == 0
    first = json.loads(next((out / "clips").glob("*/result.json")).read_text())
    victim = next(p for p in (out / "clips").glob("*/result.json") if json.loads(p.read_text())["clip"] == first["clip"])
    whole = victim.read_bytes()
    victim.write_bytes(whole[: len(whole) // 2])
    assert main(args) == 0  # resumed: the cut-off clip analysed again
    assert json.loads(victim.read_text()) == json.loads(whole)
    with open(out / "metrics.csv", newline="") as f:
        assert sorted(r["clip"] for r in csv.DictReader(f)) == sorted(GOOD)
    with np.load(victim.parent / "series.npz") as z:
        assert "positions" in z.files
