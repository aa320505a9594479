"""The batter, not the bowler: pick one person among a frame's detections and keep them.

Broadcast frames hold several people (batter, bowler, keeper, umpire, fielders). Detections
are first linked into *tracks* frame to frame by box overlap (one-to-one, Hungarian on IoU); a
track that finds no detection overlapping its last box enough is lost in that frame and picked
up again when one does. The batter is the track with the most evidence over the whole clip, so
someone who comes close to the bat for a few frames (a fielder walking past) is not taken. In
a frame where the batter's track has no detection the batter is *lost* (masked), never filled
with another person.

Evidence for "this is the batter", per detection, in [0, 1] each:

* ``bat``: the candidate holds the bat: a bat-tip keypoint's score, or the bar evidence from
  their hands on the pixels (:func:`corrkin.bat.detect.grip_score`); NaN where not measured;
* ``crease``: a bright line (the popping crease) crosses the frame at their feet
  (:func:`corrkin.pose.evidence.crease_score`); NaN where not measured;
* ``size``: box area relative to the frame's largest (the batter is near the camera end);
* ``centre``: closeness of the box centre to the frame centre (broadcast framing).

A track's score is ``coverage * (BAT_WEIGHT * mean bat + mean crease + mean size + mean
centre)``, ``coverage`` the fraction of frames it is present in (the batter is there
throughout): the bat counts as much as the other three together, so a person clearly holding
it is not outweighed by a larger, more central one whose hands hold nothing (the cameraman
and the astronaut of ``tests/pose/test_yolo.py``, grips 0.65 and 0.36: at a weight of 2 the
two scored within 0.1 % of each other); being near the crease, size and centrality break
ties.

An explicit choice overrides all of it: ``box`` (x1, y1, x2, y2 in the first frame where
anyone is detected: the track of the detection overlapping it most) or ``index`` (the
detection's position in that frame).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from corrkin.skeleton import coco17_to_joints

BAT_WEIGHT = 3.0  # of the bat in a track's evidence, against 1 each for crease, size and centre


@dataclass
class People:
    """Everyone a pose backend found in one video: ``P`` candidates per frame, padded.

    ``keypoints (T, P, J, 2)`` pixels with ``J`` = 17 (COCO-17, what models give) or 13 (the
    analysis joints, from a corrkin file), ``scores (T, P, J)``, ``boxes (T, P, 4)``
    (x1, y1, x2, y2) and ``valid (T, P)``; ``bat (T, P, 2)`` and ``bat_scores (T, P)`` where the
    model has a bat-tip keypoint."""

    keypoints: np.ndarray
    scores: np.ndarray
    boxes: np.ndarray
    valid: np.ndarray
    bat: np.ndarray | None = None
    bat_scores: np.ndarray | None = None

    @property
    def count(self) -> int:
        return self.valid.shape[1]

    @classmethod
    def one(cls, keypoints: np.ndarray, scores: np.ndarray) -> "People":
        """A single person per frame (``(T, J, 2)``, ``(T, J)``), present where any joint scores
        above zero, boxed by the joints it sees."""
        seen = scores > 0
        valid = seen.any(1)
        big = np.where(seen[..., None], keypoints, np.inf)
        small = np.where(seen[..., None], keypoints, -np.inf)
        boxes = np.concatenate([big.min(1), small.max(1)], -1)
        boxes = np.where(valid[:, None], boxes, 0.0)
        return cls(keypoints[:, None], scores[:, None], boxes[:, None], valid[:, None])

    def everyone(self, leave_out: np.ndarray | None = None) -> np.ndarray:
        """Every candidate's 13 analysis joints ``(T, P, 13, 2)``, NaN where a candidate is
        absent (and where ``leave_out (T,)`` names them: e.g. the batter, to mask the others)."""
        p = self.valid.shape[1]
        kps = self.keypoints
        if kps.shape[2] == 17:
            kps = coco17_to_joints(kps, self.scores)[0]
        absent = ~self.valid
        if leave_out is not None:
            absent = absent | (np.arange(p)[None] == np.asarray(leave_out)[:, None])
        return np.where(absent[..., None, None], np.nan, kps).astype(np.float32)

    def joint_scores(self) -> np.ndarray:
        """Every candidate's scores of the 13 analysis joints ``(T, P, 13)``, 0 where absent."""
        scores = self.scores
        if scores.shape[2] == 17:
            scores = coco17_to_joints(self.keypoints, scores)[1]
        return np.where(self.valid[..., None], scores, 0.0).astype(np.float32)

    def batter(self, sel: "Selection") -> tuple[np.ndarray, np.ndarray]:
        """The chosen person's 13 joints and scores ``(T, 13, 2)``, ``(T, 13)``; score 0 where
        the batter is lost."""
        rows, pick = np.arange(len(self.valid)), np.maximum(sel.index, 0)
        kps, scores = self.keypoints[rows, pick], np.where(sel.found[:, None], self.scores[rows, pick], 0.0)
        if kps.shape[1] == 17:
            kps, scores = coco17_to_joints(kps, scores)
        return kps.astype(np.float32), scores.astype(np.float32)


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


def batter_evidence(boxes: np.ndarray, valid: np.ndarray, frame_size: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Per-detection ``(size, centre)`` evidence ``(T, P)`` each, in [0, 1] (see the module docs)."""
    w, h = frame_size
    area = np.clip(boxes[..., 2] - boxes[..., 0], 0, None) * np.clip(boxes[..., 3] - boxes[..., 1], 0, None)
    area = np.where(valid, area, 0)
    size = area / np.maximum(area.max(1, keepdims=True), 1e-9)
    cx, cy = (boxes[..., 0] + boxes[..., 2]) / 2, (boxes[..., 1] + boxes[..., 3]) / 2
    centre = 1 - np.clip(np.hypot((cx - w / 2) / (w / 2), (cy - h / 2) / (h / 2)) / np.sqrt(2), 0, 1)
    return size, centre


def link_tracks(boxes: np.ndarray, valid: np.ndarray, min_iou: float = 0.3) -> np.ndarray:
    """Track id ``(T, P)`` of every detection (-1 where not valid): each frame's detections are
    matched one-to-one to the tracks' last boxes by IoU (Hungarian), a match needing ``min_iou``;
    an unmatched detection starts a new track."""
    from scipy.optimize import linear_sum_assignment

    t, p = valid.shape
    ids = np.full((t, p), -1)
    last: list[np.ndarray] = []
    for f in range(t):
        dets = np.flatnonzero(valid[f])
        if last and dets.size:
            iou = box_iou(boxes[f, dets][:, None], np.asarray(last)[None])
            for i, k in zip(*linear_sum_assignment(-iou)):
                if iou[i, k] >= min_iou:
                    ids[f, dets[i]] = k
                    last[k] = boxes[f, dets[i]]
        for i in dets:
            if ids[f, i] < 0:
                ids[f, i] = len(last)
                last.append(boxes[f, i])
    return ids


def select_batter(
    boxes: np.ndarray,
    valid: np.ndarray,
    frame_size: tuple[float, float],
    bat_score: np.ndarray | None = None,
    box: tuple[float, float, float, float] | None = None,
    index: int | None = None,
    min_iou: float = 0.3,
    crease_score: np.ndarray | None = None,
) -> Selection:
    """Choose the batter in every frame.

    Args:
        boxes: ``(T, P, 4)`` detections, padded; ``valid (T, P)`` marks real ones.
        frame_size: ``(width, height)`` of the frames.
        bat_score: ``(T, P)`` how surely each candidate holds the bat (a bat-tip score, or the
            grip evidence on the pixels), NaN where not measured.
        crease_score: ``(T, P)`` how surely each candidate stands at the crease, NaN where not
            measured.
        box, index: explicit choice in the first frame where anyone is detected.
        min_iou: least overlap with a track's last box to continue it.

    Returns:
        :class:`Selection`: the batter's detection per frame, -1 where the batter's track has
        none (lost).
    """
    t, p = valid.shape
    if boxes.shape != (t, p, 4):
        raise ValueError(f"select_batter: boxes {boxes.shape} do not match valid {valid.shape} (T, P, 4)")
    index_out = np.full(t, -1)
    present = np.flatnonzero(valid.any(1))
    if present.size == 0:
        return Selection(index_out, -1)
    ids = link_tracks(boxes, valid, min_iou)
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
        track = ids[seed, pick]
    else:
        size, centre = batter_evidence(boxes, valid, frame_size)
        def measured(x):
            return np.full((t, p), np.nan) if x is None else np.where(valid, x, np.nan)

        def mean(x):
            x = x[np.isfinite(x)]
            return float(np.clip(x, 0, 1).mean()) if x.size else 0.0

        bat, crease = measured(bat_score), measured(crease_score)
        n = int(ids.max()) + 1
        score = np.empty(n)
        for k in range(n):
            mine = ids == k
            evidence = BAT_WEIGHT * mean(bat[mine]) + mean(crease[mine]) + size[mine].mean() + centre[mine].mean()
            score[k] = mine.sum() / t * evidence
        track = int(np.argmax(score))
    frames, cols = np.nonzero(ids == track)
    index_out[frames] = cols
    return Selection(index_out, int(frames[0]))
