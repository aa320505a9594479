"""A variable-frame-rate video (a phone's slow motion: 240 fps through the swing, 30 fps before
and after) through ``corrkin run``: each frame at its container timestamp, put on a uniform grid
for the analysis, and the quality block says the rate varied. The body's pose comes from the
rendering's truth (``pose=file``), so what is tested is time: read at a constant rate, the same
file puts the chain's activations far from the truth."""

from __future__ import annotations

import dataclasses
import json
from fractions import Fraction

import numpy as np
import pytest

from corrkin.commands.run import run_video
from corrkin.io.keypoints import save_clip
from corrkin.perception import on_uniform_times
from corrkin.synth import SwingSpec
from corrkin.synth_video import mirror_name, render_clip
from tests.helpers.config import compose_config

RATE = 240


@pytest.fixture(scope="module")
def vfr(tmp_path_factory):
    import av

    root = tmp_path_factory.mktemp("vfr")
    frames, gt, truth = render_clip(SwingSpec(fps=RATE, duration_s=1.2, swing_at_s=0.6), seed=3, size=(180, 320))
    t = np.arange(frames.shape[0]) / RATE
    keep = np.flatnonzero(((t >= 0.5) & (t <= 1.05)) | (np.arange(len(t)) % 8 == 0))  # the chain runs 0.6-0.92 s
    (root / "videos").mkdir()
    (root / "poses").mkdir()
    with av.open(str(root / "videos" / "vfr.mp4"), "w") as c:
        s = c.add_stream("libx264", rate=RATE)
        s.width, s.height, s.pix_fmt, s.options = 320, 180, "yuv420p", {"crf": "18"}
        s.time_base = s.codec_context.time_base = Fraction(1, 960)
        for i in keep:
            vf = av.VideoFrame.from_ndarray(frames[i].permute(1, 2, 0).numpy(), format="rgb24")
            vf.pts, vf.time_base = int(round(t[i] * 960)), Fraction(1, 960)
            for p in s.encode(vf):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    pose = dataclasses.replace(gt, name="vfr", keypoints=gt.keypoints[keep], scores=gt.scores[keep], bat=gt.bat[keep],
                               bat_scores=gt.bat_scores[keep])
    save_clip(root / "poses" / "vfr.npz", pose)
    return root, truth


def _run(root, out, *extra) -> dict:
    cfg = compose_config("run", ["pose=file", f"input={root / 'videos'}", f"output={out}",
                                 f"pose.keypoints={root / 'poses'}", "plots=false", "progress=false", *extra])
    assert run_video(cfg) == 0
    return json.loads((out / "vfr" / "result.json").read_text())


def _errors_ms(result: dict, truth: dict) -> dict[str, float]:
    """The body's activation times against the rendering's (its joints named as the person's own)."""
    got = result["activation_ms"]
    out = {}
    for node, frame in truth["peak_frames"].items():
        if node != "bat":  # the bat is found on the pixels: its error is the detector's, not the clock's
            ms = got.get(node) if got.get(node) is not None else got.get(mirror_name(node))
            out[node] = abs(ms - frame / RATE * 1000)
    return out


def test_a_variable_frame_rate_is_analysed_on_its_true_times(vfr, tmp_path):
    root, truth = vfr
    result = _run(root, tmp_path / "out")
    timing = result["quality"]["frame_timing"]
    assert timing["variable_frame_rate"] and timing["source"] == "container timestamps"
    assert timing["frame_interval_ms_range"] == pytest.approx([1000 / 240, 1000 / 30], abs=1e-3)
    assert timing["resampled_to_fps"] == RATE and result["fps"] == RATE
    errors = _errors_ms(result, truth)
    assert max(errors.values()) <= 1000 / RATE, errors  # within one frame at 240 fps (measured: <= 2.3 ms)
    wrong = _errors_ms(_run(root, tmp_path / "constant", f"fps={RATE}"), truth)  # frames taken as evenly spaced
    assert min(wrong.values()) > 50, wrong


def test_uniform_times_against_numpy_interp():
    rng = np.random.default_rng(1)
    t = np.cumsum(rng.uniform(0.004, 0.034, 40))
    x = rng.normal(size=(40, 3, 2))
    x[7, 1] = np.nan
    sc = rng.uniform(size=(40, 3))
    (got,), (got_sc,) = on_uniform_times(t, 250.0, [x], [sc])
    grid = t[0] + np.arange(int((t[-1] - t[0]) * 250) + 1) / 250
    assert got.shape == (len(grid), 3, 2)
    for j in range(3):
        for d in range(2):
            ref = np.interp(grid, t, x[:, j, d])
            ok = np.isfinite(ref)
            np.testing.assert_allclose(got[ok, j, d], ref[ok], atol=1e-12)
    near_nan = (grid > t[6]) & (grid < t[8])
    assert np.isnan(got[near_nan, 1]).all() and np.isfinite(got[~near_nan, 1]).all()
    i = np.clip(np.searchsorted(t, grid, side="right") - 1, 0, 38)
    on = np.isclose(grid, t[i])
    np.testing.assert_array_equal(got_sc[~on], np.minimum(sc[i], sc[i + 1])[~on])
