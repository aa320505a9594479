import json

import numpy as np
import pytest
import torch

from corrkin.io.keypoints import ClipError, collate, find_inputs, load_clip, save_clip
from corrkin.skeleton import COCO17, JOINTS
from corrkin.synth import SwingSpec, make_clip


def coco_frames(t=6, with_bat=True, people=2):
    rng = np.random.default_rng(0)
    frames = []
    for f in range(t):
        inst = []
        for p in range(people):
            k = rng.uniform(0, 100, (18 if with_bat and p == 0 else 17, 2)) + 500 * p
            size = 200 if p == 0 else 50  # person 0 has the largest box
            inst.append({"keypoints": k.tolist(), "keypoint_scores": [0.9] * len(k),
                         "bbox": [[0, 0, size, size]], "bbox_score": 0.9})
        frames.append({"frame_id": f, "instances": inst})
    return frames


def test_corrkin_npz_roundtrip(tmp_path):
    clip, _ = make_clip(SwingSpec(duration_s=1.0), name="a")
    save_clip(tmp_path / "a.npz", clip)
    back = load_clip(tmp_path / "a.npz")
    assert back.fps == clip.fps and back.source == "corrkin"
    np.testing.assert_array_equal(back.keypoints, clip.keypoints)
    np.testing.assert_array_equal(back.bat, clip.bat)


def test_corrkin_npz_with_coco_joints(tmp_path):
    rng = np.random.default_rng(0)
    kps = rng.normal(size=(10, 17, 2)).astype(np.float32)
    np.savez(tmp_path / "c.npz", keypoints=kps, scores=np.ones((10, 17), np.float32), fps=30.0,
             joints=np.array(COCO17))
    clip = load_clip(tmp_path / "c.npz")
    np.testing.assert_allclose(clip.keypoints[:, JOINTS.index("pelvis")], kps[:, 11:13].mean(1))
    np.testing.assert_array_equal(clip.keypoints[:, JOINTS.index("l_wrist")], kps[:, COCO17.index("l_wrist")])
    assert (clip.bat_scores == 0).all()


def test_seed_npz_needs_fps(seed_dir):
    path = seed_dir / "imran_khan_hook_1.npz"
    with pytest.raises(ClipError, match="no frame rate in a seed file: pass fps="):
        load_clip(path)
    clip = load_clip(path, fps=25)
    d = np.load(path, allow_pickle=False)
    np.testing.assert_array_equal(clip.keypoints, d["kps"])
    np.testing.assert_array_equal(clip.scores, d["conf"])
    assert clip.source == "seed" and clip.fps == 25


@pytest.mark.parametrize("layout", ["demo", "inferencer"])
def test_mmpose_json(tmp_path, layout):
    frames = coco_frames()
    doc = {"meta_info": {"dataset_name": "coco"}, "instance_info": frames} if layout == "demo" else frames
    (tmp_path / "m.json").write_text(json.dumps(doc))
    clip = load_clip(tmp_path / "m.json", fps=25)
    k0 = np.array(frames[2]["instances"][0]["keypoints"], np.float32)
    np.testing.assert_allclose(clip.keypoints[2, JOINTS.index("l_ankle")], k0[COCO17.index("l_ankle")])
    np.testing.assert_allclose(clip.keypoints[2, JOINTS.index("pelvis")], k0[11:13].mean(0))
    np.testing.assert_allclose(clip.bat[2], k0[17])  # the 18th keypoint is the bat tip
    assert clip.frames == 6


def test_collate_pads_and_masks():
    a, _ = make_clip(SwingSpec(duration_s=1.0, fps=25), name="a")
    b, _ = make_clip(SwingSpec(duration_s=2.0, fps=30), name="b")
    batch = collate([a, b])
    assert batch.keypoints.shape == (2, 64, 13, 2)  # 60 frames, rounded up to whole 64-frame blocks
    assert batch.lengths.tolist() == [25, 60] and batch.fps.tolist() == [25.0, 30.0]
    assert batch.frame_mask[0, :25].all() and not batch.frame_mask[0, 25:].any()
    assert (batch.keypoints[0, 25:] == 0).all()
    assert torch.equal(batch.keypoints[0, :25], torch.from_numpy(a.keypoints))


def test_find_inputs_keeps_subfolders_apart(tmp_path):
    for rel in ("x/clip.npz", "y/clip.npz", "z.json", "notes.txt", ".hidden/h.npz"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    assert [n for n, _ in find_inputs(tmp_path, recursive=True)] == ["x/clip", "y/clip", "z"]
    assert [n for n, _ in find_inputs(tmp_path)] == ["z"]


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda p: p.write(b"not a zip"), "not a readable .npz"),
        (lambda p: np.savez(p, foo=np.zeros(3)), r"no 'keypoints' \(corrkin\) or 'kps' \(seed\) array; keys are \['foo'\]"),
        (lambda p: np.savez(p, keypoints=np.zeros((5, 13, 3)), fps=25.0), r"'keypoints' has shape \(5, 13, 3\), expected \(T, J, 2\)"),
        (lambda p: np.savez(p, keypoints=np.zeros((5, 13, 2)), fps=0.0), "frame rate 0.0 is not a positive number"),
        (lambda p: np.savez(p, keypoints=np.zeros((5, 11, 2)), fps=25.0), "11 joints and no 'joints' names"),
        (lambda p: np.savez(p, keypoints=np.zeros((0, 13, 2)), fps=25.0), "no frames"),
        (lambda p: np.savez(p, keypoints=np.full((5, 13, 2), np.nan), fps=25.0), "NaN/inf positions with a positive score"),
        (lambda p: np.savez(p, keypoints=np.array([{"a": 1}], dtype=object)), "pickled objects"),
        (lambda p: np.savez(p, keypoints=np.zeros((5, 13, 2)), bat=np.zeros((4, 2)), fps=25.0), "'bat' has 4 frames but the keypoints have 5"),
    ],
)
def test_bad_files_get_one_clear_line(tmp_path, make, message):
    path = tmp_path / "bad.npz"
    with open(path, "wb") as f:
        make(f)
    with pytest.raises(ClipError, match=message) as err:
        load_clip(path)
    assert str(err.value).startswith(str(path)) and "\n" not in str(err.value)


def test_bad_json_and_suffix(tmp_path):
    (tmp_path / "a.json").write_text("{broken")
    with pytest.raises(ClipError, match="not readable JSON"):
        load_clip(tmp_path / "a.json", fps=25)
    (tmp_path / "b.json").write_text(json.dumps([{"frame_id": 0, "instances": [{"keypoints": [[0, 0]] * 5,
                                                                                  "keypoint_scores": [1] * 5}]}]))
    with pytest.raises(ClipError, match="expected COCO-17"):
        load_clip(tmp_path / "b.json", fps=25)
    (tmp_path / "c.csv").write_text("")
    with pytest.raises(ClipError, match="unknown keypoint format '.csv'"):
        load_clip(tmp_path / "c.csv")
    with pytest.raises(ClipError, match="no such file"):
        load_clip(tmp_path / "missing.npz")
