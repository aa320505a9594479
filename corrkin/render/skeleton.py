"""Skeleton pictures: swing videos a coach can watch, and OpenPose-style pose images.

* :func:`skeleton_frames` draws a clip's 13 joints and bat frame by frame, either normalised
  (pelvis-centred and scaled to a fixed shoulder width, so clips compare side by side) or over
  the source video; the bat tip leaves a fading trail; with an analysis result, the joints on
  the correlation path light up around their activation frames.
* :func:`write_skeleton_video` encodes them as H.264 mp4 (or WebM) through PyAV, whose wheel
  ships the encoders (no system ffmpeg), and as a gif.
* :func:`openpose_image` draws OpenPose's 18-point body (COCO-17 converted, neck = shoulder
  midpoint) with its standard limb colours and widths on black: the conditioning picture
  pose-conditioned image models expect; the bat can be added as an extra stick.

Frames are ``(H, W, 3)`` uint8 RGB; keypoints are pixels ``(x, y)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from corrkin.io.keypoints import Clip
from corrkin.skeleton import BAT, NODE_INDEX, NODES

# our 13 joints and the bat: limbs (node pairs) and their colours (RGB; left warm, right cool)
LIMBS = [("l_ankle", "l_knee"), ("l_knee", "l_hip"), ("r_ankle", "r_knee"), ("r_knee", "r_hip"),
         ("l_hip", "r_hip"), ("l_hip", "l_shoulder"), ("r_hip", "r_shoulder"), ("l_shoulder", "r_shoulder"),
         ("l_shoulder", "l_elbow"), ("l_elbow", "l_wrist"), ("r_shoulder", "r_elbow"), ("r_elbow", "r_wrist")]
LEFT, RIGHT, CENTRE = (235, 120, 40), (40, 140, 235), (220, 220, 220)
BAT_COLOUR, TRAIL_COLOUR, PATH_COLOUR = (250, 210, 60), (250, 210, 60), (255, 40, 90)


def _side(name: str) -> tuple[int, int, int]:
    return LEFT if name.startswith("l_") else RIGHT if name.startswith("r_") else CENTRE


def _pt(p) -> tuple[int, int]:
    return int(round(float(p[0]) * 16)), int(round(float(p[1]) * 16))  # 4 fractional bits


def draw_pose(frame: np.ndarray, pts: np.ndarray, valid: np.ndarray, scale: float = 1.0,
              lit: dict[str, float] | None = None, trail: list[np.ndarray] | None = None) -> np.ndarray:
    """Draw one frame's skeleton ``pts (14, 2)`` (13 joints, bat tip) on ``frame`` in place.

    ``valid (14,)``: points to draw; ``scale``: line widths for a shoulder width of 100 px;
    ``lit``: node -> brightness in [0, 1] of its highlight ring (path joints at activation);
    ``trail``: earlier bat-tip positions, oldest first, drawn fading."""
    thick = max(1, int(round(3 * scale)))
    rad = max(2, int(round(4 * scale)))
    aa, shift = cv2.LINE_AA, 4
    if trail:
        for k, (a, b) in enumerate(zip(trail, trail[1:] + [pts[BAT]])):
            if np.isfinite(a).all() and np.isfinite(b).all():
                fade = (k + 1) / len(trail)
                col = tuple(int(c * fade) for c in TRAIL_COLOUR)
                cv2.line(frame, _pt(a), _pt(b), col, max(1, int(thick * fade)), aa, shift)
    for a, b in LIMBS:
        i, j = NODE_INDEX[a], NODE_INDEX[b]
        if valid[i] and valid[j]:
            cv2.line(frame, _pt(pts[i]), _pt(pts[j]), _side(a if a[:2] == b[:2] else "c"), thick, aa, shift)
    wl, wr = NODE_INDEX["l_wrist"], NODE_INDEX["r_wrist"]
    if valid[BAT] and (valid[wl] or valid[wr]):
        hands = pts[[w for w in (wl, wr) if valid[w]]].mean(0)
        cv2.line(frame, _pt(hands), _pt(pts[BAT]), BAT_COLOUR, thick + 1, aa, shift)
    for k, name in enumerate(NODES):
        if valid[k]:
            cv2.circle(frame, _pt(pts[k]), rad * 16, BAT_COLOUR if k == BAT else _side(name), -1, aa, shift)
    for name, glow in (lit or {}).items():
        k = NODE_INDEX[name]
        if valid[k] and glow > 0:
            col = tuple(int(c * glow) for c in PATH_COLOUR)
            cv2.circle(frame, _pt(pts[k]), int(rad * 2.2 * 16), col, thick, aa, shift)
    return frame


def _points(clip: Clip) -> tuple[np.ndarray, np.ndarray]:
    """``(T, 14, 2)`` points and ``(T, 14)`` validity of a clip (a score of 0 is missing)."""
    pts = np.concatenate([clip.keypoints, clip.bat[:, None]], 1).astype(np.float64)
    valid = np.concatenate([clip.scores, clip.bat_scores[:, None]], 1) > 0
    return pts, valid & np.isfinite(pts).all(-1)


def shoulder_width(pts: np.ndarray, valid: np.ndarray) -> float | None:
    """Median shoulder width (pixels) over the frames where both shoulders are there."""
    ls, rs = NODE_INDEX["l_shoulder"], NODE_INDEX["r_shoulder"]
    both = valid[:, ls] & valid[:, rs]
    return float(np.median(np.linalg.norm(pts[both, ls] - pts[both, rs], axis=-1))) if both.any() else None


def normalised(clip: Clip, size: tuple[int, int] = (480, 480), width_px: float = 70.0) -> tuple[np.ndarray, np.ndarray]:
    """The clip's points pelvis-centred and scaled to ``width_px`` per median shoulder width,
    placed in a ``size = (W, H)`` frame (pelvis a little above the middle)."""
    pts, valid = _points(clip)
    pel = NODE_INDEX["pelvis"]
    scale = width_px / (shoulder_width(pts, valid) or 1.0)
    centre = np.array([size[0] / 2, size[1] * 0.45])
    out = (pts - pts[:, pel: pel + 1]) * scale + centre
    return out, valid & valid[:, pel: pel + 1]


def _glow(record: dict | None, frame: int, fps: float, half_s: float = 0.12) -> dict[str, float]:
    """Path joints lit around their activation frames: 1 at the frame, fading to 0 ``half_s`` away."""
    if not record or not record.get("path"):
        return {}
    span = max(1.0, half_s * fps)
    out = {}
    for name in record["path"]:
        if record["activation_frames"].get(name) is None:
            continue
        d = abs(frame - record["activation_frames"][name])
        if d <= span:
            out[name] = 1.0 - d / (span + 1)
    return out


def skeleton_frames(clip: Clip, record: dict | None = None, size: tuple[int, int] = (480, 480),
                    background: np.ndarray | None = None, trail: int = 8) -> Iterator[np.ndarray]:
    """Frames of the clip's skeleton: normalised on black, or with ``background`` ``(T, H, W, 3)``
    (the source video) drawn over at the keypoints' own pixels."""
    if background is None:
        pts, valid = normalised(clip, size)
        scale = 0.7
    else:
        pts, valid = _points(clip)
        size = (background.shape[2], background.shape[1])
        scale = (shoulder_width(pts, valid) or 70.0) / 100
    tips: list[np.ndarray] = []
    for t in range(len(pts)):
        frame = np.zeros((size[1], size[0], 3), np.uint8) if background is None else background[t].copy()
        draw_pose(frame, pts[t], valid[t], scale, _glow(record, t, clip.fps), tips[-trail:] if trail else None)
        tips.append(pts[t, BAT] if valid[t, BAT] else np.full(2, np.nan))
        yield frame


def write_skeleton_video(path: str | Path, clip: Clip, record: dict | None = None, size: tuple[int, int] = (480, 480),
                         background: np.ndarray | None = None, gif: str | Path | None = None,
                         gif_fps: float = 12.5) -> np.ndarray:
    """The skeleton video as ``path`` (``.mp4``: H.264; ``.webm``: VP9) and, with ``gif``, a gif
    at ``gif_fps`` or less; both written atomically. Returns the frames ``(T, H, W, 3)``."""
    from corrkin.io.results import atomic_write
    from corrkin.io.video import write_video

    frames = np.stack(list(skeleton_frames(clip, record, size, background)))
    codec = "libvpx-vp9" if Path(path).suffix == ".webm" else "libx264"
    write_video(path, frames, clip.fps, codec=codec)
    if gif is not None:
        from PIL import Image

        step = max(1, int(round(clip.fps / gif_fps)))
        images = [Image.fromarray(f) for f in frames[::step]]
        with atomic_write(gif) as f:
            images[0].save(f, format="GIF", save_all=True, append_images=images[1:], loop=0,
                           duration=int(round(1000 * step / clip.fps)))
    return frames


# OpenPose's 18-point body: order, limbs (point pairs) and colours as its tools draw them
OPENPOSE_POINTS = ("nose", "neck", "r_shoulder", "r_elbow", "r_wrist", "l_shoulder", "l_elbow", "l_wrist",
                   "r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle", "r_eye", "l_eye", "r_ear", "l_ear")
OPENPOSE_LIMBS = ((1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11), (11, 12),
                  (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17))
OPENPOSE_COLOURS = ((255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0),
                    (0, 255, 0), (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255),
                    (0, 0, 255), (85, 0, 255), (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85))
COCO17 = ("nose", "l_eye", "r_eye", "l_ear", "r_ear", "l_shoulder", "r_shoulder", "l_elbow", "r_elbow", "l_wrist",
          "r_wrist", "l_hip", "r_hip", "l_knee", "r_knee", "l_ankle", "r_ankle")
OPENPOSE_BAT_COLOUR = (255, 255, 255)


def coco_to_openpose(kp: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """COCO-17 points ``(17, 2)`` to OpenPose's 18 ``(18, 2)``: the neck is the shoulders' midpoint."""
    idx = {n: k for k, n in enumerate(COCO17)}
    out = np.zeros((18, 2))
    ok = np.zeros(18, bool)
    for k, name in enumerate(OPENPOSE_POINTS):
        if name == "neck":
            a, b = idx["l_shoulder"], idx["r_shoulder"]
            out[k], ok[k] = (kp[a] + kp[b]) / 2, bool(valid[a] and valid[b])
        else:
            out[k], ok[k] = kp[idx[name]], bool(valid[idx[name]])
    return out, ok


def joints_to_coco(pts: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Our 13 joints ``(13+, 2)`` as COCO-17 (the face points missing)."""
    out, ok = np.zeros((17, 2)), np.zeros(17, bool)
    for k, name in enumerate(COCO17):
        if name in NODE_INDEX:
            out[k], ok[k] = pts[NODE_INDEX[name]], bool(valid[NODE_INDEX[name]])
    return out, ok


def openpose_image(points: np.ndarray, valid: np.ndarray, size: tuple[int, int], bat: np.ndarray | None = None,
                   stick: int = 4) -> np.ndarray:
    """OpenPose's body drawing of ``points (18, 2)`` on black ``size = (W, H)``: each limb a
    filled ellipse ``stick`` px wide in 0.6 x its colour, each point a disc of radius 4 in its
    colour; ``bat = (hands, tip)`` adds the bat as a white stick."""
    canvas = np.zeros((size[1], size[0], 3), np.uint8)
    for k, (a, b) in enumerate(OPENPOSE_LIMBS):
        if not (valid[a] and valid[b]):
            continue
        (x0, y0), (x1, y1) = points[a], points[b]
        length = float(np.hypot(x1 - x0, y1 - y0))
        angle = float(np.degrees(np.arctan2(y1 - y0, x1 - x0)))
        centre = (int((x0 + x1) / 2), int((y0 + y1) / 2))
        poly = cv2.ellipse2Poly(centre, (int(length / 2), stick), int(angle), 0, 360, 1)
        cv2.fillConvexPoly(canvas, poly, tuple(int(c * 0.6) for c in OPENPOSE_COLOURS[k]))
    if bat is not None and np.isfinite(bat).all():
        cv2.line(canvas, tuple(int(v) for v in bat[0]), tuple(int(v) for v in bat[1]), OPENPOSE_BAT_COLOUR, stick)
    for k in range(18):
        if valid[k]:
            cv2.circle(canvas, (int(points[k][0]), int(points[k][1])), 4, OPENPOSE_COLOURS[k], -1)
    return canvas


def openpose_frames(clip, size: tuple[int, int], bat: bool):
    """OpenPose pictures of every frame of ``clip`` at its own pixels in a ``size`` frame."""
    pts = np.concatenate([clip.keypoints, clip.bat[:, None]], 1)
    valid = np.concatenate([clip.scores, clip.bat_scores[:, None]], 1) > 0
    hands = [NODE_INDEX["l_wrist"], NODE_INDEX["r_wrist"]]
    for t in range(clip.frames):
        coco, ok = joints_to_coco(pts[t], valid[t])
        op, op_ok = coco_to_openpose(coco, ok)
        stick = None
        if bat and valid[t, BAT] and valid[t, hands].any():
            stick = np.stack([pts[t, hands][valid[t, hands]].mean(0), pts[t, BAT]])
        yield openpose_image(op, op_ok, size, stick)
