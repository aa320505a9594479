"""The default analysis calibrated: independent motion rejected, chains recovered, lags and
activation times timed below one frame with intervals that cover them, the same answer at
every frame rate (issue 12; benchmarks/calibration.py measures the same on 100 clips a rate)."""

import dataclasses

import numpy as np
import pytest

from benchmarks.calibration import SHARED, STANCE, _to_clip, independent_clip
from corrkin.analysis import analyse, to_records
from corrkin.config import AnalysisConfig
from corrkin.io.keypoints import collate
from corrkin.skeleton import NODES
from corrkin.synth import make_clip, random_spec

CHAIN = ["pelvis", "l_shoulder", "l_elbow", "l_wrist", "bat"]


def _swing(rng, fps, **kw):
    duration = float(rng.uniform(2.5, 3.5))
    spec = random_spec(rng, fps=fps, duration_s=duration, swing_at_s=float(rng.uniform(1.0, duration - 1.0)),
                       delay_s=float(rng.uniform(0.03, 0.12)), pulse_s=float(rng.uniform(0.04, 0.09)), **kw)
    clip = make_clip(spec, seed=int(rng.integers(2**31)), name="clip")[0]
    clip.truth_peaks_ms = {n: (spec.swing_at_s + k * spec.delay_s) * 1000 for k, n in enumerate(CHAIN)}
    return clip, spec.delay_s * 1000


def _pulse_null_clip(rng, fps: float, name: str, cotimed: bool):
    """Every joint (relative to the pelvis) and the pelvis (over the feet) moved by one
    minimum-jerk pulse of its own, at an independent time: uniform over the clip, or within
    +-0.3 s of one swing time (``cotimed``). The series are independent by construction."""
    duration = float(rng.uniform(1.5, 4.0))
    frames = int(round(duration * fps))
    t = np.arange(frames) / fps
    swing = rng.uniform(0.6, duration - 0.6)

    def pulse() -> np.ndarray:
        width = rng.uniform(0.08, 0.35)
        at = rng.uniform(swing - 0.3, swing + 0.3) if cotimed else rng.uniform(0, duration)
        s = np.clip((t - at + width / 2) / width, 0, 1)
        shape = 10 * s**3 - 15 * s**4 + 6 * s**5  # minimum jerk
        return shape[:, None] * rng.uniform(0.1, 0.6) * rng.choice([-1, 1], size=2)

    pelvis = pulse()
    world = {}
    for k, v in STANCE.items():
        if k in ("l_ankle", "r_ankle"):
            world[k] = np.array(v, float)[None] + np.zeros((frames, 2))
        elif k in ("l_hip", "r_hip"):
            world[k] = np.array(v, float)[None] + pelvis
        else:
            world[k] = np.array(v, float)[None] + pelvis + pulse()
    return _to_clip(name, fps, world, rng, miss=0.0)


@pytest.mark.parametrize("fps", [25.0, 240.0])
def test_coupling_test_holds_its_level_on_independent_motion(fps):
    """The circular-shift p-value is super-uniform where the series are independent: on smooth
    stationary motion and on single pulses, uniform or co-timed (the null a swing needs)."""
    rng = np.random.default_rng(int(fps))
    clips = [independent_clip(rng, fps, f"n{i}")[0] for i in range(16)]
    clips += [_pulse_null_clip(rng, fps, f"u{i}", cotimed=False) for i in range(16)]
    clips += [_pulse_null_clip(rng, fps, f"c{i}", cotimed=True) for i in range(16)]
    batch = collate(clips)
    cfg = AnalysisConfig(fdr=False)
    out = analyse(batch, cfg)
    p = out.p.numpy()
    iu = np.triu_indices(p.shape[1], 1)
    keep = np.array([{NODES[i], NODES[j]} not in SHARED for i, j in zip(*iu)])
    flat = p[:, iu[0], iu[1]][:, keep]
    for level in (0.25, 0.5):
        assert np.mean(flat <= level) <= level + 0.03, (level, np.mean(flat <= level))
    floor = out.p_floor.numpy()
    assert (flat >= floor[:, None] - 1e-12).all()  # never below its stated floor
    recs = to_records(out, batch, cfg)
    assert all(r["edges"] == [] for r in recs)  # one swing never claims a coupling


@pytest.mark.parametrize("fps", [25.0, 240.0])
def test_chains_recovered_and_timed_below_a_frame(fps):
    rng = np.random.default_rng(7 + int(fps))
    made = [_swing(rng, fps) for _ in range(24)]
    batch = collate([c for c, _ in made])
    cfg = AnalysisConfig()
    recs = to_records(analyse(batch, cfg), batch, cfg)
    chain = CHAIN
    assert sum(r["path"] == chain for r in recs) >= 22  # the benchmark: 95-100 % over 60 clips a rate
    errs, covered = [], []
    for r, (_, lag) in zip(recs, made):
        edges = {(e["src"], e["dst"]): e for e in r["pairs"]}
        for link in zip(chain, chain[1:]):
            if link in edges:
                e = edges[link]
                errs.append(abs(e["lag_ms"] - lag))
                covered.append(e["lag_ci_ms"][0] <= lag <= e["lag_ci_ms"][1])
        assert r["timing"]["frame_interval_ms"] == pytest.approx(1000 / fps, abs=1e-3)
    assert np.median(errs) <= (5.0 if fps == 25 else 2.5)  # 40 ms and 4 ms frames (speed profiles: 2.4 ms at 240 fps)
    assert 0.9 <= np.mean(covered) <= 1.0
    # activation times: the peaks of the velocity pulses, below a frame, with intervals
    act_err, act_cov = [], []
    for r, (clip, _) in zip(recs, made):
        for node, true_ms in clip.truth_peaks_ms.items():
            act_err.append(abs(r["activation_ms"][node] - true_ms))
            lo, hi = r["activation_ci_ms"][node]
            act_cov.append(lo <= true_ms <= hi)
    assert np.median(act_err) <= 2.5  # peak speeds (not axis velocities): 2.0 ms at 240 fps
    assert 0.85 <= np.mean(act_cov) <= 0.99


def test_the_same_swing_at_every_frame_rate():
    """A 240 fps clip decimated to 120, 60 and 30 fps: the same path, lags within their intervals."""
    rng = np.random.default_rng(3)
    for _ in range(3):
        clip, truth = _swing(rng, 240.0, jitter_px=0.5)
        recs = []
        for step in (1, 2, 4, 8):
            thin = dataclasses.replace(clip, keypoints=clip.keypoints[::step], scores=clip.scores[::step],
                                       bat=clip.bat[::step], bat_scores=clip.bat_scores[::step], fps=240.0 / step)
            batch = collate([thin])
            recs.append(to_records(analyse(batch, AnalysisConfig()), batch, AnalysisConfig())[0])
        assert all(r["path"] == recs[0]["path"] for r in recs) and recs[0]["reaches_bat"]
        for a, b in zip(recs[0]["path"], recs[0]["path"][1:]):
            lags = [next(e for e in r["pairs"] if (e["src"], e["dst"]) == (a, b)) for r in recs]
            lo = max(e["lag_ci_ms"][0] for e in lags)
            hi = min(e["lag_ci_ms"][1] for e in lags)
            assert lo <= hi, (a, b, [(e["lag_ms"], e["lag_ci_ms"]) for e in lags])  # the intervals overlap


def test_links_shorter_than_a_frame_are_said_plainly():
    rng = np.random.default_rng(11)
    clips = [make_clip(random_spec(rng, fps=25.0, duration_s=3.0, swing_at_s=1.5, delay_s=0.03, pulse_s=0.06),
                       seed=k, name=f"c{k}")[0] for k in range(6)]
    batch = collate(clips)
    recs = to_records(analyse(batch, AnalysisConfig()), batch, AnalysisConfig())
    warned = [r for r in recs if r["reaches_bat"] and r["timing"]["warnings"]]
    assert warned, [r["path"] for r in recs]
    for r in warned:
        for w in r["timing"]["warnings"]:
            assert "shorter than one frame (40.0 ms)" in w or "includes zero" in w, w
    # whole frames say so too
    seed_like = to_records(analyse(batch, AnalysisConfig(test="lag1")), batch, AnalysisConfig(test="lag1"))
    assert all(r["timing"]["resolution"] == "whole frames (40.0 ms)" for r in seed_like)
