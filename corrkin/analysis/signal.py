"""Signal helpers shared by the kinematic sequence (:mod:`corrkin.analysis.biomech`) and the
stroke's events (:mod:`corrkin.analysis.events`): Savitzky-Golay smoothing and derivatives in
numpy (this runs in the I/O worker processes, which never import torch and where importing
``scipy.signal`` alone would cost each half a second), the noise of a series, gaps filled, and
the thresholds of what one camera sees.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from corrkin.timing import to_frames


def filled(x: np.ndarray) -> np.ndarray:
    """``x (T,)`` with NaNs linearly interpolated (held at the ends)."""
    ok = np.isfinite(x)
    if ok.all() or not ok.any():
        return x
    t = np.arange(len(x))
    return np.interp(t, t[ok], x[ok])


ORDER = 5  # the derivative filter's polynomial order: a 50-ms pulse keeps its peak within ~1 %


TIP_S = 0.1  # the bat tip's derivative span: its speed peak is sharper than any segment's


def derivative_window(fps: float, window_frames: int | None = None) -> int:
    """The derivative filter's length: the analysis' smoothing window (or ``TIP_S`` seconds
    where none is given), odd, at least ``ORDER + 2`` frames."""
    w = int(window_frames) if window_frames is not None else to_frames(TIP_S, fps)
    w = max(w, ORDER + 2)
    return w if w % 2 else w + 1


@functools.lru_cache(maxsize=256)
def savgol_weights(window: int, order: int, deriv: int, fps: float) -> np.ndarray:
    """Savitzky-Golay weights ``(window,)``: the least-squares polynomial of ``order`` through
    ``window`` samples, its ``deriv``-th derivative at the centre, per second."""
    x = np.arange(window, dtype=float) - window // 2
    fit = np.linalg.pinv(x[:, None] ** np.arange(order + 1))  # samples -> polynomial coefficients
    return fit[deriv] * math.factorial(deriv) * fps**deriv


def savgol(x: np.ndarray, window: int, order: int, fps: float, deriv: int = 0) -> np.ndarray:
    """``scipy.signal.savgol_filter(x, window, order, deriv, 1 / fps, axis=-1, mode="nearest")``
    (tested equal), in numpy with the weights computed once per filter: this runs in the I/O
    worker processes, where importing ``scipy.signal`` alone would cost each half a second."""
    half = window // 2
    padded = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(half, half)], mode="edge")
    return np.lib.stride_tricks.sliding_window_view(padded, window, axis=-1) @ savgol_weights(window, order, deriv, float(fps))


def derivative_gain(window: int, order: int, fps: float) -> float:
    """How much the derivative filter multiplies white noise (the norm of its coefficients)."""
    return float(np.linalg.norm(savgol_weights(window, order, 1, float(fps))))


def derivative(x: np.ndarray, fps: float, window: int, white: bool = False) -> tuple[np.ndarray, np.ndarray, int, int]:
    """``(dx/dt, noise, window, order)``: the time derivative of ``x (..., T)`` per second by an
    order-``ORDER`` Savitzky-Golay filter (the window shortened, odd, to a short clip; the order
    at most the window less two), and each series' derivative noise ``(...)``: its standard
    deviation from the residual of ``x`` around its smoothed curve (the ends, where the filter
    runs off the clip, left out), or with ``white`` the positions' white noise
    (:func:`position_noise`: fast movement is not taken for noise, as a smoothing residual takes
    it at low frame rates), through the derivative filter. All series at once: one filter call
    for the lot."""
    t = x.shape[-1]
    if t < window:
        window = t if t % 2 else t - 1
    order = min(ORDER, window - 2)
    if window < 5:
        raise ValueError(f"derivative: {t} frames, too few for a derivative")
    rate = savgol(x, window, order, fps, deriv=1)
    sd = position_noise(x) if white else noise_sd(x, window, order, fps)
    return rate, sd * derivative_gain(window, order, float(fps)), window, order


def noise_sd(x: np.ndarray, window: int, order: int, fps: float) -> np.ndarray:
    """The standard deviation of each series' noise ``(...)``: ``x (..., T)``'s residual around
    its order-``order`` Savitzky-Golay fit over ``window`` (the ends left out, where the filter
    runs off the clip), scaled up for what the fit absorbs."""
    t = x.shape[-1]
    if t - 2 * (window // 2) < 2:  # a clip no longer than the filter: no residual free of its ends
        return position_noise(x)
    resid = (x - savgol(x, window, order, fps))[..., window // 2: t - window // 2]
    # the residual of a fit with order + 1 parameters over `window` points keeps that share of the noise
    return np.sqrt(np.mean(resid**2, axis=-1) * window / max(window - order - 1, 1))


PEAK_SNR = 40.0  # a peak is differentiated over the shortest window that keeps its speed this many noise SDs clear


def position_noise(x: np.ndarray) -> np.ndarray:
    """Each series' white-noise standard deviation ``(...)`` from ``x (..., T)``'s sixth
    differences, by their median absolute deviation (glitches and fast movement barely reach
    it): the sixth difference of white noise has variance C(12, 6) = 924 times the noise's; a
    polynomial of degree five, any smooth movement over seven frames, has none."""
    d = np.diff(x, 6, axis=-1)
    if d.shape[-1] < 3:
        return np.zeros(x.shape[:-1])
    mad = np.median(np.abs(d - np.median(d, axis=-1, keepdims=True)), axis=-1)
    return 1.4826 * mad / math.sqrt(924.0)


def peak_window_derivative(x: np.ndarray, fps: float, lo: int, hi: int, widest: int, together: bool = False,
                           snr: float = PEAK_SNR) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(rate (S, T), noise (S,), window (S,))``: each series of ``x (S, T)`` differentiated
    (order-``ORDER`` Savitzky-Golay) over the shortest window, from ``ORDER + 2`` frames up to
    ``widest``, whose rate peaks within frames ``[lo, hi)`` at ``PEAK_SNR`` or more times its
    noise there (``snr``; :func:`position_noise` through the filter; ``widest`` where none does). A
    longer filter than the noise needs pulls a lopsided peak toward its slow side: on strokes
    built in 3-D, a 0.2-s window put the bat's peak 5-13 ms early at 120 fps, free of noise.
    ``together``: the series are a point's axes, one window for all, judged on the speed (the
    norm over the series) against the axes' mean noise."""
    t = x.shape[-1]
    widest = min(max(widest, ORDER + 2), t if t % 2 else t - 1)
    sigma = position_noise(x)
    chosen = np.full(len(x), -1)
    rate = np.zeros_like(x)
    noise = np.zeros(len(x))
    windows = list(range(ORDER + 2, widest + 1, 2)) or [widest]
    for w in windows:
        r = savgol(x, w, min(ORDER, w - 2), fps, deriv=1)
        n = sigma * derivative_gain(w, min(ORDER, w - 2), float(fps))
        if together:
            top = np.full(len(x), np.linalg.norm(r[:, lo:hi], axis=0).max() if hi > lo else 0.0)
            n_judged = np.full(len(x), math.sqrt(float(np.mean(n**2))))
        else:
            top = np.abs(r[:, lo:hi]).max(-1) if hi > lo else np.zeros(len(x))
            n_judged = n
        take = (chosen < 0) & ((top >= snr * n_judged) | (w == windows[-1]))
        rate[take], noise[take], chosen[take] = r[take], n[take], w
        if (chosen >= 0).all():
            break
    return rate, noise, chosen


END_ON = 0.35  # a line shorter than this share of its widest is seen end-on: its angle on screen is noise


SEEN_SHARE = 0.5  # a segment is measured where both its ends are seen in this share of the downswing's frames
