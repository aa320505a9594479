"""The renderer draws what its ground truth says, and the video decodes to it."""

import numpy as np
import pytest
import torch

from corrkin.io.keypoints import load_clip
from corrkin.io.video import load_video
from corrkin.skeleton import JOINT_INDEX as J
from corrkin.synth import SwingSpec
from corrkin.synth_video import BAT, WHITES, render_clip, write_rendered

SPEC = SwingSpec(fps=25, duration_s=1.2, swing_at_s=0.6, pan_px_s=(60.0, 10.0), zoom=0.15)


@pytest.fixture(scope="module")
def rendered():
    return render_clip(SPEC, seed=3, noise=0.0)


def colour_at(frames, f, xy):
    x, y = (int(round(v - 0.5)) for v in xy)
    return frames[f, :, y, x].float()


def test_joints_and_bat_drawn_where_the_truth_says(rendered):
    frames, gt, _ = rendered
    assert frames.shape == (30, 3, 360, 640) and frames.dtype == torch.uint8
    whites, bat = torch.tensor(WHITES, dtype=torch.float32), torch.tensor(BAT, dtype=torch.float32)
    for f in (0, 15, 29):
        for joint in ("l_knee", "pelvis", "r_elbow", "l_shoulder"):
            assert (colour_at(frames, f, gt.keypoints[f, J[joint]]) - whites).abs().max() < 25, (f, joint)
        hands = (gt.keypoints[f, J["l_wrist"]] + gt.keypoints[f, J["r_wrist"]]) / 2
        on_bat = hands + 0.8 * (gt.bat[f] - hands)  # a point on the blade
        assert (colour_at(frames, f, on_bat) - bat).abs().max() < 30, f


def test_ground_moves_with_the_camera(rendered):
    frames, _, _ = rendered
    corner = frames[:, :, :40, :40].float()
    assert (corner[0] - corner[-1]).abs().mean() > 5  # the pan moves the texture


def test_written_video_and_truth(tmp_path):
    video, keypoints = write_rendered(tmp_path, SPEC, seed=1, name="clip")
    frames, info = load_video(video)
    gt = load_clip(keypoints)
    assert (info.frames, info.fps, info.width, info.height) == (30, 25.0, 640, 360)
    assert gt.frames == 30 and gt.fps == 25.0 and gt.source == "corrkin"
    pelvis = gt.keypoints[10, J["pelvis"]]
    assert (colour_at(frames, 10, pelvis) - torch.tensor(WHITES, dtype=torch.float32)).abs().max() < 30
    np.testing.assert_array_less(gt.keypoints.reshape(-1, 2).max(0), [640, 360])
