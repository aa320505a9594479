"""One bad file never sinks a batch (issue 14): each case puts bad input beside two good clips
and asserts the exit code, one line naming the file and the problem, the good clips' results
identical to a clean run of them alone, and nothing half-written left behind."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest

from corrkin.cli import main
from corrkin.skeleton import JOINT_INDEX as J

GOOD = ("synthetic_0000", "synthetic_0001")


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """Two good clips and their results from a clean run of them alone."""
    from corrkin.synth import make_library

    root = tmp_path_factory.mktemp("good")
    make_library(root / "clips", 2, seed=0)
    assert main(["analyse", f"input={root / 'clips'}", f"output={root / 'clean'}", "progress=false", "io_workers=0"]) == 0
    # with a frame rate given for files that carry none (mmpose JSON), which the good clips then take too
    assert main(["analyse", f"input={root / 'clips'}", f"output={root / 'clean25'}", "progress=false", "io_workers=0",
                 "fps=25"]) == 0
    return root


def folder_with(good: Path, tmp: Path, **bad: bytes | str | None) -> Path:
    """The two good clips and the named bad files (bytes, text, or a callable writing them)."""
    folder = tmp / "in"
    folder.mkdir()
    for name in GOOD:
        (folder / f"{name}.npz").write_bytes((good / "clips" / f"{name}.npz").read_bytes())
    for name, content in bad.items():
        path = folder / name.replace("__", ".")
        if callable(content):
            content(path)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return folder


def _without_provenance(path: Path) -> dict:
    rec = json.loads(path.read_text())
    rec.pop("provenance", None)
    return rec


def leftovers(folder: Path) -> list[str]:
    """Temporaries anywhere under ``folder`` (hidden ``*.tmp`` files or folders)."""
    return [str(p) for p in folder.rglob("*") if p.name.startswith(".") and ".tmp" in p.name]


def assert_good_intact(out: Path, good: Path, names=GOOD, clean: str = "clean") -> None:
    clean = good / clean
    for name in names:
        # the same numbers; provenance names the input file, which each run of a test copies anew
        assert _without_provenance(out / name / "result.json") == _without_provenance(clean / name / "result.json")
        with np.load(out / name / "series.npz") as a, np.load(clean / name / "series.npz") as b:
            assert a.files == b.files
            for k in a.files:
                np.testing.assert_array_equal(a[k], b[k])
        assert (out / name / "corrpath.png").is_file()
    assert not leftovers(out)


def summary(out: Path) -> dict[str, dict]:
    with open(out / "summary.csv", newline="") as f:
        return {r["clip"]: r for r in csv.DictReader(f)}


def analyse(folder: Path, out: Path, *extra: str) -> int:
    return main(["analyse", f"input={folder}", f"output={out}", "progress=false", *extra])


def mmpose(frames) -> str:
    return json.dumps(frames)


MALFORMED_MMPOSE = {
    "instances_int": ('[{"frame_id": 0, "instances": 5}]', "'instances' is not a list of people"),
    "instances_of_ints": ('[{"frame_id": 0, "instances": [5]}]', "'instances' is not a list of people"),
    "keypoint_strings": ('[{"frame_id": 0, "instances": [{"keypoints": [["a", 1]], "keypoint_scores": [1]}]}]',
                         "keypoints or scores are not lists of numbers"),
    "ragged": ('[{"frame_id": 0, "instances": [{"keypoints": [[1, 2], [3]], "keypoint_scores": [1, 1]}]}]',
               "keypoints or scores are not lists of numbers"),
    "deep_nesting": ("[" * 100000 + "]" * 100000, "RecursionError"),
    "not_json": ("{frames: oops", "not readable JSON"),
    "no_frames": ("[]", "no frames"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED_MMPOSE))
@pytest.mark.parametrize("io_workers", [0, 2])
def test_malformed_mmpose_json_is_that_clips_error(case, io_workers, good, tmp_path, capsys):
    text, reason = MALFORMED_MMPOSE[case]
    folder = folder_with(good, tmp_path, bad__json=text)
    out = tmp_path / "out"
    assert analyse(folder, out, "fps=25", f"io_workers={io_workers}") == 1
    rows = summary(out)
    assert rows["bad"]["status"] == "failed" and reason in rows["bad"]["error"]
    logged = [line for line in capsys.readouterr().out.splitlines() if "ERROR" in line]
    assert len(logged) == 1 and f"{folder / 'bad.json'}: " in logged[0] and reason in logged[0]
    assert_good_intact(out, good, clean="clean25")


def _npz(**arrays):
    def write(path):
        with open(path, "wb") as f:
            np.savez(f, **arrays)
    return write


def _clip(good: Path, name: str = GOOD[0]) -> dict:
    with np.load(good / "clips" / f"{name}.npz") as z:
        return {k: z[k] for k in z.files}


MALFORMED_NPZ = {
    "empty": (b"", "not a readable .npz"),
    "truncated": (lambda g: (g / "clips" / f"{GOOD[0]}.npz").read_bytes()[:300], "not a readable .npz"),
    "text": (b"hello", "not a readable .npz"),
    "wrong_shape": (lambda g: _npz(keypoints=np.zeros((5, 13, 3)), fps=25.0), "expected (T, J, 2)"),
    "strings": (lambda g: _npz(keypoints=np.array([["a"]]), fps=25.0), "expected numbers"),
    "no_keypoints": (lambda g: _npz(fps=25.0), "no 'keypoints'"),
    "nan_scored": (lambda g: _npz(**(_clip(g) | {"keypoints": np.full_like(_clip(g)["keypoints"], np.nan)})),
                   "NaN/inf positions with a positive score"),
    "short_bat_scores": (lambda g: _npz(**(_clip(g) | {"bat_scores": _clip(g)["bat_scores"][:-3]})),
                         "'bat_scores' has"),
    "pickled": (lambda g: (lambda p: np.savez(p, keypoints=np.array([{"a": 1}], dtype=object))), "pickled"),
    "too_short": (lambda g: _npz(**{k: (v[:2] if k in ("keypoints", "scores", "bat", "bat_scores") else v)
                                   for k, v in _clip(g).items()}), "too short"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED_NPZ))
def test_malformed_npz_is_that_clips_error(case, good, tmp_path):
    content, reason = MALFORMED_NPZ[case]
    if callable(content):
        content = content(good)
    folder = folder_with(good, tmp_path, bad__npz=content)
    out = tmp_path / "out"
    assert analyse(folder, out) == 1
    row = summary(out)["bad"]
    assert row["status"] == "failed" and reason in row["error"], row["error"]
    assert row["error"].count("\n") == 0
    assert_good_intact(out, good)


def test_short_bat_scores_says_which_array(good, tmp_path):
    from corrkin.io.keypoints import ClipError, load_clip

    d = _clip(good)
    path = tmp_path / "c.npz"
    np.savez(path, **(d | {"bat_scores": d["bat_scores"][:-3]}))
    with pytest.raises(ClipError, match=rf"'bat_scores' has {len(d['bat_scores']) - 3} frames but the keypoints have "
                                        rf"{len(d['bat_scores'])}"):
        load_clip(path)


@pytest.mark.parametrize("case", ["coincide", "huge"])
def test_degenerate_geometry_is_refused_before_analysis(case, good, tmp_path):
    """Shoulders on top of each other in most frames, or coordinates that are not pixels: the
    clip is refused with the reason; nothing of it is written."""
    d = _clip(good)
    k = d["keypoints"].copy()
    if case == "coincide":
        n = int(0.6 * len(k))
        k[:n, J["r_shoulder"]] = k[:n, J["l_shoulder"]]
        d["keypoints"] = k
        reason = "the shoulders coincide"
    else:
        d["keypoints"], d["bat"] = k * 1e30, d["bat"] * 1e30
        reason = "not image pixels"
    folder = folder_with(good, tmp_path, bad__npz=_npz(**d))
    out = tmp_path / "out"
    assert analyse(folder, out) == 1
    assert reason in summary(out)["bad"]["error"]
    assert not (out / "bad").exists()
    assert_good_intact(out, good)


def test_a_result_that_went_non_finite_is_not_written_and_the_old_one_stays(good, tmp_path):
    """The last guard: a clip whose analysis gives NaN (here forced) fails with nothing written,
    and an earlier good result in its place stays whole."""
    from corrkin.runtime import write_clip

    out = tmp_path / "out"
    folder = folder_with(good, tmp_path)
    assert analyse(folder, out) == 0
    before = {p.name: p.read_bytes() for p in (out / GOOD[0]).iterdir()}
    record = json.loads((out / GOOD[0] / "result.json").read_text())
    with np.load(out / GOOD[0] / "series.npz") as z:
        arrays = {k: z[k] for k in z.files}
    bad = dict(arrays, v_tip=np.full_like(arrays["v_tip"], np.nan))
    with pytest.raises(ValueError, match="non-finite values in v_tip; nothing written"):
        write_clip(out, GOOD[0], record, bad, plots=True)
    with pytest.raises(ValueError, match="result 'bat.peak_speed'"):
        write_clip(out, GOOD[0], record | {"bat": record["bat"] | {"peak_speed": float("inf")}}, arrays, plots=True)
    assert {p.name: p.read_bytes() for p in (out / GOOD[0]).iterdir()} == before
    assert not leftovers(out)


def test_a_write_that_fails_midway_leaves_the_old_folder_whole(good, tmp_path, monkeypatch):
    import corrkin.plots.corrpath as corrpath
    from corrkin.runtime import write_clip

    out = tmp_path / "out"
    assert analyse(folder_with(good, tmp_path), out) == 0
    before = {p.name: p.read_bytes() for p in (out / GOOD[0]).iterdir()}
    record = json.loads((out / GOOD[0] / "result.json").read_text())
    with np.load(out / GOOD[0] / "series.npz") as z:
        arrays = {k: z[k] for k in z.files}

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(corrpath, "plot_corrpath", boom)
    with pytest.raises(OSError, match="No space left"):
        write_clip(out, GOOD[0], record | {"path_weight": 0.0}, arrays, plots=True)  # the figure fails last
    assert {p.name: p.read_bytes() for p in (out / GOOD[0]).iterdir()} == before
    assert not leftovers(out)


BAD_SETTINGS = {
    "analysis.smooth_window_s=0": "analysis.smooth_window_s=0.0: must be > 0",
    "analysis.smooth_window_s=-1": "analysis.smooth_window_s=-1.0: must be > 0",
    "analysis.max_lag_s=-1": "analysis.max_lag_s=-1.0",
    "analysis.max_lag_s=1000": "at most 5 seconds",
    "analysis.dtype=int8": "analysis.dtype='int8'",
    "analysis.sources=[foo]": "unknown nodes",
    "analysis.target=nose": "unknown nodes",
    "analysis.pelvis_signal=knees": "analysis.pelvis_signal='knees'",
    "analysis.top_hand=middle": "analysis.top_hand='middle'",
    "analysis.theta=2": "analysis.theta=2.0",
    "analysis.theta=-5": "analysis.theta=-5.0",
    "analysis.alpha=2": "analysis.alpha=2.0",
    "analysis.min_lag_frames=-5": "analysis.min_lag_frames=-5",
    "analysis.window.before_s=-1": "analysis.window.before_s=-1.0",
    "analysis.quality.min_fps=0": "analysis.quality.min_fps=0.0",
    "batch_size=0": "batch_size=0: must be >= 1",
    "io_workers=-1": "io_workers=-1",
    "fps=-25": "fps=-25.0",
    "device=tpu": "device='tpu'",
    "analysis.thetta=0.3": "analysis.thetta: no such setting; did you mean analysis.theta?",  # a misspelt key
    "analysis.test=fisher": "analysis.test='fisher': expected one of [shift, acf, lag1]",
}


@pytest.mark.parametrize("override", sorted(BAD_SETTINGS))
def test_bad_settings_stop_before_any_work(override, good, tmp_path, capsys):
    out = tmp_path / "out"
    assert analyse(good / "clips", out, override) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("corrkin analyse: ") and BAD_SETTINGS[override] in err, err
    assert not out.exists()  # nothing made for a refused run


def test_bad_settings_of_other_commands_too(tmp_path, capsys):
    assert main(["run", f"input={tmp_path}", f"output={tmp_path / 'o'}", "bat.tau=-1"]) == 2
    assert "bat.tau=-1.0: must be > 0" in capsys.readouterr().err
    assert main(["library", f"input={tmp_path}", f"output={tmp_path / 'o'}", "batch_size=0"]) == 2
    assert "batch_size=0" in capsys.readouterr().err


def test_cuda_without_a_gpu_is_one_line(good, tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert analyse(good / "clips", tmp_path / "out", "device=cuda") == 2
    err = capsys.readouterr().err.strip()
    assert err == "corrkin analyse: device=cuda: CUDA is not available on this machine (use device=cpu)"


@pytest.mark.parametrize("args, says", [
    ([], "missing input, output; pass input=<file or folder> output=<folder>"),
    (["input=x"], "missing output; pass output=<folder>"),
])
def test_missing_settings_are_one_line(args, says, capsys):
    assert main(["analyse", *args]) == 2
    assert capsys.readouterr().err.strip() == f"corrkin analyse: {says}"


def test_output_that_is_a_file_is_one_line(good, tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert analyse(good / "clips", afile) == 2
    assert capsys.readouterr().err.strip() == f"corrkin analyse: output={afile}: exists and is not a folder"
    assert afile.read_text() == "x"


@pytest.mark.parametrize("where", ["empty", "missing"])
def test_empty_or_missing_input_is_one_line(where, tmp_path, capsys):
    folder = tmp_path / "in"
    if where == "empty":
        folder.mkdir()
    assert analyse(folder, tmp_path / "out") == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(folder) in err


def test_a_name_beyond_ascii_needs_no_quoting(good, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "café.npz").write_bytes((good / "clips" / f"{GOOD[0]}.npz").read_bytes())
    out = tmp_path / "out"
    assert main(["analyse", f"input={folder / 'café.npz'}", f"output={out}", "progress=false"]) == 0
    assert (out / "café" / "result.json").is_file()


def test_same_stem_two_formats_two_results(good, tmp_path):
    """``clip.npz`` and ``clip.json`` in one folder: two rows, two folders, neither lost."""
    from corrkin.io.keypoints import load_clip

    clip = load_clip(good / "clips" / f"{GOOD[1]}.npz")
    frames = [{"frame_id": t, "instances": [{
        "keypoints": [[float(x), float(y)] for x, y in _coco(clip.keypoints[t])],
        "keypoint_scores": [1.0] * 17, "bbox": [0, 0, 2000, 2000]}]} for t in range(clip.frames)]
    folder = folder_with(good, tmp_path, **{f"{GOOD[0]}__json": json.dumps(frames)})
    out = tmp_path / "out"
    assert analyse(folder, out, f"fps={clip.fps}") == 0
    rows = summary(out)
    assert {f"{GOOD[0]}.npz", f"{GOOD[0]}.json", GOOD[1]} == set(rows)
    assert (out / f"{GOOD[0]}.npz" / "result.json").is_file() and (out / f"{GOOD[0]}.json" / "result.json").is_file()


def _coco(k13: np.ndarray) -> np.ndarray:
    """The 13 analysis joints as COCO-17 (the face points at the shoulders' midpoint)."""
    from corrkin.skeleton import COCO17

    mid = (k13[J["l_shoulder"]] + k13[J["r_shoulder"]]) / 2
    return np.stack([k13[J[n]] if n in J and n != "pelvis" else mid for n in COCO17])


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_library_refuses_devices_and_fifos(good, tmp_path):
    os.mkfifo(tmp_path / "fifo.npz")
    manifest = tmp_path / "manifest.csv"
    (tmp_path / "bad.json").write_text('[{"frame_id": 0, "instances": 5}]')
    rows = ["path,batter,shot,fps", "/dev/zero,a,drive,", f"{tmp_path / 'fifo.npz'},a,drive,",
            f"{tmp_path / 'bad.json'},a,drive,25"]
    rows += [f"{good / 'clips' / f'{n}.npz'},a,drive," for n in GOOD]
    manifest.write_text("\n".join(rows) + "\n")
    out = tmp_path / "lib"
    for _ in range(2):  # and a re-run goes through too: the bad rows stay quarantined
        assert main(["library", f"input={manifest}", f"output={out}", "progress=false", "align=false"]) == 1
        with open(out / "library.csv", newline="") as f:
            lib = {r["path"]: r for r in csv.DictReader(f)}
        assert "not a regular file" in lib["/dev/zero"]["error"]
        assert "not a regular file" in lib[str(tmp_path / "fifo.npz")]["error"]
        assert "'instances' is not a list of people" in lib[str(tmp_path / "bad.json")]["error"]
        assert sum(r["status"] == "ok" for r in lib.values()) == 2


def test_a_file_name_that_is_not_utf8_keeps_the_summary(good, tmp_path):
    folder = folder_with(good, tmp_path)
    raw = os.fsencode(folder) + b"/odd\xff\xfename.npz"
    with open(raw, "wb") as f:
        f.write((good / "clips" / f"{GOOD[0]}.npz").read_bytes())
    out = tmp_path / "out"
    assert analyse(folder, out) == 0
    text = (out / "summary.csv").read_text(encoding="utf-8")  # valid UTF-8, the odd bytes escaped
    assert "odd" in text and len(summary(out)) == 3
    assert_good_intact(out, good)


def test_render_fits_a_name_too_long_for_the_disk(good, tmp_path):
    """A 250-character clip name leaves no room for ``_skeleton.mp4``: the file keeps the name's
    start and a hash of the whole (two such names stay apart), the others their own names."""
    folder = folder_with(good, tmp_path)
    for tail in "ab":
        (folder / ("x" * 249 + tail + ".npz")).write_bytes((good / "clips" / f"{GOOD[0]}.npz").read_bytes())
    out = tmp_path / "render"
    assert main(["render", f"input={folder}", f"output={out}", "gif=false"]) == 0
    written = {p.name for p in out.iterdir() if not p.name.startswith(".")}
    long = written - {f"{n}_skeleton.mp4" for n in GOOD}
    assert len(written) == len(GOOD) + 2 and len(long) == 2
    assert all(n.startswith("x" * 200) and n.endswith("_skeleton.mp4") and len(n) <= 255 for n in long)
    assert not leftovers(out)


def test_two_runs_into_one_folder_are_both_listed(good, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / f"{GOOD[0]}.npz").write_bytes((good / "clips" / f"{GOOD[0]}.npz").read_bytes())
    (b / f"{GOOD[1]}.npz").write_bytes((good / "clips" / f"{GOOD[1]}.npz").read_bytes())
    out = tmp_path / "out"
    assert analyse(a, out) == 0
    assert analyse(b, out) == 0
    assert set(summary(out)) == set(GOOD)
    assert_good_intact(out, good)


def test_library_keeps_one_file_under_two_labels_and_same_stems_apart(good, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / f"{GOOD[0]}.npz").write_bytes((good / "clips" / f"{GOOD[1]}.npz").read_bytes())
    manifest = tmp_path / "manifest.csv"
    first = good / "clips" / f"{GOOD[0]}.npz"
    manifest.write_text("path,batter,shot\n"
                        f"{first},ann,drive\n{first},ann,cut\n{other / f'{GOOD[0]}.npz'},bob,drive\n")
    out = tmp_path / "lib"
    assert main(["library", f"input={manifest}", f"output={out}", "progress=false", "formats=[csv]",
                 "alignment.plots=false"]) == 0
    with open(out / "library.csv", newline="") as f:
        keys = [r["key"] for r in csv.DictReader(f)]
    assert len(set(keys)) == 3  # three results, none merged
    with open(out / "align" / "clips.csv", newline="") as f:
        names = [r["clip"] for r in csv.DictReader(f)]
    assert len(names) == 3 and len(set(names)) == 3
    assert {n.split(" (")[0] for n in names} == {GOOD[0]}


def test_align_removes_what_a_killed_run_left(good, tmp_path):
    """A temporary of a writer that is gone (a dead PID) is removed; a live writer's stays."""
    import subprocess
    import sys

    out = tmp_path / "align"
    out.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = out / f".clips.csv.{dead.pid}.1.tmp"
    stale.write_text("half")
    live = out / f".edges.csv.{os.getpid()}.1.tmp"
    live.write_text("being written")
    assert main(["align", f"input={good / 'clean'}", f"output={out}", "plots=false", "formats=[csv]"]) == 0
    assert not stale.exists() and live.exists()


def test_an_output_that_cannot_be_made_is_one_line(good, tmp_path, capsys, monkeypatch):
    """A read-only disk (simulated: the tests may run as root, whom permissions do not stop)."""
    real = Path.mkdir
    target = tmp_path / "readonly" / "out"

    def mkdir(self, *a, **k):
        if self == target:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *a, **k)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    assert analyse(good / "clips", target) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Permission denied" in err and str(target) in err
