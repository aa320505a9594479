"""Dynamic time warping and soft-DTW on batched, ragged pairs, with a Sakoe–Chiba band.

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
no loop over columns. Soft-DTW (:func:`soft_dtw`) runs the same rows in the log-semiring
(``logcumsumexp`` for the ``cummin``), and its backward runs them in reverse in log space; both
keep a cell outside a pair's band or lengths at ``inf`` (``-inf`` in log space) and never
subtract one infinity from another.
"""

from __future__ import annotations

import torch

from corrkin.ops._checks import check_shape

__all__ = ["dtw", "soft_dtw", "soft_dtw_divergence", "sq_dist", "band_limits", "default_radius", "path_cost"]

INF = float("inf")


def _lengths(x: torch.Tensor, y: torch.Tensor, x_len, y_len, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Check ``x (B, N, D)`` and ``y (B, M, D)`` and return each pair's lengths ``(B,)`` (all
    of ``N`` / ``M`` where not given)."""
    check_shape(x, "B,N,D", f"{name}: x")
    check_shape(y, "B,M,D", f"{name}: y")
    if x.shape[0] != y.shape[0] or x.shape[2] != y.shape[2]:
        raise ValueError(f"{name}: x {tuple(x.shape)} and y {tuple(y.shape)} must agree in B and D")
    b, n_max, m_max = x.shape[0], x.shape[1], y.shape[1]
    n = torch.full((b,), n_max, device=x.device) if x_len is None else x_len.to(x.device).long()
    m = torch.full((b,), m_max, device=x.device) if y_len is None else y_len.to(x.device).long()
    if bool((n < 1).any() or (m < 1).any() or (n > n_max).any() or (m > m_max).any()):
        raise ValueError(f"{name}: lengths must lie in 1..{n_max} (x) and 1..{m_max} (y)")
    return n, m


def _row_cost(cost: torch.Tensor, i: int, j: torch.Tensor, inside: torch.Tensor) -> torch.Tensor:
    """Row ``i``'s step costs at its band columns ``j (W,)``, ``(B, W)``, 0 outside ``inside``."""
    b, _, m_max = cost.shape
    return torch.where(inside, cost[:, i].gather(1, j.clamp(0, m_max - 1)[None].expand(b, -1)), 0.0)


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
    n, m = _lengths(x, y, x_len, y_len, "dtw")
    b, n_max, m_max = x.shape[0], x.shape[1], y.shape[1]
    dev = x.device
    lo_all, width, row = _band_layout(n, m, default_radius(n, m) if radius is None else radius, n_max, m_max)
    cost = sq_dist(x, y)
    acc = torch.full((b, n_max, width), INF, dtype=cost.dtype, device=dev)
    prev = None
    for i in range(n_max):
        j, inside = row(i)
        c = _row_cost(cost, i, j, inside)
        if prev is None:  # row 0: enter at (0, 0) only
            enter = torch.where(j[None] == 0, torch.zeros_like(c), torch.full_like(c, INF))
        else:
            above = torch.cat([prev[:, 1:], torch.full_like(prev[:, :1], INF)], 1)  # D[i-1, j]
            enter = torch.minimum(above, prev)  # prev[w] is D[i-1, j-1]
        # no entering a cell outside the pair's own band (inside the batch's wider one): with
        # min it would only duplicate the diagonal step, but soft-DTW would count the path twice
        enter = torch.where(inside, enter, torch.full_like(enter, INF))
        csum = c.cumsum(1)
        before = torch.cat([torch.zeros_like(csum[:, :1]), csum[:, :-1]], 1)  # C[k-1]
        row_acc = csum + (enter - before).cummin(1).values
        row_acc = torch.where(inside, row_acc, torch.full_like(row_acc, INF))
        acc[:, i] = row_acc
        prev = row_acc
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


def _band_layout(n: torch.Tensor, m: torch.Tensor, radius, n_max: int, m_max: int):
    """Shared by DTW and soft-DTW: per-pair band limits, the batch's lowest offset and width,
    and for each row ``i`` the columns ``j (W,)`` of its band cells and which are real ``(B, W)``."""
    b = len(n)
    if radius is None:
        lo = -(n + m)  # no band: every cell
        hi = n + m
    else:
        lo, hi = band_limits(n, m, torch.as_tensor(radius, device=n.device).long().expand(b))
    lo_all = max(int(lo.min()), -(n_max - 1))  # j - i is at least -(N - 1) and at most M - 1
    hi_all = min(int(hi.max()), m_max - 1)
    width = hi_all - lo_all + 1
    w = torch.arange(width, device=n.device)

    def row(i: int):
        j = i + lo_all + w
        d = j[None] - i
        inside = (j >= 0)[None] & (j[None] < m[:, None]) & (i < n[:, None]) & (d >= lo[:, None]) & (d <= hi[:, None])
        return j, inside

    return lo_all, width, row


class _SoftDTW(torch.autograd.Function):
    """Soft-DTW of step costs ``(B, N, M)`` (ragged, optionally banded): row by row in the
    log-semiring, forward and backward (see :func:`soft_dtw`)."""

    @staticmethod
    def forward(ctx, cost, n, m, gamma, radius):
        b, n_max, m_max = cost.shape
        lo_all, width, row = _band_layout(n, m, radius, n_max, m_max)
        inf = torch.tensor(INF, dtype=cost.dtype, device=cost.device)
        r_acc = torch.full((b, n_max, width), INF, dtype=cost.dtype, device=cost.device)
        c_acc = torch.zeros((b, n_max, width), dtype=cost.dtype, device=cost.device)
        prev = None
        for i in range(n_max):
            j, inside = row(i)
            c = _row_cost(cost, i, j, inside)
            if prev is None:
                enter = torch.where(j[None] == 0, torch.zeros_like(c), inf)
            else:
                above = torch.cat([prev[:, 1:], torch.full_like(prev[:, :1], INF)], 1)
                enter = -gamma * torch.logaddexp(-prev / gamma, -above / gamma)
            csum = c.cumsum(1)
            z = torch.where(inside & torch.isfinite(enter), -(enter - (csum - c)) / gamma, -inf)
            rr = csum - gamma * torch.logcumsumexp(z, 1)
            rr = torch.where(inside, rr, inf)
            r_acc[:, i], c_acc[:, i] = rr, torch.where(inside, csum, 0.0)
            prev = rr
        rows = torch.arange(b, device=cost.device)
        total = r_acc[rows, n - 1, (m - 1) - (n - 1) - lo_all]
        ctx.save_for_backward(cost, n, m, r_acc, c_acc)
        ctx.gamma, ctx.radius = gamma, radius
        return total

    @staticmethod
    def backward(ctx, grad):
        cost, n, m, r_acc, c_acc = ctx.saved_tensors
        gamma = ctx.gamma
        b, n_max, m_max = cost.shape
        lo_all, width, row = _band_layout(n, m, ctx.radius, n_max, m_max)
        dev, dt = cost.device, cost.dtype
        ninf = torch.tensor(-INF, dtype=dt, device=dev)
        grad_cost = torch.zeros_like(cost)
        nxt_log_e = nxt_r = nxt_c = None  # row i + 1: log E, R, step cost, in band layout
        for i in range(n_max - 1, -1, -1):
            j, inside = row(i)
            rr, csum = r_acc[:, i], c_acc[:, i]
            g = torch.full((b, width), -INF, dtype=dt, device=dev)
            if nxt_log_e is not None:
                # from (i + 1, j): band index w - 1; from (i + 1, j + 1): index w
                down = torch.cat([torch.full_like(nxt_log_e[:, :1], -INF), nxt_log_e[:, :-1]], 1)
                down_r = torch.cat([torch.full_like(nxt_r[:, :1], INF), nxt_r[:, :-1]], 1)
                down_c = torch.cat([torch.zeros_like(nxt_c[:, :1]), nxt_c[:, :-1]], 1)
                t1 = torch.where(torch.isfinite(down_r) & (down > -INF), (down_r - down_c) / gamma + down, ninf)
                t2 = torch.where(torch.isfinite(nxt_r) & (nxt_log_e > -INF), (nxt_r - nxt_c) / gamma + nxt_log_e, ninf)
                g = torch.logaddexp(t1, t2)
            end = inside & (i == n - 1)[:, None] & (j[None] == (m - 1)[:, None])
            g = torch.where(end, torch.logaddexp(g, torch.where(end, rr / gamma, ninf)), g)
            g = torch.where(inside, g - csum / gamma, ninf)
            tail = torch.logcumsumexp(g.flip(1), 1).flip(1)
            log_e = torch.where(inside, (csum - rr) / gamma + tail, ninf)
            step = _row_cost(cost, i, j, inside)
            e = log_e.exp()
            grad_cost[:, i].scatter_add_(1, j.clamp(0, m_max - 1)[None].expand(b, -1), torch.where(inside, e, 0.0))
            nxt_log_e, nxt_r, nxt_c = log_e, rr, step
        return grad_cost * grad[:, None, None], None, None, None, None


def soft_dtw(x: torch.Tensor, y: torch.Tensor, gamma: float = 1.0, x_len: torch.Tensor | None = None,
             y_len: torch.Tensor | None = None, radius: int | torch.Tensor | None = None) -> torch.Tensor:
    """Soft-DTW ``(B,)`` of every pair (Cuturi & Blondel 2017): the DTW recurrence with the
    minimum replaced by ``-gamma log sum exp(-a / gamma)``, squared Euclidean steps.

    Ragged lengths (``x_len``, ``y_len``) and an optional Sakoe–Chiba band (``radius``; none by
    default) as in :func:`dtw`. Forward and backward run row by row in the log-semiring: a row
    is ``R[i, j] = C[j] - gamma * logcumsumexp_k(-(E[k] - C[k-1]) / gamma)`` and its gradient
    (the expected alignment) ``log E[i, j] = (C[j] - R[i, j]) / gamma + log sum_{k >= j} ...``,
    with cells outside a pair's band or lengths kept at ``-inf`` in log space, so no
    ``inf - inf`` arises. The input dtype is kept throughout.
    """
    if gamma <= 0:
        raise ValueError(f"soft_dtw: gamma must be positive, got {gamma}")
    n, m = _lengths(x, y, x_len, y_len, "soft_dtw")
    return _SoftDTW.apply(sq_dist(x, y), n, m, float(gamma), radius)


def soft_dtw_divergence(x, y, gamma: float = 1.0, x_len=None, y_len=None, radius=None) -> torch.Tensor:
    """``sdtw(x, y) - (sdtw(x, x) + sdtw(y, y)) / 2``: zero for identical series, non-negative."""
    return (soft_dtw(x, y, gamma, x_len, y_len, radius)
            - 0.5 * (soft_dtw(x, x, gamma, x_len, x_len, radius) + soft_dtw(y, y, gamma, y_len, y_len, radius)))
