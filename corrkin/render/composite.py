"""Synchronised composites: several clips, each brought to one tile size, frame rate and
duration, tiled in a grid (the original shows 2 x 3: cover drive, down the ground, hook, ...).

Each clip is resampled in time by nearest frame onto the common rate (holding its last frame
when shorter), resized into its tile keeping its aspect (letterboxed), and labelled at its
bottom left, legible over any picture (:func:`corrkin.render.skeleton.caption`), where the
skeleton videos' own caption (name, time from impact, frame) stays clear of it at the top.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from corrkin.render.skeleton import caption


def fit(frame: np.ndarray, tile: tuple[int, int]) -> np.ndarray:
    """``frame (H, W, 3)`` resized into ``tile = (W, H)`` keeping its aspect, centred on black."""
    h, w = frame.shape[:2]
    s = min(tile[0] / w, tile[1] / h)
    nw, nh = max(1, int(round(w * s))), max(1, int(round(h * s)))
    out = np.zeros((tile[1], tile[0], 3), np.uint8)
    x, y = (tile[0] - nw) // 2, (tile[1] - nh) // 2
    out[y: y + nh, x: x + nw] = cv2.resize(frame, (nw, nh), interpolation=cv2.INTER_AREA)
    return out


def composite(clips: list[np.ndarray], fps: list[float], labels: list[str] | None = None, cols: int = 3,
              tile: tuple[int, int] = (320, 320), out_fps: float = 25.0,
              duration_s: float | None = None) -> np.ndarray:
    """``(T, rows * H, cols * W, 3)`` frames of ``clips`` (each ``(T_i, H_i, W_i, 3)`` at
    ``fps[i]``) in a grid of ``cols`` columns, ``duration_s`` long (default: the longest clip)."""
    if not clips:
        raise ValueError("composite: no clips")
    if len(fps) != len(clips):
        raise ValueError(f"composite: {len(clips)} clips but {len(fps)} frame rates")
    duration = duration_s or max(len(c) / f for c, f in zip(clips, fps))
    frames = max(1, int(round(duration * out_fps)))
    rows = math.ceil(len(clips) / cols)
    cols = min(cols, len(clips))
    out = np.zeros((frames, rows * tile[1], cols * tile[0], 3), np.uint8)
    times = np.arange(frames) / out_fps
    for k, (clip, f) in enumerate(zip(clips, fps)):
        r, c = divmod(k, cols)
        idx = np.minimum(np.rint(times * f).astype(int), len(clip) - 1)
        for t, i in enumerate(idx):
            cell = fit(clip[i], tile)
            if labels:
                caption(cell, [labels[k]], bottom=True)
            out[t, r * tile[1]: (r + 1) * tile[1], c * tile[0]: (c + 1) * tile[0]] = cell
    return out
