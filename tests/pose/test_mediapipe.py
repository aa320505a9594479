"""MediaPipe Pose, offline, on a real photograph and on rendered frames."""

import sys

import numpy as np
import pytest
import torch

mp = pytest.importorskip("mediapipe", reason="mediapipe is a project dependency; its import failed")
from skimage import data  # noqa: E402

from corrkin.pose.mediapipe import MediaPipePose  # noqa: E402
from corrkin.skeleton import COCO17  # noqa: E402

# the astronaut (skimage.data.astronaut, 512 x 512): head and shoulders fill the left two thirds
PERSON = (60, 20, 420, 512)  # x1, y1, x2, y2


def test_astronaut_shoulders_and_nose_inside_the_person():
    img = torch.from_numpy(data.astronaut()).permute(2, 0, 1)[None]
    kps, scores = MediaPipePose().coco17([img], static=True)
    assert kps.shape == (1, 17, 2) and scores.shape == (1, 17)
    x1, y1, x2, y2 = PERSON
    for name in ("nose", "l_shoulder", "r_shoulder"):
        x, y = kps[0, COCO17.index(name)]
        assert x1 <= x <= x2 and y1 <= y <= y2, (name, x, y)
        assert scores[0, COCO17.index(name)] > 0.5
    nose = kps[0, COCO17.index("nose")]
    assert kps[0, COCO17.index("l_shoulder"), 1] > nose[1] and kps[0, COCO17.index("r_shoulder"), 1] > nose[1]
    # the person's left shoulder is on the image's right
    assert kps[0, COCO17.index("l_shoulder"), 0] > kps[0, COCO17.index("r_shoulder"), 0]


def test_video_frames_give_t_by_17_in_pixels(tmp_path):
    from corrkin.io.video import probe, read_video, write_video

    frames = np.repeat(data.astronaut()[None], 4, 0)
    write_video(tmp_path / "still.mp4", frames, 25)
    info = probe(tmp_path / "still.mp4")
    backend = MediaPipePose()
    kps, scores = backend.coco17(c.frames for c in read_video(tmp_path / "still.mp4", chunk_frames=3))
    assert kps.shape == (4, 17, 2) and np.isfinite(kps).all()
    # MediaPipe also places landmarks it cannot see (her knees, ankles) outside the picture,
    # some with high visibility; what must hold is that the upper body lands on the person
    x1, y1, x2, y2 = PERSON
    for name in ("nose", "l_shoulder", "r_shoulder"):
        x, y = kps[:, COCO17.index(name)].T
        assert ((x1 <= x) & (x <= x2) & (y1 <= y) & (y <= y2)).all(), name
    assert info.width == 512 and info.height == 512
    people = backend(tmp_path / "still.mp4", info, 1, lambda: (c.frames for c in read_video(tmp_path / "still.mp4")))
    assert people.keypoints.shape == (4, 1, 17, 2) and people.valid.all()
    np.testing.assert_array_equal(people.keypoints[:, 0], kps)
    # the box holds every keypoint the model scored
    assert (people.boxes[:, 0, :2] <= kps.min(1)).all() and (people.boxes[:, 0, 2:] >= kps.max(1)).all()


NOISE = ("TensorFlow Lite", "absl::InitializeLog", "W0000", "No CUDA runtime")


def test_corrkin_run_says_nothing_of_others_start_up_unless_verbose(tmp_path):
    """MediaPipe's native notes (TensorFlow Lite, absl) and torch's "No CUDA runtime" on every
    start are silenced; ``--verbose`` shows them (so this test sees them when they are there)."""
    import subprocess
    import sys

    from corrkin.synth import SwingSpec
    from corrkin.synth_video import write_rendered

    video, truth = write_rendered(tmp_path / "videos", SwingSpec(fps=25, duration_s=1.2, swing_at_s=0.6), seed=1,
                                  name="s")
    truth.unlink()
    said = {}
    for how in ("quiet", "--verbose"):
        args = [sys.executable, "-m", "corrkin", "run", f"input={tmp_path / 'videos'}", f"output={tmp_path / how}",
                "pose=mediapipe", "progress=false", "plots=false"] + ([how] if how == "--verbose" else [])
        done = subprocess.run(args, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        said[how] = done.stderr
    assert not [n for n in NOISE if n in said["quiet"]], said["quiet"]
    assert "TensorFlow Lite" in said["--verbose"]


def test_without_mediapipe_the_run_says_which_backends_remain(tmp_path, monkeypatch, capsys):
    """Where mediapipe has no wheel (Linux arm64), corrkin installs without it; pose=mediapipe
    then says so in one line, naming the other backends, before any work (exit code 2)."""
    from corrkin.cli import main
    from corrkin.synth import SwingSpec
    from corrkin.synth_video import write_rendered

    video, _ = write_rendered(tmp_path / "v", SwingSpec(fps=25, duration_s=1.0, swing_at_s=0.5), seed=1, name="s")
    monkeypatch.setitem(sys.modules, "mediapipe", None)  # as if not installed
    assert main(["run", f"input={video}", f"output={tmp_path / 'out'}", "pose=mediapipe", "progress=false"]) == 2
    err = capsys.readouterr().err
    assert "pose=mediapipe needs mediapipe 0.10.21" in err and "pose=mmpose" in err and "Traceback" not in err
    assert "Error executing job" not in err and "full_key" not in err
    assert not list((tmp_path / "out").glob("*/result.json"))
