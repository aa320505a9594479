"""Seconds to frames, shared by the ops and the torch-free input checks."""

from __future__ import annotations

import math

Z95 = 1.959963984540054  # two-sided 95 % normal quantile


def savgol_window(window_s: float, fps: float, order: int) -> int:
    """Odd window length in frames nearest to ``window_s * fps``, longer than ``order``.

    0.20 s at 25 fps gives 5 frames (the seed analysis); 0.20 s at 30 fps gives 7.
    """
    if window_s <= 0 or fps <= 0:
        raise ValueError(f"savgol_window: window_s and fps must be > 0, got {window_s} and {fps}")
    w = int(math.floor(window_s * fps + 0.5))
    if w % 2 == 0:
        w += 1
    least = order + 3 if order % 2 == 0 else order + 2  # at least two more frames than the fit's terms: a smoother
    return max(w, least, 3)


def to_frames(seconds: float, fps: float) -> int:
    """Seconds to whole frames: the nearest, halves to even (Python's ``round``, which is what
    ``torch.round`` does on a tensor of them, so the batched engine and everything else agree).
    The one rule for a duration in frames; a smoothing window is :func:`savgol_window`'s (the
    nearest odd length)."""
    return int(round(seconds * fps))

