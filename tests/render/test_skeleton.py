"""Skeleton pictures checked by their pixels, and the videos by their frames and rate."""

import av
import numpy as np
import pytest
from PIL import Image

from corrkin.render.skeleton import (
    BAT_COLOUR,
    LEFT,
    OPENPOSE_COLOURS,
    OPENPOSE_LIMBS,
    OPENPOSE_POINTS,
    coco_to_openpose,
    draw_pose,
    joints_to_coco,
    normalised,
    openpose_image,
    skeleton_frames,
    write_skeleton_video,
)
from corrkin.skeleton import JOINTS, NODE_INDEX
from corrkin.synth import SwingSpec, make_clip


@pytest.fixture(scope="module")
def clip():
    c, _ = make_clip(SwingSpec(fps=25, duration_s=1.2, swing_at_s=0.6), seed=1, name="swing")
    return c


def test_each_joint_is_drawn_where_its_keypoint_is():
    rng = np.random.default_rng(0)
    pts = rng.uniform(40, 440, size=(14, 2))
    frame = draw_pose(np.zeros((480, 480, 3), np.uint8), pts, np.ones(14, bool))
    for name in JOINTS + ("bat",):
        x, y = np.rint(pts[NODE_INDEX[name]]).astype(int)
        assert frame[y, x].any(), name
    # a joint's disc has its side's colour at its centre, the bat tip the bat's
    x, y = np.rint(pts[NODE_INDEX["l_knee"]]).astype(int)
    lone = draw_pose(np.zeros((480, 480, 3), np.uint8), pts, np.arange(14) == NODE_INDEX["l_knee"])
    assert tuple(lone[y, x]) == LEFT
    x, y = np.rint(pts[13]).astype(int)
    lone = draw_pose(np.zeros((480, 480, 3), np.uint8), pts, np.arange(14) == 13)
    assert tuple(lone[y, x]) == BAT_COLOUR
    # nothing is drawn for a missing point
    assert not draw_pose(np.zeros((480, 480, 3), np.uint8), pts, np.zeros(14, bool)).any()


def test_normalised_view_puts_the_pelvis_in_place_and_fixes_the_shoulder_width(clip):
    pts, valid = normalised(clip, (400, 300), width_px=50.0)
    pel = NODE_INDEX["pelvis"]
    np.testing.assert_allclose(pts[:, pel], np.tile([200, 135], (clip.frames, 1)))
    w = np.linalg.norm(pts[:, NODE_INDEX["l_shoulder"]] - pts[:, NODE_INDEX["r_shoulder"]], axis=-1)
    assert np.median(w) == pytest.approx(50.0)


def test_path_joints_light_up_at_their_activation(clip):
    record = {"path": ["l_wrist"], "activation_frames": {"l_wrist": 10}}
    frames = list(skeleton_frames(clip, record, (320, 320), trail=0))
    plain = list(skeleton_frames(clip, None, (320, 320), trail=0))
    assert not np.array_equal(frames[10], plain[10])  # the ring around the wrist
    assert np.array_equal(frames[25], plain[25])  # long after: nothing lit


def test_the_mp4_has_every_frame_at_the_clip_rate_and_the_gif_is_written(clip, tmp_path):
    write_skeleton_video(tmp_path / "s.mp4", clip, size=(320, 240), gif=tmp_path / "s.gif")
    with av.open(str(tmp_path / "s.mp4")) as c:
        s = c.streams.video[0]
        frames = sum(1 for _ in c.decode(s))
        assert (s.codec_context.name, s.width, s.height) == ("h264", 320, 240)
        assert float(s.average_rate) == pytest.approx(25.0)
    assert frames == clip.frames
    gif = Image.open(tmp_path / "s.gif")
    assert gif.n_frames == len(range(0, clip.frames, 2))


def test_overlay_draws_on_the_source_frames(clip):
    bg = np.full((clip.frames, 720, 1280, 3), 30, np.uint8)
    first = next(skeleton_frames(clip, None, background=bg))
    x, y = np.rint(clip.keypoints[0, NODE_INDEX["pelvis"]]).astype(int)
    assert first.shape == (720, 1280, 3) and (first[y, x] != 30).any() and (first[0, 0] == 30).all()


def test_openpose_limbs_have_the_standard_colours():
    # a person standing, COCO-17, in a 512 x 512 picture
    coco = np.array([[256, 80], [246, 70], [266, 70], [236, 76], [276, 76], [216, 130], [296, 130], [196, 200],
                     [316, 200], [186, 270], [326, 270], [226, 280], [286, 280], [222, 370], [290, 370],
                     [220, 460], [292, 460]], float)
    pts, ok = coco_to_openpose(coco, np.ones(17, bool))
    np.testing.assert_allclose(pts[1], [256, 130])  # the neck: the shoulders' midpoint
    img = openpose_image(pts, ok, (512, 512))
    for k, (a, b) in enumerate(OPENPOSE_LIMBS):
        if k >= 12:  # the head's short limbs overlap their discs
            continue
        mid = np.rint((pts[a] + pts[b]) / 2).astype(int)
        expect = np.array([int(c * 0.6) for c in OPENPOSE_COLOURS[k]])
        assert np.abs(img[mid[1], mid[0]].astype(int) - expect).max() <= 1, (OPENPOSE_POINTS[a], OPENPOSE_POINTS[b])
    for k in range(18):
        x, y = pts[k].astype(int)
        assert tuple(img[y, x]) == OPENPOSE_COLOURS[k], OPENPOSE_POINTS[k]
    with_bat = openpose_image(pts, ok, (512, 512), bat=np.array([[326, 270], [420, 120]]))
    assert tuple(with_bat[195, 373]) == (255, 255, 255)


def test_our_joints_convert_without_a_face(clip):
    pts = np.concatenate([clip.keypoints[0], clip.bat[:1]])
    coco, ok = joints_to_coco(pts, np.ones(14, bool))
    assert ok.sum() == 12 and not ok[:5].any()  # no nose, eyes, ears; 12 body points
    op, op_ok = coco_to_openpose(coco, ok)
    assert op_ok.sum() == 13  # and the neck


def test_corrkin_render_writes_videos_gifs_and_openpose_frames(clip, tmp_path):
    from corrkin.cli import main
    from corrkin.io.keypoints import save_clip
    from corrkin.io.video import write_video

    save_clip(tmp_path / "kp" / "swing.npz", clip)
    (tmp_path / "kp" / "broken.npz").write_bytes(b"nope")
    out = tmp_path / "out"
    assert main(["render", f"input={tmp_path / 'kp'}", f"output={out}", "openpose=true", "format=webm"]) == 1
    with av.open(str(out / "swing_skeleton.webm")) as c:
        assert c.streams.video[0].codec_context.name == "vp9" and sum(1 for _ in c.decode(video=0)) == clip.frames
    assert Image.open(out / "swing.gif").n_frames > 1
    frames = sorted((out / "swing_openpose").glob("*.png"))
    assert len(frames) == clip.frames
    img = np.asarray(Image.open(frames[0]))
    x, y = clip.keypoints[0, NODE_INDEX["l_shoulder"]].astype(int)
    assert tuple(img[y, x]) == OPENPOSE_COLOURS[OPENPOSE_POINTS.index("l_shoulder")]
    # over the source video
    write_video(tmp_path / "src.mp4", np.full((clip.frames, 720, 1280, 3), 40, np.uint8), clip.fps)
    assert main(["render", f"input={tmp_path / 'kp' / 'swing.npz'}", f"output={tmp_path / 'ov'}",
                 f"video={tmp_path / 'src.mp4'}", "gif=false"]) == 0
    with av.open(str(tmp_path / "ov" / "swing_skeleton.mp4")) as c:
        assert (c.streams.video[0].width, c.streams.video[0].height) == (1280, 720)


def test_a_run_output_renders_by_clip_name(clip, tmp_path):
    """``corrkin run`` writes ``<clip>/keypoints.npz``: rendering that folder, or one such file,
    names each video after its clip, not ``keypoints_skeleton.mp4``."""
    from corrkin.cli import main
    from corrkin.io.keypoints import save_clip

    for name in ("cover_drive", "pull"):
        save_clip(tmp_path / "run" / name / "keypoints.npz", clip)
    assert main(["render", f"input={tmp_path / 'run'}", f"output={tmp_path / 'all'}", "gif=false"]) == 0
    assert sorted(p.name for p in (tmp_path / "all").glob("*.mp4")) == ["cover_drive_skeleton.mp4", "pull_skeleton.mp4"]
    assert main(["render", f"input={tmp_path / 'run' / 'pull' / 'keypoints.npz'}", f"output={tmp_path / 'one'}",
                 "gif=false"]) == 0
    assert [p.name for p in (tmp_path / "one").glob("*.mp4")] == ["pull_skeleton.mp4"]
