"""The renderer draws what its ground truth says, and the video decodes to it."""

import numpy as np
import pytest
import torch

from corrkin.io.keypoints import load_clip
from corrkin.io.video import load_video
from corrkin.skeleton import JOINT_INDEX as J
from corrkin.synth import SwingSpec
from corrkin.synth_video import BAT, SKIN, WHITES, render_clip, write_rendered

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
        for joint in ("l_knee", "pelvis", "r_wrist", "l_shoulder"):  # whites and gloves
            assert (colour_at(frames, f, gt.keypoints[f, J[joint]]) - whites).abs().max() < 25, (f, joint)
        forearm = (gt.keypoints[f, J["l_elbow"]] + gt.keypoints[f, J["l_wrist"]]) / 2
        assert (colour_at(frames, f, forearm) - torch.tensor(SKIN, dtype=torch.float32)).abs().max() < 30, f
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


def test_joint_names_are_the_persons_own(rendered):
    _, gt, truth = rendered
    # the figure faces the camera, so its left shoulder and hip are on the image's right
    assert (gt.keypoints[:, J["l_shoulder"], 0] > gt.keypoints[:, J["r_shoulder"], 0]).all()
    assert (gt.keypoints[:, J["l_hip"], 0] > gt.keypoints[:, J["r_hip"], 0]).all()
    assert truth["chain"] == ["pelvis", "r_shoulder", "r_elbow", "r_wrist", "bat"]


def test_second_person_and_their_mmpose_file(tmp_path):
    import json

    video, _ = write_rendered(tmp_path, SPEC, seed=2, name="two", passer=True)
    doc = json.loads((tmp_path / "two.json").read_text())
    frames, _ = load_video(video)
    assert len(doc["instance_info"]) == len(frames)
    shirt = torch.tensor((40, 70, 150), dtype=torch.float32)
    for f in (0, 29):
        batter, passer = doc["instance_info"][f]["instances"]
        assert len(passer["keypoints"]) == 17
        # the second person is drawn where their file says: blue shirt between the shoulders and hips
        k = np.asarray(passer["keypoints"])
        chest = (k[5] + k[6] + k[11] + k[12]) / 4
        assert (colour_at(frames, f, chest) - shirt).abs().max() < 35
        pb, bb = np.reshape(passer["bbox"], -1), np.reshape(batter["bbox"], -1)
        assert (pb[2] - pb[0]) * (pb[3] - pb[1]) > (bb[2] - bb[0]) * (bb[3] - bb[1])  # nearer, larger
    x0 = np.reshape(doc["instance_info"][0]["instances"][1]["bbox"], -1)[0]
    x1 = np.reshape(doc["instance_info"][-1]["instances"][1]["bbox"], -1)[0]
    assert x0 - x1 > 300  # walks across the frame


def test_bat_visibility_says_where_the_bat_is_hidden():
    """``bat_visible``: the share of the bat's outer half in sight. In the open most of it shows
    (the rest under the gloves); a fielder walking in front hides it for a while; drawn behind
    the body in the stance, the blade behind the trunk shows about half."""
    from corrkin.synth_video import Look

    _, _, open_truth = render_clip(SwingSpec(fps=25, duration_s=0.4, swing_at_s=0.2), seed=3)
    assert (open_truth["bat_visible"] > 0.8).all() and (open_truth["bat_visible"] <= 1).all()
    _, _, passed = render_clip(SwingSpec(fps=25, duration_s=1.6, swing_at_s=0.8), seed=3, passer=True)
    vis = passed["bat_visible"]
    assert vis.max() > 0.8 and vis.min() < 0.05  # in the open, then behind the fielder
    _, _, behind = render_clip(SwingSpec(fps=25, duration_s=0.4, swing_at_s=0.2), seed=3, look=Look(bat_behind=True))
    assert (behind["bat_visible"] < open_truth["bat_visible"] - 0.2).all()
    _, _, none = render_clip(SwingSpec(fps=25, duration_s=0.4, swing_at_s=0.2), seed=3, look=Look(bat_colour=None))
    assert (none["bat_visible"] == 0).all()
