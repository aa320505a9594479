"""Physically possible or withheld: degenerate geometry (a bat on the hands, calibration points
that coincide, a still clip) and joints never seen give withheld figures with the reason, never
an impossible number marked reliable or a failed clip."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from corrkin.cli import main
from corrkin.skeleton import JOINT_INDEX as J
from tests.adversarial.test_bad_input import GOOD, good  # noqa: F401  (the fixture)


def _variant(root: Path, folder: Path, name: str, change) -> None:
    with np.load(root / "clips" / f"{GOOD[0]}.npz") as z:
        arrays = {k: z[k] for k in z.files}
    change(arrays)
    folder.mkdir(exist_ok=True)
    np.savez(folder / f"{name}.npz", **arrays)


def _hide(*joints):
    def change(a):
        a["scores"] = a["scores"].copy()
        for j in joints:
            a["scores"][:, J[j]] = 0.0
    return change


def _bat_on_hands(a):
    a["bat"] = ((a["keypoints"][:, J["l_wrist"]] + a["keypoints"][:, J["r_wrist"]]) / 2).astype(np.float32)


def _still(a):
    rng = np.random.default_rng(0)
    t = len(a["keypoints"])
    a["keypoints"] = (np.repeat(a["keypoints"][:1], t, 0) + rng.normal(0, 0.01, a["keypoints"].shape)).astype(np.float32)
    a["bat"] = np.repeat(a["bat"][:1], t, 0)


def _cut(a):
    for k in ("keypoints", "scores", "bat", "bat_scores"):
        a[k] = a[k][34:40]


@pytest.fixture(scope="module")
def analysed(good, tmp_path_factory):  # noqa: F811
    root = tmp_path_factory.mktemp("impossible")
    cases = {"no_lead_wrist": _hide("l_wrist"), "no_rear_wrist": _hide("r_wrist"), "no_ankle": _hide("l_ankle"),
             "no_knee": _hide("r_knee"), "bat_on_hands": _bat_on_hands, "still": _still, "six_frames": _cut}
    for name, change in cases.items():
        _variant(good, root / "in", name, change)
    code = main(["analyse", f"input={root / 'in'}", f"output={root / 'out'}", "progress=false", "io_workers=0"])
    return root / "out", code


def _rec(out: Path, name: str) -> dict:
    return json.loads((out / name / "result.json").read_text())


def test_every_case_is_analysed_not_failed(analysed):
    out, code = analysed
    assert code == 0
    with open(out / "summary.csv", newline="") as f:
        rows = {r["clip"]: r for r in csv.DictReader(f)}
    assert {r["status"] for r in rows.values()} == {"ok"}
    for name in rows:
        assert (out / name / "corrpath.png").is_file()


@pytest.mark.parametrize("name, joint", [("no_lead_wrist", "l_wrist"), ("no_rear_wrist", "r_wrist"),
                                         ("no_ankle", "l_ankle"), ("no_knee", "r_knee")])
def test_a_joint_never_seen_has_no_time_and_says_so(analysed, name, joint):
    rec = _rec(analysed[0], name)
    unseen = [joint, "pelvis"] if joint.endswith("ankle") else [joint]  # the pelvis is read over the ankles
    assert sorted(rec["unseen_nodes"]) == sorted(unseen)
    for node in unseen:
        assert rec["activation_ms"][node] is None and rec["activation_ci_ms"][node] is None
        assert all(node not in (e["src"], e["dst"]) for e in rec["pairs"])
    if joint.endswith("wrist"):  # a core joint: the clip's verdict says so
        assert rec["quality"]["reliable"] is False
        assert any(joint in r for r in rec["quality"]["reasons"])


def test_a_lead_wrist_never_seen_withholds_the_lead_arm(analysed):
    rec = _rec(analysed[0], "no_lead_wrist")
    assert rec["bat"]["top_hand"] == "l_wrist" or rec["kinematic_sequence"]["segments"]["lead_arm"] is None
    ks = rec["kinematic_sequence"]
    if rec["bat"]["top_hand"] == "l_wrist":
        assert ks["segments"]["lead_arm"] is None and "l_wrist" in ks["withheld"]["lead_arm"]
        assert ks["reliable"] is False


def test_an_ankle_never_seen_withholds_the_stride_by_name(analysed):
    ev = _rec(analysed[0], "no_ankle")["events"]
    assert ev["stride_sw"] is None and ev["events"]["front_foot_contact"] is None
    assert any("ankle is seen in 0%" in r for r in ev["reasons"])


def test_a_bat_on_the_hands_is_not_a_bat(analysed):
    rec = _rec(analysed[0], "bat_on_hands")
    assert rec["quality"]["reliable"] is False
    assert any("not a bat" in r for r in rec["quality"]["reasons"])
    assert rec["bat"]["found"] is False
    assert rec["calibration"].get("unavailable")  # the bat's length is no ruler
    assert rec["bat"].get("peak_speed_m_s") is None
    units = rec.get("real_units") or {}
    for key in ("hands_peak_speed", "backlift_height", "stride"):
        assert units.get(key) is None


def test_a_still_clip_made_no_swing(analysed):
    rec = _rec(analysed[0], "still")
    assert rec["quality"]["reliable"] is False
    assert any(r.startswith("no swing") for r in rec["quality"]["reasons"])


def test_a_clip_cut_short_is_not_reliable(analysed):
    rec = _rec(analysed[0], "six_frames")
    assert rec["frames"] == 6 and rec["quality"]["reliable"] is False
    assert any("runs past its start or end" in r for r in rec["quality"]["reasons"])


def test_no_interval_is_wider_than_what_was_searched(analysed):
    out = analysed[0]
    for name in ("bat_on_hands", "still", "no_ankle", "six_frames"):
        rec = _rec(out, name)
        reach = rec["max_lag_frames"] * 1000.0 / rec["fps"]
        for e in rec["pairs"]:
            if e["lag_ci_ms"]:
                assert -reach - 1e-3 <= e["lag_ci_ms"][0] <= e["lag_ci_ms"][1] <= reach + 1e-3  # 3 decimals
        span = (rec["frames"] - 1) * 1000.0 / rec["fps"]
        for ci in rec["activation_ci_ms"].values():
            if ci:
                assert -1e-3 <= ci[0] <= ci[1] <= span + 1e-3


@pytest.mark.parametrize("points, says", [([[100.0, 100.0], [100.001, 100.0]], "relative SD"),
                                          ([[0.0, 0.0], [5000.0, 0.0]], "tall")])
def test_calibration_points_that_cannot_be_a_ruler_are_refused(good, tmp_path, points, says):  # noqa: F811
    out = tmp_path / "out"
    code = main(["analyse", f"input={good / 'clips'}", f"output={out}", "progress=false", "io_workers=0",
                 "analysis.units.calibration=points", f"analysis.units.points_px={json.dumps(points)}",
                 "analysis.units.points_m=1.22"])
    assert code == 0
    rec = _rec(out, GOOD[0])
    assert rec["calibration"]["unavailable"] and says in rec["calibration"]["unavailable"]
    assert rec["bat"].get("peak_speed_m_s") is None


def test_calibration_points_that_coincide_stop_before_any_work(good, tmp_path, capsys):  # noqa: F811
    code = main(["analyse", f"input={good / 'clips'}", f"output={tmp_path / 'out'}", "progress=false",
                 "analysis.units.calibration=points", "analysis.units.points_px=[[100,100],[100,100]]",
                 "analysis.units.points_m=1.22"])
    assert code == 2
    err = capsys.readouterr().err
    assert "points_px" in err and "distinct" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out" / GOOD[0]).exists()


@pytest.mark.parametrize("fps", [1e-300, 0.5, 1e6])
def test_a_frame_rate_no_camera_has_is_that_clip_s_error(good, tmp_path, fps):  # noqa: F811
    _variant(good, tmp_path / "in", "odd_rate", lambda a: a.update(fps=np.float64(fps)))
    shutil.copy(good / "clips" / f"{GOOD[1]}.npz", tmp_path / "in" / f"{GOOD[1]}.npz")
    out = tmp_path / "out"
    assert main(["analyse", f"input={tmp_path / 'in'}", f"output={out}", "progress=false", "io_workers=0"]) == 1
    with open(out / "summary.csv", newline="") as f:
        rows = {r["clip"]: r for r in csv.DictReader(f)}
    assert rows[GOOD[1]]["status"] == "ok"
    assert rows["odd_rate"]["status"] == "failed" and "is not a video's" in rows["odd_rate"]["error"]
