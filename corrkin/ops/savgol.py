"""Savitzky–Golay smoothing as a 1-D convolution, edges as scipy's ``mode='interp'``.

Interior frames get the usual symmetric kernel; the first and last ``window // 2`` frames of
each clip get the value of the order-``order`` polynomial fitted to that clip's first (last)
``window`` frames, exactly what :func:`scipy.signal.savgol_filter` does with ``mode='interp'``.
Clips in one batch may have different windows (different fps) and lengths: each kernel is
zero-padded to the longest and the taps are added in one fixed order, so a clip gives the same
bits alone or in any batch. Linear in ``x``, hence differentiable (``gradcheck`` passes).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from corrkin.ops._checks import check_shape
from corrkin.timing import savgol_window  # noqa: F401  (re-exported)


@functools.lru_cache(maxsize=64)
def _projection(window: int, order: int) -> np.ndarray:
    """``(window, window)`` matrix mapping a window of samples to the fitted polynomial's values."""
    pos = np.arange(window, dtype=np.float64) - window // 2
    vander = np.vander(pos, order + 1, increasing=True)
    return vander @ np.linalg.pinv(vander)


def savgol_coeffs(window: int, order: int, dtype=torch.float64, device=None) -> torch.Tensor:
    """Interior smoothing kernel (``window``,), equal to ``scipy.signal.savgol_coeffs``."""
    _validate(window, order)
    return torch.as_tensor(_projection(window, order)[window // 2], dtype=dtype, device=device)


def _validate(window: int, order: int) -> None:
    if window < 1 or window % 2 == 0:
        raise ValueError(f"savgol: window must be a positive odd number of frames, got {window}")
    if order >= window:
        raise ValueError(f"savgol: order ({order}) must be less than the window ({window})")


def _tables(windows: Sequence[int], order: int, dtype, device):
    """Per-clip interior kernels and edge-fit matrices, zero-padded to the largest window."""
    wmax = max(windows)
    hmax = wmax // 2
    kern = np.zeros((len(windows), wmax))
    left = np.zeros((len(windows), hmax, wmax))
    right = np.zeros((len(windows), hmax, wmax))
    for b, w in enumerate(windows):
        h = w // 2
        proj = _projection(w, order)
        kern[b, hmax - h: hmax + h + 1] = proj[h]
        left[b, :h, :w] = proj[:h]
        # right[r, m] weighs x[len-1-m] for output frame len-1-r
        right[b, :h, :w] = proj[::-1, ::-1][:h]
    as_t = functools.partial(torch.as_tensor, dtype=dtype, device=device)
    return as_t(kern), as_t(left), as_t(right)


def _checked_windows(x: torch.Tensor, window: int | Sequence[int], order: int) -> list[int]:
    """One validated odd window per clip, none longer than the ``T`` frames of ``x``."""
    bsz, t = x.shape[0], x.shape[-1]
    windows = [int(window)] * bsz if isinstance(window, (int, np.integer)) else [int(w) for w in window]
    if len(windows) != bsz:
        raise ValueError(f"savgol_filter: {len(windows)} windows for {bsz} clips")
    for w in set(windows):
        _validate(w, order)
    if max(windows) > t:
        raise ValueError(f"savgol_filter: window {max(windows)} is longer than the {t} frames given")
    return windows


def _interior(x: torch.Tensor, kern: torch.Tensor, same_window: bool) -> torch.Tensor:
    """``x (B, ..., T)`` convolved with each clip's zero-padded kernel ``kern (B, wmax)``."""
    # the taps are accumulated in one fixed order. One window for all clips uses scalar taps;
    # per-clip windows use per-clip taps (zero-padded). Both round alike (torch.add with alpha
    # and addcmul are the same fused op), so a clip gives the same bits in a batch of mixed
    # frame rates as alone.
    bsz, t, wmax = x.shape[0], x.shape[-1], kern.shape[-1]
    mid = (1,) * (x.ndim - 2)
    xp = F.pad(x, (wmax // 2, wmax // 2))
    if same_window:
        taps = kern[0].tolist()
        y = taps[0] * xp[..., 0:t]
        for m in range(1, wmax):
            y = torch.add(y, xp[..., m: m + t], alpha=taps[m])
        return y
    y = kern[:, 0].view(bsz, *mid, 1) * xp[..., 0:t]
    for m in range(1, wmax):
        y = torch.addcmul(y, kern[:, m].view(bsz, *mid, 1), xp[..., m: m + t])
    return y


def _edges(x: torch.Tensor, y: torch.Tensor, left: torch.Tensor, right: torch.Tensor,
           windows: list[int], lengths: torch.Tensor) -> torch.Tensor:
    """``y`` with each clip's first and last ``window // 2`` frames replaced by the edge fits."""
    bsz, wmax, hmax = x.shape[0], left.shape[-1], left.shape[1]
    mid = (1,) * (x.ndim - 2)
    head = x[..., :wmax]
    rev_idx = (lengths[:, None] - 1 - torch.arange(wmax, device=x.device)).clamp_min(0)
    tail = torch.gather(x, -1, rev_idx.view(bsz, *mid, wmax).expand(*x.shape[:-1], wmax))
    y_left = left[:, :, 0].view(bsz, *mid, hmax) * head[..., 0:1]
    y_right = right[:, :, 0].view(bsz, *mid, hmax) * tail[..., 0:1]
    for m in range(1, wmax):
        y_left = y_left + left[:, :, m].view(bsz, *mid, hmax) * head[..., m: m + 1]
        y_right = y_right + right[:, :, m].view(bsz, *mid, hmax) * tail[..., m: m + 1]
    halves = torch.as_tensor([w // 2 for w in windows], device=x.device)
    r = torch.arange(hmax, device=x.device)
    is_edge = (r[None] < halves[:, None]).view(bsz, *mid, hmax)
    y[..., :hmax] = torch.where(is_edge, y_left, y[..., :hmax])
    pos = (lengths[:, None] - 1 - r[None]).clamp_min(0).view(bsz, *mid, hmax).expand(*x.shape[:-1], hmax)
    return y.scatter(-1, pos, torch.where(is_edge, y_right, torch.gather(y, -1, pos)))


def savgol_filter(
    x: torch.Tensor,
    window: int | Sequence[int],
    order: int,
    lengths: torch.Tensor | None = None,
) -> torch.Tensor:
    """Smooth ``x (B, ..., T)`` along its last axis.

    Args:
        x: signals; the first axis is the clip axis ``B``.
        window: odd window in frames, one for all clips or one per clip (``B`` ints).
        order: polynomial order, less than every window.
        lengths: ``(B,)`` valid frames per clip (default ``T``); frames at and past a clip's
            length are returned as 0. Every length must be at least that clip's window.

    Returns:
        ``(B, ..., T)``, dtype and device of ``x``.
    """
    check_shape(x, "*,B,T" if x.ndim >= 2 else "B,T", "savgol_filter: x")
    bsz, t = x.shape[0], x.shape[-1]
    windows = _checked_windows(x, window, order)
    if lengths is None:
        lengths = torch.full((bsz,), t, device=x.device, dtype=torch.long)
    check_shape(lengths, "B", "savgol_filter: lengths")

    kern, left, right = _tables(windows, order, x.dtype, x.device)
    inside = (torch.arange(t, device=x.device) < lengths[:, None]).view(bsz, *(1,) * (x.ndim - 2), t)
    x = torch.where(inside, x, torch.zeros((), dtype=x.dtype, device=x.device))
    y = _interior(x, kern, len(set(windows)) == 1)
    if kern.shape[-1] > 1:
        # edges: the polynomial fitted to each clip's first / last window
        y = _edges(x, y, left, right, windows, lengths)
    return torch.where(inside, y, 0.0)
