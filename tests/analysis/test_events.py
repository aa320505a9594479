"""The events of a stroke as the literature defines them and the figures read at them, against
strokes built in 3-D and filmed (``benchmarks/validation_data.py``: their events found on the 3-D
motion), and against strokes of known motion in the image (:func:`corrkin.synth.stroke_spec`,
whose events :func:`corrkin.synth.stroke_truth` finds on the noise-free motion at 2,400 fps)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import betainc

from corrkin.analysis.biomech import tip_peak_speed
from corrkin.analysis.events import EVENTS, crossing, event_tolerance_ms, rest, step_fit, stroke_events
from corrkin.synth import make_rotation_clip, stroke_spec, stroke_truth
from corrkin.timing import savgol_window

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import biomech as bench  # noqa: E402
import validation_data as vd  # noqa: E402

from corrkin.config import AnalysisConfig  # noqa: E402

TIMED = bench.TIMED


def _filmed(fps: float, n: int, seed: int, errors):
    clips = vd.chain(np.random.default_rng(seed), n, fps, view=(-10.0, 10.0), errors=errors, duration=(2.5, 4.0))
    return bench.analysed(clips, AnalysisConfig()), clips


@pytest.mark.parametrize("fps", [25, 50, 120])
def test_events_by_the_literature_on_strokes_built_in_3d(fps):
    """Side-on, no pose errors: every event's median error against its definition on the 3-D
    motion within max(20 ms, one frame); the stride within 5 %."""
    recs, clips = _filmed(fps, 8, 11, False)
    errs = {e: [] for e in TIMED}
    stride = []
    for rec, clip in zip(recs, clips):
        truth = clip["truth"]["stroke"]
        for e in TIMED:
            got, want = rec["events"]["events"][e], truth["events_s"][e]
            if got is not None and want is not None:
                errs[e].append(abs(got["clip_ms"] - want * 1000))
        stride.append(rec["real_units"]["stride"]["m"] / truth["stride_m"] - 1)
    for e, err in errs.items():
        assert len(err) >= 6, e
        assert np.median(err) <= max(20.0, 1000.0 / fps), (e, np.median(err))
    assert abs(np.median(stride)) <= 0.05, np.median(stride)


def test_trusted_events_are_within_three_frames():
    """Clean and with the pose errors (jitter, dropouts, glitches, left/right swaps), at 50 and
    120 fps: of the events marked trusted (95 % half-width within the tolerance), at most 5 %
    lie more than three frames from their truth; a clip's events are reliable only when every
    one is trusted."""
    trusted = off = 0
    for fps, errors in ((50.0, False), (120.0, False), (50.0, True), (120.0, True)):
        recs, clips = _filmed(fps, 8, 12, errors)
        for rec, clip in zip(recs, clips):
            ev = rec["events"]
            assert ev["tolerance_ms"] == pytest.approx(event_tolerance_ms(fps), abs=0.01)
            if ev["reliable"]:
                assert all(e["trusted"] for e in ev["events"].values() if e is not None)
            for e in TIMED:
                got, want = ev["events"][e], clip["truth"]["stroke"]["events_s"][e]
                if got is None or want is None or not got["trusted"]:
                    continue
                lo, hi = got["ci_ms"]
                assert (hi - lo) / 2 <= ev["tolerance_ms"] + 0.01
                trusted += 1
                off += abs(got["clip_ms"] - want * 1000) > 3 * 1000 / fps
    assert trusted >= 60 and off <= 0.05 * trusted, (off, trusted)


def test_a_reliable_sequence_gives_the_true_3d_order():
    """Side-on, clean and with every pose error, at 25 and 120 fps: each sequence marked
    reliable orders the lead arm and the bat as their 3-D angular speeds peak; an order is
    claimed only where the gap's interval excludes zero."""
    reliable = 0
    for fps, errors in ((25.0, True), (120.0, False), (120.0, True)):
        recs, clips = _filmed(fps, 8, 13, errors)
        for rec, clip in zip(recs, clips):
            ks, truth = rec["kinematic_sequence"], clip["truth"]["stroke"]["sequence_peak_s"]
            if not ks["reliable"]:
                continue
            reliable += 1
            assert ks["proximal_to_distal"] == (truth["lead_arm"] < truth["bat"]), clip["name"]
            arm, bat = ks["segments"]["lead_arm"], ks["segments"]["bat"]
            half = np.hypot(*[(p["time_ci_ms"][1] - p["time_ci_ms"][0]) / 2 for p in (arm, bat)])
            assert abs(bat["time_ms"] - arm["time_ms"]) > half
    assert reliable >= 10


@pytest.mark.parametrize("m", [1.5, 2.0, 3.0])
def test_rest_extrapolates_a_power_law_start(m):
    """A speed rising from rest as (t - t0)^m (any movement from rest, near its start): the
    three levels' power law finds where it reaches 1 % of its peak below a tenth of a frame,
    walking either way."""
    t = np.arange(200, dtype=float)
    t0 = 37.3
    rise = np.clip(t - t0, 0, None) ** m
    speed = np.minimum(rise, rise[120])
    at_one_percent = t0 + (0.01 * rise[120]) ** (1 / m)
    start, half = rest(speed, 120, -1, noise=0.0)
    assert start == pytest.approx(at_one_percent, abs=0.1) and half >= 0.5
    end, _ = rest(speed[::-1].copy(), 199 - 120, +1, noise=0.0)
    assert 199 - end == pytest.approx(at_one_percent, abs=0.1)


@pytest.mark.parametrize("ab", [(3.0, 3.0), (2.5, 4.5), (5.5, 2.0)])
def test_step_fit_finds_a_smooth_steps_ends(ab):
    """A smooth step of the fitted family (regularised incomplete beta) found to a quarter frame
    without noise; with noise of 3 % of its height, its 95 % intervals hold the true ends in at
    least 18 of 20 draws (fixed seeds)."""
    t = np.arange(120, dtype=float)
    start, dur = 40.3, 27.6
    x = 0.4 + 0.001 * t + 2.0 * betainc(*ab, np.clip((t - start) / dur, 0, 1))
    fit = step_fit(x, 100.0, 0, 120)
    assert fit["start"] == pytest.approx(start, abs=0.25) and fit["end"] == pytest.approx(start + dur, abs=0.25)
    held = 0
    for seed in range(20):
        noisy = x + np.random.default_rng(seed).normal(0, 0.06, len(x))
        f = step_fit(noisy, 100.0, 0, 120)
        held += abs(f["start"] - start) <= f["start_half"] and abs(f["end"] - start - dur) <= f["end_half"]
    assert held >= 18


def _events(fps: float, seed: int, **kw):
    rng = np.random.default_rng(seed)
    spec = stroke_spec(fps, swing_at_s=float(rng.uniform(1.2, 1.4)), **kw)
    clip = make_rotation_clip(spec, seed=seed)
    pos = np.concatenate([clip.keypoints, clip.bat[:, None]], 1).astype(np.float64) / spec.shoulder_px
    pos -= ((pos[:, 7] + pos[:, 8]) / 2)[:, None]  # hips' centre, as the analysis centres them
    k = int(np.nanargmax(np.linalg.norm(np.gradient(pos[:, -1], axis=0), axis=1)))
    tip = tip_peak_speed(pos, fps, (k - fps // 2, k + fps // 2 + 1))
    ev = stroke_events(pos, fps, savgol_window(0.2, fps, 2), "l", tip["time_ms"] * fps / 1000)
    return ev, spec


# the image-plane strokes' speed pulses are Gaussian, which never come to rest: their 1 % point
# lies three SDs out, far below the levels the start is extrapolated from, and each estimate's
# interval says so (+-65 to +-137 ms at 50 fps)
SYNTH_MS = {"start_of_backlift": 70.0}


@pytest.mark.parametrize("fps", [25, 50, 120, 240])
def test_events_on_image_plane_strokes(fps):
    """Each event's median error within max(one frame, 25 ms) of the truth (the bat's first
    movement within 70 ms, above); the stride and the backlift's height within 5 %."""
    errs = {e: [] for e in EVENTS if e != "ball_contact"}
    stride, height = [], []
    for seed in range(8):
        ev, spec = _events(fps, seed)
        truth = stroke_truth(spec)
        for e in errs:
            got = ev["events"][e]
            errs[e].append(abs(got["clip_ms"] / 1000 - truth["events_s"][e]) * 1000)
            if got["ci_ms"] is not None:
                assert got["ci_ms"][0] <= got["time_ms"] <= got["ci_ms"][1]
        stride.append(ev["stride_sw"] / truth["stride_sw"] - 1)
        height.append(ev["backlift_height_sw"] / truth["backlift_height_sw"] - 1)
    for e, err in errs.items():
        assert np.median(err) <= SYNTH_MS.get(e, max(1000.0 / fps, 25.0)), (e, np.median(err))
    assert abs(np.median(stride)) <= 0.05 and abs(np.median(height)) <= 0.05


def test_events_in_order_and_in_time():
    """A stroke's events come in the stroke's order, in ms from the reference (the bat's peak
    speed, no ball contact given); the top of the backlift is the downswing's start."""
    ev, _ = _events(50, 0)
    t = {e: v["time_ms"] for e, v in ev["events"].items() if v is not None}
    assert ev["reference"] == "bat_peak_speed" and t["bat_peak_speed"] == 0 and "ball_contact" not in t
    assert t["start_of_backlift"] < t["top_of_backlift"] == t["start_of_downswing"] < 0 < t["end_of_follow_through"]
    assert t["front_foot_toe_off"] < t["front_foot_contact"] < 0


def test_a_given_contact_is_the_reference_and_the_peak_keeps_its_own_time():
    ev, _ = _events(50, 0)
    peak = ev["events"]["bat_peak_speed"]["frame"]
    pos = _stroke_positions(50, 0)
    pos -= ((pos[:, 7] + pos[:, 8]) / 2)[:, None]
    given = stroke_events(pos, 50, 11, "l", peak, contact=peak + 1.0)
    assert given["reference"] == "ball_contact" and given["events"]["ball_contact"]["time_ms"] == 0
    assert given["events"]["bat_peak_speed"]["time_ms"] == pytest.approx(-20.0, abs=0.01)


def test_no_stride_is_said_not_invented():
    ev, _ = _events(50, 1, stride_sw=0.0)
    assert ev["events"]["front_foot_toe_off"] is None and ev["events"]["front_foot_contact"] is None
    assert ev["stride_sw"] is None
    assert any(r.startswith("front foot: no stride") for r in ev["reasons"])


def _stroke_positions(fps: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    spec = stroke_spec(fps, swing_at_s=float(rng.uniform(1.2, 1.4)))
    clip = make_rotation_clip(spec, seed=seed)
    return np.concatenate([clip.keypoints, clip.bat[:, None]], 1).astype(np.float64) / spec.shoulder_px


def test_a_clip_ending_before_the_follow_through_says_so():
    """The same stroke cut 60 ms after impact: no end of follow-through, and why."""
    ev, _ = _events(50, 2)
    impact = ev["events"]["bat_peak_speed"]["frame"]
    short = stroke_events(_stroke_positions(50, 2)[: int(impact) + 3], 50, 11, "l", impact)
    assert short["events"]["end_of_follow_through"] is None
    assert "end of follow-through: the clip ends before the bat comes to rest" in short["reasons"]
    assert short["events"]["top_of_backlift"] is not None


def test_without_a_bat_only_the_feet():
    ev = stroke_events(_stroke_positions(50, 3), 50, 11, "l", 70.0, bat_found=False)
    assert ev["events"]["front_foot_contact"] is not None and ev["reference"] == "swing_peak"
    assert all(ev["events"][e] is None for e in ("top_of_backlift", "start_of_downswing", "end_of_follow_through",
                                                 "bat_peak_speed"))
    assert any(r.startswith("bat: not seen") for r in ev["reasons"])


def test_crossing_against_a_plain_loop():
    """Linear interpolation between the last sample at or above the level and the first below,
    walking either way; None where the series never falls below."""
    x = np.array([0.0, 1.0, 3.0, 6.0, 10.0, 7.0, 2.0, 0.5])
    frame, half = crossing(x, 4, -1, 2.0, noise=0.1)
    assert frame == pytest.approx(1 + (3.0 - 2.0) / (3.0 - 1.0))  # between frames 1 and 2
    assert half == pytest.approx(1.959963984540054 * 0.1 / 2.0)
    frame, _ = crossing(x, 4, +1, 2.0, noise=0.1)
    assert frame == pytest.approx(5 + (7.0 - 2.0) / (7.0 - 2.0))  # x[6] = 2.0 is not below the level
    assert frame == pytest.approx(6.0)
    assert crossing(np.full(5, 3.0), 2, +1, 1.0, 0.1) is None


def test_a_rendered_stroke_through_the_video_path(tmp_path):
    """The renderer's case: a whole stroke drawn as video (:func:`corrkin.synth_video.render_clip`
    of :func:`corrkin.synth.stroke_spec`; H.264, blur, noise), through ``corrkin run`` with the
    pose from the truth file and the bat found on the pixels: every event within a frame (the
    bat's first movement within 70 ms: Gaussian pulses never rest, see ``SYNTH_MS``), the
    bat tip's speed in m/s (from the bat's length) within 5 %, the stride and the backlift's
    height within 5 %. The batter turns side-on through the swing (the shoulder line narrows
    to 17 % of its width), which the bat detector's scale must survive."""
    import json

    from corrkin.commands.run import run_video
    from corrkin.synth_video import write_rendered
    from tests.helpers.config import compose_config

    spec = stroke_spec(50.0, duration_s=1.9)
    videos, poses = tmp_path / "v", tmp_path / "p"
    poses.mkdir()
    _, truth_file = write_rendered(videos, spec, seed=3, name="stroke")
    truth_file.rename(poses / truth_file.name)
    assert run_video(compose_config("run", [f"input={videos}", f"output={tmp_path / 'out'}", "pose=file",
                                            f"pose.keypoints={poses}", "progress=false",
                                            "analysis.units.bat_length_sd_m=0"])) == 0
    rec = json.loads((tmp_path / "out" / "stroke" / "result.json").read_text())
    truth = stroke_truth(spec)
    ev = rec["events"]
    for e, t in truth["events_s"].items():
        assert abs(ev["events"][e]["clip_ms"] / 1000 - t) * 1000 <= SYNTH_MS.get(e, 1000 / spec.fps), e
    m_per_sw = 0.85 / spec.bat_length_sw
    assert rec["bat"]["peak_speed_m_s"] == pytest.approx(truth["tip_peak_sw_s"] * m_per_sw, rel=0.05)
    assert rec["real_units"]["stride"]["m"] == pytest.approx(truth["stride_sw"] * m_per_sw, rel=0.05)
    assert rec["real_units"]["backlift_height"]["m"] == pytest.approx(truth["backlift_height_sw"] * m_per_sw, rel=0.05)


@given(st.integers(12, 160), st.sampled_from([25.0, 50.0, 120.0]), st.integers(0, 2**31 - 1),
       st.floats(0.0, 0.3), st.booleans())
def test_any_pose_gives_events_or_reasons_never_an_error(frames, fps, seed, missing, bat_found):
    """Random-walk poses with gaps (a jittery clip, a bat swinging anywhere): the events block is
    made, every event's interval holds its time, and what is not found is said."""
    rng = np.random.default_rng(seed)
    pos = np.cumsum(rng.normal(0, rng.uniform(0.001, 0.2), (frames, 14, 2)), axis=0)
    pos[rng.random((frames, 14)) < missing] = np.nan
    pos[:, 13] += np.sin(np.arange(frames) / rng.uniform(2, 20))[:, None] * rng.uniform(0, 3)
    peak = float(rng.uniform(0, frames - 1))
    ev = stroke_events(pos, fps, savgol_window(0.2, fps, 2), "l", peak, bat_found=bat_found)
    assert ev["reliable"] == (not ev["reasons"])
    for name, e in ev["events"].items():
        if e is None:
            continue
        assert np.isfinite(e["time_ms"]) and isinstance(e["trusted"], bool), name
        if e["ci_ms"] is not None:
            assert e["ci_ms"][0] <= e["time_ms"] <= e["ci_ms"][1], name
