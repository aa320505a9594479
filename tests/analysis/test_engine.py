"""The batched engine: synthetic chains recovered, per-clip reference matched, batch-invariant."""

import dataclasses

import numpy as np
import pytest
import torch

from corrkin.analysis import analyse, to_records, validate_clip
from corrkin.analysis.reference import analyse_clip
from corrkin.config import AnalysisConfig, WindowConfig
from corrkin.io.keypoints import ClipError, collate
from corrkin.synth import SwingSpec, chain_truth, make_clip, random_spec
from tests.helpers.compare import assert_same_edges


def library(n, seed=0, **kw):
    rng = np.random.default_rng(seed)
    pairs = [make_clip(random_spec(rng, **kw), seed=1000 * seed + i, name=f"c{i:03d}") for i in range(n)]
    return [c for c, _ in pairs], [t for _, t in pairs]


def run(clips, cfg, device="cpu"):
    batch = collate(clips, device)
    return to_records(analyse(batch, cfg), batch, cfg)


def test_recovers_known_chains_with_their_lags(device):
    clips, truths = library(40, seed=7)
    records = run(clips, AnalysisConfig(), device)
    exact = total = 0
    for rec, truth in zip(records, truths):
        assert rec["reaches_bat"], rec["clip"]
        assert rec["path"] == truth["chain"], rec["clip"]
        assert rec["edges"] == [], rec["clip"]  # one swing shows timing, never a coupling
        assert rec["coupling_test"]["p_floor"] > 0.05
        lags = {(e["src"], e["dst"]): e["lag_frames"] for e in rec["pairs"]}
        for a, b, lag in chain_truth(truth):
            assert abs(lags[(a, b)] - lag) <= 1, (rec["clip"], a, b)
            exact += lags[(a, b)] == lag
            total += 1
        assert rec["activation_frames"]["bat"] == pytest.approx(truth["peak_frames"]["bat"], abs=1)
    assert exact / total >= 0.9


@pytest.mark.parametrize("variant", ["default", "no-fdr", "window", "after-only", "seed-like", "acf"])
def test_matches_per_clip_reference(variant):
    cfg = AnalysisConfig(dtype="float64")
    if variant == "no-fdr":
        cfg.fdr = False
    elif variant == "acf":
        cfg.test = "acf"
    elif variant == "window":
        cfg.window = WindowConfig(before_s=0.8, after_s=0.4)
    elif variant == "after-only":
        cfg.window = WindowConfig(after_s=0.3)
    elif variant == "seed-like":
        cfg = dataclasses.replace(cfg, pelvis_signal="root", fill_gaps=False, min_confidence=0.0)
    clips, _ = library(12, seed=3)
    # holes in the keypoints exercise gap filling
    clips[0].scores[10:14, 3] = 0.0
    clips[1].scores[:5, 12] = 0.0
    for rec, clip in zip(run(clips, cfg), clips):
        ref = analyse_clip(clip, cfg)
        assert rec["activation_frames"] == ref["activation_frames"], clip.name
        for node, frames in ref["activation_subframe"].items():
            assert rec["activation_ms"][node] == pytest.approx(frames * 1000 / clip.fps, abs=1e-3), (clip.name, node)
            se = ref["activation_se_frames"][node]
            if np.isfinite(se):
                lo, hi = rec["activation_ci_ms"][node]
                at, half, end = frames * 1000 / clip.fps, 1.96 * se * 1000 / clip.fps, (len(clip.keypoints) - 1) * 1000 / clip.fps
                # the interval within the clip's span: a time outside it cannot be the activation
                assert lo == pytest.approx(max(at - half, 0.0), rel=1e-3, abs=2e-3), (clip.name, node)
                assert hi == pytest.approx(min(at + half, end), rel=1e-3, abs=2e-3), (clip.name, node)
            else:
                assert rec["activation_ci_ms"][node] is None
        pairs = assert_same_edges(rec["edges"], ref["edges"], weight_abs=1e-6, p_rel=1e-5, label=clip.name)
        if cfg.test == "shift":  # every pair measured, as the reference measures it
            assert {(e["src"], e["dst"]) for e in rec["pairs"] if e["ordered"]} == set(ref["ordered"]), clip.name
            assert len(rec["pairs"]) * 2 == len(ref["tests"])
            for e in rec["pairs"]:
                want = ref["tests"][(e["src"], e["dst"])]
                assert e["correlation"] == pytest.approx(want["weight"], abs=1e-6)
                assert e["lag_frames"] == want["lag_frames"]
                assert e["lag_ms"] == pytest.approx(want["lag_sub_frames"] * 1000 / clip.fps, abs=1e-3)
                assert e["p_value"] == pytest.approx(want["p_value"], rel=1e-5), (clip.name, e)
                assert e.get("q_value", e["p_value"]) == pytest.approx(want["q_value"], rel=1e-5)
        for have, want in pairs:
            assert have["lag_ms"] == pytest.approx(want["lag_sub_frames"] * 1000 / clip.fps, abs=1e-3)
            if cfg.test != "shift":
                assert have["n_eff"] == pytest.approx(want["n_eff"], abs=0.01)
            if np.isfinite(want["lag_se_frames"]):
                half = (have["lag_ci_ms"][1] - have["lag_ci_ms"][0]) / 2
                assert half == pytest.approx(1.96 * want["lag_se_frames"] * 1000 / clip.fps, rel=1e-3, abs=2e-3)
            else:
                assert have["lag_ci_ms"] is None
        assert rec["path"] == ref["path"] and rec["reaches_bat"] == ref["reaches_bat"]
        assert rec["path_weight"] == pytest.approx(ref["path_weight"], abs=1e-5)
        assert rec["bat"]["peak_frame"] == ref["bat_peak_frame"]
        assert rec["bat"]["peak_speed"] == pytest.approx(ref["bat_peak_speed"], rel=1e-6)
        assert abs(np.dot(rec["swing_axis"], ref["swing_axis"]) - 1) < 1e-5  # JSON keeps 6 decimals
        assert rec["bat"]["omega_peak"] == pytest.approx(ref["omega"][np.argmax(np.abs(ref["omega"]))], rel=1e-6)


def test_batched_equals_alone_exactly():
    clips, _ = library(9, seed=11)
    cfg = AnalysisConfig(fdr=True)
    together = run(clips, cfg)
    for clip, rec in zip(clips, together):
        assert run([clip], cfg)[0] == rec


def test_pelvis_carries_a_signal_by_default_and_not_in_the_seed():
    clips, _ = library(3, seed=5)
    batch = collate(clips)
    pelvis = 6
    default = analyse(batch, AnalysisConfig())
    seed = analyse(batch, AnalysisConfig(pelvis_signal="root", fill_gaps=False))
    assert (default.series[:, pelvis].abs().amax(-1) > 0.1).all()
    assert (seed.series[:, pelvis] == 0).all()


@pytest.mark.parametrize("test", ["shift", "acf"])
def test_fdr_is_never_looser(test):
    clips, _ = library(10, seed=2)
    plain = run(clips, AnalysisConfig(fdr=False, test=test))
    fdr = run(clips, AnalysisConfig(fdr=True, test=test))
    for a, b in zip(plain, fdr):
        assert all(e["q_value"] >= e["p_value"] for e in b["pairs"])
        pa = {(e["src"], e["dst"]) for e in a["edges"]}
        pb = {(e["src"], e["dst"]): e for e in b["edges"]}
        assert set(pb) <= pa
        assert all(e["q_value"] >= e["p_value"] for e in pb.values())


def test_window_is_centred_on_the_bat():
    clip, _ = make_clip(SwingSpec(fps=25, duration_s=4.0, swing_at_s=2.0))
    rec = run([clip], AnalysisConfig(window=WindowConfig(before_s=0.6, after_s=0.2)))[0]
    peak = rec["bat"]["peak_frame"]
    assert rec["frames_analysed"] == [peak - 15, peak + 5]
    assert all(peak - 15 <= f <= peak + 5 for f in rec["activation_frames"].values())


def test_no_path_is_said_plainly():
    clip, _ = make_clip(SwingSpec(chain=("l_shoulder", "l_elbow", "l_wrist", "bat")))
    rec = run([clip], AnalysisConfig(sources=["r_knee"]))[0]
    assert rec["reaches_bat"] is False and rec["path"] == []
    assert rec["path_note"].startswith("no path from r_knee reaches bat")


def test_validation_errors_name_the_problem():
    clip, _ = make_clip(SwingSpec(duration_s=0.12, fps=25))
    with pytest.raises(ClipError, match=r"too short: 3 frames, the analysis needs at least 5"):
        validate_clip(clip, AnalysisConfig())
    clip, _ = make_clip(SwingSpec(duration_s=1.0))
    clip.bat_scores[:] = 0
    validate_clip(clip, AnalysisConfig())  # no bat is a finding ("no bat found"), not an error
    clip, _ = make_clip(SwingSpec(duration_s=1.0))
    clip.scores[:20, 7] = 0.0
    with pytest.raises(ClipError, match=r"'l_shoulder' has score >= 0.1 in only 20% of frames"):
        validate_clip(clip, AnalysisConfig())


def test_config_errors():
    clips, _ = library(1)
    with pytest.raises(ValueError, match="unknown nodes"):
        AnalysisConfig(sources=["left_foot"])
    with pytest.raises(ValueError, match="analysis.dtype='int32': must be one of"):
        AnalysisConfig(dtype="int32")
    cfg = AnalysisConfig()
    cfg.theta = 2.0  # changed after it was built: the engine checks again
    with pytest.raises(ValueError, match="analysis.theta=2.0"):
        analyse(collate(clips), cfg)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_equals_cpu():
    clips, _ = library(6, seed=4)
    cfg = AnalysisConfig(dtype="float64")
    for a, b in zip(run(clips, cfg, "cpu"), run(clips, cfg, "cuda")):
        assert [e["src"] + e["dst"] for e in a["edges"]] == [e["src"] + e["dst"] for e in b["edges"]]
        assert [(e["src"], e["dst"], e["ordered"]) for e in a["pairs"]] == [(e["src"], e["dst"], e["ordered"]) for e in b["pairs"]]
        assert a["path"] == b["path"]


def test_mending_only_around_the_window_changes_nothing_the_analysis_reads(monkeypatch):
    """Glitches and swaps (the independent validation strokes): the Hampel filter over the frames
    analysed and a margin gives the same series, times and lags as over the whole clip."""
    from benchmarks import validation_data as vd
    from benchmarks.validation import to_clip
    from corrkin.analysis import engine

    clips = [to_clip(c) for c in vd.make_suite("chain", 6, 50, 5)]
    batch = collate(clips)
    cfg = AnalysisConfig()
    part = analyse(batch, cfg)
    monkeypatch.setattr(engine, "WHOLE_CLIP_ROWS", list(range(14)))
    monkeypatch.setattr(engine, "WINDOW_ROWS", [])
    whole = analyse(batch, cfg)
    used = part.frames_used[:, None]
    assert torch.equal(part.frames_used, whole.frames_used)
    assert torch.equal(torch.where(used, part.series, 0.0), torch.where(used, whole.series, 0.0))
    for key in ("t_sub", "t_se", "weight", "lag_sub", "lag_se", "ordered", "path"):
        assert torch.equal(getattr(part, key), getattr(whole, key)), key
    assert (part.glitches <= whole.glitches).all() and (whole.glitches > 0).any()


def test_a_tip_that_leaves_the_picture_keeps_its_speed_at_impact():
    """The tip unseen for six frames after the swing's peak: filling draws a line across the
    gap, so the central difference at the peak averages the gap's slow line with the last real
    frame; the speed there is the one-sided difference towards the seen neighbour. The engine
    and the per-clip reference agree."""
    clip, _ = make_clip(SwingSpec(fps=25, duration_s=4.0, swing_at_s=2.0), seed=3)
    whole = run([clip], AnalysisConfig())[0]["bat"]["peak_frame"]
    clip.bat_scores[whole + 1: whole + 7] = 0.0
    clip.bat[whole + 1: whole + 7] = clip.bat[whole]  # the detector's last guess, unscored
    rec = run([clip], AnalysisConfig())[0]
    assert rec["bat"]["peak_frame"] == whole
    assert analyse_clip(clip, AnalysisConfig())["bat_peak_frame"] == whole
