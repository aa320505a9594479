"""Real units: the three calibrations (bat, stature, known points), and metres through the
command line against a stroke of known size (issue 15, part 3)."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from corrkin.analysis.units import STATURE_SHARE, STATURE_SHARE_SD, points_calibration, stature_calibration
from corrkin.cli import main
from corrkin.io.keypoints import save_clip
from corrkin.skeleton import NODE_INDEX as N
from corrkin.synth import make_rotation_clip, stroke_spec, stroke_truth
from corrkin.timing import Z95
from tests.analysis.test_events import SYNTH_MS


def _standing(frames: int = 60, short_every: int = 4) -> np.ndarray:
    """A figure standing side-on (shoulder widths): shank 1.0, thigh 1.1, trunk 1.3; every ``short_every``-th frame each link is foreshortened to 80 %."""
    pos = np.zeros((frames, len(N), 2))
    up = np.array([0.0, -1.0])
    for t in range(frames):
        f = 0.8 if t % short_every == 0 else 1.0
        for side, dx in (("l", -0.1), ("r", 0.1)):
            ankle = np.array([dx, 0.0])
            knee = ankle + f * 1.0 * up
            hip = knee + f * 1.1 * up
            pos[t, N[f"{side}_ankle"]], pos[t, N[f"{side}_knee"]], pos[t, N[f"{side}_hip"]] = ankle, knee, hip
        hips = (pos[t, N["l_hip"]] + pos[t, N["r_hip"]]) / 2
        shoulders = hips + f * 1.3 * up
        pos[t, N["l_shoulder"]], pos[t, N["r_shoulder"]] = shoulders - [0.5, 0], shoulders + [0.5, 0]
    return pos


def test_stature_calibration_takes_each_links_longest_projection():
    chain = 1.0 + 1.1 + 1.3
    stature_m = 1.80
    cal = stature_calibration(_standing(), stature_m, 0.0)
    assert cal["chain_sw"] == pytest.approx(chain, rel=1e-6)
    assert cal["m_per_shoulder_width"] == pytest.approx(stature_m * STATURE_SHARE / chain, rel=1e-4)
    # the proportions' spread between adults stays in the uncertainty even with the height measured
    assert cal["relative_sd"] >= STATURE_SHARE_SD


def test_points_calibration():
    cal = points_calibration([[100.0, 600.0], [400.0, 200.0]], 1.22, 2.0, shoulder_width_px=50.0)
    assert cal["m_per_shoulder_width"] == pytest.approx(1.22 / (500.0 / 50.0))
    assert cal["relative_sd"] == pytest.approx(math.sqrt(2) * 2.0 / 500.0, abs=1e-4)  # rounded to 4 places


@pytest.mark.parametrize("bad, message", [
    (["analysis.units.calibration=stature"], "analysis.units.stature_m"),
    (["analysis.units.calibration=points"], "analysis.units.points_px"),
    (["analysis.units.calibration=points", "analysis.units.points_px=[[1,2],[1,2]]"], "two distinct image points"),
    (["analysis.units.calibration=tape"], "expected one of [bat, stature, points]"),  # Hydra, composing
])
def test_a_calibration_missing_its_input_stops_at_composition(tmp_path, capsys, bad, message):
    assert main(["analyse", f"input={tmp_path}", f"output={tmp_path / 'o'}", *bad]) == 2
    assert message in capsys.readouterr().err


@pytest.fixture(scope="module")
def stroke(tmp_path_factory):
    """A 120-fps stroke (0.9 shoulder widths = 72 px of stride, a 2.1-sw = 168-px bat) as a
    keypoint file, and its truth."""
    spec = stroke_spec(120.0)
    folder = tmp_path_factory.mktemp("stroke")
    save_clip(folder / "stroke.npz", make_rotation_clip(spec, seed=5, name="stroke"))
    return folder / "stroke.npz", spec, stroke_truth(spec)


def _analyse(path, out, *extra):
    # corrkin.synth's strokes turn in the image, as filmed from square of the pitch, and turn their
    # hips end-on, which the camera's estimate reads as along the pitch: the view is stated
    assert main(["analyse", f"input={path}", f"output={out}", "plots=false", "progress=false",
                 "analysis.camera_view=square", *extra]) in (0, 1)
    rec = json.loads((out / "stroke" / "result.json").read_text())
    with open(out / "metrics.csv", newline="") as f:
        return rec, next(csv.DictReader(f))


@pytest.mark.parametrize("how, extra, m_per_px", [
    ("bat length", ["analysis.units.bat_length_sd_m=0"], 0.85 / 168.0),
    # the popping crease to the stumps, 1.22 m, 244 px apart in the frame
    ("known points", ["analysis.units.calibration=points", "analysis.units.points_px=[[100,600],[344,600]]"],
     1.22 / 244.0),
])
def test_stride_and_backlift_in_metres(tmp_path, stroke, how, extra, m_per_px):
    """Through ``corrkin analyse``: the stride and the backlift's height in metres within 5 %
    of the truth under either calibration, inside their intervals' reach; every event within a
    frame or 25 ms of the truth (the bat's first movement as ``SYNTH_MS`` says), in result.json and
    metrics.csv alike."""
    path, spec, truth = stroke
    rec, row = _analyse(path, tmp_path / "out", *extra)
    m_per_sw = m_per_px * spec.shoulder_px
    assert row["calibration"] == how == rec["calibration"]["method"]
    assert float(row["stride_m"]) == pytest.approx(truth["stride_sw"] * m_per_sw, rel=0.05)
    assert float(row["stride_m_low"]) <= float(row["stride_m"]) <= float(row["stride_m_high"])
    lo, hi = rec["real_units"]["stride"]["m_ci"]
    assert lo < rec["real_units"]["stride"]["m"] < hi  # the stride's own noise, even with an exact calibration
    assert float(row["backlift_height_m"]) == pytest.approx(truth["backlift_height_sw"] * m_per_sw, rel=0.05)
    impact = rec["events"]["events"]["bat_peak_speed"]["clip_ms"]
    assert rec["events"]["reference"] == row["reference_event"] == "bat_peak_speed"
    assert impact / 1000 == pytest.approx(truth["events_s"]["bat_peak_speed"], abs=1 / spec.fps)
    for e, t in truth["events_s"].items():
        got = float(row[f"{e}_ms"])
        assert abs((impact + got) / 1000 - t) * 1000 <= SYNTH_MS.get(e, max(1000 / spec.fps, 25.0)), e
    assert "out of order" not in row["events_reasons"] and "not found" not in row["events_reasons"]


def test_a_given_impact_time_is_the_reference(tmp_path, stroke):
    """A manifest's impact_s (the file's time; the row trimmed from start_s) is the ball's
    contact and the events' reference, the bat's peak speed keeping its own time; a time
    outside the clip is refused with the reason, not used."""
    path, spec, truth = stroke
    given = round(truth["events_s"]["bat_peak_speed"] + 0.02, 4)
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"path,batter,shot,start_s,impact_s\n{path},a,drive,0.25,{given}\n"
                        f"{path},b,drive,0.25,9.0\n")
    assert main(["library", f"input={manifest}", f"output={tmp_path / 'lib'}", "progress=false",
                 "plots=false"]) in (0, 1)
    rows = {r["batter"]: r for r in csv.DictReader(open(tmp_path / "lib" / "metrics.csv", newline=""))}
    assert rows["a"]["reference_event"] == "ball_contact" and float(rows["a"]["ball_contact_ms"]) == 0
    assert float(rows["a"]["reference_clip_ms"]) == pytest.approx((given - 0.25) * 1000, abs=0.01)
    assert float(rows["a"]["bat_peak_speed_ms"]) == pytest.approx(-20.0, abs=1000 / spec.fps)
    assert rows["b"]["reference_event"] == "bat_peak_speed" and rows["b"]["ball_contact_ms"] == ""
    assert "lies outside it" in rows["b"]["events_reasons"]
    measured = float(rows["b"]["reference_clip_ms"])
    assert measured == pytest.approx((truth["events_s"]["bat_peak_speed"] - 0.25) * 1000, abs=1000 / spec.fps)


def test_an_impacts_file_gives_corrkin_analyse_its_reference(tmp_path, stroke):
    """``impacts=<csv>`` (clip, impact_s) does for ``corrkin analyse`` what a manifest's
    impact_s does for a library; a clip the file does not name is measured; a bad time is one
    line naming the file and the row, before any work."""
    path, spec, truth = stroke
    given = round(truth["events_s"]["bat_peak_speed"] + 0.03, 4)
    table = tmp_path / "impacts.csv"
    table.write_text(f"clip,impact_s\nstroke,{given}\nelsewhere,1.0\n")
    rec, row = _analyse(path, tmp_path / "given", f"impacts={table}")
    impact = rec["events"]["events"]["ball_contact"]
    assert row["reference_event"] == "ball_contact" and impact["how"].startswith("the ball's contact")
    assert impact["clip_ms"] == pytest.approx(given * 1000, abs=0.01)
    table.write_text(f"path,impact_s\n/somewhere/else.npz,{given}\n")  # names no clip analysed here
    rec, row = _analyse(path, tmp_path / "measured", f"impacts={table}")
    assert row["reference_event"] == "bat_peak_speed" and rec["events"]["events"]["ball_contact"] is None
    assert rec["events"]["events"]["bat_peak_speed"]["clip_ms"] / 1000 == pytest.approx(
        truth["events_s"]["bat_peak_speed"], abs=1 / spec.fps)
    from corrkin.io.tables import read_impacts

    table.write_text("clip,impact_s\n")  # the header alone: no time given, not a wrong file
    assert read_impacts(table) == {}
    table.write_text("clip,impact_s\nstroke,soon\n")
    assert main(["analyse", f"input={path}", f"output={tmp_path / 'bad'}", f"impacts={table}"]) == 2


def test_the_docs_data_dictionary_is_the_code_s():
    """Every metrics column, its unit and how it is computed, as the docs' data dictionary
    (docs/metrics.md) gives them."""
    from pathlib import Path

    from corrkin.analysis.metrics import dictionary_markdown

    page = (Path(__file__).resolve().parents[2] / "docs" / "metrics.md").read_text()
    assert dictionary_markdown() in page


@given(st.floats(-50, 50, allow_nan=False), st.floats(0, 10, allow_nan=False), st.floats(1e-4, 2.0),
       st.floats(0, 1.0, allow_nan=False))
def test_an_interval_in_metres_always_holds_its_value(sw, sd_sw, scale, rel_sd):
    """A signed length (a backlift height below the hips) and a speed: never a reversed
    interval, a speed's never below zero (a negative height once gave [4.6e7, -4.6e7])."""
    from corrkin.analysis.biomech import _in_metres, _length_in_metres

    cal = {"m_per_shoulder_width": scale, "relative_sd": rel_sd}
    got = _length_in_metres(sw, sd_sw, cal)
    lo, hi = got["m_ci"]
    assert lo <= got["m"] <= hi and hi - lo <= 2 * Z95 * (abs(got["m"]) * rel_sd + sd_sw * scale) + 1e-3
    speed = _in_metres(abs(sw), sd_sw / 10, cal)
    lo, hi = speed["m_s_ci"]
    assert 0 <= lo <= speed["m_s"] <= hi


def test_calibrations_cross_checked_and_a_disagreement_widens_the_interval():
    """With the batter's stature given beside the bat's length, each calibration is checked
    against the other: a stature that puts the scale where the bat does agrees and leaves the
    interval alone; one twice too tall disagrees, is named, and the interval grows until it holds
    the other's scale."""
    from corrkin.analysis.units import calibrate
    from corrkin.config import UnitsConfig

    spec = stroke_spec(50.0)
    clip = make_rotation_clip(spec, seed=0)
    pos = np.concatenate([clip.keypoints, clip.bat[:, None]], 1).astype(np.float64) / spec.shoulder_px
    bat_only = calibrate(pos, UnitsConfig(), spec.shoulder_px)
    assert "cross_check" not in bat_only
    per_metre = stature_calibration(pos, 1.0, 0.0)["m_per_shoulder_width"]  # the scale per metre of stature
    agreeing = bat_only["m_per_shoulder_width"] / per_metre
    same = calibrate(pos, UnitsConfig(stature_m=agreeing), spec.shoulder_px)
    assert same["cross_check"][0]["agrees"] and "disagreement" not in same
    assert same["relative_sd"] == bat_only["relative_sd"]
    wrong = calibrate(pos, UnitsConfig(stature_m=2 * agreeing if 2 * agreeing < 2.5 else agreeing / 2), spec.shoulder_px)
    check = wrong["cross_check"][0]
    assert check["method"] == "stature" and not check["agrees"] and "stature" in wrong["disagreement"]
    assert wrong["relative_sd_alone"] == bat_only["relative_sd"]
    assert abs(math.log(check["ratio"])) <= Z95 * wrong["relative_sd"] + 1e-3  # the other's scale inside


def test_a_figure_no_stroke_has_is_flagged_with_its_source():
    """A bat at 80 m/s and a downswing starting 2 s early: each listed with its range and its
    source, the bat's speed flagged and the events no longer reliable; figures within their
    ranges pass."""
    from corrkin.analysis.ranges import RANGES, flag_out_of_range

    for metric, (lo, hi, unit, why) in RANGES.items():
        assert lo < hi and unit and why, metric
    rec = {"bat": {"peak_speed_m_s": 80.0, "sweet_spot_speed_m_s": 30.0},
           "real_units": {"stride": {"m": 0.7}, "hands_peak_speed": {"m_s": 8.0}},
           "events": {"reliable": True, "reasons": [],
                      "events": {"start_of_downswing": {"time_ms": -2000.0}, "front_foot_contact": {"time_ms": -60.0}}}}
    flag_out_of_range(rec)
    bad = {o["metric"] for o in rec["plausibility"]["out_of_range"]}
    assert bad == {"bat_toe_speed_m_s", "start_of_downswing_ms"}
    assert rec["bat"]["speed_flags"] and "Stretch" in rec["events"]["reasons"][0] and not rec["events"]["reliable"]
    assert set(rec["plausibility"]["checked"]) == {"bat_toe_speed_m_s", "bat_sweet_spot_speed_m_s", "hands_speed_m_s",
                                                   "stride_m", "start_of_downswing_ms", "front_foot_contact_ms"}


def test_a_value_that_may_be_wrong_is_never_in_its_column(tmp_path, stroke):
    """metrics.csv keeps a value that may be wrong out of its column, so no mean or sort takes
    it: a bat speed outside the literature's range (and its interval and km/h with it), the
    sequence's values where it is not reliable, every event where they are out of order; the
    ``untrusted`` column names each with its value and why; the report's row keeps them (greyed)."""
    import copy

    from corrkin.analysis.metrics import measured_row, metrics_row

    path, _, _ = stroke
    rec, row = _analyse(path, tmp_path / "out")
    assert row["untrusted"] == "" and row["bat_toe_speed_m_s"] != ""  # a clean stroke: everything in its column
    bad = copy.deepcopy(rec)
    bad["plausibility"]["out_of_range"] = [{"metric": "bat_toe_speed_m_s", "value": 95.0, "low": 2.0, "high": 50.0,
                                            "unit": "m/s", "why": "no bat is that fast"}]
    bad["kinematic_sequence"]["reliable"] = False
    bad["kinematic_sequence"]["reasons"] = ["bat: seen end-on"]
    top = bad["events"]["events"]["top_of_backlift"]["time_ms"]
    bad["events"]["events"]["start_of_backlift"]["time_ms"] = top + 10.0  # after its top: no stroke does that
    got, kept = metrics_row(bad), measured_row(bad)
    for col in ("bat_toe_speed_m_s", "bat_toe_speed_m_s_low", "bat_toe_speed_m_s_high", "bat_toe_speed_km_h",
                "gap_lead_arm_bat_ms", "lead_arm_peak_ms", "bat_peak_ms", "start_of_backlift_ms", "top_of_backlift_ms"):
        assert got[col] is None and kept[col] is not None, col
    assert "bat_toe_speed_m_s " in got["untrusted"] and "no bat is that fast" in got["untrusted"]
    assert "gap_lead_arm_bat_ms " in got["untrusted"] and "seen end-on" in got["untrusted"]
    assert "start_of_backlift_ms " in got["untrusted"] and "after its top" in got["untrusted"]
    assert "bat_toe_speed_m_s_low" not in got["untrusted"]  # a companion goes with its value, unnamed
    # what stays is what was measured: the sweet spot's speed, the stride
    assert got["bat_sweet_spot_speed_m_s"] == kept["bat_sweet_spot_speed_m_s"] is not None
    assert got["stride_m"] == kept["stride_m"] is not None
