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
lag's standard error comes from the curvature of the correlation peak (the regression of one
series on the other's derivative: ``Var tau = (1 - r^2) / (r^2 N_eff kappa)``).
"""

from __future__ import annotations

import math

import torch

from corrkin.ops import _math
from corrkin.ops._checks import check_shape
from corrkin.ops.reduce import blocked_sum

Z95 = 1.959963984540054  # two-sided 95 % normal quantile


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


def peak_times(series: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Frame of peak ``|series|`` per node and its sub-frame refinement, ``(B, N)`` each.

    Returns ``(frame (long), time (float, frames))``; ties go to the earliest frame. A peak on
    the first or last frame of ``mask`` is not refined. Not differentiable.
    """
    check_shape(series, "B,N,T", "peak_times: series")
    check_shape(mask, "B,T", "peak_times: mask")
    mag = torch.where(mask[:, None], series.abs(), -torch.inf)
    frame = mag.argmax(-1)
    t = series.shape[-1]
    at = lambda k: torch.gather(mag, -1, k.clamp(0, t - 1)[..., None]).squeeze(-1)  # noqa: E731
    left, mid, right = at(frame - 1), at(frame), at(frame + 1)
    inner = torch.isfinite(left) & torch.isfinite(right) & (frame > 0) & (frame < t - 1)
    delta, _ = refine_peak(torch.where(inner, left, mid), mid, torch.where(inner, right, mid))
    return frame, frame.to(series.dtype) + torch.where(inner, delta, torch.zeros_like(delta))


def lag_peak(xc: torch.Tensor, max_lag: torch.Tensor) -> dict[str, torch.Tensor]:
    """The peak of every pair's correlation over its allowed lags, refined below one frame.

    Args:
        xc: ``(B, N, N, 2 L + 1)``, lags ``-L..L``.
        max_lag: ``(B,)`` each clip's ``|lag|`` limit.

    Returns:
        dict of ``(B, N, N)``: ``weight`` (the largest correlation), ``lag`` (its lag, frames,
        earliest on ties), ``lag_sub`` (refined, frames; not refined at the window's ends) and
        ``kappa`` (relative curvature of the peak per frame², 0 where unrefined).
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
            "kappa": torch.where(inner, kappa, zero)}


def lag_standard_error(r: torch.Tensor, n_eff: torch.Tensor, kappa: torch.Tensor) -> torch.Tensor:
    """Standard error of a correlation peak's lag, in samples: ``sqrt((1 - r^2) / (r^2 N_eff kappa))``.
    Infinite where ``r <= 0`` or the peak has no curvature (unrefined). Elementwise."""
    ok = (r > 0) & (kappa > 0)
    rr = torch.where(ok, r, torch.ones_like(r)).clamp_max(1 - torch.finfo(r.dtype).eps)
    var = (1 - rr * rr) / (rr * rr * n_eff.clamp_min(1) * torch.where(ok, kappa, torch.ones_like(kappa)))
    return torch.where(ok, torch.sqrt(var), torch.full_like(r, torch.inf))
