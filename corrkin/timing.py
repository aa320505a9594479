"""Seconds to frames, shared by the ops and the torch-free input checks."""

from __future__ import annotations

import math

Z95 = 1.959963984540054  # two-sided 95 % normal quantile


def savgol_window(window_s: float, fps: float, order: int) -> int:
    """Odd window length in frames nearest to ``window_s * fps``, longer than ``order``.

    0.20 s at 25 fps gives 5 frames (the seed analysis); 0.20 s at 30 fps gives 7. A window no
    longer than ``order + 1`` frames (0.10 s at 25 or 30 fps, order 2: 3 frames) fits every
    frame exactly: no smoothing, which is what a brief downswing (three or four frames at
    25 fps) needs; :func:`noise_window` then gives the smoother the noise is read from.
    """
    if window_s <= 0 or fps <= 0:
        raise ValueError(f"savgol_window: window_s and fps must be > 0, got {window_s} and {fps}")
    w = int(math.floor(window_s * fps + 0.5))
    if w % 2 == 0:
        w += 1
    return max(w, order + 1 if order % 2 == 0 else order + 2, 3)


def noise_window(window: int, order: int) -> int:
    """The shortest window, at least ``window``, that smooths at all at this ``order`` (two more
    frames than the fit has terms): what it removes from the positions measures their noise."""
    return max(window, order + 3 if order % 2 == 0 else order + 2)


def to_frames(seconds: float, fps: float) -> int:
    """Seconds to whole frames: the nearest, halves to even (Python's ``round``, which is what
    ``torch.round`` does on a tensor of them, so the batched engine and everything else agree).
    The one rule for a duration in frames; a smoothing window is :func:`savgol_window`'s (the
    nearest odd length)."""
    return int(round(seconds * fps))

