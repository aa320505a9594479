"""Stale results never read as current: every result says what made it (provenance), a clip whose
latest run failed is not read back from its earlier result, results of two settings in one folder
are said, and a library aligns only the results of its current manifest and settings."""

from __future__ import annotations

import csv
import json
import shutil
import warnings
from pathlib import Path

import pytest

from corrkin.cli import main
from corrkin.io.results import ResultError, read_result
from tests.adversarial.test_bad_input import GOOD, good  # noqa: F401  (the fixture)


def _analyse(folder: Path, out: Path, *extra: str) -> int:
    return main(["analyse", f"input={folder}", f"output={out}", "progress=false", "plots=false", "io_workers=0", *extra])


def _copy(root: Path, folder: Path) -> Path:
    folder.mkdir()
    for n in GOOD:
        shutil.copy(root / "clips" / f"{n}.npz", folder / f"{n}.npz")
    return folder


def test_every_result_says_what_made_it(good):  # noqa: F811
    import corrkin

    rec = json.loads((good / "clean" / GOOD[0] / "result.json").read_text())
    prov = rec["provenance"]
    assert prov["corrkin"] == corrkin.__version__ and prov["analysis"] == "default"
    assert len(prov["settings_digest"]) == 16
    src = Path(prov["input"]["path"])
    assert src.name == f"{GOOD[0]}.npz" and prov["input"]["bytes"] == src.stat().st_size
    assert prov["input"]["mtime_ns"] == src.stat().st_mtime_ns


def test_a_clip_whose_latest_run_failed_is_not_read_as_current(good, tmp_path):  # noqa: F811
    import corrkin

    folder = _copy(good, tmp_path / "in")
    out = tmp_path / "out"
    assert _analyse(folder, out) == 0
    bad = folder / f"{GOOD[0]}.npz"
    bad.write_bytes(bad.read_bytes()[:200])  # the file since damaged
    assert _analyse(folder, out) == 1
    with open(out / "summary.csv", newline="") as f:
        rows = {r["clip"]: r["status"] for r in csv.DictReader(f)}
    assert rows == {GOOD[0]: "failed", GOOD[1]: "ok"}
    with pytest.raises(ResultError, match="latest run failed"):
        read_result(out / GOOD[0])
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        assert list(corrkin.load_results(out)["clip"]) == [GOOD[1]]
    shutil.copy(good / "clips" / f"{GOOD[0]}.npz", bad)  # mended: analysed again, current again
    assert _analyse(folder, out) == 0
    assert not (out / GOOD[0] / "failed.json").exists()
    assert read_result(out / GOOD[0])[0]["clip"] == GOOD[0]


def test_results_of_two_settings_in_one_folder_are_said(good, tmp_path, capsys):  # noqa: F811
    out = tmp_path / "out"
    assert _analyse(good / "clips" / f"{GOOD[0]}.npz", out) == 0
    assert _analyse(good / "clips" / f"{GOOD[1]}.npz", out, "analysis=seed", "fps=25") == 0
    said = capsys.readouterr()
    assert "2 different analysis settings" in said.out + said.err
    with open(out / "summary.csv", newline="") as f:
        digests = {r["clip"]: r["settings_digest"] for r in csv.DictReader(f)}
    assert len(set(digests.values())) == 2 and all(len(d) == 16 for d in digests.values())


def test_a_library_aligns_its_current_manifest_and_settings_only(good, tmp_path):  # noqa: F811
    import numpy as np

    folder = _copy(good, tmp_path / "in")
    with np.load(good / "clips" / f"{GOOD[0]}.npz") as z:  # a third clip of its own bytes
        arrays = {k: z[k] for k in z.files}
    arrays["keypoints"] = arrays["keypoints"] * np.float32(1.01)
    np.savez(folder / "third.npz", **arrays)
    manifest = tmp_path / "manifest.csv"
    rows = [f"{folder / f'{n}.npz'},ann,drive" for n in (*GOOD, "third")]
    manifest.write_text("path,batter,shot\n" + "\n".join(rows) + "\n")
    out = tmp_path / "lib"
    base = ["library", f"input={manifest}", f"output={out}", "progress=false", "formats=[csv]", "alignment.plots=false"]

    def aligned() -> list[str]:
        with open(out / "align" / "clips.csv", newline="") as f:
            return sorted(r["clip"] for r in csv.DictReader(f))

    assert main(base) == 0
    assert aligned() == sorted([*GOOD, "third"])
    assert main([*base, "analysis.max_lag_s=0.3"]) == 0  # another setting: new results beside the old
    assert aligned() == sorted([*GOOD, "third"])  # each clip once, this setting's
    manifest.write_text("path,batter,shot\n" + "\n".join(rows[:2]) + "\n")  # a row dropped
    assert main([*base, "analysis.max_lag_s=0.3"]) == 0
    assert aligned() == sorted(GOOD)
