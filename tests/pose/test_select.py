import json

import numpy as np
import pytest

from corrkin.io.keypoints import ClipError, load_clip
from corrkin.pose.select import box_iou, select_batter
from corrkin.skeleton import COCO17, JOINTS

T, GAP = 40, range(20, 24)


def scene(seed=0):
    """A batter near the centre holding a bat, and a bowler running across the frame with a
    larger box; the batter is hidden in frames 20-23; detection order shuffled per frame."""
    rng = np.random.default_rng(seed)
    frames, truth = [], []
    for f in range(T):
        bx = 300 + 3 * np.sin(f / 5)
        batter_box = [bx, 150, bx + 40, 270]
        run = 20 + 16 * f
        bowler_box = [run, 120, run + 70, 300]  # bigger than the batter
        people = []
        if f not in GAP:
            k = rng.uniform([bx, 150], [bx + 40, 270], (18, 2))
            people.append(("batter", k, np.r_[np.full(17, 0.9), 0.8], batter_box))
        kb = rng.uniform([run, 120], [run + 70, 300], (17, 2))
        people.append(("bowler", kb, np.full(17, 0.95), bowler_box))
        order = rng.permutation(len(people))
        frames.append({"frame_id": f, "instances": [
            {"keypoints": people[i][1].tolist(), "keypoint_scores": people[i][2].tolist(), "bbox": [people[i][3]]}
            for i in order]})
        truth.append({people[i][0]: (pos, people[i][1]) for pos, i in enumerate(order)})
    return frames, truth


def arrays(frames):
    p = max(len(f["instances"]) for f in frames)
    boxes, valid, bat = np.zeros((T, p, 4)), np.zeros((T, p), bool), np.zeros((T, p))
    for f, fr in enumerate(frames):
        for i, inst in enumerate(fr["instances"]):
            boxes[f, i], valid[f, i] = np.reshape(inst["bbox"], -1), True
            bat[f, i] = inst["keypoint_scores"][17] if len(inst["keypoint_scores"]) == 18 else 0
    return boxes, valid, bat


def test_box_iou_against_a_loop():
    rng = np.random.default_rng(0)
    a = np.sort(rng.uniform(0, 100, (20, 2, 2)), 1).reshape(20, 4)[:, [0, 2, 1, 3]]
    b = np.sort(rng.uniform(0, 100, (20, 2, 2)), 1).reshape(20, 4)[:, [0, 2, 1, 3]]
    for x, y, iou in zip(a, b, box_iou(a, b)):
        ix = max(0, min(x[2], y[2]) - max(x[0], y[0])) * max(0, min(x[3], y[3]) - max(x[1], y[1]))
        ua = (x[2] - x[0]) * (x[3] - x[1]) + (y[2] - y[0]) * (y[3] - y[1]) - ix
        assert iou == pytest.approx(ix / ua)


def test_keeps_the_batter_and_masks_frames_where_lost():
    frames, truth = scene()
    boxes, valid, bat = arrays(frames)
    sel = select_batter(boxes, valid, (640, 360), bat_score=bat)
    for f in range(T):
        if f in GAP:
            assert sel.index[f] == -1, f  # the bowler is alone there, and is not taken
        else:
            assert sel.index[f] == truth[f]["batter"][0], f


def test_explicit_choice_overrides_the_evidence():
    frames, truth = scene(1)
    boxes, valid, bat = arrays(frames)
    bowler0 = np.reshape(frames[0]["instances"][truth[0]["bowler"][0]]["bbox"], -1)
    sel = select_batter(boxes, valid, (640, 360), bat, box=tuple(bowler0))
    assert sel.index[0] == truth[0]["bowler"][0] and sel.index[5] == truth[5]["bowler"][0]
    sel = select_batter(boxes, valid, (640, 360), bat, index=truth[0]["bowler"][0])
    assert sel.index[0] == truth[0]["bowler"][0]
    with pytest.raises(ValueError, match="overlaps the box"):
        select_batter(boxes, valid, (640, 360), bat, box=(600, 0, 620, 10))
    with pytest.raises(ValueError, match="person index 5"):
        select_batter(boxes, valid, (640, 360), bat, index=5)


def test_mmpose_file_gives_the_batter(tmp_path):
    frames, truth = scene(2)
    path = tmp_path / "two_people.json"
    path.write_text(json.dumps({"meta_info": {}, "instance_info": frames}))
    clip = load_clip(path, fps=25)
    for f in range(T):
        if f in GAP:
            assert (clip.scores[f] == 0).all() and clip.bat_scores[f] == 0
        else:
            k = truth[f]["batter"][1]
            np.testing.assert_allclose(clip.keypoints[f, JOINTS.index("l_wrist")], k[COCO17.index("l_wrist")], rtol=1e-6)
            np.testing.assert_allclose(clip.bat[f], k[17], rtol=1e-6)
    with pytest.raises(ClipError, match="overlaps the box"):
        load_clip(path, fps=25, batter_box=[600, 0, 620, 10])
