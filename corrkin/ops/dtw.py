"""Dynamic time warping and soft-DTW on batched, ragged pairs, with a Sakoe–Chiba band.

Two codes of one recurrence, chosen by ``impl``: on the CPU, C++ kernels (``csrc/dtw.cpp``,
one pair per thread task, the soft-DTW diagonals vectorised; built on first use); on any
device, a tensor wavefront (below), which is also the CPU fallback where the kernels cannot be
built. Tests hold both to a plain loop, to each other, and each to itself pair by pair.

Shapes: ``x (B, N, D)``, ``y (B, M, D)``; ``x_len``, ``y_len`` ``(B,)`` the real lengths
(padding beyond them is ignored); the cost of a step is the squared Euclidean distance.

The band is tslearn's Sakoe–Chiba band, per pair from its own lengths ``n``, ``m`` and radius
``r``: cell ``(i, j)`` is allowed when ``-r - max(0, n - m) <= j - i <= r + max(0, m - n)``
(so the end cell is always reachable). The default radius is 10 % of the pair's longer length
(at least 1).

Both recurrences run as an anti-diagonal wavefront: every cell of diagonal ``d = i + j``
depends only on diagonals ``d - 1`` and ``d - 2``, so a diagonal of the whole batch is a
handful of elementwise ops on a ``(B, cells)`` slice, ``N + M - 1`` steps in all. Only the
cells inside the batch's band are laid out and computed (:class:`Wavefront`): the band skips
work instead of masking it. A cell outside a pair's own band or lengths costs ``inf``;
soft-DTW's soft minimum shifts out the smallest of its three inputs and treats "all three
infinite" as infinite, and its backward works in log space with ``-inf`` for "no path", so no
``inf - inf`` arises anywhere. Every cell is computed by the same elementwise arithmetic
whatever else is in the batch, so a pair gives the same bits alone as in a padded batch (on
the CPU, gradients to an ulp: ATen's SIMD and scalar exp/log differ in the last bit).
"""

from __future__ import annotations

import functools
import logging
import os
import platform
import warnings
from pathlib import Path

import torch
from torch.autograd.function import once_differentiable

from corrkin.ops._checks import check_shape
from corrkin.ops._wavefront import INF, Wavefront, band_limits, pair_band

log = logging.getLogger(__name__)

__all__ = ["dtw", "soft_dtw", "soft_dtw_divergence", "sq_dist", "band_limits", "default_radius", "path_cost",
           "Wavefront"]

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


def sq_dist(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean step costs ``(B, N, M)`` of ``x (B, N, D)`` against ``y (B, M, D)``."""
    return ((x[:, :, None, :] - y[:, None, :, :]) ** 2).sum(-1)


def default_radius(n: torch.Tensor, m: torch.Tensor, fraction: float = 0.1) -> torch.Tensor:
    """10 % of each pair's longer length, rounded up, at least 1."""
    return torch.ceil(fraction * torch.maximum(n, m).double()).long().clamp_min(1)


@functools.cache
def _cpu_kernels():
    """The C++ CPU kernels (``csrc/dtw.cpp``), compiled on first use with torch's extension
    builder and cached by it (``TORCH_EXTENSIONS_DIR``); ``None``, with one warning, where they
    do not build (no compiler, not glibc): the wavefront then runs on the CPU too.

    On x86-64 the build targets AVX2 (x86-64-v3) where torch reports it and SSE4.2
    (x86-64-v2) otherwise, named apart so a cache shared by different machines keeps both;
    the soft-DTW loop calls glibc's vector exp/log (``-lmvec``)."""
    try:
        from torch.utils.cpp_extension import load

        flags, name = ["-O3", "-ffast-math", "-fopenmp"], "corrkin_dtw"
        if platform.machine() in ("x86_64", "AMD64"):
            level = "v3" if torch.backends.cpu.get_cpu_capability() in ("AVX2", "AVX512") else "v2"
            flags.append(f"-march=x86-64-{level}")
            name += f"_x86_64_{level}"
        src = Path(__file__).with_name("csrc") / "dtw.cpp"
        if not _built(name):  # the first alignment on this machine waits for a compiler: say so
            log.info("compiling the C++ DTW kernels (once per machine and torch version, about a minute)")
        return load(name, [str(src)], extra_cflags=flags, extra_ldflags=["-fopenmp", "-lmvec"])
    except Exception as err:  # no compiler, no ninja, a failed build: same results, slower
        warnings.warn(f"corrkin: the C++ DTW kernels did not build ({err}); using the tensor wavefront on the CPU",
                      stacklevel=3)
        return None


def _built(name: str) -> bool:
    """Whether torch's extension cache (``TORCH_EXTENSIONS_DIR``, else its default root and the
    folder it keeps per Python and accelerator) already holds a build of the kernels ``name``."""
    from torch.utils.cpp_extension import get_default_build_root

    root = Path(os.environ.get("TORCH_EXTENSIONS_DIR") or get_default_build_root())
    return any(root.glob(f"{name}/*.so")) or any(root.glob(f"*/{name}/*.so"))


def _use_kernels(x: torch.Tensor, impl: str):
    """The C++ kernels for ``impl`` ``"auto"`` on the CPU or ``"cpp"``; ``None``: the wavefront."""
    if impl not in ("auto", "cpp", "wavefront"):
        raise ValueError(f"impl must be 'auto', 'cpp' or 'wavefront', got {impl!r}")
    if impl == "wavefront" or (impl == "auto" and x.device.type != "cpu"):
        return None
    if x.device.type != "cpu":
        raise ValueError(f"impl='cpp' runs on the CPU; x is on {x.device}")
    kernels = _cpu_kernels()
    if kernels is None and impl == "cpp":
        raise RuntimeError("impl='cpp': the C++ DTW kernels did not build (see the warning)")
    return kernels


def _kernel_layout(lo: torch.Tensor, hi: torch.Tensor, banded: bool, m_max: int) -> tuple[int, int, int]:
    """The C++ kernels' cell layout ``(W, shear, offset)``, column ``j - shear * i - offset``:
    the batch's band where it is narrower than a row, else whole rows."""
    lo_all, hi_all = int(lo.min()), int(hi.max())
    if not banded or hi_all - lo_all + 1 >= m_max:
        return m_max, 0, 0
    return hi_all - lo_all + 1, 1, lo_all


def dtw(x: torch.Tensor, y: torch.Tensor, x_len: torch.Tensor | None = None, y_len: torch.Tensor | None = None,
        radius: int | torch.Tensor | None = None, path: bool = False, impl: str = "auto"):
    """Banded DTW of every pair (not differentiable: see :func:`soft_dtw`).

    Args:
        x, y: ``(B, N, D)``, ``(B, M, D)``.
        x_len, y_len: ``(B,)`` real lengths (default: all of ``N`` / ``M``).
        radius: band radius in frames, one for all or ``(B,)``; ``None``: 10 % of each pair's
            longer length.
        path: also return the warping paths.
        impl: ``"auto"`` (the C++ kernels on the CPU, the wavefront elsewhere), ``"cpp"`` or
            ``"wavefront"``; both give the same costs and paths.

    Returns:
        ``cost (B,)``: the least sum of squared distances along a path (tslearn's and
        dtaidistance's ``dtw`` is its square root); with ``path``, also ``(B, N + M - 1, 2)``
        long index pairs ``(i, j)`` from ``(0, 0)`` to ``(n - 1, m - 1)``, padded with -1.
    """
    n, m = _lengths(x, y, x_len, y_len, "dtw")
    radius = default_radius(n, m) if radius is None else radius
    steps = x.shape[1] + y.shape[1] - 1
    kernels = _use_kernels(x, impl)
    lo, hi = pair_band(n, m, radius)
    if kernels is not None:
        return _dtw_kernels(kernels, x, y, n, m, lo, hi, path=path, steps=steps)
    return _dtw_wavefront(x, y, n, m, lo, hi, path=path, steps=steps)


def _dtw_kernels(kernels, x, y, n, m, lo, hi, *, path: bool, steps: int):
    """:func:`dtw` by the C++ kernels: ``cost (B,)``, with ``path`` also the paths."""
    width, shear, offset = _kernel_layout(lo, hi, True, y.shape[1])
    total, acc = kernels.dtw(x.detach().contiguous(), y.detach().contiguous(), n, m, lo, hi, width, shear, offset)
    if not path:
        return total
    rows = torch.arange(len(n))

    def value(ii, jj):
        c = jj - shear * ii - offset
        ok = (ii >= 0) & (jj >= 0) & (c >= 0) & (c < width)
        return torch.where(ok, acc[rows, ii.clamp_min(0), c.clamp(0, width - 1)], INF)

    return total, _backtrack(value, n, m, steps)


def _dtw_wavefront(x, y, n, m, lo, hi, *, path: bool, steps: int):
    """:func:`dtw` by anti-diagonal wavefronts in torch: ``cost (B,)``, with ``path`` also the paths."""
    wf = Wavefront.build(n, m, lo, hi, x.shape[1], y.shape[1])
    with torch.no_grad():
        cost = wf.costs(x, y)
        acc = torch.full_like(cost, INF)
        here = wf.cells(0)
        acc[:, here] = cost[:, here]
        low = torch.empty((len(n), max(wf.count)), dtype=cost.dtype, device=cost.device)
        for d in range(1, len(wf.count)):
            diag, up, left = wf.before(d)
            here, lw = wf.cells(d), low[:, : wf.count[d]]
            torch.minimum(acc[:, up], acc[:, left], out=lw)
            if diag is not None:
                torch.minimum(lw, acc[:, diag], out=lw)
            torch.add(lw, cost[:, here], out=acc[:, here])
        total = acc.gather(1, wf.end[:, None])[:, 0]
        if not path:
            return total
        first, count, start = (torch.tensor(v, device=acc.device) for v in (wf.first, wf.count, wf.start))

        def value(ii, jj):
            d = (ii + jj).clamp(0, len(wf.count) - 1)
            slot = ii - first[d]
            ok = (ii >= 0) & (jj >= 0) & (slot >= 0) & (slot < count[d])
            return torch.where(ok, acc[rows, (start[d] + 1 + slot).clamp(0, wf.size - 1)], INF)

        rows = torch.arange(len(n), device=acc.device)
        return total, _backtrack(value, n, m, steps)


def _backtrack(at, n: torch.Tensor, m: torch.Tensor, steps: int) -> torch.Tensor:
    """Warping paths ``(B, steps, 2)``, all pairs at once, from ``at(i, j) (B,)``: the
    accumulated cost of each pair's cell ``(i[b], j[b])`` (``inf`` outside its band)."""
    b, dev = len(n), n.device
    rows = torch.arange(b, device=dev)
    i, j = n - 1, m - 1

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
    count_b = (trail[..., 0] >= 0).sum(1)
    idx = count_b[:, None] - 1 - torch.arange(steps, device=dev)[None]
    rev = trail[rows[:, None], idx.clamp_min(0)]
    return torch.where((idx >= 0)[..., None], rev, -1)


def path_cost(cost: torch.Tensor, path: torch.Tensor) -> torch.Tensor:
    """Sum of ``cost (B, N, M)`` along ``path (B, L, 2)`` (-1 padding ignored)."""
    ok = path[..., 0] >= 0
    rows = torch.arange(cost.shape[0], device=cost.device)[:, None]
    v = cost[rows, path[..., 0].clamp_min(0), path[..., 1].clamp_min(0)]
    return torch.where(ok, v, torch.zeros_like(v)).sum(1)


class _SoftDTW(torch.autograd.Function):
    """Soft-DTW of laid-out step costs ``(B, size)`` (see :func:`soft_dtw`)."""

    @staticmethod
    def forward(ctx, cost, wf: Wavefront, gamma: float):
        b = cost.shape[0]
        acc = torch.full_like(cost, INF)
        # lweight[0 | 1 | 2][:, c]: the log of the share of cell c's soft minimum that comes from
        # its diagonal | up | left neighbour (-inf on padding and where all three are infinite)
        lweight = torch.full((3,) + cost.shape, -INF, dtype=cost.dtype, device=cost.device)
        here = wf.cells(0)
        acc[:, here] = cost[:, here]
        none = torch.full((b, max(wf.count)), INF, dtype=cost.dtype, device=cost.device)
        inv = 1.0 / gamma
        for d in range(1, len(wf.count)):
            diag, up, left = wf.before(d)
            here, k = wf.cells(d), wf.count[d]
            a, u, l_ = none[:, :k] if diag is None else acc[:, diag], acc[:, up], acc[:, left]
            low = torch.minimum(a, u)
            torch.minimum(low, l_, out=low)
            low.nan_to_num_(posinf=0.0)  # all three infinite: exponents -inf, sum 0, cell inf
            za = torch.sub(low, a).mul_(inv)
            zu = torch.sub(low, u).mul_(inv)
            zl = torch.sub(low, l_).mul_(inv)
            total = za.exp() + zu.exp()
            total += zl.exp()  # >= 1 where any neighbour is finite (the smallest gives exp(0))
            soft = torch.log(total).mul_(-gamma).add_(low)
            torch.add(soft, cost[:, here], out=acc[:, here])
            log_total = total.clamp_min_(1.0).log_()  # 0 where all are infinite: -inf - 0, no NaN
            torch.sub(za, log_total, out=lweight[0][:, here])
            torch.sub(zu, log_total, out=lweight[1][:, here])
            torch.sub(zl, log_total, out=lweight[2][:, here])
        ctx.save_for_backward(lweight)
        ctx.wf = wf
        return acc.gather(1, wf.end[:, None])[:, 0]

    @staticmethod
    def backward(ctx, grad):
        (lweight,) = ctx.saved_tensors
        wf = ctx.wf
        # log_e[:, c]: log d total / d acc at cell c (the expected alignment), 0 at each end cell
        log_e = torch.full_like(lweight[0], -INF)
        log_e.scatter_(1, wf.end[:, None], 0.0)
        for d in range(len(wf.count) - 2, -1, -1):
            down, right, diag = wf.after(d)
            here = wf.cells(d)
            # sums of two -inf or of -inf and a finite value: -inf, never inf - inf
            t = torch.logaddexp(log_e[:, down] + lweight[1][:, down], log_e[:, right] + lweight[2][:, right])
            if diag is not None:
                t = torch.logaddexp(t, log_e[:, diag] + lweight[0][:, diag])
            log_e[:, here] = torch.logaddexp(log_e[:, here], t)
        return log_e.exp_().mul_(grad[:, None]), None, None


class _SoftDTWKernel(torch.autograd.Function):
    """Soft-DTW of ``x``, ``y`` by the C++ CPU kernels: the same recurrence pair by pair, the
    gradients in ``x`` and ``y`` straight from the expected alignment."""

    @staticmethod
    def forward(ctx, x, y, n, m, lo, hi, layout, gamma, kernels):
        x, y = x.contiguous(), y.contiguous()
        value, weight = kernels.soft_dtw_forward(x, y, n, m, lo, hi, *layout, gamma)
        ctx.save_for_backward(x, y, n, m, lo, hi, weight)
        ctx.layout, ctx.kernels = layout, kernels
        return value

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        x, y, n, m, lo, hi, weight = ctx.saved_tensors
        gx, gy = ctx.kernels.soft_dtw_backward(x, y, n, m, lo, hi, *ctx.layout, weight, grad.contiguous())
        return gx, gy, None, None, None, None, None, None, None


def soft_dtw(x: torch.Tensor, y: torch.Tensor, gamma: float = 1.0, x_len: torch.Tensor | None = None,
             y_len: torch.Tensor | None = None, radius: int | torch.Tensor | None = None,
             impl: str = "auto") -> torch.Tensor:
    """Soft-DTW ``(B,)`` of every pair (Cuturi & Blondel 2017): the DTW recurrence with the
    minimum replaced by ``softmin(a) = -gamma log sum exp(-a / gamma)``, squared Euclidean steps.

    Ragged lengths (``x_len``, ``y_len``) and an optional Sakoe–Chiba band (``radius``; none by
    default) as in :func:`dtw`. Differentiable in ``x`` and ``y`` (a custom autograd function).
    ``impl`` as in :func:`dtw`: the C++ kernels on the CPU run each pair row by row with the
    same arithmetic (and storage) as the wavefront below.

    The forward pass computes each soft minimum from the differences to the smallest of its
    three inputs (never ``exp`` of a large number; a cell whose inputs are all infinite is
    infinite without ``inf - inf``) and keeps the log of each cell's three softmin weights. The
    backward pass runs the same diagonals in reverse in log space: the log expected alignment
    of a cell is the ``logsumexp`` of its successors' plus their log weights, from 0 at the end
    cell; padding and cells outside a band hold ``-inf`` (``-FAR`` in the C++ kernels), which
    only ever meets ``-inf`` or a finite number. Gradients of ``exp(-700)`` are kept as such,
    not flushed, in float64. The input dtype is kept throughout. Memory: the step costs, the
    accumulated costs and three log-weight buffers of ``(B, cells in band)``.
    """
    if gamma <= 0:
        raise ValueError(f"soft_dtw: gamma must be positive, got {gamma}")
    n, m = _lengths(x, y, x_len, y_len, "soft_dtw")
    kernels = _use_kernels(x, impl)
    lo, hi = pair_band(n, m, radius)
    if kernels is not None:
        layout = _kernel_layout(lo, hi, radius is not None, y.shape[1])
        return _SoftDTWKernel.apply(x, y, n, m, lo, hi, layout, float(gamma), kernels)
    wf = Wavefront.build(n, m, lo, hi, x.shape[1], y.shape[1])
    return _SoftDTW.apply(wf.costs(x, y), wf, float(gamma))


def soft_dtw_divergence(x, y, gamma: float = 1.0, x_len=None, y_len=None, radius=None,
                        impl: str = "auto") -> torch.Tensor:
    """``sdtw(x, y) - (sdtw(x, x) + sdtw(y, y)) / 2``: zero for identical series, non-negative."""
    xx = soft_dtw(x, x, gamma, x_len, x_len, radius, impl)
    yy = soft_dtw(y, y, gamma, y_len, y_len, radius, impl)
    return soft_dtw(x, y, gamma, x_len, y_len, radius, impl) - 0.5 * (xx + yy)
