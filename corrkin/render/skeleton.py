"""Skeleton pictures: swing videos a coach can watch, and OpenPose-style pose images.

* :func:`skeleton_frames` draws a clip's 13 joints and bat frame by frame, either normalised
  (pelvis-centred, scaled by the trunk's length, which a side-on camera does not foreshorten as
  it does the shoulders, and fitted so the whole batter and the bat tip's path stay in the
  frame; clips compare side by side) or over the source video; the bat tip leaves a fading
  trail; with an analysis result, the joints on the correlation path light up around their
  activation frames. Each frame is captioned: the clip's name, the time from impact (the
  record's reference event, :mod:`corrkin.plots.timebase`; without a record, from the clip's
  start, said so) and the frame number (from 0, as in ``result.json``).
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
from corrkin.plots.timebase import impact_ms
from corrkin.skeleton import BAT, NODE_INDEX, NODES

# our 13 joints and the bat: limbs (node pairs) and their colours (RGB; left warm, right cool)
LIMBS = [("l_ankle", "l_knee"), ("l_knee", "l_hip"), ("r_ankle", "r_knee"), ("r_knee", "r_hip"),
         ("l_hip", "r_hip"), ("l_hip", "l_shoulder"), ("r_hip", "r_shoulder"), ("l_shoulder", "r_shoulder"),
         ("l_shoulder", "l_elbow"), ("l_elbow", "l_wrist"), ("r_shoulder", "r_elbow"), ("r_elbow", "r_wrist")]
LEFT, RIGHT, CENTRE = (235, 120, 40), (40, 140, 235), (220, 220, 220)
BAT_COLOUR, TRAIL_COLOUR, PATH_COLOUR = (250, 210, 60), (250, 210, 60), (255, 40, 90)
GLOW_RING = 2.2  # a lit joint's ring, in disc radii


def _side(name: str) -> tuple[int, int, int]:
    return LEFT if name.startswith("l_") else RIGHT if name.startswith("r_") else CENTRE


def _pt(p) -> tuple[int, int]:
    return int(round(float(p[0]) * 16)), int(round(float(p[1]) * 16))  # 4 fractional bits


def draw_pose(frame: np.ndarray, pts: np.ndarray, valid: np.ndarray, scale: float = 1.0,
              lit: dict[str, float] | None = None, trail: list[np.ndarray] | None = None) -> np.ndarray:
    """Draw one frame's skeleton ``pts (14, 2)`` (13 joints, bat tip) on ``frame`` in place.

    ``valid (14,)``: points to draw; ``scale``: a multiplier of the lines' width (3 px) and the
    discs' radius (4 px); ``lit``: node -> brightness in [0, 1] of its highlight ring (path
    joints at activation); ``trail``: earlier bat-tip positions, oldest first, drawn fading."""
    thick = max(1, int(round(3 * scale)))
    rad = disc_radius(scale)
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
            cv2.circle(frame, _pt(pts[k]), int(rad * GLOW_RING * 16), col, thick, aa, shift)
    return frame


def disc_radius(scale: float) -> int:
    """A joint's disc radius (px) at line ``scale`` (:func:`draw_pose`)."""
    return max(2, int(round(4 * scale)))


def _points(clip: Clip) -> tuple[np.ndarray, np.ndarray]:
    """``(T, 14, 2)`` points and ``(T, 14)`` validity of a clip (a score of 0 is missing)."""
    pts = np.concatenate([clip.keypoints, clip.bat[:, None]], 1).astype(np.float64)
    valid = np.concatenate([clip.scores, clip.bat_scores[:, None]], 1) > 0
    return pts, valid & np.isfinite(pts).all(-1)


TRUNK_HALF_S = 0.5  # the running median of the trunk's length spans this either side of a frame
BODY_TRUNKS = 4.2  # the normalised view's height holds at least this many trunk lengths


def trunk_lengths(pts: np.ndarray, valid: np.ndarray, fps: float) -> np.ndarray | None:
    """``(T,)`` the trunk's length (hip midpoint to shoulder midpoint, pixels) per frame: its
    running median over ``TRUNK_HALF_S`` either side, of the frames where both hips and both
    shoulders are seen (a frame with none near takes its nearest); None where never seen.

    Unlike the shoulder width it does not vanish side-on; the running median follows a camera
    that zooms or cuts (broadcast clips: 17 to 209 px within one seed clip) and ignores a
    frame's glitch."""
    lh, rh, ls, rs = (NODE_INDEX[n] for n in ("l_hip", "r_hip", "l_shoulder", "r_shoulder"))
    length = np.linalg.norm((pts[:, ls] + pts[:, rs]) / 2 - (pts[:, lh] + pts[:, rh]) / 2, axis=-1)
    seen = np.flatnonzero(valid[:, [lh, rh, ls, rs]].all(1) & np.isfinite(length) & (length > 0))
    if not len(seen):
        return None
    half = max(1, int(round(TRUNK_HALF_S * fps)))
    out = np.empty(len(pts))
    for t in range(len(pts)):
        near = seen[np.abs(seen - t) <= half]
        out[t] = np.median(length[near]) if len(near) else length[seen[np.argmin(np.abs(seen - t))]]
    return out


def normalised(clip: Clip, size: tuple[int, int] = (480, 480), band: int | None = None,
               margin: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The clip's points ``(T, 14, 2)`` and validity ``(T, 14)`` in a ``size = (W, H)`` frame:
    pelvis-centred, in units of the trunk's length (:func:`trunk_lengths`), then one scale and
    offset for the whole clip that fit every valid point (the bat tip's path included) in the
    frame below a caption ``band`` (default: :func:`caption_height` of two lines) with
    ``margin`` px all round (default: 4 % of the frame, at least two discs), no larger than
    ``BODY_TRUNKS`` trunks to the frame's height (a still batter is not blown up). The pelvis
    stays at one place; a clip with no trunk seen is fitted as it is."""
    pts, valid = _points(clip)
    pel = NODE_INDEX["pelvis"]
    valid = valid & valid[:, pel: pel + 1]
    band = caption_height(size[1], 2) if band is None else band
    margin = max(int(0.04 * min(size)), 2 * disc_radius(line_scale(size)) + 2) if margin is None else margin
    trunk = trunk_lengths(pts, valid, clip.fps)
    rel = (pts - pts[:, pel: pel + 1]) / (trunk[:, None, None] if trunk is not None else 1.0)
    area = np.array([size[0] - 2 * margin, size[1] - band - 2 * margin], float)
    if area.min() <= 0:
        raise ValueError(f"normalised: a {size[0]} x {size[1]} frame leaves no room inside a {margin} px margin "
                         f"and a {band} px caption")
    seen = rel[valid]
    lo, hi = (seen.min(0), seen.max(0)) if len(seen) else (np.zeros(2), np.zeros(2))
    fit = float(np.min(area / np.maximum(hi - lo, 1e-9)))
    scale = min(fit, area[1] / BODY_TRUNKS) if trunk is not None else min(fit, 1.0)
    centre = np.array([margin + area[0] / 2, band + margin + area[1] / 2])
    out = (rel - (lo + hi) / 2) * scale + centre
    return np.where(valid[..., None], out, np.nan), valid


def line_scale(size: tuple[int, int]) -> float:
    """The normalised view's line scale (:func:`draw_pose`): 0.7 in a 480-px frame."""
    return min(size) / 686


# the caption: Hershey text (ASCII) in white with a black outline on a darkened box
FONT = cv2.FONT_HERSHEY_SIMPLEX
CAPTION_DIM = 0.25  # the box keeps this share of the picture under it
IMPACT_COLOUR = BAT_COLOUR


def _font(height: int) -> tuple[float, int]:
    """Font scale and stroke for a frame ``height`` px tall: 0.6 and 1 at 480 px."""
    fs = min(1.2, max(0.4, height / 800))
    return fs, 1 if fs < 0.8 else 2


def caption_height(height: int, lines: int) -> int:
    """The height (px) of a ``lines``-line caption in a frame ``height`` px tall."""
    fs, th = _font(height)
    (_, h), base = cv2.getTextSize("Ag", FONT, fs, th)
    pad = max(3, int(0.4 * h))
    return lines * (h + base + pad) + pad


def _fitted(text: str, width: int, fs: float, th: int) -> str:
    """``text`` as ASCII, cut with ``...`` to ``width`` px."""
    text = text.encode("ascii", "replace").decode("ascii")
    if cv2.getTextSize(text, FONT, fs, th + 2)[0][0] <= width:
        return text
    while text and cv2.getTextSize(text + "...", FONT, fs, th + 2)[0][0] > width:
        text = text[:-1]
    return text + "..."


def caption(frame: np.ndarray, lines: list[str | tuple[str, tuple[int, int, int]]], bottom: bool = False) -> np.ndarray:
    """Write ``lines`` (text, or ``(text, RGB colour)``; default white) on ``frame`` in place,
    legible over any picture: each outlined in black on a darkened box at the top left (or the
    bottom left), cut with ``...`` to the frame's width. Non-ASCII letters show as ``?``."""
    h, w = frame.shape[:2]
    fs, th = _font(h)
    (_, th_px), base = cv2.getTextSize("Ag", FONT, fs, th)
    pad = max(3, int(0.4 * th_px))
    items = [(x, (255, 255, 255)) if isinstance(x, str) else x for x in lines]
    texts = [(_fitted(t, w - 3 * pad, fs, th), c) for t, c in items]
    width = max((cv2.getTextSize(t, FONT, fs, th + 2)[0][0] for t, _ in texts), default=0) + 2 * pad
    height = caption_height(h, len(texts))
    y0 = h - height if bottom else 0
    box = frame[y0: y0 + height, : min(w, width)]
    box[:] = (box * CAPTION_DIM).astype(np.uint8)
    for k, (text, colour) in enumerate(texts):
        org = (pad, y0 + pad + (k + 1) * (th_px + base + pad) - base - pad // 2)
        cv2.putText(frame, text, org, FONT, fs, (0, 0, 0), th + 2, cv2.LINE_AA)
        cv2.putText(frame, text, org, FONT, fs, colour, th, cv2.LINE_AA)
    return frame


def frame_caption(name: str, frame: int, frames: int, fps: float, impact: tuple[float, str] | None) -> list:
    """The caption of ``frame`` (of ``frames``): the clip's name, the time from ``impact``
    (``(ms into the clip, what it is)``, :func:`corrkin.plots.timebase.impact_ms`) in the
    impact's colour on its nearest frame, or without one the time from the clip's start, and
    the frame number."""
    ms = frame * 1000.0 / fps
    where = f"frame {frame}/{frames}"
    if impact is None:
        return [name, f"{ms:.0f} ms from clip start | {where}"]
    dt = ms - impact[0]
    colour = IMPACT_COLOUR if abs(dt) <= 500.0 / fps else (255, 255, 255)
    return [name, (f"{dt:+.0f} ms from impact | {where}", colour)]


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
                    background: np.ndarray | None = None, trail: int = 8,
                    captions: bool = True) -> Iterator[np.ndarray]:
    """Frames of the clip's skeleton: normalised on black (:func:`normalised`), or with
    ``background`` ``(T, H, W, 3)`` (the source video) drawn over at the keypoints' own pixels;
    each captioned (:func:`frame_caption`; ``captions=False``: not), the time from ``record``'s
    impact where a record is given."""
    if background is None:
        pts, valid = normalised(clip, size, band=None if captions else 0)
        scale = line_scale(size)
    else:
        pts, valid = _points(clip)
        size = (background.shape[2], background.shape[1])
        trunk = trunk_lengths(pts, valid, clip.fps)
        scale = float(np.median(trunk)) / 180 if trunk is not None else 0.7  # a trunk of 180 px: 3-px lines
    impact = impact_ms(record)
    tips: list[np.ndarray] = []
    for t in range(len(pts)):
        frame = np.zeros((size[1], size[0], 3), np.uint8) if background is None else background[t].copy()
        draw_pose(frame, pts[t], valid[t], scale, _glow(record, t, clip.fps), tips[-trail:] if trail else None)
        tips.append(pts[t, BAT] if valid[t, BAT] else np.full(2, np.nan))
        if captions:
            caption(frame, frame_caption(clip.name, t, len(pts), clip.fps, impact))
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
