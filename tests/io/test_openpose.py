"""OpenPose per-frame JSON folders: BODY_25 and COCO-18 read to the right joints (against the
numbers written here), frames in number order, the batter chosen among several people, missing
points, and every malformed folder or frame file one ClipError naming it."""

import json

import numpy as np
import pytest

from corrkin.io.keypoints import ClipError, find_inputs, load_clip
from corrkin.skeleton import JOINTS, OPENPOSE_BODY25, OPENPOSE_COCO18

J = JOINTS.index


def person(layout, offset=(0.0, 0.0), scale=1.0, missing=(), **at):
    """Flat ``pose_keypoints_2d`` for ``layout``: point k at (offset + scale * (10 k, 5 k)), c 0.9;
    ``at``: points placed by name; ``missing``: points written as OpenPose does (0, 0, 0)."""
    flat = []
    for k, name in enumerate(layout):
        x, y = at.get(name, (offset[0] + scale * 10 * k, offset[1] + scale * 5 * k))
        flat += [0.0, 0.0, 0.0] if name in missing else [float(x), float(y), 0.9]
    return flat


def write_folder(folder, frames, stem="swing", digits=12):
    """``frames``: {frame number: [flat keypoints per person]} as OpenPose's per-frame files."""
    folder.mkdir(parents=True, exist_ok=True)
    for number, people in frames.items():
        doc = {"version": 1.3, "people": [{"person_id": [-1], "pose_keypoints_2d": p, "face_keypoints_2d": []}
                                          for p in people]}
        (folder / f"{stem}_{number:0{digits}d}_keypoints.json").write_text(json.dumps(doc))
    return folder


def test_a_body25_folder_reads_to_the_right_joints(tmp_path):
    frames = {f: [person(OPENPOSE_BODY25, offset=(100 + f, 50), r_wrist=(300 + 7 * f, 200), mid_hip=(999, 999))]
              for f in range(5)}
    frames[3] = [person(OPENPOSE_BODY25, offset=(103, 50), r_wrist=(321, 200), missing=("l_wrist",),
                        mid_hip=(999, 999))]
    folder = write_folder(tmp_path / "swing_json", frames)
    clip = load_clip(folder, fps=30)
    assert (clip.source, clip.frames, clip.fps, clip.name, clip.units) == ("openpose", 5, 30.0, "swing_json", "px")
    np.testing.assert_array_equal(clip.keypoints[:, J("r_wrist")], [[300 + 7 * f, 200] for f in range(5)])
    k = OPENPOSE_BODY25.index("l_ankle")  # 14
    np.testing.assert_array_equal(clip.keypoints[2, J("l_ankle")], [102 + 10 * k, 50 + 5 * k])
    hips = [OPENPOSE_BODY25.index("l_hip"), OPENPOSE_BODY25.index("r_hip")]  # 12, 9: MidHip (999) is not used
    np.testing.assert_allclose(clip.keypoints[0, J("pelvis")], [100 + 10 * np.mean(hips), 50 + 5 * np.mean(hips)])
    np.testing.assert_allclose(clip.scores[0], 0.9)
    assert clip.scores[3, J("l_wrist")] == 0 and clip.scores[3, J("l_elbow")] == pytest.approx(0.9)  # c = 0: missing
    assert (clip.bat_scores == 0).all()


def test_a_coco18_folder_and_frames_in_number_order(tmp_path):
    # unpadded numbers: 10 sorts after 9 by number, not by name; frame 11 is missing (no one there)
    frames = {n: [person(OPENPOSE_COCO18, offset=(n, 0))] for n in (8, 9, 10, 12)}
    folder = write_folder(tmp_path / "c18", frames, digits=1)
    clip = load_clip(folder, fps=25)
    assert clip.frames == 5
    k = OPENPOSE_COCO18.index("l_ankle")  # 13
    np.testing.assert_array_equal(clip.keypoints[:, J("l_ankle"), 0], [8 + 10 * k, 9 + 10 * k, 10 + 10 * k, 0, 12 + 10 * k])
    assert (clip.scores[3] == 0).all() and (clip.scores[[0, 1, 2, 4]] > 0).all()
    k = OPENPOSE_COCO18.index("r_shoulder")  # 2
    np.testing.assert_array_equal(clip.keypoints[4, J("r_shoulder")], [12 + 10 * k, 5 * k])


def test_openpose_needs_fps(tmp_path):
    folder = write_folder(tmp_path / "f", {f: [person(OPENPOSE_COCO18)] for f in range(3)})
    with pytest.raises(ClipError, match=r"no frame rate in OpenPose output: pass fps=<frames per second>") as err:
        load_clip(folder)
    assert str(err.value).startswith(str(folder))


def two_people(f, swap=False):
    """The batter (large, central, moving) and a fielder (small, in a corner)."""
    batter = person(OPENPOSE_BODY25, offset=(400 + 2 * f, 150), scale=2.0)
    fielder = person(OPENPOSE_BODY25, offset=(20, 20), scale=0.3)
    return [fielder, batter] if swap else [batter, fielder]


def test_several_people_the_batter_is_chosen_and_followed(tmp_path):
    frames = {f: two_people(f, swap=f % 2 == 1) for f in range(6)}  # their order in the file changes
    folder = write_folder(tmp_path / "m", frames)
    clip = load_clip(folder, fps=25)
    k = OPENPOSE_BODY25.index("r_wrist")
    np.testing.assert_allclose(clip.keypoints[:, J("r_wrist"), 0], [400 + 2 * f + 20 * k for f in range(6)])
    fielder = load_clip(folder, fps=25, batter_index=1)  # frame 0's second person
    np.testing.assert_allclose(fielder.keypoints[:, J("r_wrist"), 0], 20 + 3 * k, rtol=1e-6)
    boxed = load_clip(folder, fps=25, batter_box=[0, 0, 60, 60])
    np.testing.assert_array_equal(boxed.keypoints, fielder.keypoints)
    with pytest.raises(ClipError, match="person index 5 not in frame 0"):
        load_clip(folder, fps=25, batter_index=5)


def test_a_single_frame_file_points_to_its_folder(tmp_path):
    folder = write_folder(tmp_path / "f", {0: [person(OPENPOSE_BODY25)]})
    one = next(folder.iterdir())
    with pytest.raises(ClipError, match="one frame of OpenPose output.*pass the folder") as err:
        load_clip(one, fps=25)
    assert str(err.value).startswith(str(one))


def test_find_inputs_takes_a_frame_folder_as_one_clip(tmp_path):
    write_folder(tmp_path / "lib" / "a_json", {f: [person(OPENPOSE_BODY25)] for f in range(3)})
    write_folder(tmp_path / "lib" / "deep" / "b_json", {f: [person(OPENPOSE_BODY25)] for f in range(3)})
    (tmp_path / "lib" / "a_json.npz").write_text("")
    (tmp_path / "lib" / "notes").mkdir()
    assert [(n, p.name) for n, p in find_inputs(tmp_path / "lib")] == [("a_json", "a_json"), ("a_json.npz", "a_json.npz")]
    names = [n for n, _ in find_inputs(tmp_path / "lib", recursive=True)]
    assert names == ["a_json", "a_json.npz", "deep/b_json"]
    assert find_inputs(tmp_path / "lib" / "a_json") == [("a_json", tmp_path / "lib" / "a_json")]


@pytest.mark.parametrize("make, message, names_frame", [
    (lambda d: (d / "x_000000000001_keypoints.json").write_text("{broken"), "not readable JSON", True),
    (lambda d: (d / "x_000000000001_keypoints.json").write_text('{"version": 1}'), "no 'people' list", True),
    (lambda d: (d / "x_000000000001_keypoints.json").write_text('{"people": [1]}'), "person 0 is not an object", True),
    (lambda d: (d / "x_000000000001_keypoints.json").write_text('{"people": [{"pose_keypoints_2d": [1, 2, 3, 4]}]}'),
     r"holds 4 numbers; expected x, y, confidence of 25 \(BODY_25\), 18 \(COCO-18\)", True),
    (lambda d: (d / "x_000000000001_keypoints.json").write_text('{"people": [{"pose_keypoints_2d": [[1, 2, 3]]}]}'),
     "not a flat list of numbers", True),
    (lambda d: (d / "x_000000000001_keypoints.json").write_text(
        json.dumps({"people": [{"pose_keypoints_2d": person(OPENPOSE_COCO18)}]})), "has 18 points, but", True),
    (lambda d: write_folder(d, {1: [person(OPENPOSE_BODY25)]}, stem="other"), "frames of 2 videos", False),
    (lambda d: (d / "x_2_keypoints.json").write_text("{}"), "frame 2 is there twice", False),
    (lambda d: write_folder(d, {500: [person(OPENPOSE_BODY25)]}, stem="x"), "miss 497 frames, more than the 4 there",
     False),
])
def test_a_malformed_folder_is_one_clear_line(tmp_path, make, message, names_frame):
    folder = write_folder(tmp_path / "bad", {f: [person(OPENPOSE_BODY25)] for f in (0, 2, 3)}, stem="x")
    make(folder)
    with pytest.raises(ClipError, match=message) as err:
        load_clip(folder, fps=25)
    text = str(err.value)
    assert "\n" not in text and text.startswith(str(folder))
    assert ("_keypoints.json: " in text) == names_frame  # a frame file's problem names that file


def test_an_empty_or_unknown_folder_says_what_it_expected(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ClipError, match=r"no OpenPose frame files \(<video>_<frame number>_keypoints.json\)"):
        load_clip(tmp_path / "empty", fps=25)


def test_fuzzed_frame_files_are_read_or_refused_never_a_crash(tmp_path):
    rng = np.random.default_rng(11)
    raw = json.dumps({"version": 1.3, "people": [{"person_id": [-1], "pose_keypoints_2d": person(OPENPOSE_BODY25)},
                                                 {"person_id": [-1], "pose_keypoints_2d": person(OPENPOSE_BODY25,
                                                                                                 offset=(300, 0))}]})
    outcomes = {"read": 0, "refused": 0}
    for k in range(150):
        folder = write_folder(tmp_path / f"f{k}", {f: [person(OPENPOSE_BODY25)] for f in range(3)})
        data = bytearray(raw.encode())
        for _ in range(int(rng.integers(1, 4))):
            i = int(rng.integers(0, len(data)))
            kind = int(rng.integers(0, 3))
            if kind == 0:
                del data[i: i + int(rng.integers(1, 12))]
            elif kind == 1:
                data[i:i] = rng.choice([b"[", b"]", b"{", b",", b'"', b"-", b"1e999", b"null", b"NaN"]).item()
            else:
                data[i] = int(rng.integers(0, 256))
        (folder / "swing_000000000001_keypoints.json").write_bytes(bytes(data))
        try:
            clip = load_clip(folder, fps=25)
            assert np.isfinite(clip.keypoints).all() and np.isfinite(clip.scores).all()
            outcomes["read"] += 1
        except ClipError as e:
            assert "\n" not in str(e) and "cannot be read as" not in str(e), str(e)
            outcomes["refused"] += 1
    assert outcomes["read"] > 2 and outcomes["refused"] > 100, outcomes
