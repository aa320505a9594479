"""The quality report: a clip's results are trustworthy or say plainly why not."""

import dataclasses

import numpy as np

from corrkin.analysis import analyse, to_records
from corrkin.config import AnalysisConfig
from corrkin.io.keypoints import collate
from corrkin.synth import SwingSpec, make_clip


def quality(clip, **kw):
    cfg = AnalysisConfig(**kw)
    batch = collate([clip])
    return to_records(analyse(batch, cfg), batch, cfg)[0]["quality"]


def swing(fps=25.0, seed=0):
    return make_clip(SwingSpec(fps=fps, duration_s=3.0, swing_at_s=1.4), seed=seed, name="clip")[0]


def test_a_clean_clip_is_reliable():
    q = quality(swing())
    assert q["reliable"] and q["reasons"] == []
    assert q["core_coverage"] == 1.0 and q["bat_coverage"] == 1.0 and q["max_gap_ms"] == 0.0


def test_batter_lost_half_the_time():
    clip = swing()
    scores = clip.scores.copy()
    for start in range(0, clip.frames, 8):  # lost for 4 frames (160 ms) of every 8
        scores[start: start + 4] = 0.0
    q = quality(dataclasses.replace(clip, scores=scores))
    assert not q["reliable"]
    assert q["core_coverage"] < 0.6
    assert any(r.startswith(f"{q['core_least_seen']} seen in") for r in q["reasons"])
    scores[30:40] = 0.0  # and once for 400 ms in the swing window
    q = quality(dataclasses.replace(clip, scores=scores))
    assert q["max_gap_ms"] >= 400 and any("batter lost for" in r for r in q["reasons"])


def test_the_joint_that_is_missing_is_named():
    clip = swing()
    scores = clip.scores.copy()
    scores[:, 10] = 0.05  # r_elbow below min_confidence throughout
    q = quality(dataclasses.replace(clip, scores=scores))
    assert q["core_least_seen"] == "r_elbow" and q["reasons"][0].startswith("r_elbow seen in 0%")


def test_no_bat():
    clip = swing()
    q = quality(dataclasses.replace(clip, bat_scores=np.zeros_like(clip.bat_scores)))
    assert not q["reliable"] and q["bat_coverage"] == 0.0
    assert any("bat seen in 0%" in r for r in q["reasons"])


def test_too_low_a_rate():
    q = quality(swing(fps=12.5))
    assert not q["reliable"] and any("12.5 fps is below 20 fps" in r for r in q["reasons"])
    assert quality(swing(fps=12.5), quality=dataclasses.replace(AnalysisConfig().quality, min_fps=10))["reliable"]


def record(clip, **kw):
    cfg = AnalysisConfig(**kw)
    batch = collate([clip])
    return to_records(analyse(batch, cfg), batch, cfg)[0]


def test_no_bat_reports_no_bat_speed_and_claims_no_path_to_it():
    """No bat in any frame: no speed or turn rate is reported, no path to the bat is claimed,
    and the swing window is centred on the faster wrist's peak (the true swing), not frame 0."""
    clip = swing()
    rec = record(dataclasses.replace(clip, bat=np.zeros_like(clip.bat), bat_scores=np.zeros_like(clip.bat_scores)))
    bat = rec["bat"]
    assert bat["found"] is False and bat["peak_speed"] is None and bat["omega_peak"] is None
    assert "no bat found in any frame" in bat["note"] and bat["reference"].startswith("the faster wrist")
    assert rec["reaches_bat"] is False and rec["path"] == [] and rec["path_note"].startswith("no bat found")
    wrist_peak = 1.4 + 3 * 0.08  # the synthetic chain: pelvis at 1.4 s, the wrist three links on
    assert abs(bat["peak_ms"] / 1000 - wrist_peak) <= 0.1
    with_bat = record(clip)
    assert with_bat["bat"]["found"] is True and with_bat["bat"]["peak_speed"] > 0 and with_bat["reaches_bat"]


def test_a_bat_seen_only_in_part_of_the_swing_is_not_timed():
    clip = swing()
    scores = clip.bat_scores.copy()
    scores[30:] = 0.0  # lost from just before the swing on
    rec = record(dataclasses.replace(clip, bat_scores=scores))
    assert rec["bat"]["found"] is False and rec["bat"]["peak_speed"] is None
    assert "of the swing window" in rec["bat"]["note"] and not rec["quality"]["reliable"]
