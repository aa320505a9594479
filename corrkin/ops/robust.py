"""Defences against heavy-tailed pose errors, run before any linear smoother.

Pose models make two kinds of error a Savitzky–Golay filter cannot absorb: confident glitches
(a joint jumps 20–150 px for one or a few frames) and left/right swaps (the two wrists, elbows,
knees or ankles exchange labels for a burst of frames). :func:`hampel` replaces the first by a
windowed median; :func:`repair_swaps` undoes the second with a Viterbi pass over each left/right
pair. Both take positions ``(B, N, C, T)`` (``B`` clips, ``N`` nodes, ``C`` coordinates, ``T``
frames) with a validity mask ``(B, N, T)``; padding past a clip's length must be invalid.

Neither op adds, sums or reduces in an order that depends on the batch: medians are a sort and a
gather, costs are element-wise, so a clip gives the same bits alone as in any padded batch.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F

from corrkin.ops._checks import check_same_leading, check_shape

MAD_TO_SIGMA = 1.4826  # the MAD of a normal distribution times this is its standard deviation
MIN_WINDOW = 3  # fewer valid frames in a window than this: no frame is judged


def _check_points(x: torch.Tensor, valid: torch.Tensor, op: str) -> None:
    check_shape(x, "B,N,C,T", f"{op}: x")
    check_shape(valid, "B,N,T", f"{op}: valid")
    if valid.shape != (*x.shape[:2], x.shape[-1]):
        raise ValueError(f"{op}: valid must be (B, N, T) = {(*x.shape[:2], x.shape[-1])}, got {tuple(valid.shape)}")
    if valid.dtype != torch.bool:
        raise TypeError(f"{op}: valid must be a bool tensor, got {valid.dtype}")
    if not x.is_floating_point():
        raise TypeError(f"{op}: x must be a floating-point tensor, got {x.dtype}")


def hampel(
    x: torch.Tensor,
    valid: torch.Tensor,
    half: int | Sequence[int],
    n_sigma: float = 3.0,
    *,
    min_scale: float = 0.0,
    floor_ratio: float = 0.1,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Hampel filter: replace frames far from their window's median by that median.

    For every valid frame ``t`` of a point, the window is the valid frames in
    ``t - half .. t + half`` (``t`` included). Per coordinate ``c`` it takes the median ``m_c``
    and the scaled MAD ``s_c = 1.4826 median |x_c - m_c|``. The frame is an outlier when
    ``max_c |x_c - m_c| / max(s_c, floor) > n_sigma``, with one floor for both coordinates::

        floor = max(floor_ratio * max_c s_c, min_scale)

    The relative term stops a coordinate that barely moves (a point travelling sideways, its
    height quantised to whole pixels: ``s_y = 0``) from flagging every one-pixel wobble while the
    other coordinate moves by tens; it is scale-free. The absolute ``min_scale`` (in units of
    ``x``) is the only thing that helps a point still in *both* coordinates over more than half
    its window: there every MAD is 0 and, at the default 0, any move at all is flagged (and
    replaced by the median, a harmless repair of a still point). Pass the detector's noise
    (about 1 px for pixel keypoints) to stop that. The test is computed as
    ``|x_c - m_c| > n_sigma * scale_c``, so a zero scale flags a nonzero deviation and never a
    zero one (no 0/0). ``floor_ratio = 0.1``: on smooth motion with 1 px noise (half 3) it
    flags 0.6 % of good frames against 1.0 % at 0 (1 % against 2 % on whole-pixel data), with
    the same glitches found; 0.25 flags 0.3 % but misses 4 % more glitches on fast motion.

    The MAD grows with motion: on a point moving ``v`` px a frame the scale is about
    ``3 v`` (half 3), so a glitch smaller than about ``9 v`` passes. At swing speeds (30 px a
    frame) a 150-px glitch can pass; a burst longer than ``half`` frames is never an outlier.

    Args:
        x: ``(B, N, C, T)`` positions, any float dtype; must be finite on valid frames.
        valid: ``(B, N, T)`` bool, frames where the point is seen and inside its clip.
        half: half-window in frames, one for all clips or one per clip (``B`` ints ``>= 1``):
            clips at different frame rates may use different windows.
        n_sigma: threshold in scaled MADs (``> 0``).
        min_scale: absolute floor of the scale, units of ``x`` (``>= 0``).
        floor_ratio: relative floor, a fraction of the larger coordinate's scale (``>= 0``).

    Returns:
        ``(y, outlier)``: ``y (B, N, C, T)`` is ``x`` with outlier frames replaced by the
        window median, per coordinate; ``outlier (B, N, T)`` bool. Invalid frames are returned
        bit for bit and are never outliers; a window with fewer than 3 valid frames judges
        nothing.

    Medians of an even count are the lower median (the ``torch.median`` convention), for both
    ``m_c`` and the MAD. ``y`` is differentiable in ``x`` (the gradient of a replaced frame goes
    to the frame that is its median); ``outlier`` is not. Works on a ``(B, N, C, T, 2 half + 1)``
    window tensor: memory grows with the largest window.
    """
    _check_points(x, valid, "hampel")
    halves = _hampel_halves(x.shape[0], half, n_sigma, min_scale, floor_ratio)
    if x.shape[0] == 0 or x.shape[-1] == 0:
        return x.clone(), torch.zeros_like(valid)
    med, spread, count = _window_median_mad(x, valid, halves)
    floor = (floor_ratio * spread.amax(2, keepdim=True)).clamp_min(min_scale)
    scale = torch.maximum(spread, floor)
    far = ((x - med).abs() > n_sigma * scale).any(2)
    outlier = far & valid & (count >= MIN_WINDOW)
    return torch.where(outlier[:, :, None], med, x), outlier


def _hampel_halves(bsz: int, half: int | Sequence[int], n_sigma: float, min_scale: float,
                   floor_ratio: float) -> list[int]:
    """One checked half-window per clip; raises on a bad setting of :func:`hampel`."""
    halves = [int(half)] * bsz if isinstance(half, numbers.Integral) else [int(h) for h in half]
    if len(halves) != bsz:
        raise ValueError(f"hampel: {len(halves)} half-windows for {bsz} clips")
    if min(halves, default=1) < 1:
        raise ValueError(f"hampel: every half-window must be >= 1 frame, got {min(halves)}")
    if not n_sigma > 0:
        raise ValueError(f"hampel: n_sigma must be > 0, got {n_sigma}")
    if not (min_scale >= 0 and floor_ratio >= 0):
        raise ValueError(f"hampel: min_scale and floor_ratio must be >= 0, got {min_scale}, {floor_ratio}")
    return halves


def _window_median_mad(x: torch.Tensor, valid: torch.Tensor,
                       halves: list[int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Window median and scaled MAD ``(B, N, C, T)`` of the valid frames, and their count ``(B, N, T)``."""
    hmax = max(halves)
    width = 2 * hmax + 1
    offsets = torch.arange(-hmax, hmax + 1, device=x.device).abs()
    reach = offsets[None] <= torch.tensor(halves, device=x.device)[:, None]  # (B, K): this clip's window
    win = F.pad(x, (hmax, hmax)).unfold(-1, width, 1)  # (B, N, C, T, K), a view
    pad = valid.new_zeros(*valid.shape[:-1], hmax)
    ok = torch.cat([pad, valid, pad], -1).unfold(-1, width, 1) & reach[:, None, None]  # (B, N, T, K)
    count = ok.sum(-1)
    ok = ok[:, :, None]
    inf = torch.tensor(torch.inf, dtype=x.dtype, device=x.device)
    # lower median: the ((n - 1) // 2)-th of the sorted valid values; invalid ones sort last as +inf
    mid = ((count - 1) // 2).clamp_min(0)[:, :, None, :, None].expand(*x.shape, 1)
    vals = torch.where(ok, win, inf)
    med = vals.sort(-1).values.gather(-1, mid)
    mad = torch.where(ok, (vals - med).abs(), inf).sort(-1).values.gather(-1, mid)
    return med.squeeze(-1), MAD_TO_SIGMA * mad.squeeze(-1), count


def _check_pairs(pairs: Sequence[tuple[int, int]], nodes: int, op: str) -> tuple[list[int], list[int]]:
    if any(len(pair) != 2 for pair in pairs):
        raise ValueError(f"{op}: pairs must be (left, right) node indices, got {list(pairs)}")
    flat = [int(i) for pair in pairs for i in pair]
    if any(not 0 <= i < nodes for i in flat):
        raise ValueError(f"{op}: pair indices must lie in [0, {nodes}), got {list(pairs)}")
    if len(set(flat)) != len(flat):
        raise ValueError(f"{op}: a node may appear in one pair only, once; got {list(pairs)}")
    return flat[0::2], flat[1::2]


def apply_swaps(
    x: torch.Tensor, pairs: Sequence[tuple[int, int]], swapped: torch.Tensor
) -> torch.Tensor:
    """Exchange each pair's two nodes of ``x (B, N, ..., T)`` on the frames ``swapped (B, P, T)``.

    What :func:`repair_swaps` does to positions and scores; use it for anything else indexed by
    node, a validity mask above all. Differentiable in ``x`` (a permutation).
    """
    check_shape(swapped, "B,P,T", "apply_swaps: swapped")
    left, right = _check_pairs(pairs, x.shape[1], "apply_swaps")
    if swapped.shape != (x.shape[0], len(left), x.shape[-1]):
        raise ValueError(
            f"apply_swaps: swapped must be (B, P, T) = {(x.shape[0], len(left), x.shape[-1])}, "
            f"got {tuple(swapped.shape)}"
        )
    bsz, n, t = x.shape[0], x.shape[1], x.shape[-1]
    index = torch.arange(n, device=x.device)[None, :, None].repeat(bsz, 1, t)  # (B, N, T) source node
    li, ri = torch.tensor(left, device=x.device), torch.tensor(right, device=x.device)
    index[:, left] = torch.where(swapped, ri[None, :, None], li[None, :, None])
    index[:, right] = torch.where(swapped, li[None, :, None], ri[None, :, None])
    mid = (1,) * (x.ndim - 3)
    return torch.gather(x, 1, index.view(bsz, n, *mid, t).expand(x.shape))


def _distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Euclidean distance over axis -2 (``C``), the squares added in a fixed order."""
    d = a - b
    sq = d[..., 0, :] * d[..., 0, :]
    for c in range(1, d.shape[-2]):
        sq = sq + d[..., c, :] * d[..., c, :]
    return torch.sqrt(sq)


def _flip_costs(
    zl: torch.Tensor, zr: torch.Tensor, both: torch.Tensor, velocity: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """Cost table ``(B, P, 2, 2, T)`` of the flip into the previous seen frame (``a``) and into
    this one (``b``), and ``(B, P, T)`` whether this frame is seen with a seen frame before it."""
    t = both.shape[-1]
    frames = torch.arange(t, device=both.device)
    upto = torch.where(both, frames, -1).cummax(-1).values  # last seen frame at or before t
    p1 = F.pad(upto[..., :-1], (1, 0), value=-1)  # ... strictly before t
    p2 = torch.where(p1 >= 0, p1.gather(-1, p1.clamp_min(0)), -1)  # ... strictly before p1

    def at(z: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        return z.gather(-1, p.clamp_min(0)[:, :, None].expand(z.shape))

    l1, r1 = at(zl, p1), at(zr, p1)
    if velocity:  # constant velocity from p2 to p1, carried over the frames from p1 to t
        has2 = (p2 >= 0)[:, :, None]
        gap = (frames - p1).to(zl.dtype) / (p1 - p2).clamp_min(1).to(zl.dtype)
        ratio = torch.where(p2 >= 0, gap, 0.0)[:, :, None]
        l2, r2 = torch.where(has2, at(zl, p2), l1), torch.where(has2, at(zr, p2), r1)  # finite: 0 * it = 0
        # (left, right) predicted with the labels at p2 as they are (a = 0) or exchanged (a = 1)
        pred = {0: (l1 + ratio * (l1 - l2), r1 + ratio * (r1 - r2)),
                1: (l1 + ratio * (l1 - r2), r1 + ratio * (r1 - l2))}
    else:
        pred = {0: (l1, r1), 1: (l1, r1)}
    here = {0: (zl, zr), 1: (zr, zl)}
    cost = torch.stack([
        torch.stack([_distance(here[b][0], pred[a][0]) + _distance(here[b][1], pred[a][1]) for b in (0, 1)], 2)
        for a in (0, 1)
    ], 2)
    return cost, both & (p1 >= 0)


def repair_swaps(
    x: torch.Tensor,
    valid: torch.Tensor,
    pairs: Sequence[tuple[int, int]],
    scores: torch.Tensor | None = None,
    *,
    predict: Literal["velocity", "position"] = "velocity",
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """Undo left/right label swaps of node pairs by the least-motion labelling (Viterbi).

    For each clip and pair ``(l, r)`` (wrists, elbows, knees, ankles), every frame gets a state:
    0, the labels as given, or 1, exchanged. A frame is *seen* when both points are valid. The
    path's cost is, summed over seen frames ``t`` after the first, the distance between where the
    two labelled points are at ``t`` and where they were predicted::

        ||L_t(s_t) - P^L_t|| + ||R_t(s_t) - P^R_t||,   L_t(0) = left_t, L_t(1) = right_t, ...

    ``predict="velocity"`` (default): ``P_t = X_p1 + (X_p1 - X_p2) (t - p1) / (p1 - p2)``, the
    constant-velocity extrapolation from the two previous seen frames ``p2 < p1`` under their
    states (the plain position ``X_p1`` at the second seen frame). ``predict="position"``:
    ``P_t = X_p1``, the least-motion cost. The velocity model is the default: once a pair moves
    further in a frame than its points are apart (hands in a swing), the two labellings' motions
    are about equal and noise picks one, while the velocity model's residual stays small
    (``test_velocity_prediction_beats_position_when_fast``). The cost is unchanged by
    exchanging every state, so the position model decides each step alone (greedy) and the
    velocity model is a 2-state Viterbi over "exchange at this step or not" (equivalent to the
    4-state chain over ``(s_p1, s_t)``, with half the work). The prediction is extrapolated
    across gaps however long: a long gap makes that step's decision a guess.

    Of the two optimal labellings (a path and its complement) the one with fewer state-1 seen
    frames is kept; on a tie, the one where the first seen frame is as given. Frames where one
    point is invalid carry no cost and take the state of the last seen frame (the first seen
    frame's before it): the one valid point is relabelled with its neighbours. Frames where
    neither point is valid (padding among them) are never swapped.

    Args:
        x: ``(B, N, C, T)`` positions, any float dtype; must be finite where valid.
        valid: ``(B, N, T)`` bool.
        pairs: ``P`` pairs of node indices ``(left, right)``; a node may be in one pair only.
        scores: optional ``(B, N, T)``, exchanged along with the positions.
        predict: ``"velocity"`` or ``"position"``, as above.

    Returns:
        ``(y, y_scores, swapped)``: ``x`` and ``scores`` with each pair's nodes exchanged on the
        frames ``swapped (B, P, T)`` bool (``y_scores`` is None without ``scores``). ``valid``
        is *not* returned: exchange it with :func:`apply_swaps` (or recompute it from
        ``y_scores``) before using it with ``y``.

    ``y`` is differentiable in ``x`` (a permutation); the choice of ``swapped`` is not. Exact
    ties between the two labellings of a step (two points at the same place) keep the labels.
    Loops over frames in Python, twice (a few ``(B, P, 2)`` tensor ops a frame each way):
    512 clips x 300 frames x 4 pairs take about 0.2 s on 2 CPU cores.
    """
    _check_points(x, valid, "repair_swaps")
    if scores is not None:
        check_shape(scores, "B,N,T", "repair_swaps: scores")
        check_same_leading(scores, valid, 3, "repair_swaps: scores, valid")
    if predict not in ("velocity", "position"):
        raise ValueError(f"repair_swaps: predict must be 'velocity' or 'position', got {predict!r}")
    left, right = _check_pairs(pairs, x.shape[1], "repair_swaps")
    t = x.shape[-1]
    if t == 0:
        return x.clone(), None if scores is None else scores.clone(), valid.new_zeros(x.shape[0], len(left), 0)

    both = valid[:, left] & valid[:, right]  # (B, P, T)
    cost, step = _flip_costs(x[:, left], x[:, right], both, predict == "velocity")
    flip = _least_cost_flips(cost, step)
    state = (flip.cumsum(-1) % 2).bool()
    ones = (state & both).sum(-1, keepdim=True)
    state = state ^ (2 * ones > both.sum(-1, keepdim=True))
    swapped = state & (valid[:, left] | valid[:, right])
    y = apply_swaps(x, pairs, swapped)
    return y, None if scores is None else apply_swaps(scores, pairs, swapped), swapped


def _least_cost_flips(cost: torch.Tensor, step: torch.Tensor) -> torch.Tensor:
    """The 2-state Viterbi of :func:`repair_swaps`: from the costs ``(B, P, 2, 2, T)`` of entering
    a frame with flip ``b`` after the previous seen one's ``a``, and the frames that count ``step
    (B, P, T)``, the least-cost flips ``(B, P, T)`` bool (the first seen frame entered as given)."""
    t = step.shape[-1]
    # forward: best[b] is the least cost of a path whose last seen frame was entered with flip b;
    # frames first, so that each step reads contiguous memory
    cost, step = cost.permute(4, 0, 1, 2, 3).contiguous(), step.permute(2, 0, 1).contiguous()
    best = torch.zeros(*step.shape[1:], 2, dtype=cost.dtype, device=cost.device)
    best[..., 1] = torch.inf  # the first seen frame is as given; the complement is chosen below
    back = []
    for i in range(t):
        via = best[..., :, None] + cost[i]  # (B, P, a, b)
        from1 = via[..., 1, :] < via[..., 0, :]
        new = torch.where(from1, via[..., 1, :], via[..., 0, :])
        new = new - torch.minimum(new[..., :1], new[..., 1:])  # keep the numbers small
        best = torch.where(step[i, ..., None], new, best)
        back.append(from1)
    # backward: the flip into each seen frame (the state is then the parity of the flips so far)
    flips = [None] * t
    cur = best[..., 1] < best[..., 0]
    for i in reversed(range(t)):
        flips[i] = cur & step[i]
        cur = torch.where(step[i], torch.where(cur, back[i][..., 1], back[i][..., 0]), cur)
    return torch.stack(flips, -1)
