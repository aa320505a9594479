"""Skeleton pictures checked by their pixels, and the videos by their frames and rate."""

from dataclasses import replace

import av
import numpy as np
import pytest
from PIL import Image

from corrkin.io.keypoints import load_clip
from corrkin.plots.timebase import impact_ms
from corrkin.render.skeleton import (
    BAT_COLOUR,
    BODY_TRUNKS,
    GLOW_RING,
    IMPACT_COLOUR,
    LEFT,
    OPENPOSE_COLOURS,
    OPENPOSE_LIMBS,
    OPENPOSE_POINTS,
    _points,
    caption,
    caption_height,
    coco_to_openpose,
    disc_radius,
    draw_pose,
    frame_caption,
    joints_to_coco,
    line_scale,
    normalised,
    openpose_image,
    skeleton_frames,
    write_skeleton_video,
)
from corrkin.skeleton import BAT, JOINTS, NODE_INDEX
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


def _inside(pts: np.ndarray, valid: np.ndarray, box: tuple[float, float, float, float]) -> bool:
    x0, y0, x1, y1 = box
    p = pts[valid]
    return bool(len(p)) and bool(((p[:, 0] >= x0) & (p[:, 0] <= x1) & (p[:, 1] >= y0) & (p[:, 1] <= y1)).all())


def _trunk(pts: np.ndarray) -> np.ndarray:
    n = NODE_INDEX
    return np.linalg.norm((pts[:, n["l_shoulder"]] + pts[:, n["r_shoulder"]]) / 2
                          - (pts[:, n["l_hip"]] + pts[:, n["r_hip"]]) / 2, axis=-1)


def test_normalised_view_holds_the_pelvis_still_and_every_point_inside_its_margin(clip):
    size, band, margin = (400, 300), 30, 12
    pts, valid = normalised(clip, size, band=band, margin=margin)
    pel = NODE_INDEX["pelvis"]
    assert np.ptp(pts[:, pel], axis=0).max() < 1e-9  # one place for the whole clip
    assert _inside(pts, valid, (margin, band + margin, size[0] - margin, size[1] - margin))
    # it is fitted: some point touches the margin on one axis or the body fills BODY_TRUNKS trunks
    p = pts[valid]
    touches = np.isclose(p.min(0), [margin, band + margin]).any() or np.isclose(p.max(0), [size[0] - margin,
                                                                                        size[1] - margin]).any()
    assert touches or np.median(_trunk(pts)) == pytest.approx((size[1] - band - 2 * margin) / BODY_TRUNKS, rel=0.02)


def test_every_drawn_point_of_every_seed_clip_lies_inside_the_frame(seed_dir):
    """The broadcast seed clips (side-on, camera cuts, bat tips detected far off): the whole
    batter and the bat tip's path (the trail is drawn through the same points) stay in the
    frame, below the caption, with room for a joint's disc."""
    for path in sorted(seed_dir.glob("*.npz")):
        c = load_clip(path, fps=25)
        for size in ((480, 480), (360, 360), (640, 360)):
            pts, valid = normalised(c, size)
            r = disc_radius(line_scale(size)) * GLOW_RING
            band = caption_height(size[1], 2)
            assert valid[:, BAT].mean() > 0.9, path.name  # the bat's path is there to be checked
            assert _inside(pts, valid, (r, band + r, size[0] - r, size[1] - r)), (path.name, size)


def _side_on(c, gap_px: float = 0.5):
    """``c`` as a camera square of the pitch sees a side-on batter: the shoulders (and the hips)
    nearly on top of each other, the trunk as long as it was."""
    kp = c.keypoints.copy()
    for a, b in (("l_shoulder", "r_shoulder"), ("l_hip", "r_hip")):
        mid = (kp[:, NODE_INDEX[a]] + kp[:, NODE_INDEX[b]]) / 2
        kp[:, NODE_INDEX[a]], kp[:, NODE_INDEX[b]] = mid - [gap_px / 2, 0], mid + [gap_px / 2, 0]
    kp[:, NODE_INDEX["pelvis"]] = (kp[:, NODE_INDEX["l_hip"]] + kp[:, NODE_INDEX["r_hip"]]) / 2
    return replace(c, keypoints=kp)


def test_a_side_on_batter_is_drawn_at_the_size_a_front_on_one_is(clip):
    """Shoulders 0.5 px apart used to scale the body 140-fold, off the frame; the trunk does not
    vanish side-on, so the side-on clip is drawn the size of the front-on one."""
    side = _side_on(clip)
    pts, _ = _points(side)
    assert np.abs(pts[:, NODE_INDEX["l_shoulder"]] - pts[:, NODE_INDEX["r_shoulder"]]).max() < 1.0
    size = (480, 480)
    front_pts, _ = normalised(clip, size)
    side_pts, side_valid = normalised(side, size)
    trunk = np.median(_trunk(side_pts))
    assert trunk == pytest.approx(np.median(_trunk(front_pts)), rel=0.1)
    assert 0.12 * size[1] < trunk < 0.3 * size[1]  # a body of some 3 trunks fills a good part of the frame
    assert _inside(side_pts, side_valid, (0, 0, *size))


def test_a_camera_cut_does_not_change_the_drawn_size(clip):
    """Broadcast clips cut and zoom (the trunk from 200 px to 73 px within a seed clip): the
    normalised view keeps the body's size across a cut; only the frames near it may differ."""
    kp, bat = clip.keypoints.copy(), clip.bat.copy()
    half = clip.frames // 2
    pel = kp[half:, NODE_INDEX["pelvis"]][:, None]
    kp[half:] = (kp[half:] - pel) * 0.4 + pel + [-300, 50]  # zoomed out and panned at the cut
    bat[half:] = (bat[half:] - pel[:, 0]) * 0.4 + pel[:, 0] + [-300, 50]
    cut = replace(clip, keypoints=kp, bat=bat)
    pts, _ = normalised(cut, (480, 480))
    trunk = _trunk(pts)
    assert np.median(trunk[:half]) == pytest.approx(np.median(trunk[half:]), rel=0.1)


def test_each_frame_is_captioned_with_the_clip_the_time_from_impact_and_the_frame(clip):
    record = {"bat": {"peak_ms": 600.0}, "events": {"reference": "ball_contact",
                                                   "events": {"ball_contact": {"clip_ms": 620.0}}}}
    impact = impact_ms(record)
    assert impact == (620.0, "ball contact")
    name, (line, colour) = frame_caption("swing", 10, 30, 25.0, impact)
    assert name == "swing" and line == "-220 ms from impact | frame 10/30" and colour == (255, 255, 255)
    assert frame_caption("swing", 15, 30, 25.0, impact)[1] == ("-20 ms from impact | frame 15/30", IMPACT_COLOUR)
    assert frame_caption("swing", 10, 30, 25.0, None)[1] == "400 ms from clip start | frame 10/30"
    assert impact_ms({"bat": {"peak_ms": 600.0}}) == (600.0, "bat peak speed") and impact_ms(None) is None


def test_the_caption_is_drawn_in_its_band_and_nowhere_else(clip):
    size = (480, 480)
    band = caption_height(size[1], 2)
    plain = list(skeleton_frames(clip, None, size, captions=False))
    shown = list(skeleton_frames(clip, None, size))
    timed = list(skeleton_frames(clip, {"bat": {"peak_ms": 600.0}}, size))
    for t in (0, 15, 29):
        assert not plain[t][:band].any()  # the skeleton leaves the band free ...
        assert np.array_equal(shown[t][band:], timed[t][band:])  # ... and the caption stays in it
        text = shown[t][:band]
        assert (text > 200).all(-1).sum() > 150  # white letters
        assert not np.array_equal(text, timed[t][:band])  # "from clip start" vs "from impact"
    # the frame number changes from frame to frame
    assert not np.array_equal(shown[3][:band], shown[4][:band])


def test_a_caption_is_legible_over_a_bright_picture_and_cut_to_the_width():
    frame = np.full((360, 360, 3), 255, np.uint8)
    caption(frame, ["a clip named at great length, \u00e9t\u00e9 2026, far wider than the frame", "+12 ms"])
    box = frame[: caption_height(360, 2)]
    assert (box < 70).all(-1).mean() > 0.5  # a dark box ...
    assert (box > 200).all(-1).sum() > 100  # ... with white letters on it
    assert (frame[caption_height(360, 2) + 1:] == 255).all()  # below it the picture is as it was
    bottom = caption(np.full((120, 200, 3), 255, np.uint8), ["low"], bottom=True)
    assert (bottom[: 120 - caption_height(120, 1)] == 255).all() and (bottom[-5:] < 255).any()


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
    assert first.shape == (720, 1280, 3) and (first[y, x] != 30).any() and (first[-1, -1] == 30).all()
    assert (first[: caption_height(720, 2), :100] < 30).any()  # the caption's box, darker than the video


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


def test_a_run_output_is_drawn_with_its_result(clip, tmp_path):
    """Beside a run's ``<clip>/keypoints.npz`` lies its ``result.json``: the video is drawn with
    it (time from impact, the path lit); a damaged one is named and the clip drawn without."""
    from corrkin.cli import main
    from corrkin.commands.render import _record
    from corrkin.io.keypoints import save_clip

    save_clip(tmp_path / "kp" / "swing.npz", clip)
    assert main(["analyse", f"input={tmp_path / 'kp' / 'swing.npz'}", f"output={tmp_path / 'run'}", "plots=false",
                 "progress=false"]) in (0, 1)
    save_clip(tmp_path / "run" / "swing" / "keypoints.npz", clip)
    record = _record(tmp_path / "run" / "swing" / "keypoints.npz")
    assert record is not None and record["clip"] == "swing" and "bat" in record
    assert _record(tmp_path / "kp" / "swing.npz") is None  # a bare keypoint file has no result
    (tmp_path / "run" / "swing" / "result.json").write_text('{"clip": "swi')  # cut off
    assert _record(tmp_path / "run" / "swing" / "keypoints.npz") is None
    assert main(["render", f"input={tmp_path / 'run'}", f"output={tmp_path / 'out'}", "gif=false"]) == 0
