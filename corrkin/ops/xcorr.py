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
from corrkin.ops.reduce import BLOCK, add_blocks, blocked_sum, padded_length


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


def lagged_xcorr(z: torch.Tensor, mask: torch.Tensor, max_lag: int) -> torch.Tensor:
    """All-pairs lagged cross-correlation ``(B, N, N, 2 L + 1)``, lags ``-L..L`` along the last axis.

    Args:
        z: ``(B, N, T)`` z-scored series, zero outside ``mask`` (as :func:`zscore` returns).
        mask: ``(B, T)`` frames that count; ``n`` is their number per clip.
        max_lag: ``L`` in frames; per-clip limits are applied by the caller.

    One strided batched matmul per non-negative lag over fixed 64-frame blocks (negative lags are
    the transpose), so the work is ``O(B N^2 T L)`` with no ``(B, T, N, L)`` temporary and the
    result of a clip does not depend on the batch's padding. Differentiable.
    """
    check_shape(z, "B,N,T", "lagged_xcorr: z")
    check_shape(mask, "B,T", "lagged_xcorr: mask")
    if max_lag < 0:
        raise ValueError(f"lagged_xcorr: max_lag must be >= 0, got {max_lag}")
    bsz, n_nodes, t = z.shape
    t_pad = padded_length(t)
    room = padded_length(max_lag) if max_lag > 0 else 0
    per_clip = t_pad + room
    store = z.new_zeros(bsz * per_clip + room, n_nodes)
    store[: bsz * per_clip].view(bsz, per_clip, n_nodes)[:, :t] = z.transpose(1, 2)
    flat = store.reshape(-1)
    groups = bsz * per_clip // BLOCK
    shape, stride = (groups, BLOCK, n_nodes), (BLOCK * n_nodes, n_nodes, 1)
    a = flat.as_strided(shape, stride, 0).transpose(1, 2)
    blocks = t_pad // BLOCK
    out = []
    for lag in range(max_lag + 1):
        prod = torch.bmm(a, flat.as_strided(shape, stride, lag * n_nodes))
        out.append(add_blocks(prod.view(bsz, per_clip // BLOCK, n_nodes * n_nodes)[:, :blocks].transpose(1, 2)))
    pos = torch.stack(out, -1).view(bsz, n_nodes, n_nodes, max_lag + 1)
    neg = pos.transpose(1, 2)[..., 1:].flip(-1)
    n = blocked_sum(mask.to(z.dtype), -1).clamp_min(1)
    return torch.cat([neg, pos], -1) / n[:, None, None, None]


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
