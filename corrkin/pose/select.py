"""The batter, not the bowler: pick one person among a frame's detections and keep them.

Broadcast frames hold several people (batter, bowler, keeper, umpire, fielders). The batter is
found once, in the frame where the evidence is strongest, and then followed frame to frame by
box overlap; a frame where nobody overlaps the batter's last box enough is *lost* (masked),
never filled with another person.

Evidence for "this is the batter", per candidate, in [0, 1] each:

* ``bat``: the candidate carries a bat-tip keypoint with a good score, or its wrists are near a
  separately detected bat tip;
* ``size``: box area relative to the frame's largest (the batter is near the camera end);
* ``centre``: closeness of the box centre to the frame centre (broadcast framing).

An explicit choice overrides all of it: ``box`` (x1, y1, x2, y2 in the first frame where the
batter is visible: the detection overlapping it most) or ``index`` (the detection's position
in that frame).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Selection:
    index: np.ndarray  # (T,) chosen detection per frame, -1 where the batter is lost
    seed_frame: int  # the frame the batter was identified in

    @property
    def found(self) -> np.ndarray:
        return self.index >= 0


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of boxes ``a (..., 4)`` and ``b (..., 4)`` (x1, y1, x2, y2), broadcasting."""
    x1 = np.maximum(a[..., 0], b[..., 0])
    y1 = np.maximum(a[..., 1], b[..., 1])
    x2 = np.minimum(a[..., 2], b[..., 2])
    y2 = np.minimum(a[..., 3], b[..., 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = lambda z: np.clip(z[..., 2] - z[..., 0], 0, None) * np.clip(z[..., 3] - z[..., 1], 0, None)  # noqa: E731
    union = area(a) + area(b) - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def batter_evidence(boxes: np.ndarray, valid: np.ndarray, frame_size: tuple[float, float],
                    bat_score: np.ndarray | None = None) -> np.ndarray:
    """Per-candidate evidence ``(T, P)``: ``2 * bat + size + centre`` (see the module docs)."""
    w, h = frame_size
    area = np.clip(boxes[..., 2] - boxes[..., 0], 0, None) * np.clip(boxes[..., 3] - boxes[..., 1], 0, None)
    area = np.where(valid, area, 0)
    size = area / np.maximum(area.max(1, keepdims=True), 1e-9)
    cx, cy = (boxes[..., 0] + boxes[..., 2]) / 2, (boxes[..., 1] + boxes[..., 3]) / 2
    centre = 1 - np.clip(np.hypot((cx - w / 2) / (w / 2), (cy - h / 2) / (h / 2)) / np.sqrt(2), 0, 1)
    bat = np.zeros_like(size) if bat_score is None else np.clip(bat_score, 0, 1)
    return np.where(valid, 2 * bat + size + centre, -np.inf)


def select_batter(
    boxes: np.ndarray,
    valid: np.ndarray,
    frame_size: tuple[float, float],
    bat_score: np.ndarray | None = None,
    box: tuple[float, float, float, float] | None = None,
    index: int | None = None,
    min_iou: float = 0.3,
) -> Selection:
    """Choose the batter in every frame.

    Args:
        boxes: ``(T, P, 4)`` detections, padded; ``valid (T, P)`` marks real ones.
        frame_size: ``(width, height)`` of the frames.
        bat_score: ``(T, P)`` how surely each candidate holds the bat (e.g. its bat-tip score).
        box, index: explicit choice in the first frame where anyone is detected.
        min_iou: least overlap with the batter's last box to keep following them.

    Returns:
        :class:`Selection`; frames with no detection overlapping enough are -1 (lost). A lost
        batter is picked up again when a detection overlaps their last known box.
    """
    t, p = valid.shape
    if boxes.shape != (t, p, 4):
        raise ValueError(f"select_batter: boxes {boxes.shape} do not match valid {valid.shape} (T, P, 4)")
    index_out = np.full(t, -1)
    present = np.flatnonzero(valid.any(1))
    if present.size == 0:
        return Selection(index_out, -1)
    if box is not None or index is not None:
        seed = int(present[0])
        if box is not None:
            ious = np.where(valid[seed], box_iou(boxes[seed], np.asarray(box, float)), -1)
            if ious.max() <= 0:
                raise ValueError(f"select_batter: no detection in frame {seed} overlaps the box {list(box)}")
            pick = int(np.argmax(ious))
        else:
            if not 0 <= index < valid[seed].sum():
                raise ValueError(f"select_batter: person index {index} not in frame {seed}, "
                                 f"which has {int(valid[seed].sum())} detections")
            pick = int(np.flatnonzero(valid[seed])[index])
    else:
        ev = batter_evidence(boxes, valid, frame_size, bat_score)
        seed = int(np.unravel_index(np.argmax(ev), ev.shape)[0])
        pick = int(np.argmax(ev[seed]))
    index_out[seed] = pick
    for step in (1, -1):  # follow forwards, then backwards, from the seed frame
        last = boxes[seed, pick]
        f = seed + step
        while 0 <= f < t:
            ious = np.where(valid[f], box_iou(boxes[f], last), 0.0)
            best = int(np.argmax(ious)) if p else -1
            if p and ious[best] >= min_iou:
                index_out[f] = best
                last = boxes[f, best]
            f += step
    return Selection(index_out, seed)
