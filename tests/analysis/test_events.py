"""The events of a stroke and the figures read at them (stride, backlift height, X-factor),
against strokes of known motion (:func:`corrkin.synth.stroke_spec`), whose events
:func:`corrkin.synth.stroke_truth` finds on the noise-free motion at 2,400 fps (issue 15)."""

from __future__ import annotations

import numpy as np
import pytest

from corrkin.analysis.biomech import tip_peak_speed
from corrkin.analysis.events import EVENTS, crossing, stroke_events
from corrkin.synth import make_rotation_clip, stroke_spec, stroke_truth
from corrkin.timing import savgol_window


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


@pytest.mark.parametrize("fps", [25, 50, 120, 240])
def test_events_within_a_frame(fps):
    """Each event within one frame of the truth (median over clips), its interval around it;
    the stride and the backlift's height within 5 %."""
    errs = {e: [] for e in EVENTS}
    stride, height = [], []
    for seed in range(8):
        ev, spec = _events(fps, seed)
        truth = stroke_truth(spec)
        assert not ev["reasons"], ev["reasons"]
        for e in EVENTS:
            got = ev["events"][e]
            errs[e].append(abs(got["clip_ms"] / 1000 - truth["events_s"][e]) * fps)
            if got["ci_ms"] is not None:
                assert got["ci_ms"][0] <= got["time_ms"] <= got["ci_ms"][1]
        stride.append(ev["stride_sw"] / truth["stride_sw"] - 1)
        height.append(ev["backlift_height_sw"] / truth["backlift_height_sw"] - 1)
    for e, err in errs.items():
        assert np.median(err) <= 1.0, (e, np.median(err))
    assert abs(np.median(stride)) <= 0.05 and abs(np.median(height)) <= 0.05


def test_events_in_order_and_in_time():
    """A stroke's events come in the stroke's order, relative to impact in ms."""
    ev, _ = _events(50, 0)
    t = {e: v["time_ms"] for e, v in ev["events"].items()}
    assert t["impact"] == 0
    assert t["start_of_backlift"] < t["top_of_backlift"] < 0 < t["end_of_follow_through"]
    assert t["front_foot_lift"] < t["front_foot_plant"] < 0


def test_no_stride_is_said_not_invented():
    ev, _ = _events(50, 1, stride_sw=0.0)
    assert ev["events"]["front_foot_lift"] is None and ev["events"]["front_foot_plant"] is None
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
    impact = ev["events"]["impact"]["frame"]
    short = stroke_events(_stroke_positions(50, 2)[: int(impact) + 3], 50, 11, "l", impact)
    assert short["events"]["end_of_follow_through"] is None
    assert "end of follow-through: the clip ends before the bat slows" in short["reasons"]
    assert short["events"]["top_of_backlift"] is not None


def test_without_a_bat_only_the_feet():
    ev = stroke_events(_stroke_positions(50, 3), 50, 11, "l", 70.0, bat_found=False)
    assert ev["events"]["front_foot_plant"] is not None
    assert all(ev["events"][e] is None for e in ("top_of_backlift", "start_of_downswing", "end_of_follow_through"))
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
    pose from the truth file and the bat found on the pixels: every event within a frame, the
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
    assert ev["reliable"], ev["reasons"]
    for e, t in truth["events_s"].items():
        assert abs(ev["events"][e]["clip_ms"] / 1000 - t) * spec.fps <= 1.0, e
    m_per_sw = 0.85 / spec.bat_length_sw
    assert rec["bat"]["peak_speed_m_s"] == pytest.approx(truth["tip_peak_sw_s"] * m_per_sw, rel=0.05)
    assert rec["real_units"]["stride"]["m"] == pytest.approx(truth["stride_sw"] * m_per_sw, rel=0.05)
    assert rec["real_units"]["backlift_height"]["m"] == pytest.approx(truth["backlift_height_sw"] * m_per_sw, rel=0.05)
