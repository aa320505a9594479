"""Activation times, the correlation graph and its maximum-weight path, batched."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from corrkin.ops._checks import check_shape
from corrkin.ops.timing import Z95, acf_effective_n, lag_peak, lag_search_p_value, lag_standard_error
from corrkin.ops.xcorr import benjamini_hochberg, effective_n, fisher_p_value


def activation_frames(series: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Frame of peak ``|series|`` per node, ``(B, N)`` long, over frames in ``mask (B, T)``.

    Ties go to the earliest frame (so an all-zero series activates at its first valid frame,
    as the seed analysis's pelvis did at frame 0). Not differentiable.
    """
    check_shape(series, "B,N,T", "activation_frames: series")
    check_shape(mask, "B,T", "activation_frames: mask")
    return torch.where(mask[:, None], series.abs(), -torch.inf).argmax(-1)


def correlation_edges(
    xc: torch.Tensor,
    t_act: torch.Tensor,
    n: torch.Tensor,
    r1: torch.Tensor | None,
    max_lag: torch.Tensor,
    node_valid: torch.Tensor,
    theta: float,
    alpha: float,
    min_lag: int = 1,
    fdr: bool = False,
    test: str = "lag1",
    untested: torch.Tensor | None = None,
    p_shift: torch.Tensor | None = None,
) -> dict[str, torch.Tensor]:
    """The directed correlation graph of every clip.

    Args:
        xc: ``(B, N, N, 2 L + 1)`` from :func:`~corrkin.ops.xcorr.lagged_xcorr`.
        t_act: ``(B, N)`` activation times in frames (sub-frame with ``test="acf"``).
        n: ``(B,)`` number of frames correlated.
        r1: ``(B, N)`` lag-1 autocorrelations (``test="lag1"``; unused, may be None, with ``acf``).
        max_lag: ``(B,)`` per-clip lag limit in frames (``<= L``).
        node_valid: ``(B, N)`` nodes with a usable series.
        theta: least peak correlation for an edge.
        alpha: significance level, on p (or on the BH q-value with ``fdr``).
        min_lag: least lag in whole frames (the seed analysis: 1).
        fdr: control the false-discovery rate over all tested pairs of a clip (each unordered
            pair of valid nodes is one test, since ``c_ij(l) = c_ji(-l)``).
        test: ``"lag1"``, the seed's two-sided Fisher test with the lag-1 effective size; or
            ``"acf"``, the frame-rate-invariant one-sided test of the largest lagged
            correlation with the whole autocorrelation's effective size and the lag search
            counted (:mod:`corrkin.ops.timing`); its edges also need the lag above zero at the
            family-wise level ``alpha`` over the clip's coupled pairs (one-sided Bonferroni), so that
            nodes that move together (the two hands) are not put in an order by chance.
            ``"shift"``: the p-value is the circular-shift surrogate test's (``p_shift``, from
            :func:`corrkin.ops.significance.circular_shift_test`), valid for brief pulses; a
            pair is *ordered* where its lag's two-sided 95 % interval excludes zero (and the
            activation times agree, which keeps the graph acyclic), and an edge (a claimed
            coupling) needs the order, ``theta`` and q < ``alpha``.
        untested: ``(N, N)`` bool, pairs never tested (series that are functions of each other
            by construction); symmetric.
        p_shift: ``(B, N, N)`` p-values of the circular-shift test (``test="shift"`` only).

    Returns:
        dict of ``(B, N, N)`` tensors: ``weight`` (peak correlation over allowed lags), ``lag``
        (its lag in frames, earliest on ties), ``lag_sub`` (refined below a frame), ``lag_se``
        (its standard error in frames; inf where it cannot be told), ``n_eff``, ``p``, ``q``,
        ``resolved`` (the lag is long enough to order the pair: above zero family-wise with
        ``acf``, at least ``min_lag`` frames with ``lag1``)
        (equal to ``p`` without ``fdr``), ``ordered`` (the timing path's links: with ``shift``,
        the pair's interval excludes zero and its correlation is at least ``theta``; otherwise
        the edges), ``tested`` (the pairs correlated: both valid, not ``untested``, not a node with
        itself) and the bool ``edge``: ``i -> j`` where ``t_i < t_j``,
        lag >= ``min_lag`` (and above 0 family-wise with ``acf``), weight >= ``theta`` and
        p (q) < ``alpha``.
    """
    check_shape(xc, "B,N,N,K", "correlation_edges: xc")
    if test not in ("lag1", "acf", "shift"):
        raise ValueError(f"correlation_edges: test must be 'lag1', 'acf' or 'shift', got '{test}'")
    if test == "shift" and p_shift is None:
        raise ValueError("correlation_edges: test='shift' needs p_shift")
    peak = lag_peak(xc, max_lag)
    lag = peak["lag"]
    pair_valid = _pairs_tested(node_valid, untested)
    weight = torch.where(pair_valid, peak["weight"], 0.0)
    n_eff, p = _p_values(xc, weight, n, r1, max_lag, test, p_shift)
    p = torch.where(pair_valid, p, torch.ones_like(weight))
    q = _fdr(p, pair_valid) if fdr else p
    if test == "lag1":  # the seed's whole frames, no interval
        lag_sub, lag_se = lag.to(xc.dtype), torch.full_like(weight, torch.inf)
        resolved = lag >= min_lag
    else:
        lag_sub, lag_se = peak["lag_sub"], lag_standard_error(xc, lag, max_lag, n, peak["curvature"])
        z = Z95 if test == "shift" else _bonferroni_z(pair_valid & (weight >= theta) & (q < alpha), alpha, xc.dtype)
        resolved = lag_sub - z * lag_se > 0  # shift: the two-sided 95 % interval lies above zero
    # the activation times agree with the lag's sign: lags of different pairs need not add up,
    # and the activation order keeps the graph acyclic
    before = t_act[:, :, None] < t_act[:, None, :]
    if test == "shift":  # ordered: the timing path's links; an edge claims a coupling on top
        ordered = pair_valid & resolved & (weight >= theta) & before
        edge = ordered & (q < alpha)
    else:  # the edges are the path's links
        edge = pair_valid & before & (lag >= min_lag) & (weight >= theta) & (q < alpha) & resolved
        ordered = edge
    return {"weight": weight, "lag": lag, "lag_sub": lag_sub, "n_eff": n_eff, "lag_se": lag_se,
            "p": p, "q": q, "edge": edge, "resolved": resolved, "ordered": ordered, "tested": pair_valid}


def _pairs_tested(node_valid: torch.Tensor, untested: torch.Tensor | None) -> torch.Tensor:
    """``(B, N, N)`` bool: both nodes valid, not a node with itself, not ``untested``."""
    nn = node_valid.shape[1]
    pair_valid = node_valid[:, :, None] & node_valid[:, None, :]
    pair_valid = pair_valid & ~torch.eye(nn, dtype=torch.bool, device=node_valid.device)
    if untested is not None:
        pair_valid = pair_valid & ~untested.to(node_valid.device)
    return pair_valid


def _p_values(xc: torch.Tensor, weight: torch.Tensor, n: torch.Tensor, r1: torch.Tensor | None,
              max_lag: torch.Tensor, test: str, p_shift: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(n_eff, p)``, each ``(B, N, N)``, of :func:`correlation_edges`'s ``test``: the circular-shift
    surrogates' p (no effective size), the lag search's with the whole autocorrelation's effective
    size (``acf``), or Fisher's with the lag-1 effective size (``lag1``)."""
    if test == "shift":
        return torch.full_like(weight, torch.nan), p_shift.to(weight.dtype)
    if test == "acf":
        half = (xc.shape[-1] - 1) // 2
        acf = torch.diagonal(xc[..., half:], dim1=1, dim2=2).transpose(1, 2)  # (B, N, L + 1)
        n_eff = acf_effective_n(acf, n, max_lag)
        return n_eff, lag_search_p_value(weight, n_eff, n[:, None, None], (2 * max_lag + 1)[:, None, None])
    n_eff = effective_n(n.to(xc.dtype)[:, None, None], r1[:, :, None], r1[:, None, :])
    return n_eff, fisher_p_value(weight, n_eff)


def _fdr(p: torch.Tensor, pair_valid: torch.Tensor) -> torch.Tensor:
    """Benjamini-Hochberg q-values over each clip's tested unordered pairs (``c_ij(l) =
    c_ji(-l)``: one test a pair), symmetric; 1 where untested."""
    bsz, nn, _ = p.shape
    upper = torch.triu(torch.ones(nn, nn, dtype=torch.bool, device=p.device), 1)
    tested = (pair_valid & upper).reshape(bsz, -1)
    q_up = benjamini_hochberg(p.reshape(bsz, -1), tested).view(bsz, nn, nn)
    q_up = torch.where(upper, q_up, 0.0)
    return torch.where(pair_valid, q_up + q_up.transpose(1, 2), torch.ones_like(p))


def _bonferroni_z(coupled: torch.Tensor, alpha: float, dtype: torch.dtype) -> torch.Tensor:
    """How many standard errors a lag must lie above zero to order its pair with ``acf``: the
    family-wise level ``alpha`` over the clip's ``coupled`` pairs (one-sided Bonferroni over the
    pairs that passed the correlation test), so that nodes moving together are not put in an
    order by chance, ``(B, 1, 1)``."""
    pairs = (coupled.sum((1, 2)) / 2).clamp_min(1).to(dtype)
    return torch.special.ndtri(1 - alpha / pairs)[:, None, None]


def max_weight_path(
    weight: torch.Tensor, edge: torch.Tensor, sources: Sequence[int], target: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Maximum-weight path from any source to ``target`` in each clip's DAG (sum of edge weights).

    Edges only run forward in activation time, so each graph is acyclic and ``N - 1`` rounds of
    max-plus relaxation over all clips at once find the longest paths.

    Args:
        weight, edge: ``(B, N, N)`` from :func:`correlation_edges`.
        sources: node indices a path may start from.
        target: the node it must end at (the bat).

    Returns:
        ``(path (B, N) long, padded with -1, source first; path_weight (B,); reaches (B,) bool)``.
        Where no path reaches the target, the path is all -1, the weight 0 and ``reaches`` false.
    """
    check_shape(weight, "B,N,N", "max_weight_path: weight")
    bsz, nn, _ = weight.shape
    w = torch.where(edge, weight, -torch.inf)
    dist = torch.full((bsz, nn), -torch.inf, dtype=weight.dtype, device=weight.device)
    dist[:, list(sources)] = 0
    pred = torch.full((bsz, nn), -1, dtype=torch.long, device=weight.device)
    for _ in range(nn - 1):
        best, arg = (dist[:, :, None] + w).max(1)
        better = best > dist
        dist = torch.where(better, best, dist)
        pred = torch.where(better, arg, pred)
    reaches = torch.isfinite(dist[:, target])
    # walk back from the target; at most N nodes
    back = torch.full((bsz, nn), -1, dtype=torch.long, device=weight.device)
    cur = torch.full((bsz,), target, dtype=torch.long, device=weight.device)
    for k in range(nn):
        back[:, k] = cur
        nxt = torch.gather(pred, 1, cur.clamp_min(0)[:, None]).squeeze(1)
        cur = torch.where(cur >= 0, nxt, cur)
    length = (back >= 0).sum(1, keepdim=True)
    pos = torch.arange(nn, device=weight.device)[None]
    src_first = torch.gather(back, 1, (length - 1 - pos).clamp_min(0))
    path = torch.where((pos < length) & reaches[:, None], src_first, -1)
    path_weight = torch.where(reaches, dist[:, target], torch.zeros_like(dist[:, target]))
    return path, path_weight, reaches
