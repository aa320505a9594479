"""The body as the detector sees it: the person's size and hands, and their limbs and head as
capsules, with masks of where rays (and their side samples) run inside them."""

from __future__ import annotations

import torch

from corrkin.bat.settings import DEFAULT_TUNING, BatTuning
from corrkin.ops.geometry import point_segment_distance
from corrkin.skeleton import JOINT_INDEX as J
from corrkin.skeleton import LIMBS, shoulder_width

# the trunk is drawn as an outline: its diagonals cover the inside too
BODY = LIMBS + (("l_hip", "r_shoulder"), ("r_hip", "l_shoulder"))


def person_size(kp: torch.Tensor, tuning: BatTuning = DEFAULT_TUNING) -> torch.Tensor:
    """The person's size per frame ``(T,)``, pixels, of ``kp (T, 13, 2)``: the shoulder width,
    but at least ``tuning.trunk_floor`` times the trunk's length (and ``least_size_px``). A
    batter turning side-on narrows the shoulder line to nothing (|cos| of the turn) while the
    bat stays as long as ever; without the floor every length scaled by it (the longest bat,
    the body's margin, the evidence's unit) shrank with it, and a bat held by a turned batter
    was refused as too long. Square-on the floor stays below the shoulder width (a person's
    trunk is 1.1-1.3 shoulder widths long, so the floor is 0.6-0.7 of it), so it changes
    nothing there."""
    width = shoulder_width(kp)
    mid_s = (kp[:, J["l_shoulder"]] + kp[:, J["r_shoulder"]]) / 2
    mid_h = (kp[:, J["l_hip"]] + kp[:, J["r_hip"]]) / 2
    trunk = torch.linalg.vector_norm(mid_s - mid_h, dim=-1)
    # fmax: hips not seen leave the width
    return torch.fmax(width, tuning.trunk_floor * trunk).clamp_min(tuning.least_size_px)


def hands_centre(kp: torch.Tensor) -> torch.Tensor:
    """``(T, 2)``: the wrists' midpoint of ``kp (T, 13, 2)``, where the rays start."""
    return (kp[:, J["l_wrist"]] + kp[:, J["r_wrist"]]) / 2


def near_body(pts: torch.Tensor, keypoints: torch.Tensor, radius: torch.Tensor,
              tuning: BatTuning = DEFAULT_TUNING) -> torch.Tensor:
    """``(T, ..., 2)`` points to ``(T, ...)``: true within ``radius (T,)`` of a limb of
    ``keypoints (T, 13, 2)``, or of the head (see :func:`body_capsules`). The plain
    point-by-point definition that :func:`ray_body_masks` computes along whole rays at once."""
    flat = pts.reshape(pts.shape[0], -1, 2)
    a, b, rho = body_capsules(keypoints, radius, tuning=tuning)
    near = torch.zeros(flat.shape[:-1], dtype=torch.bool, device=pts.device)
    for i in range(a.shape[1]):
        near |= point_segment_distance(flat, a[:, i, None], b[:, i, None]) < rho[:, i, None]
    return near.view(pts.shape[:-1])


def body_capsules(keypoints: torch.Tensor, radius: torch.Tensor, diagonals: bool = True,
                  tuning: BatTuning = DEFAULT_TUNING) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A person's body as capsules ``(a, b, rho)``: ends ``(T, S, 2)`` and radii ``(T, S)``:
    every limb of ``keypoints (T, 13, 2)`` (the trunk as an outline and its diagonals) with
    ``radius (T,)``, and the head (not among the joints: placed above the shoulders, along the
    trunk, ``tuning.head_reach`` of its length) with ``head_margin`` shoulder widths more. The
    trunk's ``diagonals`` fill its inside (for a mask of the whole body); they are no limb that
    a ray could run along."""
    kp = keypoints
    body = BODY if diagonals else LIMBS
    shoulders = (kp[:, J["l_shoulder"]] + kp[:, J["r_shoulder"]]) / 2
    width = shoulder_width(kp)
    head = shoulders + tuning.head_reach * (shoulders - kp[:, J["pelvis"]])
    a = torch.stack([kp[:, J[p]] for p, _ in body] + [shoulders], 1)
    b = torch.stack([kp[:, J[q]] for _, q in body] + [head], 1)
    rho = torch.cat([radius[:, None].expand(-1, len(body)), (radius + tuning.head_margin * width)[:, None]], 1)
    return a, b, rho


def line_capsule_interval(o: torch.Tensor, u: torch.Tensor, a: torch.Tensor, b: torch.Tensor,
                          rho: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Where the lines ``o + r u`` lie inside the capsules ``a -> b`` of radius ``rho``: the
    interval ``lo < r < hi`` (empty: ``lo >= hi``), all arguments broadcast (points ``(..., 2)``,
    ``u`` unit vectors). A capsule is convex, so its meet with a line is one interval: the hull
    of the line's meets with its two end discs and its rectangle."""
    def disc(c):
        d = c - o
        m = (d * u).sum(-1)
        h2 = rho * rho - ((d * d).sum(-1) - m * m)
        h = h2.clamp_min(0).sqrt()
        return torch.where(h2 > 0, m - h, torch.inf), torch.where(h2 > 0, m + h, -torch.inf)

    def between(alpha, beta, low, high):  # r with low < alpha + r beta < high
        moving = beta.abs() > 1e-9
        step = torch.where(moving, beta, torch.ones_like(beta))
        r1, r2 = (low - alpha) / step, (high - alpha) / step
        always = (alpha > low) & (alpha < high)
        return (torch.where(moving, torch.minimum(r1, r2), torch.where(always, -torch.inf, torch.inf)),
                torch.where(moving, torch.maximum(r1, r2), torch.where(always, torch.inf, -torch.inf)))

    lo_a, hi_a = disc(a)
    lo_b, hi_b = disc(b)
    ab = b - a
    length = torch.linalg.vector_norm(ab, dim=-1)
    e = ab / length.clamp_min(1e-9)[..., None]
    n = torch.stack([-e[..., 1], e[..., 0]], -1)
    oa = o - a
    lo1, hi1 = between((n * oa).sum(-1), (n * u).sum(-1), -rho, rho)
    lo2, hi2 = between((e * oa).sum(-1), (e * u).sum(-1), torch.zeros_like(length), length)
    lo_s, hi_s = torch.maximum(lo1, lo2), torch.minimum(hi1, hi2)
    side = (lo_s < hi_s) & (length > 1e-9)
    lo = torch.minimum(torch.minimum(lo_a, lo_b), torch.where(side, lo_s, torch.inf))
    hi = torch.maximum(torch.maximum(hi_a, hi_b), torch.where(side, hi_s, -torch.inf))
    return lo, hi


def ray_body_masks(hands: torch.Tensor, angles: torch.Tensor, width: torch.Tensor, radii: torch.Tensor,
                   capsules: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
                   parallel: float | None = None) -> torch.Tensor:
    """``(T, K, R)``: whether a ray point (``radii (R,)``, evenly spaced from one step out, along
    rays from ``hands (T, 2)`` at ``angles (K,)``) or either of its side samples (``width (T,)``
    to each side, as :func:`side_points`) lies inside one of the ``capsules`` (``a, b (T, S,
    2)``, ``rho (T, S)``; a negative radius is no capsule).

    Exact and cheap: each capsule meets each of the three lines of a ray in one interval
    (:func:`line_capsule_interval`), so the mask is a count of intervals open at each radius:
    +1 where one starts, -1 past where it ends, and a running sum. No per-point distances, no
    picture of the body.

    With ``parallel`` (a cosine), a capsule counts only for the rays within that of its axis:
    a limb looks like a bar only to a ray along it (the ridge contrast is measured across the
    ray); a ray crossing it sees two edges, which are no bar, and a bat held across the body
    stays visible against it."""
    t, k, r = hands.shape[0], angles.shape[0], radii.shape[0]
    a, b, rho = capsules
    u = torch.stack([angles.cos(), angles.sin()], -1)  # (K, 2)
    n = torch.stack([-angles.sin(), angles.cos()], -1)
    side = torch.tensor([0.0, 1.0, -1.0], device=hands.device)
    o = hands[:, None, None] + side[None, :, None, None] * width[:, None, None, None] * n[None, None]  # (T, 3, K, 2)
    lo, hi = line_capsule_interval(o[..., None, :], u[None, None, :, None], a[:, None, None], b[:, None, None],
                                   rho[:, None, None])  # (T, 3, K, S)
    step, first = radii[1] - radii[0] if r > 1 else radii[0], radii[0]
    # radii index j holds first + j step; the open interval (lo, hi) holds j0 <= j <= j1
    j0 = torch.floor((lo.clamp(-2 * step, (r + 2) * step) - first) / step).long() + 1
    j1 = torch.ceil((hi.clamp(-2 * step, (r + 2) * step) - first) / step).long() - 1
    j0, j1 = j0.clamp(0, r), j1.clamp(-1, r - 1)
    some = (j0 <= j1) & (rho[:, None, None] > 0)
    if parallel is not None:
        ab = b - a  # (T, S, 2)
        along = (ab[:, None] * u[None, :, None]).sum(-1).abs() / torch.linalg.vector_norm(ab, dim=-1).clamp_min(1e-9)[:, None]
        point = torch.linalg.vector_norm(ab, dim=-1) < 1e-6
        some &= ((along >= parallel) | point[:, None])[:, None]
    row = (torch.arange(t, device=hands.device)[:, None, None, None] * k
           + torch.arange(k, device=hands.device)[None, None, :, None]) * (r + 1)
    row = row.expand_as(j0)
    counts = torch.zeros(t * k * (r + 1), dtype=torch.int32, device=hands.device)
    ones = torch.ones(int(some.sum()), dtype=torch.int32, device=hands.device)
    counts.index_add_(0, (row + j0)[some], ones)
    counts.index_add_(0, (row + j1 + 1)[some], -ones)
    return counts.view(t, k, r + 1).cumsum(-1)[..., :r] > 0


def others_capsules(others: torch.Tensor, margin: float,
                    tuning: BatTuning = DEFAULT_TUNING) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The bodies of ``others (T, Q, 13, 2)`` (NaN where absent) as capsules, each within
    ``margin`` of their own size (:func:`person_size`); an absent person's capsules have radius -1."""
    t, q = others.shape[:2]
    there = torch.isfinite(others).all(-1).all(-1)  # (T, Q)
    kq = torch.where(there[..., None, None], others, torch.zeros_like(others)).reshape(t * q, 13, 2)
    rho = torch.where(there.reshape(-1), margin * person_size(kq, tuning),
                      torch.full((t * q,), -1.0, device=others.device))
    a, b, r = body_capsules(kq, rho, tuning=tuning)
    r = torch.where(there.reshape(-1, 1), r, -1.0)
    return a.reshape(t, -1, 2), b.reshape(t, -1, 2), r.reshape(t, -1)
