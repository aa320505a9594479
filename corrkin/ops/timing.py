"""Frame-rate-invariant significance and sub-frame timing of lagged correlations, batched.

The seed analysis judged a correlation with Bartlett's lag-1 effective sample size
``n (1 - r_i r_j) / (1 + r_i r_j)``. As the frame rate grows, a smooth series' lag-1
autocorrelation tends to 1 and that size collapses, although a 3-s swing carries the same
information at 25 and at 240 fps. Here the whole autocorrelation is used (Bartlett's
variance of a cross-correlation between independent series,
``Var r_ij(l) ~ (1/n) sum_k rho_i(k) rho_j(k)``, summed over ``|k| <= K``), so the effective
size ``N_eff = n / sum_k w_k rho_i(k) rho_j(k)`` is a duration over a decorrelation time,
whatever the rate. The search over ``2 L + 1`` lags is counted with ``M = (2 L + 1) N_eff / n``
effectively independent lags (Šidák), again a ratio of times.

Peaks (of a cross-correlation over lags, of a speed over frames) are refined below one sample
by Gaussian interpolation (a parabola through the logs of the three samples around the
maximum, exact for a Gaussian peak; a plain parabola where a sample is not positive), and the
lag's standard error is a sandwich estimate: the noise of the correlation's slope at the peak
(from the autocorrelations and the residual's) over the peak's curvature.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

from corrkin.ops import _math
from corrkin.ops._checks import check_shape
from corrkin.ops.reduce import blocked_sum
from corrkin.timing import Z95  # noqa: F401  (defined torch-free: the I/O workers need it too)


def acf_effective_n(acf: torch.Tensor, n: torch.Tensor, max_lag: torch.Tensor) -> torch.Tensor:
    """Effective sample size of every pair's cross-correlation, ``(B, N, N)``.

    Args:
        acf: ``(B, N, K + 1)`` autocorrelations at lags ``0..K`` (the diagonal of
            :func:`~corrkin.ops.xcorr.lagged_xcorr`; lag 0 is 1, or 0 for a constant series).
        n: ``(B,)`` frames correlated.
        max_lag: ``(B,)`` each clip's own ``K`` (``<=`` the tensor's); lags past it weigh 0.

    ``N_eff = n / (1 + 2 sum_{k=1..K} rho_i(k) rho_j(k))`` with the unbiased autocorrelation
    ``rho(k) = acf(k) n / (n - k)``, clamped to ``[1, n]``. The sum is not tapered: a Bartlett
    taper (or the biased estimate, which is one) shrinks it and makes the test anti-conservative
    (per-pair false positives 0.11 at alpha 0.05 on independent smooth motion with the taper;
    ``benchmarks/calibration.py``). Not differentiable through the clamp.
    """
    check_shape(acf, "B,N,K", "acf_effective_n: acf")
    k = torch.arange(1, acf.shape[-1], device=acf.device)
    nf = n.to(acf.dtype)[:, None]
    # the unbiased estimate (sums over n - k pairs), each clip's own K
    scale = torch.where(k[None] <= max_lag[:, None], nf / (nf - k[None]).clamp_min(1), torch.zeros_like(nf))
    rho = acf[..., 1:] * scale[:, None]
    prod = rho[:, :, None] * rho[:, None]
    total = 1 + 2 * blocked_sum(prod, -1)
    nf = n.to(acf.dtype)[:, None, None]
    return (nf / total.clamp_min(1e-12)).clamp(min=torch.ones_like(nf), max=nf.clamp_min(1))


def lag_search_p_value(r: torch.Tensor, n_eff: torch.Tensor, n: torch.Tensor, lags: torch.Tensor) -> torch.Tensor:
    """One-sided p-value of the largest of ``lags`` lagged correlations, ``r`` its value.

    ``p1 = P(Z > atanh(r) sqrt(N_eff - 3))``, then Šidák over ``M = clamp(lags N_eff / n, 1, lags)``
    effectively independent lags: ``p = 1 - (1 - p1)^M``. 1 where ``N_eff <= 3`` (no power) or
    ``r <= 0``. All arguments broadcast.
    """
    tiny = torch.finfo(r.dtype).eps
    z = _math.atanh(r.clamp(0, 1 - tiny)) * torch.sqrt((n_eff - 3).clamp_min(0))
    p1 = 0.5 * torch.special.erfc(z / math.sqrt(2))
    m = (lags.to(r.dtype) * n_eff / n.to(r.dtype).clamp_min(1)).clamp_min(1)
    m = torch.minimum(m, lags.to(r.dtype).expand_as(m))
    p = -torch.expm1(m * torch.log1p(-p1.clamp_max(1 - tiny)))
    return torch.where((n_eff > 3) & (r > 0), p, torch.ones_like(p))


def refine_peak(left: torch.Tensor, mid: torch.Tensor, right: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sub-sample offset of a peak from three samples around its maximum, and the curvature.

    Returns ``(delta, kappa)``: ``delta`` in ``[-0.5, 0.5]`` samples from the middle one (Gaussian
    interpolation where all three are positive, else a parabola), ``kappa = -(l - 2 m + r) / m``
    the peak's relative curvature per sample² (0 where it is not a peak). Elementwise.
    """
    positive = (left > 0) & (mid > 0) & (right > 0)
    one = torch.ones_like(mid)
    gl, gm, gr = (torch.log1p(torch.where(positive, v, one) - 1) for v in (left, mid, right))
    gl, gm, gr = (torch.where(positive, g, v) for g, v in zip((gl, gm, gr), (left, mid, right)))
    den = gl - 2 * gm + gr
    delta = torch.where(den < 0, (gl - gr) / (2 * torch.where(den < 0, den, -one)), torch.zeros_like(mid))
    kappa = torch.where(mid > 0, -(left - 2 * mid + right) / torch.where(mid > 0, mid, one), torch.zeros_like(mid))
    return delta.clamp(-0.5, 0.5), kappa.clamp_min(0)


def _log_parabola(offsets: range, values: list[torch.Tensor], half: torch.Tensor):
    """Least-squares parabola ``log v = c0 + c1 m + c2 m^2`` over the samples ``values[i]`` at
    offsets ``m`` with ``|m| <= half`` (per clip, ``(B,)``; broadcast over the trailing axes),
    weighted with ``v^2`` (the log's noise is the value's over the value); samples that are not
    positive or finite are left out. Returns ``(c1, c2, ok, rows, amp)``: ``rows`` the inverse
    normal matrix's row for ``c1`` (``i10, i11, i12``), ``amp`` the samples used (0 elsewhere);
    ``ok`` where three or more samples fit a maximum (``c2 < 0``)."""
    lead = (-1,) + (1,) * (values[0].ndim - 1)
    amp, logs = [], []
    for m, v in zip(offsets, values):
        use = (abs(m) <= half.view(lead)) & (v > 0) & torch.isfinite(v)
        amp.append(torch.where(use, v, torch.zeros_like(v)))
        logs.append(torch.log1p(torch.where(use, v, torch.ones_like(v)) - 1))
    zero = torch.zeros_like(amp[0])
    s, y = [zero] * 5, [zero] * 3  # sum w m^p, sum w m^q log v, w = v^2
    for m, a, lg in zip(offsets, amp, logs):
        w = a * a
        s = [s[p] + w * m**p for p in range(5)]
        y = [y[q] + w * m**q * lg for q in range(3)]
    s0, s1, s2, s3, s4 = s
    # the inverse of [[s0 s1 s2] [s1 s2 s3] [s2 s3 s4]] by its adjugate
    det = s0 * (s2 * s4 - s3 * s3) - s1 * (s1 * s4 - s3 * s2) + s2 * (s1 * s3 - s2 * s2)
    count = sum((a > 0).to(zero.dtype) for a in amp)
    ok = (count >= 3) & (det > 0)
    safe = torch.where(ok, det, torch.ones_like(det))
    rows = ((s2 * s3 - s1 * s4) / safe, (s0 * s4 - s2 * s2) / safe, (s1 * s2 - s0 * s3) / safe)
    c1 = rows[0] * y[0] + rows[1] * y[1] + rows[2] * y[2]
    c2 = ((s1 * s3 - s2 * s2) * y[0] + (s1 * s2 - s0 * s3) * y[1] + (s0 * s2 - s1 * s1) * y[2]) / safe
    return c1, c2, ok & (c2 < 0), rows, amp


def lag_peak(xc: torch.Tensor, max_lag: torch.Tensor) -> dict[str, torch.Tensor]:
    """The peak of every pair's correlation over its allowed lags, refined below one frame.

    Three samples (:func:`refine_peak`): a correlation is an average over the clip, smooth in
    the lag, and a fit over a wider window of lags measured worse on the calibration benchmark
    (the lag error of the three-phase swings grew from 2.6 to 3.2 ms at 25 fps).

    Args:
        xc: ``(B, N, N, 2 L + 1)``, lags ``-L..L``.
        max_lag: ``(B,)`` each clip's ``|lag|`` limit.

    Returns:
        dict of ``(B, N, N)``: ``weight`` (the largest correlation), ``lag`` (its lag, frames,
        earliest on ties), ``lag_sub`` (refined, frames; not refined at the window's ends) and
        ``curvature`` (``-c''`` at the peak per frame², 0 where unrefined).
    """
    check_shape(xc, "B,N,N,K", "lag_peak: xc")
    half = (xc.shape[-1] - 1) // 2
    lags = torch.arange(-half, half + 1, device=xc.device)
    allowed = lags.abs()[None] <= max_lag[:, None]
    masked = torch.where(allowed[:, None, None], xc, -torch.inf)
    weight, idx = masked.max(-1)
    at = lambda k: torch.gather(masked, -1, k.clamp(0, 2 * half)[..., None]).squeeze(-1)  # noqa: E731
    left, right = at(idx - 1), at(idx + 1)
    inner = torch.isfinite(left) & torch.isfinite(right) & (idx > 0) & (idx < 2 * half)
    delta, kappa = refine_peak(torch.where(inner, left, weight), weight, torch.where(inner, right, weight))
    zero = torch.zeros_like(weight)
    lag = idx - half
    return {"weight": weight, "lag": lag, "lag_sub": lag.to(xc.dtype) + torch.where(inner, delta, zero),
            "curvature": torch.where(inner, kappa * weight, zero)}


def lag_standard_error(xc: torch.Tensor, lag: torch.Tensor, max_lag: torch.Tensor, n: torch.Tensor,
                       curvature: torch.Tensor) -> torch.Tensor:
    """Standard error of each pair's peak lag, in frames, ``(B, N, N)``; inf where it cannot be told.

    Around the peak at ``tau``, ``y(t + tau) = r x(t) + e(t)``; the peak's offset is the slope
    of the correlation there over its curvature, ``d tau = c'(tau) / -c''(tau)``, and the slope's
    noise is ``(1/n) sum_t x(t) e'(t)``. Its variance is ``(1/n) sum_k rho_x'(k) gamma_e'(k)`` (the
    derivatives as differences over lags), with the residual's autocovariance
    ``gamma_e(k) = rho_y(k) - r (c(tau + k) + c(tau - k)) + r^2 rho_x(k)`` read off the
    correlations already computed, over ``|tau| + k <= max_lag``. So
    ``SE = sqrt((2/n) sum_{k>=0} d rho_x(k) d gamma_e(k)) / -c''(tau)``: a sandwich estimate that
    follows the data's own smoothness and noise, at any frame rate.

    Args:
        xc: ``(B, N, N, 2 L + 1)`` lagged correlations (lags ``-L..L``).
        lag: ``(B, N, N)`` the peak's whole-frame lag.
        max_lag: ``(B,)`` each clip's lag limit.
        n: ``(B,)`` frames correlated.
        curvature: ``(B, N, N)`` ``-c''`` at the peak per frame² (:func:`lag_peak`); 0: unknown.
    """
    check_shape(xc, "B,N,N,K", "lag_standard_error: xc")
    half = (xc.shape[-1] - 1) // 2
    idx = lag + half
    at = lambda off: torch.gather(xc, -1, (idx + off).clamp(0, 2 * half)[..., None]).squeeze(-1)  # noqa: E731
    acf = torch.diagonal(xc[..., half:], dim1=1, dim2=2).transpose(1, 2)  # (B, N, L + 1)
    r = at(0)
    reach = max_lag[:, None, None] - lag.abs()  # lags k usable on both sides of the peak

    def gamma_e(k: int) -> torch.Tensor:
        rho_x, rho_y = acf[:, :, None, k], acf[:, None, :, k]
        return rho_y - r * (at(k) + at(-k)) + r * r * rho_x

    total = torch.zeros_like(r)
    g_prev = gamma_e(0)
    for k in range(half):
        g_next = gamma_e(k + 1)
        d_rho = (acf[:, :, None, k + 1] - acf[:, :, None, k])
        term = d_rho * (g_next - g_prev)
        total = total + torch.where(k + 1 <= reach, term, torch.zeros_like(term))
        g_prev = g_next
    var_slope = (2 * total / n.to(xc.dtype)[:, None, None].clamp_min(1)).clamp_min(0)
    ok = (curvature > 0) & (reach >= 1) & (r > 0)
    se = torch.sqrt(var_slope) / torch.where(ok, curvature, torch.ones_like(curvature))
    return torch.where(ok, se, torch.full_like(se, torch.inf))


@functools.lru_cache(maxsize=256)
def smoothing_noise_gains(window: int, order: int, lags: int) -> tuple[float, tuple[float, ...]]:
    """Noise of the smoothing, for white noise of unit variance on the positions: the variance of
    the residual ``x - k * x`` left by the Savitzky–Golay smoother ``k`` (``1 - 2 k_0 + sum k^2``),
    and the autocovariance of the centred-difference velocity (per frame) at lags ``0..lags``."""
    from corrkin.ops.savgol import savgol_coeffs

    k = savgol_coeffs(window, order).numpy()
    residual = 1 - 2 * k[window // 2] + float((k * k).sum())
    g = np.convolve(k, [0.5, 0.0, -0.5])  # velocity per frame
    acov = tuple(float((g[d:] * g[: len(g) - d]).sum()) if d < len(g) else 0.0 for d in range(lags + 1))
    return float(residual), acov


def interior_peak(mag: torch.Tensor) -> torch.Tensor:
    """``(...)`` long: the frame of the largest local maximum of ``mag (..., T)`` (``-inf`` off
    the frames analysed) with an analysed frame on each side, no lower than either; the largest
    value where there is none. A speed highest at the window's first frame is the tail of an
    earlier motion (the backlift, the stride), not a peak of the downswing."""
    low = torch.full_like(mag[..., :1], -torch.inf)
    before, after = torch.cat([low, mag[..., :-1]], -1), torch.cat([mag[..., 1:], low], -1)
    interior = (before > -torch.inf) & (after > -torch.inf) & (mag >= before) & (mag >= after)
    return torch.where(interior.any(-1), torch.where(interior, mag, -torch.inf).argmax(-1), mag.argmax(-1))


def fit_peak_times(series: torch.Tensor, mask: torch.Tensor, half: torch.Tensor,
                   noise: torch.Tensor | None = None, acov: torch.Tensor | None = None,
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Each node's peak-speed time, refined by a Gaussian fitted over a window, and its error.

    A three-sample refinement reads the frame-to-frame roughness of the noise at high frame
    rates (a 0.2-s smoother over 49 frames at 240 fps leaves it). Here a parabola is fitted to
    ``log |v|`` over ``-half..half`` frames around the largest ``|v|`` (``half`` set in seconds by
    the caller, so the fit spans the same time at any rate), by least squares weighted with
    ``|v|^2`` (the log's noise is the speed's over the speed): exact for a Gaussian peak. The
    time's error is the fitted slope's, from the noise carried through the fit:
    ``Var c1 = sigma^2 u' R u`` with ``u`` the fit's weights for the slope and ``R`` the velocity
    noise's autocovariance.

    Args:
        series: ``(B, N, T)`` velocities, per frame.
        mask: ``(B, T)`` frames analysed.
        half: ``(B,)`` long, the fit's half-width in frames (>= 1).
        noise: ``(B, N)`` standard deviation of the white noise on the positions; None: no errors.
        acov: ``(B, 2 H + 1)`` autocovariance of the velocity's noise per unit position noise at
            lags ``0..2 H`` (:func:`smoothing_noise_gains`), ``H = max(half)``.

    Returns:
        ``(frame (long), time (frames), se (frames; inf where it cannot be told))``, ``(B, N)``.
        Where fewer than three samples are usable or the fit has no maximum, the time is the
        frame and the error inf. Not differentiable.
    """
    check_shape(series, "B,N,T", "fit_peak_times: series")
    check_shape(mask, "B,T", "fit_peak_times: mask")
    t = series.shape[-1]
    mag = torch.where(mask[:, None], series.abs(), -torch.inf)
    frame = interior_peak(mag)
    width = int(half.max())
    offsets = range(-width, width + 1)
    values = []
    for m in offsets:
        k = frame + m
        a = torch.gather(mag, -1, k.clamp(0, t - 1)[..., None]).squeeze(-1)
        values.append(torch.where((k >= 0) & (k < t), a, -torch.inf))
    c1, c2, ok, (i10, i11, i12), amp = _log_parabola(offsets, values, half)
    zero = torch.zeros_like(c1)
    c2s = torch.where(ok, c2, -torch.ones_like(c2))
    limit = half[:, None].to(series.dtype)
    delta = (-c1 / (2 * c2s)).clamp(-limit, limit)
    time = frame.to(series.dtype) + torch.where(ok, delta, torch.zeros_like(delta))
    if noise is None or acov is None:
        return frame, time, torch.full_like(time, torch.inf)
    # slope noise: c1 = sum_m u_m n_m with u_m = w_m (i10 + i11 m + i12 m^2) / a_m = a_m (...)
    u = [a * (i10 + i11 * m + i12 * m * m) for m, a in zip(offsets, amp)]
    quad = zero
    for d in range(len(u)):
        lag = sum((u[j] * u[j + d] for j in range(len(u) - d)), zero)
        quad = quad + (1 if d == 0 else 2) * acov[:, d, None] * lag
    se = noise * torch.sqrt(quad.clamp_min(0)) / (2 * -c2s)
    return frame, time, torch.where(ok, se, torch.full_like(se, torch.inf))
