"""Coupling between segments across a batter's swings of one shot: trial-shuffled lagged correlation.

Within one swing, two segments' brief speed pulses correlate whenever they are co-timed, coupled
or not. Across swings they can be told apart: if ``j`` is driven by ``i``, then within every swing
``j`` follows ``i`` by a consistent delay, while ``j`` of swing ``b`` and ``i`` of swing ``a`` (both
aligned on the impact) share only their timing around the impact. So, per group of swings (one
batter, one shot), for every unordered node pair:

1. Every swing is put on one grid: rate ``R`` = the largest fps, ``-before_s .. +after_s`` around
   its impact, linear interpolation in time; grid points outside the clip are masked. Each node's
   window is z-scored over its unmasked points (population std); a constant or empty one is left
   out for that swing.
2. ``c_ab(l)``, the Pearson correlation of ``z_i^a(t)`` and ``z_j^b(t + l)`` over the grid points
   unmasked in both, for every pair of swings ``(a, b)`` (``a == b`` too) and ``|l| <= L =
   round(max_lag_s R)``: a handful of 1-D convolutions over all swings and nodes at once.
3. Each swing's lag: the argmax of ``c_aa``, refined below a sample by a parabola through the three
   samples around the peak (none at the ends); positive means ``j`` after ``i``.
4. The pooled lag: the mean over the ``k`` swings where the pair is valid, with the 95 % interval
   ``mean +- t_{0.975, k-1} sd / sqrt(k)``. This is the Hartung–Knapp random-effects interval when
   every swing's lag has the same within-swing variance (the weights are then equal and the
   Hartung–Knapp variance ``sum w (y - ybar)^2 / ((k - 1) sum w)`` is ``sd^2 / k``).
5. The coupling statistic: ``max_l mean_a c_aa(l)``, the peak of the swings' average
   cross-correlation (high when the lag is consistent across swings). Its null pairs each swing's
   ``i`` with another swing's ``j`` (the trial-shuffled, "shift predictor" surrogate of
   neuroscience): ``P`` uniform random permutations ``pi`` of the swings (a seeded
   ``torch.Generator``, drawn with replacement, the same ones for every pair) give
   ``max_l mean_a c_{a, pi(a)}(l)`` and ``p = (1 + #{null >= observed}) / (1 + P)``: a Monte-Carlo
   randomisation test, valid where the swings are exchangeable (no coupling beyond co-timing),
   since the observed pairing is then one draw among the permutations. Derangements (no swing
   with itself) are not: on co-timed, uncoupled minimum-jerk pulses (40 groups of 12 swings,
   ``tests/library/test_links.py``) 5.6-6.9 % of their p-values fell below 0.05 over six seeds,
   against 4.4-5.4 % with uniform permutations.
6. Holm's step-down adjustment over the group's tested pairs. A pair is *claimed* where the Holm
   p is below ``alpha`` and the pooled lag's interval excludes zero. With ``M`` pairs nothing can
   be claimed unless ``permutations + 1 > M / alpha`` (91 pairs at 0.05: more than 1820).

A common shift of every node of a swing relative to its reference time (an impact timed late in
that swing) is shared within the swing and not across swings, so it reads as coupling here (a
common shift of sd 60 ms on the pulses above raised the share of p < 0.05 from 0.057 to 0.082): the
reference time should be as exact as possible.

Shapes (the project's axis names): ``K`` swings, ``N`` nodes, ``G`` grid points, ``M`` tested
pairs, ``2 L + 1`` lags (lag ``k - L`` at index ``k``). Nothing here is differentiable, and no I/O.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy import stats

from corrkin.ops import max_weight_path
from corrkin.skeleton import NODE_INDEX, NODES

NOTE = ("claimed: the pair's within-swing cross-correlation peak beats the same peak between swings "
        "paired at random (Holm-adjusted p < alpha over the group's pairs) and its pooled lag's 95 % "
        "interval excludes zero, so dst follows src with a consistent delay beyond their common "
        "timing around the impact.")
LINK_KEYS = ("src", "dst", "swings", "lag_ms", "lag_ci_low_ms", "lag_ci_high_ms", "lag_sd_ms",
             "same_order_share", "coupling", "coupling_null_mean", "p_value", "p_holm", "claimed")


@dataclass
class Swing:
    """One swing of a group: per-node velocity along the swing axis, and its reference time."""

    series: np.ndarray  # (T, N) float, nodes in corrkin.skeleton.NODES order
    fps: float
    impact_s: float  # reference time (impact, or the bat's peak speed), s from the clip's start
    valid: np.ndarray | None = None  # (N,) bool nodes usable (None: all)


@dataclass
class LinkResult:
    """What :func:`infer_links` found for one group of swings."""

    links: list[dict]  # one per tested unordered pair, keys LINK_KEYS, oriented so lag_ms >= 0
    chain: list[str]  # the maximum-coupling path over claimed links, a source to the target; [] if none
    p_floor: float  # the least p a permutation test can give, 1 / (permutations + 1)
    grid_hz: float  # the common grid's rate R
    note: str  # what `claimed` means, in one sentence


def _check_swings(swings: Sequence[Swing]) -> None:
    if len(swings) < 3:
        raise ValueError(f"infer_links: need at least 3 swings of a group, got {len(swings)}")
    for k, s in enumerate(swings):
        x = np.asarray(s.series)
        if x.ndim != 2 or x.shape[1] != len(NODES) or x.shape[0] < 2:
            raise ValueError(f"swing {k}: series must be (T >= 2, {len(NODES)}), got {x.shape}")
        if not s.fps > 0:
            raise ValueError(f"swing {k}: fps must be > 0, got {s.fps}")
        valid = np.ones(len(NODES), bool) if s.valid is None else np.asarray(s.valid, bool)
        if valid.shape != (len(NODES),):
            raise ValueError(f"swing {k}: valid must be ({len(NODES)},), got {valid.shape}")
        bad = valid & ~np.isfinite(x).all(0)
        if bad.any():
            raise ValueError(f"swing {k}: non-finite samples in {[NODES[i] for i in np.flatnonzero(bad)]}; "
                             "fill the gaps or mark the nodes invalid with Swing.valid")


def common_grid(swings: Sequence[Swing], before_s: float, after_s: float
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, float]:
    """Every swing's window on one grid, z-scored: ``(z (K, N, G) float64, mask (K, G), valid (K, N), R)``.

    ``R`` is the largest fps; the grid is ``round(before_s R)`` steps of ``1 / R`` before the impact
    to ``round(after_s R)`` after it. ``z`` is 0 at masked points (outside the clip) and for invalid
    nodes (``Swing.valid`` false, fewer than 3 points, or constant: std <= 1e-9 max |x|).
    """
    rate = float(max(s.fps for s in swings))
    offsets = torch.arange(-round(before_s * rate), round(after_s * rate) + 1, dtype=torch.float64) / rate
    k, n, g = len(swings), len(NODES), offsets.numel()
    lengths = torch.tensor([len(s.series) for s in swings])
    series = torch.zeros(k, int(lengths.max()), n, dtype=torch.float64)
    for a, s in enumerate(swings):  # ragged clips padded; everything after is batched
        series[a, : lengths[a]] = torch.as_tensor(np.asarray(s.series, np.float64))
    fps = torch.tensor([float(s.fps) for s in swings], dtype=torch.float64)
    impact = torch.tensor([float(s.impact_s) for s in swings], dtype=torch.float64)
    last = (lengths - 1).to(torch.float64)[:, None]
    u = (impact[:, None] + offsets) * fps[:, None]  # (K, G) position in the clip's frames
    mask = (u >= -1e-6) & (u <= last + 1e-6)
    u = torch.minimum(u.clamp_min(0), last)
    i0 = torch.minimum(u.floor(), (last - 1).clamp_min(0)).long()
    frac = (u - i0)[..., None]
    i1 = torch.minimum(i0 + 1, lengths[:, None] - 1)
    v0 = series.gather(1, i0[..., None].expand(k, g, n))
    v1 = series.gather(1, i1[..., None].expand(k, g, n))
    x = (v0 + frac * (v1 - v0)).transpose(1, 2)  # (K, N, G)
    m = mask[:, None, :]
    count = m.sum(-1).clamp_min(1)
    mean = torch.where(m, x, 0.0).sum(-1) / count
    c = torch.where(m, x - mean[..., None], 0.0)
    std = torch.sqrt((c * c).sum(-1) / count)
    given = torch.as_tensor(np.stack([np.ones(n, bool) if s.valid is None else np.asarray(s.valid, bool)
                                      for s in swings]))
    valid = given & (m.sum(-1) >= 3) & (std > 1e-9 * torch.where(m, x.abs(), 0.0).amax(-1))
    z = torch.where(valid[..., None], c / torch.where(valid, std, 1.0)[..., None], 0.0)
    return z, mask, valid, rate


def swing_xcorr(z: torch.Tensor, mask: torch.Tensor, max_lag: int, pairs: torch.Tensor) -> torch.Tensor:
    """``c[a, b, m, k]``: Pearson correlation of ``z[a, i_m, t]`` and ``z[b, j_m, t + k - L]`` over the
    ``t`` unmasked in both, ``(K, K, M, 2 L + 1)`` in ``z``'s dtype.

    Args:
        z: ``(K, N, G)`` series, 0 outside ``mask`` and for invalid nodes (as :func:`common_grid` gives).
        mask: ``(K, G)`` bool grid points inside each clip.
        max_lag: ``L`` in grid steps.
        pairs: ``(2, M)`` long node indices ``(i, j)``.

    0 where fewer than 3 points overlap or either series is constant there (variance of the
    z-scores below ``64 eps`` of the dtype: an invalid node is all zeros, so its correlations are 0).
    """
    k, n, g = z.shape
    if mask.shape != (k, g) or pairs.ndim != 2 or pairs.shape[0] != 2:
        raise ValueError(f"swing_xcorr: expected z (K, N, G), mask (K, G), pairs (2, M); got "
                         f"{tuple(z.shape)}, {tuple(mask.shape)}, {tuple(pairs.shape)}")
    m = mask.to(z.dtype)
    zm = z * m[:, None]
    # F.conv1d is a cross-correlation: out[b j, a i, k] = sum_t zm[a, i, t] pad(zm)[b, j, t + k]
    sxy = F.conv1d(F.pad(zm, (max_lag, max_lag)).reshape(k * n, 1, -1), zm.reshape(k * n, 1, g))
    sxy = sxy.view(k, n, k, n, -1)[:, pairs[1], :, pairs[0]].permute(2, 1, 0, 3).contiguous()  # (a, b, M, k)
    # per node, the sums of x and x^2 and the count over the overlap: a series against the other's mask
    left = torch.cat([zm, zm * zm, m[:, None]], 1)
    side = F.conv1d(F.pad(m, (max_lag, max_lag))[:, None], left.reshape(-1, 1, g))
    side = side.view(k, k, 2 * n + 1, -1).transpose(0, 1)  # (a, b, ., k)
    cnt = side[:, :, 2 * n:]
    inv = 1 / cnt.clamp_min(1)
    mean_x, var_x = side[:, :, :n] * inv, side[:, :, n:2 * n] * inv  # the left series, lag l
    # sum_t m_a(t) y_b(t + l) = sum_s y_b(s) m_a(s - l): the same sums, swings swapped, lag flipped
    mean_y, var_y = mean_x.transpose(0, 1).flip(-1), var_x.transpose(0, 1).flip(-1)
    tol = 64 * torch.finfo(z.dtype).eps
    var_x, var_y = var_x - mean_x * mean_x, var_y - mean_y * mean_y
    scale_x = torch.where((var_x > tol) & (cnt >= 3), torch.rsqrt(var_x.clamp_min(tol)), 0.0)
    scale_y = torch.where((var_y > tol) & (cnt >= 3), torch.rsqrt(var_y.clamp_min(tol)), 0.0)
    # r = (sxy / n - mean_x mean_y) / (sd_x sd_y), on the pairs
    mx, my = mean_x.index_select(2, pairs[0]), mean_y.index_select(2, pairs[1])
    sx, sy = scale_x.index_select(2, pairs[0]), scale_y.index_select(2, pairs[1])
    r = sxy.mul_(inv).sub_(mx.mul_(my)).mul_(sx.mul_(sy))
    return r.clamp_(-1, 1)


def peak_lags(c: torch.Tensor) -> torch.Tensor:
    """Sub-sample lag of the maximum of ``c (..., 2 L + 1)``, in steps, ``(...)``.

    The first maximum's index less ``L``, plus the vertex of the parabola through it and its two
    neighbours (none at either end, or where the three do not bend down).
    """
    last = c.shape[-1] - 1
    k = c.argmax(-1, keepdim=True)  # the first of equal maxima
    if last < 2:  # no lag, or a single one each side: nothing to refine
        return (k - last // 2).squeeze(-1).to(c.dtype)
    left, mid, right = (c.gather(-1, k.clamp(1, last - 1) + d) for d in (-1, 0, 1))
    den = left - 2 * mid + right
    inner = (k > 0) & (k < last) & (den < 0)
    delta = torch.where(inner, 0.5 * (left - right) / torch.where(inner, den, -1.0), 0.0)
    return (k - last // 2 + delta.clamp(-0.5, 0.5)).squeeze(-1)


def pooled_lag(lags: np.ndarray, valid: np.ndarray) -> dict[str, np.ndarray]:
    """Pool per-swing lags ``(K, M)`` over the swings where ``valid (K, M)``; each value ``(M,)``.

    ``mean``, ``sd`` (ddof 1), the Hartung–Knapp 95 % interval ``low, high`` (equal within-swing
    variances: ``mean +- t_{0.975, k-1} sd / sqrt(k)``), ``share`` (swings whose lag has the pooled
    lag's sign; a zero lag never does) and ``count`` ``k``. NaN where ``k < 2``.
    """
    count = valid.sum(0)
    x = np.where(valid, lags, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, np.nansum(x, 0) / np.maximum(count, 1), np.nan)
        dev = np.where(valid, x - mean, 0.0)
        sd = np.where(count > 1, np.sqrt((dev * dev).sum(0) / np.maximum(count - 1, 1)), np.nan)
        t = np.where(count > 1, stats.t.ppf(0.975, np.maximum(count - 1, 1)), np.nan)
        half = t * sd / np.sqrt(count)
        same = valid & (np.sign(x) == np.sign(mean)) & (np.sign(x) != 0)
        share = np.where(count > 0, same.sum(0) / np.maximum(count, 1), np.nan)
    return {"mean": mean, "sd": sd, "low": mean - half, "high": mean + half, "share": share, "count": count}


def swing_permutations(k: int, count: int, seed: int) -> torch.Tensor:
    """``count`` uniform random permutations of ``k`` items, ``(count, k)`` long, on the CPU:
    independent (drawn by a ``torch.Generator`` seeded with ``seed``), so repeats are possible;
    the same ``seed`` gives the same ones (remembered: a library's groups share them)."""
    return _permutations(k, count, seed).clone()


@functools.lru_cache(maxsize=16)
def _permutations(k: int, count: int, seed: int) -> torch.Tensor:
    if k < 2 or count < 1:
        raise ValueError(f"permutations: need k >= 2 and count >= 1, got k={k}, count={count}")
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(count, k, generator=gen).argsort(1)


def shuffled_peaks(c: torch.Tensor, pair_valid: torch.Tensor, perms: torch.Tensor) -> torch.Tensor:
    """``max_l mean_a c[a, pi(a), m, l]`` over the ``a`` where ``pair_valid[a, pi(a), m]``, for
    each row ``pi`` of ``perms (R, K)``: ``(R, M)``, NaN where no ``a`` counts.

    Args:
        c: ``(K, K, M, 2 L + 1)`` from :func:`swing_xcorr`.
        pair_valid: ``(K, K, M)`` bool, node ``i`` valid in swing ``a`` and ``j`` in ``b``.
        perms: ``(R, K)`` long; the identity row gives the observed statistic.

    The sum over swings is a gather-sum (``embedding_bag``) over tables of the sums for every
    choice of two consecutive swings' partners, a few lags at a time so that a table stays in cache:
    ``K / 2`` additions per permutation, pair and lag instead of ``K``, in a few large calls.
    """
    k, _, npair, nlag = c.shape
    if perms.ndim != 2 or perms.shape[1] != k or pair_valid.shape != c.shape[:3]:
        raise ValueError(f"shuffled_peaks: expected c (K, K, M, 2 L + 1), pair_valid (K, K, M), perms (R, K); "
                         f"got {tuple(c.shape)}, {tuple(pair_valid.shape)}, {tuple(perms.shape)}")
    kp = k + k % 2  # an odd group gets a virtual swing of zeros, paired with swing 0
    by_lag = c.new_zeros(nlag, kp, k, npair)  # (2 L + 1, K, K, M)
    by_lag[:, :k] = torch.where(pair_valid[..., None], c, 0.0).permute(3, 0, 1, 2)
    w = pair_valid.new_zeros(kp, k, npair).to(c.dtype)
    w[:k] = pair_valid
    perms = torch.cat([perms, perms.new_zeros(len(perms), kp - k)], 1)
    idx = torch.arange(kp // 2, device=c.device) * k * k + perms[:, 0::2] * k + perms[:, 1::2]  # (R, K / 2)
    count = F.embedding_bag(idx, (w[0::2, :, None] + w[1::2, None, :]).reshape(-1, npair), mode="sum")
    step = max(1, (1 << 18) // (kp // 2 * k * k * npair))  # lags per table: about 1 MB, cache-resident
    best = None
    for lag in range(0, nlag, step):
        part = by_lag[lag:lag + step]  # (lags, K, K, M) -> rows (pairs of partners), columns (lags, M)
        table = (part[:, 0::2, :, None] + part[:, 1::2, None, :]).permute(1, 2, 3, 0, 4).reshape(-1, len(part) * npair)
        s = F.embedding_bag(idx, table, mode="sum").view(len(idx), -1, npair).amax(1)
        best = s if best is None else torch.maximum(best, s, out=best)
    return torch.where(count > 0, best / count.clamp_min(1), torch.nan)


def holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error over all of ``p``)."""
    p = np.asarray(p, np.float64)
    order = np.argsort(p, kind="stable")
    adj = np.minimum(1.0, np.maximum.accumulate((p.size - np.arange(p.size)) * p[order]))
    out = np.empty_like(adj)
    out[order] = adj
    return out


def _tested_pairs(untested: Sequence[tuple[str, str]], valid: torch.Tensor) -> torch.Tensor:
    """``(2, M)`` node pairs ``i < j``, not untested, valid together in at least 3 swings."""
    for pair in untested:
        for name in pair:
            if name not in NODE_INDEX:
                raise ValueError(f"infer_links: unknown node '{name}' in untested; nodes are {NODES}")
    skip = torch.zeros(len(NODES), len(NODES), dtype=torch.bool)
    for a, b in untested:
        skip[NODE_INDEX[a], NODE_INDEX[b]] = skip[NODE_INDEX[b], NODE_INDEX[a]] = True
    iu = torch.triu_indices(len(NODES), len(NODES), 1)
    both = (valid[:, iu[0]] & valid[:, iu[1]]).sum(0) >= 3
    return iu[:, both & ~skip[iu[0], iu[1]]]


def _chain(links: list[dict], sources: Sequence[str], target: str) -> list[str]:
    """The maximum-coupling path over the claimed links from a source to ``target``; [] if none.

    A claimed link runs from the earlier node to the later; should lags that disagree close a
    cycle, its weakest link is dropped first so that the graph is acyclic, as the path needs.
    """
    n = len(NODES)
    weight, edge = torch.zeros(n, n, dtype=torch.float64), torch.zeros(n, n, dtype=torch.bool)
    for link in links:
        if link["claimed"]:
            i, j = NODE_INDEX[link["src"]], NODE_INDEX[link["dst"]]
            weight[i, j], edge[i, j] = link["coupling"], True
    while True:
        reach = edge.clone()
        for _ in range(n):
            reach = reach | ((reach.double() @ edge.double()) > 0)
        on_cycle = edge & reach.T
        if not on_cycle.any():
            break
        edge.view(-1)[torch.where(on_cycle, weight, torch.inf).view(-1).argmin()] = False
    path, _, reaches = max_weight_path(weight[None], edge[None], [NODE_INDEX[s] for s in sources], NODE_INDEX[target])
    return [NODES[int(v)] for v in path[0] if v >= 0] if bool(reaches[0]) else []


def infer_links(
    swings: list[Swing],
    *,
    max_lag_s: float = 0.2,
    before_s: float = 0.8,
    after_s: float = 0.4,
    alpha: float = 0.05,
    permutations: int = 4999,
    seed: int = 0,
    untested: Sequence[tuple[str, str]] = (),
    sources: Sequence[str] = ("l_ankle", "r_ankle", "pelvis"),
    target: str = "bat",
    device: str | torch.device = "cpu",
) -> LinkResult:
    """Lag, order consistency and coupling beyond co-timing of every node pair of one group of swings.

    Args:
        swings: one batter's swings of one shot (at least 3); clips may differ in length and fps.
        max_lag_s: the largest lag searched, s.
        before_s, after_s: the window around each swing's impact, s.
        alpha: family-wise level (Holm) of a claimed link.
        permutations: random permutations of the swings in the null (``p >= 1 / (permutations + 1)``).
        seed: the permutations' seed.
        untested: node pairs never tested (series that are functions of each other by construction).
        sources, target: where the chain may start and where it must end.
        device: where the correlations and the null are computed (in float32; the grid in float64).

    Returns:
        :class:`LinkResult`. A pair is tested where both nodes are valid together in 3 or more swings;
        ``swings`` is that number. Method and its caveats: the module's docstring.
    """
    _check_settings(swings, max_lag_s, before_s, after_s, alpha, permutations, (*sources, target))
    z, mask, valid, rate = common_grid(swings, before_s, after_s)
    pairs = _tested_pairs(untested, valid)
    k, max_lag = len(swings), round(max_lag_s * rate)
    if pairs.shape[1] == 0:
        return LinkResult([], [], 1 / (permutations + 1), rate, NOTE)
    dev = torch.device(device)
    z, mask, pairs_d, valid_d = z.to(dev, torch.float32), mask.to(dev), pairs.to(dev), valid.to(dev)
    c = swing_xcorr(z, mask, max_lag, pairs_d)  # (K, K, M, 2 L + 1)
    pair_valid = valid_d[:, None, pairs_d[0]] & valid_d[None, :, pairs_d[1]]  # (K, K, M)
    diag = torch.arange(k, device=dev)
    lags = (peak_lags(c[diag, diag]) * (1000.0 / rate)).double().cpu().numpy()  # (K, M), ms
    pooled = pooled_lag(lags, pair_valid[diag, diag].cpu().numpy())
    perms = torch.cat([torch.arange(k)[None], _permutations(k, permutations, seed)]).to(dev)
    peaks = shuffled_peaks(c, pair_valid, perms).double().cpu().numpy()
    observed, null = peaks[0], peaks[1:]
    p = (1 + (~(null < observed)).sum(0)) / (1 + permutations)  # a draw with no swing counted exceeds
    p_holm = holm(p)
    drawn = np.isfinite(null)
    null_mean = np.where(drawn, null, 0.0).sum(0) / np.maximum(drawn.sum(0), 1)
    links = _link_rows(pairs, pooled, observed, null_mean, p, p_holm, alpha)
    return LinkResult(links, _chain(links, sources, target), 1 / (permutations + 1), rate, NOTE)


def _check_settings(swings, max_lag_s, before_s, after_s, alpha, permutations, nodes) -> None:
    """Raise on swings :func:`infer_links` cannot use or a setting out of its range."""
    _check_swings(swings)
    if not (max_lag_s > 0 and before_s >= 0 and after_s >= 0 and 0 < alpha < 1 and permutations >= 1):
        raise ValueError(f"infer_links: need max_lag_s > 0, before_s, after_s >= 0, 0 < alpha < 1 and "
                         f"permutations >= 1; got {max_lag_s}, {before_s}, {after_s}, {alpha}, {permutations}")
    for name in nodes:
        if name not in NODE_INDEX:
            raise ValueError(f"infer_links: unknown node '{name}'; nodes are {NODES}")


def _link_rows(pairs: torch.Tensor, pooled: dict, observed: np.ndarray, null_mean: np.ndarray, p: np.ndarray,
               p_holm: np.ndarray, alpha: float) -> list[dict]:
    """One dict (``LINK_KEYS``) per tested pair, oriented so that its pooled lag is >= 0; claimed
    where the Holm p is below ``alpha`` and the lag's interval excludes zero."""
    links = []
    for m, (i, j) in enumerate(pairs.T.tolist()):
        mean, low, high = pooled["mean"][m], pooled["low"][m], pooled["high"][m]
        if mean < 0:
            i, j, mean, low, high = j, i, -mean, -high, -low
        links.append(dict(zip(LINK_KEYS, (
            NODES[i], NODES[j], int(pooled["count"][m]), float(mean), float(low), float(high),
            float(pooled["sd"][m]), float(pooled["share"][m]), float(observed[m]), float(null_mean[m]),
            float(p[m]), float(p_holm[m]), bool(p_holm[m] < alpha and (low > 0 or high < 0))))))
    return links
