"""Time-lagged normalised cross-correlation of every node pair of every clip, and its statistics.

Conventions (the seed analysis's): series are z-scored over their valid frames (population std),
``c_ij(l) = (1/n) sum_t z_i[t] z_j[t + l]`` with ``n`` valid frames, so a positive lag means ``j``
follows ``i``. Significance uses Fisher's z with an effective sample size
``N_eff = n (1 - r_i r_j) / (1 + r_i r_j)`` from the lag-1 autocorrelations ``r``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from corrkin.ops import _math
from corrkin.ops._checks import check_shape
from corrkin.ops.reduce import blocked_sum


def zscore(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Z-score ``x (B, N, T)`` over frames in ``mask (B, T)`` (population std); 0 elsewhere.

    A constant series (std 0) becomes all zeros, so it correlates with nothing (the original
    produced NaN there).
    """
    check_shape(x, "B,N,T", "zscore: x")
    check_shape(mask, "B,T", "zscore: mask")
    m = mask[:, None, :]
    count = blocked_sum(m.to(x.dtype), -1).clamp_min(1)
    mean = blocked_sum(torch.where(m, x, 0.0), -1) / count
    c = torch.where(m, x - mean[..., None], 0.0)
    std = torch.sqrt(blocked_sum(c * c, -1) / count)
    safe = torch.where(std > 0, std, 1.0)
    return torch.where((std > 0)[..., None], c / safe[..., None], 0.0)


def _scale_exponents(z: torch.Tensor, n: torch.Tensor, slices: int) -> list[torch.Tensor]:
    """Per-clip power-of-two exponents ``s_k (B,)`` of the fixed-point slices of ``z``.

    Slice 0 is ``round(z 2^s0)``; slice 1 the rounded remainder at ``2^(s0 + s1)``. They are
    chosen so that every sum of products of two slices over a clip's frames stays below 2^52 in
    magnitude (Cauchy–Schwarz with the clip's largest ``sum z^2`` and its frame count), hence
    every partial sum of those products is an exactly representable float64 integer.
    """
    sumsq = blocked_sum(z.to(torch.float64) ** 2, -1).amax(-1)  # (B,)
    e_sq = torch.frexp(sumsq).exponent.to(torch.long).clamp_min(0)  # sum z^2 < 2^e_sq
    e_n = torch.frexp(n.to(torch.float64)).exponent.to(torch.long)  # n < 2^e_n
    # hi . hi: sum |hi_i hi_j| <= (sqrt(sum z^2) 2^s0 + sqrt(n) / 2)^2 < 2^(e_sq + 2 s0 + 1) <= 2^52
    s0 = torch.div(51 - e_sq, 2, rounding_mode="floor")
    if slices == 1:
        return [s0]
    # hi . lo: |lo| <= 2^(s1 - 1), so sum |hi lo| <= 2^((e_sq + 2 s0 + 1) / 2) sqrt(n) 2^(s1 - 1) <= 2^51
    s1 = torch.div(104 - (e_sq + 2 * s0 + 1) - e_n, 2, rounding_mode="floor")
    return [s0, s1]


def _lag_products(a: torch.Tensor, b: torch.Tensor, max_lag: int) -> torch.Tensor:
    """``out[..., l] = sum_t a_i[t] b_j[t + l]`` for ``l = 0..L``: ``(B, N, N, L + 1)``, one
    batched matrix product per lag (``b`` zero past its end)."""
    t = a.shape[-1]
    b_pad = F.pad(b, (0, max_lag))
    return torch.stack([torch.bmm(a, b_pad[..., lag: lag + t].transpose(1, 2)) for lag in range(max_lag + 1)], -1)


class _ExactXcorr(torch.autograd.Function):
    """Forward: error-free fixed-point products (see :func:`lagged_xcorr`); backward: the
    gradient of the plain correlation, which the forward equals to within its rounding."""

    @staticmethod
    def forward(ctx, z: torch.Tensor, n: torch.Tensor, max_lag: int) -> torch.Tensor:
        ctx.save_for_backward(z, n)
        ctx.max_lag = max_lag
        slices = 2 if z.dtype == torch.float64 else 1
        exps = _scale_exponents(z, n, slices)
        zd = z.to(torch.float64)
        scaled = torch.ldexp(zd, exps[0][:, None, None].to(torch.float64))
        hi = torch.round(scaled)
        total = _lag_products(hi, hi, max_lag)  # exact integers
        unit = torch.ldexp(torch.ones_like(n, dtype=torch.float64), -2 * exps[0])
        total = total * unit[:, None, None, None]
        if slices == 2:
            lo = torch.round(torch.ldexp(scaled - hi, exps[1][:, None, None].to(torch.float64)))
            cross = _lag_products(hi, lo, max_lag) + _lag_products(lo, hi, max_lag)
            unit = torch.ldexp(torch.ones_like(n, dtype=torch.float64), -2 * exps[0] - exps[1])
            total = total + cross * unit[:, None, None, None]
        pos = total / n.to(torch.float64).clamp_min(1)[:, None, None, None]
        neg = pos.transpose(1, 2)[..., 1:].flip(-1)
        return torch.cat([neg, pos], -1).to(z.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        z, n = ctx.saved_tensors
        with torch.enable_grad():
            zz = z.detach().requires_grad_(True)
            pos = _lag_products(zz, zz, ctx.max_lag) / n.to(z.dtype).clamp_min(1)[:, None, None, None]
            out = torch.cat([pos.transpose(1, 2)[..., 1:].flip(-1), pos], -1)
            (gz,) = torch.autograd.grad(out, zz, grad)
        return gz, None, None


def lagged_xcorr(z: torch.Tensor, mask: torch.Tensor, max_lag: int) -> torch.Tensor:
    """All-pairs lagged cross-correlation ``(B, N, N, 2 L + 1)``, lags ``-L..L`` along the last axis.

    Args:
        z: ``(B, N, T)`` z-scored series, zero outside ``mask`` (as :func:`zscore` returns).
        mask: ``(B, T)`` frames that count; ``n`` is their number per clip.
        max_lag: ``L`` in frames; per-clip limits are applied by the caller.

    A matrix library sums a product in an order of its own choosing, which changes with the
    batch around a matrix (MKL's batched GEMM packs several small matrices into one SIMD
    register, so a clip's sum depends on its neighbours). Here the order cannot matter: each
    clip's series is cut into fixed-point slices (``round(z 2^s)``, and for float64 input the
    rounded remainder at a finer scale), with power-of-two scales chosen from the clip's own
    ``sum z^2`` and length so that every product and partial sum is an exact float64 integer
    (error-free, as in Ozaki's scheme). One batched float64 product per lag then gives the
    exact sums in any order, on any device, and the slices are recombined elementwise in a
    fixed order. A clip's result is therefore the same bits alone or in any batch, on CPU and
    CUDA alike.

    Precision: float32 input is rounded to ``2^-s`` with ``s = floor((51 - e)/2)``, ``2^e`` the
    power of two above the clip's largest ``sum z^2`` (``2^-21`` for 300 frames of z-scores, a few float32 ulps; the average over frames shrinks
    the error further); float64 input keeps a second slice, about ``2^-44``. The work is
    ``O(B N^2 T L)``, one (float32) or three (float64) float64 products per lag. Differentiable:
    the backward is the gradient of the plain correlation.
    """
    check_shape(z, "B,N,T", "lagged_xcorr: z")
    check_shape(mask, "B,T", "lagged_xcorr: mask")
    if max_lag < 0:
        raise ValueError(f"lagged_xcorr: max_lag must be >= 0, got {max_lag}")
    n = mask.sum(-1)
    return _ExactXcorr.apply(z, n, max_lag)


def lag1_autocorrelation(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Pearson correlation of ``(x[t], x[t+1])`` over pairs of valid frames, ``(B, N)``.

    Equal to ``numpy.corrcoef(x[:-1], x[1:])[0, 1]`` on a clip's valid frames; 0 for a
    constant series (numpy gives NaN).
    """
    check_shape(x, "B,N,T", "lag1_autocorrelation: x")
    check_shape(mask, "B,T", "lag1_autocorrelation: mask")
    # pairs (t, t+1) indexed by t over the full length, so the sums keep their 64-frame blocks
    pair = (mask & F.pad(mask[:, 1:], (0, 1)))[:, None, :]
    a, b = x, F.pad(x[..., 1:], (0, 1))
    count = blocked_sum(pair.to(x.dtype), -1).clamp_min(1)
    da = torch.where(pair, a - (blocked_sum(torch.where(pair, a, 0.0), -1) / count)[..., None], 0.0)
    db = torch.where(pair, b - (blocked_sum(torch.where(pair, b, 0.0), -1) / count)[..., None], 0.0)
    num = blocked_sum(da * db, -1)
    den = torch.sqrt(blocked_sum(da * da, -1) * blocked_sum(db * db, -1))
    return torch.where(den > 0, num / torch.where(den > 0, den, 1.0), 0.0)


def effective_n(n: torch.Tensor, r_i: torch.Tensor, r_j: torch.Tensor) -> torch.Tensor:
    """Bartlett's effective sample size ``n (1 - r_i r_j) / (1 + r_i r_j)`` (broadcasts)."""
    rr = r_i * r_j
    return n * (1 - rr) / (1 + rr)


def fisher_p_value(r: torch.Tensor, n_eff: torch.Tensor) -> torch.Tensor:
    """Two-sided p-value of a correlation ``r`` with ``n_eff`` samples (Fisher z, normal tail).

    ``p = erfc(|atanh r| sqrt(n_eff - 3) / sqrt 2)``. Where ``n_eff <= 3`` the test has no
    power and p is 1; ``|r|`` is clamped below 1 so a perfect correlation gives p = 0, not NaN.
    """
    tiny = torch.finfo(r.dtype).eps
    z = _math.atanh(r.abs().clamp_max(1 - tiny)) * torch.sqrt((n_eff - 3).clamp_min(0))
    p = torch.special.erfc(z / math.sqrt(2))
    return torch.where(n_eff > 3, p, torch.ones_like(p))


def benjamini_hochberg(p: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Benjamini–Hochberg adjusted p-values (q) of ``p (B, M)`` over entries in ``mask (B, M)``.

    ``q_(k) = min_{k' >= k} p_(k') m / k'`` with ``m`` tested entries per row, capped at 1;
    entries outside the mask get 1. Equal to ``scipy.stats.false_discovery_control``.
    """
    check_shape(p, "B,M", "benjamini_hochberg: p")
    m = mask.sum(-1, keepdim=True).to(p.dtype)
    order = torch.where(mask, p, torch.inf).argsort(dim=-1, stable=True)
    srt = torch.gather(p, -1, order)
    rank = torch.arange(1, p.shape[-1] + 1, device=p.device, dtype=p.dtype)
    q = srt * m / rank
    valid_sorted = torch.gather(mask, -1, order)
    q = torch.where(valid_sorted, q, torch.inf)
    q = q.flip(-1).cummin(-1).values.flip(-1).clamp_max(1)
    out = torch.empty_like(q).scatter_(-1, order, q)
    return torch.where(mask, out, torch.ones_like(out))
