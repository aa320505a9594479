"""A per-clip test of coupling whose null holds for brief pulses: circular-shift surrogates.

A swing is not stationary noise. Each segment makes one to three brief speed pulses, and the
largest lagged correlation of two such series is near zero unless two pulses fall within the
lags searched, and then near their shape similarity (0.8-0.95) whatever their cause. A normal
tail of Fisher's z, with any effective sample size, describes stationary series and gives
false couplings on most swings. Here the null is the data's own: series ``j`` is shifted
circularly against series ``i`` by every whole frame ``s`` of the clip's analysed segment, and
the statistic (the largest correlation over lags ``|l| <= L`` around ``s``) is ranked against
its value at ``s = 0``. Where the two segments' timings are independent and uniform over the
segment, every shift is as likely as the observed one, so the p-value is exact; it can never
fall below about ``(2 L + 1) / n`` (the shifts whose lag window still holds the observed peak
tie with it), so a single brief pulse can never make a coupling significant. That is the
honest answer: one swing shows timing, and coupling needs repeated evidence (several swings
of a clip, or a batter's library: :mod:`corrkin.library.links`).

Reference: Theiler et al. 1992, Physica D 58:77 (surrogate data); circular shifts as the null
of cross-correlation between independent event trains, e.g. Harrison, Amarasingham & Kass 2013
(Neural Computation 25:418).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from corrkin.ops._checks import check_shape

_CHUNK = 64  # clips transformed at once (bounds the (clips, pairs, frames) work array)


def _segments(used: torch.Tensor) -> tuple[list[int], list[int]]:
    """Each clip's analysed segment as ``(start, length)``: the first frame of ``used`` and its
    count (the analysed frames are one run: the clip, or a window of it)."""
    n = used.sum(1)
    start = torch.where(n > 0, used.to(torch.int8).argmax(1), torch.zeros_like(n))
    return start.tolist(), n.tolist()


def circular_shift_test(z: torch.Tensor, used: torch.Tensor, max_lag: torch.Tensor) -> dict[str, torch.Tensor]:
    """One-sided circular-shift p-value of every pair's largest lagged correlation.

    Args:
        z: ``(B, N, T)`` z-scored series, zero outside ``used`` (:func:`~corrkin.ops.xcorr.zscore`).
        used: ``(B, T)`` the frames analysed, one contiguous run per clip.
        max_lag: ``(B,)`` long, each clip's lag limit ``L`` in frames.

    With ``n`` frames analysed and ``c_ij(s) = (1/n) sum_t z_i(t) z_j(t + s mod n)`` the circular
    cross-correlation, ``S(s) = max_{|l| <= L} c_ij(s + l)``; the p-value is
    ``#{s in 0..n-1 : S(s) >= S(0)} / n``, the same for ``(i, j)`` and ``(j, i)``.

    Returns:
        dict: ``p`` ``(B, N, N)`` (1 on the diagonal and where ``n < 2 L + 2``: no shift lies
        outside the lag window), ``statistic`` ``(B, N, N)`` ``S(0)``, ``floor`` ``(B,)`` the
        least p-value the clip can give, ``(2 L + 1) / n`` (1 where untestable).

    Computed in float64 by FFT per group of clips of one length and lag limit, so a clip's
    result does not depend on the rest of its batch (each transform is of that clip's own
    segment). Not differentiable (a rank).
    """
    check_shape(z, "B,N,T", "circular_shift_test: z")
    check_shape(used, "B,T", "circular_shift_test: used")
    check_shape(max_lag, "B", "circular_shift_test: max_lag")
    bsz, nn, _ = z.shape
    device = z.device
    iu, ju = torch.triu_indices(nn, nn, 1, device=device)
    p_up = torch.ones(bsz, len(iu), dtype=torch.float64, device=device)
    s_up = torch.zeros(bsz, len(iu), dtype=torch.float64, device=device)
    floor = torch.ones(bsz, dtype=torch.float64, device=device)
    starts, counts = _segments(used)
    lags = max_lag.tolist()
    groups: dict[tuple[int, int], list[int]] = {}
    for b, (n, lag) in enumerate(zip(counts, lags)):
        if n >= 2 * lag + 2 and lag >= 0:
            groups.setdefault((n, lag), []).append(b)
    for (n, lag), members in groups.items():
        for k in range(0, len(members), _CHUNK):
            idx = torch.tensor(members[k: k + _CHUNK], device=device)
            frames = torch.tensor([starts[b] for b in members[k: k + _CHUNK]], device=device)[:, None] \
                + torch.arange(n, device=device)[None]
            seg = torch.gather(z[idx].to(torch.float64), 2, frames[:, None].expand(-1, nn, -1))
            spec = torch.fft.rfft(seg, n=n)
            cc = torch.fft.irfft(spec[:, iu].conj() * spec[:, ju], n=n) / n  # (g, P, n), lag s: j after i
            wrapped = torch.cat([cc[..., n - lag:], cc, cc[..., :lag]], -1) if lag > 0 else cc
            g, pairs = cc.shape[:2]
            stat = F.max_pool1d(wrapped.reshape(g * pairs, 1, -1), 2 * lag + 1, stride=1).view(g, pairs, n)
            observed = stat[..., 0]
            p_up[idx] = (stat >= observed[..., None]).sum(-1).to(torch.float64) / n
            s_up[idx] = observed
            floor[idx] = (2 * lag + 1) / n
    p = torch.ones(bsz, nn, nn, dtype=torch.float64, device=device)
    stat = torch.zeros(bsz, nn, nn, dtype=torch.float64, device=device)
    p[:, iu, ju] = p_up
    p[:, ju, iu] = p_up
    stat[:, iu, ju] = s_up
    stat[:, ju, iu] = s_up
    return {"p": p.to(z.dtype), "statistic": stat.to(z.dtype), "floor": floor.to(z.dtype)}
