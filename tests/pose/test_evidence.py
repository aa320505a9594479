"""Pixel evidence for the batter: the crease at their feet, the bat in their hands."""

import numpy as np
import pytest
import torch

from corrkin.config import BatSettings
from corrkin.io.keypoints import read_mmpose_people
from corrkin.io.video import read_video
from corrkin.pose.evidence import crease_score, pixel_evidence
from corrkin.pose.select import select_batter
from corrkin.skeleton import JOINT_INDEX as J
from corrkin.synth import STANCE, SwingSpec
from corrkin.synth_video import render_clip, write_rendered


def figure(at=(320.0, 150.0), sw=40.0):
    """The synth stance as ``(1, 13, 2)`` pixels: pelvis at ``at``, ``sw`` pixels per shoulder width."""
    return torch.tensor([[STANCE[n] for n in J]], dtype=torch.float32) * sw + torch.tensor(at)


@pytest.mark.parametrize("contrast,span,want", [(24.0, 1.0, 1.0), (12.0, 1.0, 0.5), (24.0, 0.5, 0.5), (0.0, 1.0, 0.0)])
def test_crease_score_of_a_drawn_line(contrast, span, want):
    kp = figure()
    feet_y = float((kp[0, J["l_ankle"], 1] + kp[0, J["r_ankle"], 1]) / 2)
    img = torch.full((1, 3, 360, 640), 100.0)
    x0, x1 = 320 - 2.5 * 40 * span, 320 + 2.5 * 40 * span  # the line's share of the +-2.5 widths searched
    y = int(feet_y + 8)
    img[..., y - 1: y + 2, int(x0): int(x1)] += contrast
    score = crease_score(img.to(torch.uint8), kp, tau=12.0)
    assert float(score) == pytest.approx(want, abs=0.06)


def test_crease_at_the_batters_feet_not_the_passers():
    frames, gt, truth = render_clip(SwingSpec(fps=25, duration_s=0.8, swing_at_s=0.4), seed=3, passer=True)
    batter = crease_score(frames, torch.from_numpy(gt.keypoints))
    passer = crease_score(frames, torch.from_numpy(truth["passer"]))
    assert (batter > 0.6).all() and (passer < 0.3).all()
    plain, gt2, _ = render_clip(SwingSpec(fps=25, duration_s=0.8, swing_at_s=0.4), seed=3, crease=False)
    assert (crease_score(plain, torch.from_numpy(gt2.keypoints)) < 0.3).all()


@pytest.mark.parametrize("use", ["grip", "crease"])
def test_each_pixel_cue_alone_picks_the_batter_over_a_larger_central_passer(tmp_path, use):
    video, _ = write_rendered(tmp_path, SwingSpec(fps=25, duration_s=1.6, swing_at_s=0.8), seed=3,
                              name="two", passer=True)
    people = read_mmpose_people(tmp_path / "two.json")  # instance 0 is the batter in every frame
    size = (640, 360)
    assert (select_batter(people.boxes, people.valid, size).index == 1).all()  # size and centre alone: the passer
    grip, crease = pixel_evidence((c.frames for c in read_video(video)), people, BatSettings())
    assert np.isfinite(grip).any(0).all() and np.isnan(grip).any()  # sampled frames only
    sel = select_batter(people.boxes, people.valid, size, grip if use == "grip" else None,
                        crease_score=crease if use == "crease" else None)
    assert (sel.index == 0).all()


def test_crease_alone_where_the_model_has_a_bat_keypoint(tmp_path):
    video, _ = write_rendered(tmp_path, SwingSpec(fps=25, duration_s=0.8, swing_at_s=0.4), seed=5, name="c", passer=True)
    people = read_mmpose_people(tmp_path / "c.json")
    chunks = lambda: (c.frames for c in read_video(video, chunk_frames=7))  # noqa: E731
    grip, crease = pixel_evidence(chunks(), people, BatSettings())
    none, crease_only = pixel_evidence(chunks(), people, BatSettings(), grip=False)
    assert none is None and grip is not None
    np.testing.assert_array_equal(crease_only, crease)
