"""The library runner: resumable after a kill, failures quarantined, two gloo processes equal one."""

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from corrkin.cli import main
from corrkin.synth import make_shot_library

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    return make_shot_library(tmp_path_factory.mktemp("kp") / "kp", per_group=5, seed=5)


def run(manifest, out, *extra):
    return main(["library", f"input={manifest}", f"output={out}", "progress=false", *extra])


def library_rows(out):
    with open(out / "library.csv", newline="") as f:
        return list(csv.DictReader(f))


def assert_same_results(a: Path, b: Path):
    """Same library table and, clip by clip, the same result.json and series.npz."""
    assert library_rows(a) == library_rows(b)
    keys = sorted(p.name for p in (a / "clips").iterdir())
    assert keys == sorted(p.name for p in (b / "clips").iterdir())
    for key in keys:
        assert (a / "clips" / key / "result.json").read_bytes() == (b / "clips" / key / "result.json").read_bytes()
        with np.load(a / "clips" / key / "series.npz") as x, np.load(b / "clips" / key / "series.npz") as y:
            assert sorted(x) == sorted(y)
            for k in x:
                np.testing.assert_array_equal(x[k], y[k])


def env():
    e = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    e.pop("WORLD_SIZE", None)
    return e


@pytest.fixture(scope="module")
def reference(manifest, tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "out"
    assert run(manifest, out, "threads=1") == 0
    return out


def test_a_rerun_skips_finished_clips(manifest, reference, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(reference, out)
    before = {p: p.stat().st_mtime_ns for p in (out / "clips").rglob("result.json")}
    assert run(manifest, out, "align=false") == 0
    assert before == {p: p.stat().st_mtime_ns for p in (out / "clips").rglob("result.json")}


def test_resumes_after_being_killed_mid_run_with_identical_outputs(manifest, reference, tmp_path):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "corrkin", "library", f"input={manifest}", f"output={out}", "batch_size=1",
           "progress=false", "align=false", "threads=1"]
    proc = subprocess.Popen(cmd, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while len(list((out / "clips").glob("*/done.json"))) < 3 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = len(list((out / "clips").glob("*/done.json")))
    assert 3 <= done < 20, f"the run was not stopped mid-way ({done} of 20 done)"
    assert not (out / "library.csv").exists()
    assert run(manifest, out, "threads=1") == 0
    assert_same_results(out, reference)
    assert not list(out.rglob(".*.tmp"))


def test_two_gloo_processes_equal_one(manifest, reference, tmp_path):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2", "-m", "corrkin",
           "library", f"input={manifest}", f"output={out}", "progress=false", "threads=1"]
    res = subprocess.run(cmd, env=env(), capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "rank1" in " ".join(p.name for p in (out / ".hydra").iterdir())  # both ranks ran
    assert_same_results(out, reference)
    for table in ("clips", "edges_by_shot", "paths_by_batter"):
        assert (out / "align" / f"{table}.csv").read_text() == (reference / "align" / f"{table}.csv").read_text()


def test_bad_clips_are_quarantined_and_the_rest_go_on(manifest, tmp_path):
    lib = tmp_path / "kp"
    shutil.copytree(manifest.parent, lib)
    (lib / "broken.npz").write_bytes(b"not a zip")
    rows = (lib / "manifest.csv").read_text().splitlines()
    rows += ["broken.npz,batter_a,drive,25", "absent.npz,batter_a,drive,25",
             f"{rows[1].split(',')[0]},batter_a,drive,25,10.0,11.0"]  # a time range past the clip's end
    (lib / "manifest.csv").write_text("\n".join([rows[0] + ",start_s,end_s"] + rows[1:]) + "\n")
    out = tmp_path / "out"
    assert run(lib / "manifest.csv", out, "align=false") == 1
    got = {r["path"].split("/")[-1]: r for r in library_rows(out)}
    failed = [r for r in library_rows(out) if r["status"] == "failed"]
    assert len(failed) == 3 and len(library_rows(out)) == 23
    reasons = " | ".join(r["error"] for r in failed)
    assert "cannot read the file" in reasons and "holds no frames" in reasons
    assert got["broken.npz"]["status"] == "failed"
    assert len(list((out / "quarantine").glob("*.json"))) == 3
    # a re-run leaves quarantined clips alone unless asked
    stamp = {p: p.stat().st_mtime_ns for p in (out / "quarantine").glob("*.json")}
    assert run(lib / "manifest.csv", out, "align=false") == 1
    assert stamp == {p: p.stat().st_mtime_ns for p in (out / "quarantine").glob("*.json")}


def test_manifest_errors_name_the_line(tmp_path):
    from corrkin.commands.library import read_manifest

    (tmp_path / "m.csv").write_text("file,shot\na.npz,drive\n")
    with pytest.raises(ValueError, match="needs the columns path"):
        read_manifest(tmp_path / "m.csv")
    (tmp_path / "m.csv").write_text("path,fps\na.npz,fast\n")
    with pytest.raises(ValueError, match="line 2: fps 'fast' is not a number"):
        read_manifest(tmp_path / "m.csv")


def test_a_time_range_trims_the_clip(manifest, reference, tmp_path):
    lib = tmp_path / "kp"
    shutil.copytree(manifest.parent, lib)
    lines = (lib / "manifest.csv").read_text().splitlines()
    (lib / "manifest.csv").write_text("\n".join([lines[0] + ",start_s,end_s", lines[1] + ",0.2,2.0"]) + "\n")
    out = tmp_path / "out"
    assert run(lib / "manifest.csv", out, "align=false") == 0
    assert library_rows(out)[0]["frames"] == "45"  # frames 5 .. 49 at 25 fps
    assert library_rows(out)[0]["key"] != library_rows(reference)[0]["key"]
    assert json.loads(next((out / "clips").glob("*/result.json")).read_text())["shot"] == "drive"


def test_videos_in_the_manifest_go_through_the_video_front_end(tmp_path):
    from corrkin.io.keypoints import load_clip
    from corrkin.synth import SwingSpec
    from corrkin.synth_video import tip_error, write_rendered

    videos, poses = tmp_path / "videos", tmp_path / "poses"
    poses.mkdir(parents=True)
    for i, spec in enumerate([SwingSpec(fps=25, duration_s=1.6, swing_at_s=0.8)]):
        _, truth = write_rendered(videos, spec, seed=10 + i, name=f"swing{i}")
        truth.rename(poses / truth.name)
    (videos / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(500))
    (videos / "manifest.csv").write_text("path,batter,shot\nswing0.mp4,batter_a,drive\nbroken.mp4,batter_a,pull\n")
    out = tmp_path / "out"
    assert run(videos / "manifest.csv", out, "pose=file", f"pose.keypoints={poses}", "align=false") == 1
    rows = {r["clip"]: r for r in library_rows(out)}
    assert rows["swing0"]["status"] == "ok" and rows["swing0"]["shot"] == "drive"
    assert rows["broken"]["status"] == "failed" and "not a readable video" in rows["broken"]["error"]
    found = load_clip(out / "clips" / rows["swing0"]["key"] / "keypoints.npz")
    assert np.median(tip_error(found.bat, load_clip(poses / "swing0.npz"))) <= 0.1  # the bat found on the pixels
