"""The default analysis on strokes it did not make (benchmarks/validation_data.py: a 3-D batter
filmed by a camera, non-Gaussian pulses, heavy-tailed pose errors), small fixed sets; the full
figures are benchmarks/validation.py's."""

import numpy as np
import pytest

from benchmarks import validation_data as vd
from benchmarks.validation import analyse_all, chain_figures, claim_share
from corrkin.config import AnalysisConfig
from corrkin.library.alignment import UNTESTED
from corrkin.library.links import Swing, infer_links


@pytest.mark.parametrize("kind", ["null_uniform", "null_cotimed"])
def test_one_clip_claims_no_coupling_on_independent_pulses(kind):
    clips = vd.make_suite(kind, 24, 50, 11)
    recs, _ = analyse_all(clips, AnalysisConfig())
    assert claim_share(recs) == 0
    # the Fisher-z test with the whole autocorrelation's N_eff, which assumes stationary motion
    acf, _ = analyse_all(clips, AnalysisConfig(test="acf"))
    assert claim_share(acf) >= 0.15


def test_the_robust_front_end_halves_the_timing_errors():
    """Student-t jitter, glitches and swaps: mending them first (swap repair, Hampel filter)
    brings the activation and lag errors down (seed 1: 37 -> 8 ms and 49 -> 15 ms at 120 fps)."""
    clips = vd.make_suite("chain", 24, 120, 13)
    mended = chain_figures(analyse_all(clips, AnalysisConfig())[0], clips)
    raw = chain_figures(analyse_all(clips, AnalysisConfig(robust=False))[0], clips)
    assert mended["activation error ms (median)"] < 0.6 * raw["activation error ms (median)"], (mended, raw)
    assert mended["lag error ms (median)"] < 0.6 * raw["lag error ms (median)"], (mended, raw)


def test_a_batters_library_claims_no_co_timed_uncoupled_pair():
    cfg = AnalysisConfig()
    claimed_true, claimed_false = [], []
    for lib in vd.make_suite("library", 3, 50, 17, n_swings=(12, 12)):
        series: list[np.ndarray] = []
        recs, _ = analyse_all(lib["swings"], cfg, series)
        swings = [Swing(s, float(c["fps"]), r["bat"]["peak_frame"] / float(c["fps"]))
                  for c, r, s in zip(lib["swings"], recs, series)]
        res = infer_links(swings, untested=UNTESTED, permutations=1999)
        claimed = {(e["src"], e["dst"]) for e in res.links if e["claimed"]}
        claimed_true += [tuple(p) in claimed for p in lib["truth"]["coupled_pairs"]]
        claimed_false += [tuple(p) in claimed or tuple(p[::-1]) in claimed
                          for p in lib["truth"]["uncoupled_cotimed_pairs"]]
    assert not any(claimed_false)
    assert any(claimed_true)  # some true links are found (24-44 % of them over 50 libraries)


def _swing_peak_misses(clips, cfg) -> float:
    """The share of clips whose swing peak is more than 60 ms from the true impact."""
    recs, _ = analyse_all(clips, cfg)
    return float(np.mean([abs(r["bat"]["peak_frame"] / c["fps"] - c["truth"]["impact_s"]) > 0.06
                          for r, c in zip(recs, clips)]))


def test_the_swing_peak_is_the_bats_turn_about_the_hands():
    """The tip's speed about the pelvis also carries the arms' backlift: its peak misses impact
    by more than 60 ms in 17 % of strokes filmed at 25 fps (seed 1, 100 strokes; 9 % at 50 fps),
    the tip's speed about the hands in 6 % (6 %)."""
    clips = vd.make_suite("chain", 40, 25, 19)
    grip = _swing_peak_misses(clips, AnalysisConfig())
    pelvis = _swing_peak_misses(clips, AnalysisConfig(swing_peak="pelvis"))
    assert grip <= 0.12 and pelvis >= grip + 0.05, (grip, pelvis)


@pytest.mark.parametrize("fps, seed", [(25, 23), (120, 13)])
def test_activation_intervals_carry_the_peaks_misfit(fps, seed):
    """The noise carried through the peak fit alone gave 95 % intervals that held the true peak
    time in 38-41 % of chain nodes on these sets; with the vertex's move across fit widths
    added (a lopsided peak's misfit) 54-61 %. Still short of 95 %: the wrong peak chosen
    outright (another motion faster on screen) is no interval's business."""
    clips = vd.make_suite("chain", 24, fps, seed)
    figures = chain_figures(analyse_all(clips, AnalysisConfig())[0], clips)
    assert figures["activation coverage"] >= 0.5, figures
