"""Dynamic time warping on batched, ragged pairs, with a Sakoe–Chiba band.

Shapes: ``x (B, N, D)``, ``y (B, M, D)``; ``x_len``, ``y_len`` ``(B,)`` the real lengths
(padding beyond them is ignored); the cost of a step is the squared Euclidean distance.

The band is tslearn's Sakoe–Chiba band, per pair from its own lengths ``n``, ``m`` and radius
``r``: cell ``(i, j)`` is allowed when ``-r - max(0, n - m) <= j - i <= r + max(0, m - n)``
(so the end cell is always reachable). The default radius is 10 % of the pair's longer length
(at least 1).

The accumulated cost is computed row by row, and only inside the band (stored as ``(B, N, W)``,
``W`` the widest band of the batch): a row's cells are ``D[i, j] = C[j] + min_{k <= j}(E[k] -
C[k-1])``, with ``C`` the running sum of the row's step costs and ``E[k] = min(D[i-1, k],
D[i-1, k-1])`` the cost of entering the row at ``k``: one ``cumsum`` and one ``cummin`` per row,
no loop over columns.
"""

from __future__ import annotations

import torch

from corrkin.ops._checks import check_shape

INF = float("inf")


def sq_dist(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean step costs ``(B, N, M)`` of ``x (B, N, D)`` against ``y (B, M, D)``."""
    return ((x[:, :, None, :] - y[:, None, :, :]) ** 2).sum(-1)


def band_limits(n: torch.Tensor, m: torch.Tensor, radius: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per pair, the allowed range ``lo <= j - i <= hi`` of the Sakoe–Chiba band ``(B,)`` each."""
    return -radius - (n - m).clamp_min(0), radius + (m - n).clamp_min(0)


def default_radius(n: torch.Tensor, m: torch.Tensor, fraction: float = 0.1) -> torch.Tensor:
    """10 % of each pair's longer length, rounded up, at least 1."""
    return torch.ceil(fraction * torch.maximum(n, m).double()).long().clamp_min(1)


def dtw(x: torch.Tensor, y: torch.Tensor, x_len: torch.Tensor | None = None, y_len: torch.Tensor | None = None,
        radius: int | torch.Tensor | None = None, path: bool = False):
    """Banded DTW of every pair.

    Args:
        x, y: ``(B, N, D)``, ``(B, M, D)``.
        x_len, y_len: ``(B,)`` real lengths (default: all of ``N`` / ``M``).
        radius: band radius in frames, one for all or ``(B,)``; ``None``: 10 % of each pair's
            longer length.
        path: also return the warping paths.

    Returns:
        ``cost (B,)``: the least sum of squared distances along a path (tslearn's and
        dtaidistance's ``dtw`` is its square root); with ``path``, also ``(B, N + M - 1, 2)``
        long index pairs ``(i, j)`` from ``(0, 0)`` to ``(n - 1, m - 1)``, padded with -1.
    """
    check_shape(x, "B,N,D", "dtw: x")
    check_shape(y, "B,M,D", "dtw: y")
    if x.shape[0] != y.shape[0] or x.shape[2] != y.shape[2]:
        raise ValueError(f"dtw: x {tuple(x.shape)} and y {tuple(y.shape)} must agree in B and D")
    b, n_max, m_max = x.shape[0], x.shape[1], y.shape[1]
    dev = x.device
    n = torch.full((b,), n_max, device=dev) if x_len is None else x_len.to(dev).long()
    m = torch.full((b,), m_max, device=dev) if y_len is None else y_len.to(dev).long()
    if bool((n < 1).any() or (m < 1).any() or (n > n_max).any() or (m > m_max).any()):
        raise ValueError(f"dtw: lengths must lie in 1..{n_max} (x) and 1..{m_max} (y)")
    if radius is None:
        r = default_radius(n, m)
    else:
        r = torch.as_tensor(radius, device=dev).long().expand(b)
    lo, hi = band_limits(n, m, r)
    lo_all, hi_all = int(lo.min()), int(hi.max())
    width = hi_all - lo_all + 1
    w = torch.arange(width, device=dev)
    cost = sq_dist(x, y)
    acc = torch.full((b, n_max, width), INF, dtype=cost.dtype, device=dev)
    prev = None
    for i in range(n_max):
        j = i + lo_all + w  # (W,) columns of this row's band cells
        inside = (j >= 0)[None] & (j[None] < m[:, None]) & (i < n[:, None])
        d = j[None] - i
        inside &= (d >= lo[:, None]) & (d <= hi[:, None])
        c = torch.where(inside, cost[:, i].gather(1, j.clamp(0, m_max - 1)[None].expand(b, -1)), 0.0)
        if prev is None:  # row 0: enter at (0, 0) only
            enter = torch.where(j[None] == 0, torch.zeros_like(c), torch.full_like(c, INF))
        else:
            above = torch.cat([prev[:, 1:], torch.full_like(prev[:, :1], INF)], 1)  # D[i-1, j]
            enter = torch.minimum(above, prev)  # prev[w] is D[i-1, j-1]
        csum = c.cumsum(1)
        before = torch.cat([torch.zeros_like(csum[:, :1]), csum[:, :-1]], 1)  # C[k-1]
        row = csum + (enter - before).cummin(1).values
        row = torch.where(inside, row, torch.full_like(row, INF))
        acc[:, i] = row
        prev = row
    end = (m - 1) - (n - 1) - lo_all
    total = acc[torch.arange(b, device=dev), n - 1, end]
    if not path:
        return total
    return total, _backtrack(acc, n, m, lo_all)


def _backtrack(acc: torch.Tensor, n: torch.Tensor, m: torch.Tensor, lo_all: int) -> torch.Tensor:
    """Warping paths ``(B, N + M - 1, 2)`` from the banded accumulated cost, all pairs at once."""
    b, n_max, width = acc.shape
    dev = acc.device
    rows = torch.arange(b, device=dev)
    steps = n_max + int(m.max()) - 1
    out = torch.full((b, steps, 2), -1, dtype=torch.long, device=dev)
    i, j = n - 1, m - 1

    def at(ii, jj):
        w = jj - ii - lo_all
        ok = (ii >= 0) & (jj >= 0) & (w >= 0) & (w < width)
        v = acc[rows, ii.clamp_min(0), w.clamp(0, width - 1)]
        return torch.where(ok, v, torch.full_like(v, INF))

    trail = []
    done = torch.zeros(b, dtype=torch.bool, device=dev)
    for _ in range(steps):
        trail.append(torch.stack([torch.where(done, -1, i), torch.where(done, -1, j)], -1))
        done = done | ((i == 0) & (j == 0))
        options = torch.stack([at(i - 1, j - 1), at(i - 1, j), at(i, j - 1)], -1)
        move = options.argmin(-1)  # ties: the diagonal first
        i = torch.where(done, i, i - (move <= 1).long())
        j = torch.where(done, j, j - ((move == 0) | (move == 2)).long())
    trail = torch.stack(trail, 1)  # (B, steps, 2), from the end back to (0, 0)
    # reverse each pair's own stretch so paths run from (0, 0)
    count = (trail[..., 0] >= 0).sum(1)
    idx = (count[:, None] - 1 - torch.arange(steps, device=dev)[None])
    valid = idx >= 0
    rev = trail[rows[:, None], idx.clamp_min(0)]
    out[:, :steps] = torch.where(valid[..., None], rev, torch.full_like(rev, -1))
    return out


def path_cost(cost: torch.Tensor, path: torch.Tensor) -> torch.Tensor:
    """Sum of ``cost (B, N, M)`` along ``path (B, L, 2)`` (-1 padding ignored)."""
    ok = path[..., 0] >= 0
    rows = torch.arange(cost.shape[0], device=cost.device)[:, None]
    v = cost[rows, path[..., 0].clamp_min(0), path[..., 1].clamp_min(0)]
    return torch.where(ok, v, torch.zeros_like(v)).sum(1)


__all__ = ["dtw", "sq_dist", "band_limits", "default_radius", "path_cost"]
