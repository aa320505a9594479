"""Bat tip from pixels and pose, batched over all frames of a clip.

1. **Evidence.** The bat is a thin bar that starts at the hands. Rays are cast from the hands
   (the wrists' midpoint) in ``angles`` directions; along each, every ``step_px``, the ridge
   contrast ``D`` (the grey level at the centre against both sides at a bat's width ``w``: the
   smaller difference where both have the same sign, else 0, so an edge or a line crossing
   beside the ray is no bar) is sampled with ``grid_sample``: a line detector for lines
   through the hands. A bat may be lighter or darker than what is behind it, so ``|D|`` counts.
2. **The body is not evidence.** Limbs and torso are bars too, near the hands the bat overlaps
   them, and the gap between two limbs looks like a dark bar. Where a ray point or either of
   its side samples lies within ``body_margin`` shoulder widths of a limb of the pose (or of
   the head, placed above the shoulders), the point is neutral: it neither supports nor counts
   against the ray. The same holds for the bodies of other people in the frame, where given.
3. **Length.** Along each ray the bat is the best run ``[a, L]`` of ``|D| - tau`` (capped at
   ``4 tau`` per point, so a short, very bright crossing cannot outweigh a bar's length) that
   lies beyond the body; the tip is its far end ``L`` and the ray's score that run's sum.
   Once the bat's length is known from the clip, runs are bounded by it (:func:`track_bat`).
   The bat is held, so its run starts at the hands or where the ray comes out from behind the
   body (``HELD``): a bar of the background beyond plain ground is no candidate. Over busy
   ground the floor under ``|D|`` rises with the frame's texture, but not on the body: the
   bat is seen against the shirt, not against the wall behind.
4. **Motion model.** One direction per frame is chosen for the whole clip at once by dynamic
   programming (Viterbi) with a cost on angular change, not by per-frame guesses.
5. **Presence.** Whether a bat is visible at all is decided per frame against that frame's own
   null: the scores of the directions away from the track (:func:`presence`), a calibrated
   probability (``BatTrack.presence``; a frame counts as seen from 0.5). A bar that runs on past
   the longest bat is the background, never a bat.
6. **Colour.** A bat has one colour through a clip. Once its direction stands out in a few
   frames, its colour is learned from them (:func:`bat_colour`) and the frames are searched
   again with it: a point of that colour whose sides are not supports the ray, any other point
   counts against it, and each point may show the bat in any channel. On grass, gravel or brick,
   where the ground is full of bars, this is what finds the bat in the frames where contrast
   alone could not.
7. **Bridge.** Between frames that saw the bat (hidden behind the body, or blurred), it turns
   on, angle and length interpolated: a cubic in the angle that keeps the turn rates seen on
   either side (the bat is usually hidden mid-swing, accelerating), confidence ``0.5 ** (k +
   1)`` ``k`` frames from the nearest sighting. A frame in between that points where the bat was
   last (or will next be) seen, with some presence, is the bat held still: it anchors the bridge
   (confidence half its presence), so a swing that starts late is not begun early. Before the
   first sighting and after the last, and in a clip with none, the bat is absent (NaN): nothing
   is placed where nothing was seen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterable, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from corrkin.config import BatSettings
from corrkin.ops.geometry import point_segment_distance
from corrkin.ops.swing import wrap_angle
from corrkin.skeleton import JOINT_INDEX as J
from corrkin.skeleton import LIMBS, shoulder_width

# the trunk is drawn as an outline: its diagonals cover the inside too
GAIN_CAP = 4.0
BODY = LIMBS + (("l_hip", "r_shoulder"), ("r_hip", "l_shoulder"))


ABSENT, SEEN, BRIDGED = 0, 1, 2  # BatTrack.state


@dataclass
class BatTrack:
    tip: torch.Tensor  # (T, 2) pixels; NaN where absent
    confidence: torch.Tensor  # (T,) in [0, 1]: the bat's presence where seen (>= 0.5), 0.5**(k+1) bridged, 0 absent
    angle: torch.Tensor  # (T,) radians, image axes (y down); NaN where absent
    length: torch.Tensor  # (T,) pixels from the hands; NaN where absent
    state: torch.Tensor  # (T,) uint8: SEEN, BRIDGED (between two sightings, placed by _bridge) or ABSENT
    presence: torch.Tensor  # (T,) the calibrated probability that a bat is visible in the frame
    k: torch.Tensor | None = None  # (T,) the index of the direction chosen in each frame (before the bridge)


def grey(frames: torch.Tensor) -> torch.Tensor:
    """``(T, 3, H, W)`` RGB (or already grey ``(T, 1, H, W)``) in [0, 255] to ``(T, 1, H, W)``
    float luma (ITU-R 601, kornia)."""
    from kornia.color import rgb_to_grayscale

    return rgb_to_grayscale(frames.float()) if frames.shape[1] == 3 else frames.float()


def ray_points(hands: torch.Tensor, angles: torch.Tensor, radii: torch.Tensor) -> torch.Tensor:
    """Points ``(T, K, R, 2)`` at ``radii`` along rays from ``hands (T, 2)`` at ``angles (K,)``."""
    u = torch.stack([angles.cos(), angles.sin()], -1)
    return hands[:, None, None] + radii[None, None, :, None] * u[None, :, None]


def side_points(pts: torch.Tensor, angles: torch.Tensor, width: torch.Tensor) -> torch.Tensor:
    """``(T, 3, K, R, 2)``: each ray point and its two neighbours ``width (T,)`` pixels to the sides."""
    n = torch.stack([-angles.sin(), angles.cos()], -1)
    off = width[:, None, None, None] * n[None, :, None]
    return torch.stack([pts, pts + off, pts - off], 1)


def bar_contrast(image: torch.Tensor, trio: torch.Tensor) -> torch.Tensor:
    """Ridge contrast ``D`` ``(T, C, K, R)`` at each ray point, per channel of ``image (T, C, H,
    W)``: the smaller of its differences from its two side points when both have the same sign
    (a bar, lighter or darker than both sides), else 0. An edge beside the ray (one side
    differs) or a line crossing it near one side sample is no bar."""
    return ridge(sample_trio(image, trio))


def ridge(v: torch.Tensor) -> torch.Tensor:
    """:func:`bar_contrast` from the samples ``v (T, C, 3, K, R)`` (centre, sides)."""
    a, b = v[:, :, 0] - v[:, :, 1], v[:, :, 0] - v[:, :, 2]
    return torch.where(a * b > 0, torch.sign(a) * torch.minimum(a.abs(), b.abs()), torch.zeros_like(a))


def sample_trio(image: torch.Tensor, trio: torch.Tensor) -> torch.Tensor:
    """``image (T, C, H, W)`` at the points ``trio (T, 3, K, R, 2)`` (pixels): ``(T, C, 3, K, R)``."""
    t, c, h, w = image.shape
    scale = torch.tensor([2.0 / w, 2.0 / h], device=image.device)
    grid = (trio * scale - 1).reshape(t, 3, -1, 2)
    return F.grid_sample(image, grid, align_corners=False, padding_mode="border").reshape(t, c, *trio.shape[1:4])


def near_body(pts: torch.Tensor, keypoints: torch.Tensor, radius: torch.Tensor) -> torch.Tensor:
    """``(T, ..., 2)`` points to ``(T, ...)``: true within ``radius (T,)`` of a limb of
    ``keypoints (T, 13, 2)``, or of the head (see :func:`body_capsules`). The plain
    point-by-point definition that :func:`ray_body_masks` computes along whole rays at once."""
    flat = pts.reshape(pts.shape[0], -1, 2)
    a, b, rho = body_capsules(keypoints, radius)
    near = torch.zeros(flat.shape[:-1], dtype=torch.bool, device=pts.device)
    for i in range(a.shape[1]):
        near |= point_segment_distance(flat, a[:, i, None], b[:, i, None]) < rho[:, i, None]
    return near.view(pts.shape[:-1])


def body_capsules(keypoints: torch.Tensor, radius: torch.Tensor,
                  diagonals: bool = True) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A person's body as capsules ``(a, b, rho)``: ends ``(T, S, 2)`` and radii ``(T, S)``:
    every limb of ``keypoints (T, 13, 2)`` (the trunk as an outline and its diagonals) with
    ``radius (T,)``, and the head (not among the joints: placed above the shoulders, along the
    trunk) with a quarter shoulder width more. The trunk's ``diagonals`` fill its inside (for
    a mask of the whole body); they are no limb that a ray could run along."""
    kp = keypoints
    body = BODY if diagonals else LIMBS
    shoulders = (kp[:, J["l_shoulder"]] + kp[:, J["r_shoulder"]]) / 2
    width = shoulder_width(kp)
    head = shoulders + 0.45 * (shoulders - kp[:, J["pelvis"]])
    a = torch.stack([kp[:, J[p]] for p, _ in body] + [shoulders], 1)
    b = torch.stack([kp[:, J[q]] for _, q in body] + [head], 1)
    rho = torch.cat([radius[:, None].expand(-1, len(body)), (radius + 0.25 * width)[:, None]], 1)
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


def others_capsules(others: torch.Tensor, margin: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The bodies of ``others (T, Q, 13, 2)`` (NaN where absent) as capsules, each within
    ``margin`` of their own shoulder width; an absent person's capsules have radius -1."""
    t, q = others.shape[:2]
    there = torch.isfinite(others).all(-1).all(-1)  # (T, Q)
    kq = torch.where(there[..., None, None], others, torch.zeros_like(others)).reshape(t * q, 13, 2)
    rho = torch.where(there.reshape(-1), margin * _shoulders(kq), torch.full((t * q,), -1.0, device=others.device))
    a, b, r = body_capsules(kq, rho)
    r = torch.where(there.reshape(-1, 1), r, -1.0)
    return a.reshape(t, -1, 2), b.reshape(t, -1, 2), r.reshape(t, -1)


def best_run(gain: torch.Tensor, radii: torch.Tensor, limits: torch.Tensor | None = None,
             start: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Largest-sum run of ``gain (T, K, R)`` along the last axis: ``(score, far end radius)``,
    ``(T, K)`` each; with ``limits (T, C)`` (radii), the best run ending within each limit,
    ``(T, K, C)`` each.

    With ``C`` the running sum, the best run ending at ``r`` is ``C[r] - min_{r' < r} C[r']``
    (``C[-1] = 0``): one ``cumsum`` and one ``cummin`` (and a ``cummax`` for the limits), no
    loop over radii.
    """
    c = torch.cumsum(gain, -1)
    before = torch.cat([torch.zeros_like(c[..., :1]), c[..., :-1]], -1).cummin(-1).values.clamp_max(0)
    if start is not None:  # a run starts at index start (T, K) at the latest
        idx = torch.minimum(torch.arange(gain.shape[-1], device=gain.device), start[..., None])
        before = before.gather(-1, idx)
    ending = c - before
    if limits is None:
        best, end = ending.max(-1)
        return best.clamp_min(0), radii[end]
    upto = ending.cummax(-1)
    last = (torch.searchsorted(radii, limits.contiguous(), right=True) - 1).clamp_min(0)  # (T, C)
    last = last[:, None, :].expand(-1, gain.shape[1], -1)
    return upto.values.gather(-1, last).clamp_min(0), radii[upto.indices.gather(-1, last)]


def length_caps(s: BatSettings) -> list[float]:
    """The run-length limits evaluated, in shoulder widths: every tenth from 1 up to
    ``max_length``, then ``max_length`` (the bat's length, once known, bounds its runs)."""
    return [round(1.0 + 0.1 * i, 1) for i in range(int(round((s.max_length - 1.0) * 10)))] + [s.max_length]


def viterbi(score: torch.Tensor, angles: torch.Tensor, penalty: torch.Tensor) -> torch.Tensor:
    """Angle index per frame maximising ``sum_t score - penalty * (wrapped change)^2``."""
    t, k = score.shape
    diff = wrap_angle(angles[:, None] - angles[None, :])
    cost = penalty * diff**2
    best = score[0].clone()
    back = torch.zeros(t, k, dtype=torch.long, device=score.device)
    for f in range(1, t):
        val, arg = (best[None, :] - cost).max(1)
        best, back[f] = val + score[f], arg
    path = torch.empty(t, dtype=torch.long, device=score.device)
    path[-1] = best.argmax()
    for f in range(t - 1, 0, -1):
        path[f - 1] = back[f, path[f]]
    return path


TRUNK_FLOOR = 0.55  # the scale is at least this share of the trunk's length (hips' to shoulders' centre)


def _shoulders(kp: torch.Tensor) -> torch.Tensor:
    """The person's size per frame ``(T,)``, pixels: the shoulder width, but at least
    ``TRUNK_FLOOR`` times the trunk's length. A batter turning side-on narrows the shoulder
    line to nothing (|cos| of the turn) while the bat stays as long as ever; without the floor
    every length scaled by it (the longest bat, the body's margin, the evidence's unit) shrank
    with it, and a bat held by a turned batter was refused as too long. Square-on the floor
    stays below the shoulder width (a person's trunk is 1.1-1.3 shoulder widths long, so the
    floor is 0.6-0.7 of it), so it changes nothing there."""
    width = shoulder_width(kp)
    mid_s = (kp[:, J["l_shoulder"]] + kp[:, J["r_shoulder"]]) / 2
    mid_h = (kp[:, J["l_hip"]] + kp[:, J["r_hip"]]) / 2
    trunk = torch.linalg.vector_norm(mid_s - mid_h, dim=-1)
    return torch.fmax(width, TRUNK_FLOOR * trunk).clamp_min(4.0)  # fmax: hips not seen leave the width


def _hands(kp: torch.Tensor) -> torch.Tensor:
    return (kp[:, J["l_wrist"]] + kp[:, J["r_wrist"]]) / 2


def _directions(s: BatSettings, device) -> torch.Tensor:
    return torch.arange(s.angles, device=device) * (2 * math.pi / s.angles)


def work_factor(keypoints: torch.Tensor, s: BatSettings) -> int:
    """How much the frames are shrunk (average-pooled) for the bat stage: the whole number that
    brings the clip's median shoulder width nearest ``s.work_shoulder_px`` pixels, never
    enlarging. Evidence is a sum along rays sampled every ``step_px``, so its cost grows with the
    batter's size in pixels, not with the frame's: a 1080p batter is worked on at the size a
    360p one is."""
    sw = float(_shoulders(keypoints.float()).median())
    return max(1, int(round(sw / s.work_shoulder_px)))


YCC = torch.tensor([[0.299, 0.587, 0.114], [-0.1687, -0.3313, 0.5], [0.5, -0.4187, -0.0813]])  # JPEG Y, Cb, Cr


def work_image(frames: torch.Tensor, factor: int) -> torch.Tensor:
    """``(T, C, H // factor, W // factor)`` float channels of ``frames`` in [0, 255]: luma and
    the two chroma differences (JPEG's Y, Cb, Cr, without the offset) of RGB ``(T, 3, H, W)``,
    or the grey level alone of grey ``(T, 1, H, W)``; each output pixel the mean of a
    ``factor`` x ``factor`` block (the last partial row and column of blocks dropped), so a
    point ``p`` of the frame is at ``p / factor`` in the result. A bat darker than the pitch in
    red but as bright overall (dark willow on grass) differs in the chroma.

    On the CPU, uint8 frames are shrunk (``resize`` with ``INTER_AREA``: the same block means)
    and converted (``cvtColor`` to YCrCb: the same matrix) by OpenCV, each rounded to whole
    levels: several times faster there than converting a frame to float first; elsewhere
    ``avg_pool2d`` and one matrix product per pixel."""
    t, c, h, w = frames.shape
    h2, w2 = h // factor * factor, w // factor * factor
    frames = frames[..., :h2, :w2]
    if frames.device.type == "cpu" and frames.dtype == torch.uint8:
        import cv2

        size = (w2 // factor, h2 // factor)
        small = np.empty((t, size[1], size[0], c), np.uint8)
        for i, frame in enumerate(frames.permute(0, 2, 3, 1).numpy()):
            if factor > 1 and c == 3 and not frame.flags.c_contiguous:  # planar: shrink each plane
                for j in range(3):
                    small[i, ..., j] = cv2.resize(np.ascontiguousarray(frames[i, j].numpy()), size,
                                                  interpolation=cv2.INTER_AREA)
            elif factor > 1:
                small[i] = cv2.resize(frame, size, interpolation=cv2.INTER_AREA).reshape(size[1], size[0], c)
            else:
                small[i] = frame
            if c == 3:
                small[i] = cv2.cvtColor(small[i], cv2.COLOR_RGB2YCrCb)
        x = torch.from_numpy(small).permute(0, 3, 1, 2)
        if c == 1:
            return x.float()
        return x[:, [0, 2, 1]].float() - torch.tensor([0.0, 128.0, 128.0])[:, None, None]  # Y, Cb, Cr
    x = F.avg_pool2d(frames.float(), factor) if factor > 1 else frames.float()
    if c == 1:
        return x
    return torch.einsum("oc,tchw->tohw", YCC.to(x.device, x.dtype), x)  # per pixel: YCC @ rgb


TEXTURE = 3.0
PARALLEL = math.cos(math.radians(30))  # a limb masks the rays within 30 degrees of its axis
HELD = 0.35  # a run starts within this many shoulder widths of the hands ...
HELD_SLACK = 0.15  # ... or of where the ray leaves the body, give or take this
OTHERS_GAIN = -0.5  # per point on another person's body (times tau): a bat does not run through them
# the colour pass: a ray point is the bat's colour within COLOUR_Z spreads (each at least
# COLOUR_FLOOR levels), its sides are not; such a point gains COLOUR_GAIN tau, any other loses
# COLOUR_LOSS tau; the colour is learned from at least COLOUR_MIN frames where the bat was seen
COLOUR_Z, COLOUR_GAIN, COLOUR_LOSS, COLOUR_FLOOR, COLOUR_MIN = 4.0, 2.0, 1.0, 6.0, 3
COLOUR_FROM = 0.15  # the colour is learned from the frames where the track's presence is at least this
SPREAD_DEG = 20.0  # the sightings a colour is learned from span at least this many degrees ...
COLOUR_SHARE = 0.25  # ... or are at least this share of the clip's frames


class Rays(NamedTuple):
    """What :func:`_ray_gain` measures along the rays of a chunk of frames."""

    gain: torch.Tensor  # (T, K, R) per point
    radii: torch.Tensor  # (R,) work pixels from the hands
    start: torch.Tensor  # (T, K) the last index at which the bat's run may start
    level: torch.Tensor  # (T, C, K, R) the channels at each ray point
    counts: torch.Tensor  # (T, K, R) points that are evidence (not on a limb along the ray, another person, off the frame)
    others: torch.Tensor  # (T, K, R) points on another person's body


class Evidence(NamedTuple):
    """:func:`bat_evidence` for a chunk of frames."""

    score: torch.Tensor  # (T, K) or (T, K, C): the best run per direction (and length cap)
    length: torch.Tensor  # the same shape: its far end, pixels from the hands
    colour: torch.Tensor  # (T, C, K) mean channels over the outer half of each direction's (widest) run
    points: torch.Tensor  # (T, K) how many points that mean is over
    cut: torch.Tensor  # like score: the run ends where another person's body begins (the tip may be hidden)


def _ray_gain(image: torch.Tensor, kp: torch.Tensor, s: BatSettings, max_sw: float,
              others: torch.Tensor | None = None, others_gain: float = 0.0,
              whole_body: bool = False, colour: tuple[torch.Tensor, torch.Tensor] | None = None) -> Rays:
    """The :class:`Rays` of a chunk: along each ray, in the channel of ``image (T, C, H, W)``
    and the sign (a bar lighter, or darker, than its sides) with the most evidence on that
    ray, each point's signed bar contrast above a floor, less how much the bar's own level
    changes along the ray over a tenth of a shoulder width (a bat is one even object; a
    texture is not); zero on the body where a limb runs along the ray, ``others_gain`` on the
    bodies of ``others (T, Q, 13, 2)`` (NaN where absent), a large negative beyond the longest
    bat. ``image``, ``kp`` and ``max_sw`` share their pixels. With ``whole_body``, the person's
    whole body is masked for every ray (as for everyone else), not only where a limb runs
    along it. Zero off the frame. With the bat's ``colour`` (``mean, spread (C,)``, from
    :func:`bat_colour`), each point takes the channel with the most contrast there (each
    channel with its sign along the ray), and gains where it has that colour and its sides
    have not, and loses elsewhere (``COLOUR_*``).

    The floor is ``tau`` on the body, and over the background ``TEXTURE`` times the frame's
    mean ridge contrast where that is busier. ``start``: a bat is held, so its visible run
    begins within ``HELD`` shoulder widths of the hands, or where the ray leaves the body
    (behind which the bat may pass), give or take ``HELD_SLACK``: a bar out in the background
    with plain ground between it and the body is no bat, however bat-like."""
    dev = image.device
    sw, hands, theta = _shoulders(kp), _hands(kp), _directions(s, dev)
    radii = torch.arange(s.step_px, s.max_length * max_sw, s.step_px, device=dev)
    width = (0.2 * sw).clamp_min(2.0)
    trio = side_points(ray_points(hands, theta, radii), theta, width)
    v = sample_trio(image, trio)  # (T, C, 3, K, R): centre, sides
    d, level = ridge(v), v[:, :, 0]  # (T, C, K, R) each
    # off the frame nothing is seen: the edge's pixels, repeated, would make an endless bar of
    # any line that meets the edge
    size = torch.tensor([image.shape[-1], image.shape[-2]], device=dev, dtype=trio.dtype)
    off_frame = ((trio < 0) | (trio > size)).any(-1).any(1)  # (T, K, R)
    lag = max(1, int(round(0.1 * max_sw / s.step_px)))
    change = torch.zeros_like(level)
    change[..., lag:] = (level[..., lag:] - level[..., :-lag]).abs()
    # the least contrast that counts: tau, or TEXTURE times the frame's mean ridge contrast in
    # that channel where the background is busier (grass, gravel, a crowd: everything there is
    # a little bar, and only what stands out of it is the bat); on the body (clothes) tau: a bat
    # across the shirt is seen against the shirt, not against the brick wall behind
    floor = (TEXTURE * d.abs().mean((2, 3))).clamp_min(s.tau)[..., None, None]  # (T, C, 1, 1)
    body = ray_body_masks(hands, theta, torch.zeros_like(width), radii,
                          body_capsules(kp, s.body_margin * sw, diagonals=True))  # (T, K, R)
    base = change + torch.where(body[:, None], torch.full_like(floor, s.tau), floor)
    # a ray along a limb: its contrast says nothing of the bat (the dark gap between two white
    # legs looks like a bar); nor does anything past the longest bat
    own = ray_body_masks(hands, theta, width, radii, body_capsules(kp, s.body_margin * sw, diagonals=whole_body),
                         None if whole_body else PARALLEL)
    other = None if others is None else ray_body_masks(hands, theta, width, radii, others_capsules(others, s.body_margin))
    beyond = radii[None, None, :] <= s.max_length * sw[:, None, None]
    counts = ~own & beyond if other is None else ~own & ~other & beyond  # (T, K, R)
    # each ray keeps the channel and sign (lighter or darker) with the most evidence along it,
    # where evidence counts: a bat is one colour, so its run does not mix them (until the
    # colour pass)
    cap = GAIN_CAP * s.tau
    lighter = ((d - base).clamp(0, cap) * counts[:, None]).sum(-1)
    darker = ((-d - base).clamp(0, cap) * counts[:, None]).sum(-1)  # (T, C, K)
    c = d.shape[1]
    which = torch.cat([lighter, darker], 1).argmax(1)  # (T, K) in [0, 2C)
    channel, sign = (which % c)[:, None, :, None], torch.where(which < c, 1.0, -1.0)[..., None]
    pick = channel.expand(-1, 1, -1, d.shape[-1])
    # a point's gain is capped (GAIN_CAP * tau): a bar is evidenced by its length, so no short,
    # very bright crossing (the crease) outweighs it
    if colour is None:
        gain = (sign * d.gather(1, pick)[:, 0] - base.gather(1, pick)[:, 0]).clamp(max=cap)  # (T, K, R)
    else:
        # with the bat's colour known, each point may show it in any channel (each with the sign
        # it has along this ray): a dark bat is darker than the shirt it crosses, but on grass
        # only redder than it. Not in the first pass: there the extra channels raise the null
        # on busy ground as much as the bat, and the colour is what tells the bat apart
        sgn = torch.where(lighter >= darker, 1.0, -1.0)[..., None]  # (T, C, K, 1)
        gain = (sgn * d - base).amax(1).clamp(max=cap)
        mean, spread = (x.to(dev)[None, :, None, None, None] for x in colour)
        z = ((v - mean) / spread).pow(2).sum(1).sqrt()  # (T, 3, K, R): centre, sides
        match = (z[:, 0] < COLOUR_Z) & (z[:, 1] > COLOUR_Z) & (z[:, 2] > COLOUR_Z)
        gain = gain + torch.where(match, COLOUR_GAIN * s.tau, -COLOUR_LOSS * s.tau)
    gain = torch.where(own | off_frame, torch.zeros_like(gain), gain)
    if other is not None:
        gain = torch.where(other, torch.full_like(gain, others_gain), gain)
    gain = torch.where(beyond, gain, torch.full_like(gain, -1e3))
    held = body | (radii[None, None, :] <= HELD * sw[:, None, None])
    start = held.int().cumprod(-1).sum(-1) + int(round(HELD_SLACK * float(sw.median()) / s.step_px))
    on_others = other if other is not None else torch.zeros_like(own)
    return Rays(gain, radii, start, level, counts & ~off_frame, on_others)


def bat_evidence(frames: torch.Tensor, keypoints: torch.Tensor, s: BatSettings, max_sw: float,
                 others: torch.Tensor | None = None, caps: bool = False, factor: int = 1,
                 colour: tuple[torch.Tensor, torch.Tensor] | None = None, shrunk: bool = False) -> Evidence:
    """Per frame and direction, the bat's score and far-end radius ``(T, K)`` each: the part of
    the detector that needs pixels, so a long clip can be fed chunk by chunk. ``max_sw`` (the
    clip's largest shoulder width) fixes the radii so chunks agree; ``others`` as in
    :func:`others_capsules`. With ``caps``, ``(T, K, C)`` each: the best run ending within each
    of :func:`length_caps` shoulder widths of the hands (the last, ``max_length``, is the plain
    best run). The frames (RGB or grey) are shrunk by ``factor`` (:func:`work_factor`) first;
    keypoints, ``max_sw`` and the lengths returned are in the frames' own pixels. ``colour``:
    the bat's, for the colour pass (:func:`_ray_gain`). Also each run's colour, for
    :func:`bat_colour` (see :class:`Evidence`). With ``shrunk``, ``frames`` is already
    :func:`work_image`'s output for ``factor``."""
    kp = keypoints.float().to(frames.device) / factor
    others = None if others is None else others.float().to(frames.device) / factor
    image = frames.float() if shrunk else work_image(frames, factor)
    rays = _ray_gain(image, kp, s, max_sw / factor, others, OTHERS_GAIN * s.tau, colour=colour)
    limits = _shoulders(kp)[:, None] * torch.tensor(length_caps(s), device=kp.device) if caps else None
    score, end = best_run(rays.gain, rays.radii, limits, start=rays.start)
    far = end[..., -1] if caps else end  # (T, K) work pixels
    outer = rays.counts & (rays.radii >= 0.5 * far[..., None]) & (rays.radii <= far[..., None])  # (T, K, R)
    n = outer.sum(-1)
    colour_of_run = (rays.level * outer[:, None]).sum(-1) / n.clamp_min(1)[:, None]  # (T, C, K)
    # another person's body within a tenth of a shoulder width past the run's end: the bat
    # may go on behind them, so where it ends is not seen
    r = rays.radii.shape[0]
    reach = max(1, int(round(0.1 * float(_shoulders(kp).median()) / s.step_px)))
    total = torch.cat([torch.zeros_like(rays.others[..., :1], dtype=torch.int32), rays.others.int().cumsum(-1)], -1)
    last = (torch.round(end / s.step_px).long() - 1).clamp(0, r - 1)  # index of each run's far end
    flat = last.reshape(last.shape[0], last.shape[1], -1)  # (T, K, C or 1)
    ahead = total.gather(-1, (flat + 1 + reach).clamp(max=r)) - total.gather(-1, flat + 1)
    return Evidence(score, end * factor, colour_of_run, n, (ahead > 0).reshape(last.shape))


def grip_score(frames: torch.Tensor, keypoints: torch.Tensor, settings: BatSettings | None = None,
               others: torch.Tensor | None = None) -> torch.Tensor:
    """How surely the person with ``keypoints (T, 13, 2)`` holds a bat in each of ``frames
    (T, 3, H, W)``, ``(T,)`` in [0, 1], on the scale of the track's confidence. Used to tell
    the batter from the other people in the frame, so the bar must start in *their* hands: the
    best run along a ray is taken from the hands out, with each point's gain capped at ``tau``
    (so a strong edge further off, such as another person walked past, cannot buy back the
    background in between: the bar must run on from the hands). The bodies of ``others
    (T, Q, 13, 2)`` (NaN where absent) count as background: a bar does not run from one
    person's hands through another's body, nor along their own: their whole body is masked, as
    the other people's are (a hand hanging by a leg is no grip)."""
    s = settings or BatSettings()
    f = work_factor(keypoints, s)
    kp = keypoints.float().to(frames.device) / f
    others = None if others is None else others.float().to(frames.device) / f
    gain = _ray_gain(work_image(frames, f), kp, s, float(_shoulders(kp).max()), others, others_gain=-s.tau,
                     whole_body=True).gain
    from_hands = gain.clamp(max=s.tau).cumsum(-1).amax(-1).clamp_min(0)
    return (from_hands.amax(1) / (s.tau * 0.5 * _shoulders(kp) / s.step_px)).clamp(0, 1)


def track_bat(score: torch.Tensor, length: torch.Tensor, keypoints: torch.Tensor, s: BatSettings,
              cut: torch.Tensor | None = None) -> BatTrack:
    """The whole clip's track from :func:`bat_evidence`: Viterbi over directions, the bat's
    presence per frame (:func:`presence`), and the bridge between sightings.

    With evidence for every length cap (``(T, K, C)``), the track is found twice: first with
    runs up to ``max_length``; then, once the bat's length is known from the frames where it
    was clearly seen (the most common length in at least five), with runs up to the first cap
    at least 1.2 times that length. A bat never looks longer than it is, so while it is hidden
    (behind a fielder walking past, say) nothing further off can pose as its tip. Where the
    chosen run is ``cut`` (it ends at another person's body), the bat is not counted as seen
    in that frame: its tip may be behind them."""
    if score.dim() == 2:
        return _track(score, length, keypoints, s, cut=cut)
    track = _track(score[..., -1], length[..., -1], keypoints, s, cut=None if cut is None else cut[..., -1])
    sw = _shoulders(keypoints.float().to(score.device))
    clear = (track.state == SEEN) & (track.confidence >= 0.9)
    if int(clear.sum()) >= 5:
        # the most common length (0.1-wide bins, upper edge): a held bat shows the same length
        # frame after frame; a line further off, or a blurred tip, gives a different one each time
        bins = torch.floor(track.length[clear] / sw[clear] * 10).long()
        bat_sw = float(torch.mode(bins).values + 1) / 10
        caps = length_caps(s)
        c = next(i for i, cap in enumerate(caps) if cap >= 1.2 * bat_sw or i == len(caps) - 1)
        if c < len(caps) - 1:
            track = _track(score[..., c], length[..., c], keypoints, s, length[..., -1],
                           cut=None if cut is None else cut[..., c])
    return track


PRESENCE_MID = 2.5  # the bat's run scores this many times the best elsewhere: presence 0.5
PRESENCE_SLOPE = 2.2  # per doubling of that ratio (2.5x: 0.5, 5x: 0.9, 1x: 0.05)
SEEN_MIN = 0.5  # shoulder widths: the shortest run that counts as the bat seen
NULL_DEG = 30.0  # the null: directions at least this far from the track's
RUNS_ON = 0.97  # a bar reaching this share of max_length runs on past any bat: the background


def presence(score: torch.Tensor, k: torch.Tensor, unit: torch.Tensor, reach: torch.Tensor | None = None,
             longest: torch.Tensor | None = None) -> torch.Tensor:
    """The probability ``(T,)`` that a bat is visible in each frame, from the scores ``(T, K)``
    of every direction and the track's direction ``k (T,)``.

    A frame's own null is what the directions away from the track (``NULL_DEG`` and more)
    score: background texture, limbs, lines. Where a bat is seen its run stands out from them;
    where none is, the best direction is just the best of many alike. The presence is a
    logistic in ``log2`` of that ratio (scores padded by a quarter ``unit``, the score of a
    half-shoulder-width run at twice ``tau``, so that nothing against nothing is a ratio of 1),
    0.5 at ``PRESENCE_MID`` times, rising ``PRESENCE_SLOPE`` per doubling: set so that no-bat
    frames over varied grounds (procedural, real photographs, a fielder crossing) stay below
    0.5 (the claim rate is measured by ``benchmarks/bat.py``). A bar that ``reach``es
    ``RUNS_ON`` of the ``longest`` bat along the track's direction (without the length bound)
    runs on past any bat: a line of the background, presence 0."""
    n = score.shape[1]
    rows = torch.arange(len(k), device=score.device)
    off = torch.remainder(torch.arange(n, device=score.device)[None] - k[:, None] + n // 2, n) - n // 2
    null = torch.where(off.abs() * (360.0 / n) >= NULL_DEG, score, torch.zeros_like(score)).amax(1)
    pad = 0.25 * unit
    p = torch.sigmoid(PRESENCE_SLOPE * torch.log2((score[rows, k] + pad) / (null + pad) / PRESENCE_MID))
    if reach is not None:
        p = torch.where(reach >= RUNS_ON * longest, torch.zeros_like(p), p)
    return p


def _track(score: torch.Tensor, length: torch.Tensor, keypoints: torch.Tensor, s: BatSettings,
           open_length: torch.Tensor | None = None,
           cut: torch.Tensor | None = None) -> BatTrack:
    """:func:`track_bat` for one run-length limit: ``score``, ``length`` ``(T, K)``; the
    far ends without the length bound, where different, in ``open_length``.

    The presence compares like with like: the track's run and the null's, each within the same
    bound. A line of the background that runs on past any bat still counts in the null (where
    the background has such lines, a bat must stand out of them), but only over the length a
    bat could have: unbounded, it outscored any bat on a brick wall or a rocket's gantry."""
    dev = score.device
    kp = keypoints.float().to(dev)
    sw, hands, theta = _shoulders(kp), _hands(kp), _directions(s, dev)
    # a bar that runs on to the longest bat in a direction is a line of the background there
    # (a horizon, a coat's edge, the pitch's side): not the bat's direction (it still counts in
    # the null: where the background has such lines, a bat must stand out of them)
    endless = (open_length if open_length is not None else length) >= RUNS_ON * s.max_length * sw[:, None]
    bounded = score
    score = score.masked_fill(endless, 0.0)
    bat_len = float(sw.median())  # a bat is about 1.5 shoulder widths: the scale of the cost
    penalty = torch.tensor(2 * s.tau * bat_len / s.step_px / s.turn_rad**2, device=dev)
    k = viterbi(score, theta, penalty)
    rows = torch.arange(len(k), device=dev)
    best, l_best = score[rows, k], length[rows, k]
    # sub-bin direction: the vertex of the parabola through the chosen bin and its neighbours
    # (a whole bin is 2 degrees: over a bat's length, a jump of pixels from frame to frame)
    lo, hi = score[rows, (k - 1) % s.angles], score[rows, (k + 1) % s.angles]
    curv = lo - 2 * best + hi
    shift = torch.where(curv < 0, 0.5 * (lo - hi) / torch.where(curv < 0, curv, -1.0), 0.0).clamp(-0.5, 0.5)
    ang = theta[k] + shift * (2 * math.pi / s.angles)
    unit = s.tau * 0.5 * sw / s.step_px
    reach = (open_length if open_length is not None else length)[rows, k]
    p = presence(bounded, k, unit, reach, s.max_length * sw)
    # a run shorter than SEEN_MIN shoulder widths is no bat's bar (a glove, a cuff, a crossing)
    usable = (best >= s.min_confidence * unit) & (l_best >= SEEN_MIN * sw)
    if cut is not None:
        usable &= ~cut[rows, k]
    ok = (p >= 0.5) & usable
    l_best = torch.where(ok, torch.minimum(l_best, LOCAL_SLACK * _nearby_longest(l_best, ok)), l_best)
    conf = torch.where(ok, p, torch.zeros_like(p))
    state = torch.where(ok, SEEN, ABSENT).to(torch.uint8)
    if bool(ok.any()) and not bool(ok.all()):
        # between sightings the bat turns on (see _bridge); before the first and after the last
        # it is absent: nothing is placed where nothing was seen
        # between two sightings the bat is there: a frame whose direction still leads a little
        # and points where the bat was last (or will next be) seen shows it held still, and
        # anchors the bridge, so a swing that starts late is not begun early
        weak = _held_still(ang, ok, p) & usable
        ang, l_best, inside, gap_conf = _bridge(ang, l_best, ok | weak)
        conf = torch.where(inside, 0.5 * gap_conf, conf)
        conf = torch.where(weak, 0.5 * p, conf)
        state = torch.where(inside | weak, BRIDGED, state).to(torch.uint8)
    placed = state != ABSENT
    nan = torch.full_like(ang, float("nan"))
    ang, l_best = torch.where(placed, ang, nan), torch.where(placed, l_best, nan)
    tip = hands + l_best[:, None] * torch.stack([ang.cos(), ang.sin()], -1)
    return BatTrack(tip=tip, confidence=conf, angle=ang, length=l_best, state=state, presence=p, k=k)


WORK_KEPT_BYTES = 512 * 2**20  # the first pass's shrunk frames are kept for the second up to this size


def detect_bat(frames: torch.Tensor | Callable[[], Iterable[torch.Tensor]] | Iterable[torch.Tensor],
               keypoints: torch.Tensor, settings: BatSettings | None = None, chunk_frames: int = 64,
               others: torch.Tensor | None = None) -> BatTrack:
    """Track the bat tip through one clip, in two passes over the frames: the bar's contrast
    alone, then (where a colour could be learned from the first, :func:`bat_colour`) with the
    bat's colour too: a bat has one colour through a clip, and on busy ground (grass, gravel,
    brick) that is what tells its bar from the ground's many others.

    Args:
        frames: ``(T, 3, H, W)`` uint8 RGB or ``(T, 1, H, W)`` grey; or a function returning
            an iterable of such chunks in order, called once per pass (a long clip read
            twice, never held whole); or an iterable of chunks (held for the second pass).
            They are shrunk to the batter's size first (:func:`work_factor`); the shrunk
            frames are kept for the second pass while they fit ``WORK_KEPT_BYTES`` (then the
            frames are not read again), else shrunk afresh: the same numbers either way.
        keypoints: ``(T, 13, 2)`` the batter's joints in the frames' pixels.
        settings: :class:`BatSettings`: ``angles`` searched, ``step_px`` along a ray, ``tau``
            least bar contrast (grey levels), ``body_margin`` half-width of the body mask
            (shoulder widths), ``max_length`` longest bat (shoulder widths), ``turn_rad`` the
            angular change per frame that costs as much as a bat-length run at twice ``tau``,
            ``min_confidence`` the least run (in half-shoulder-width runs at twice ``tau``)
            that counts as seen, whatever the presence.
        others: ``(T, Q, 13, 2)`` the other people in the frames (NaN where absent): their
            bodies are masked too, so a fielder or keeper by the bat is not taken for it.
    """
    s = settings or BatSettings()
    kp = keypoints.float()
    max_sw, factor = float(_shoulders(kp).max()), work_factor(kp, s)
    if isinstance(frames, torch.Tensor):
        whole = frames
        passes = lambda: (whole[i: i + chunk_frames] for i in range(0, len(whole), chunk_frames))  # noqa: E731
    elif callable(frames):
        passes = frames
    else:
        held = list(frames)
        passes = lambda: held  # noqa: E731

    shrunk: list[torch.Tensor] | None = []  # the first pass's work images, while they fit WORK_KEPT_BYTES

    def evidence(colour=None) -> Evidence:
        nonlocal shrunk
        parts, f0, size = [], 0, 0
        again = colour is not None and shrunk is not None
        for chunk in (shrunk if again else passes()):
            image = chunk.float() if again else work_image(chunk, factor)
            if not again and shrunk is not None:
                # the CPU path's levels are whole numbers (OpenCV on uint8): int16 holds them exactly
                kept = image.to(torch.int16) if chunk.device.type == "cpu" and chunk.dtype == torch.uint8 else image
                size += kept.numel() * kept.element_size()
                if size <= WORK_KEPT_BYTES:
                    shrunk.append(kept)
                else:
                    shrunk = None
            near = None if others is None else others[f0: f0 + len(image)].float().to(image.device)
            parts.append(bat_evidence(image, kp[f0: f0 + len(image)].to(image.device), s, max_sw, near, caps=True,
                                      factor=factor, colour=colour, shrunk=True))
            f0 += len(image)
        if f0 != len(kp):
            raise ValueError(f"detect_bat: {f0} frames but {len(kp)} poses")
        return Evidence(*(torch.cat(x) for x in zip(*parts)))

    first = evidence()
    track = track_bat(first.score, first.length, kp.to(first.score.device), s, first.cut)
    colour = bat_colour(track, first)
    if colour is None:
        return track
    second = evidence(colour)
    return track_bat(second.score, second.length, kp.to(second.score.device), s, second.cut)


def bat_colour(track: BatTrack, ev: Evidence) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The bat's colour ``(mean, spread)``, ``(C,)`` each, from the frames where ``track``'s
    direction stands out at all (presence at least ``COLOUR_FROM``, well below a sighting's 0.5:
    on busy ground the first pass may see the bat in few frames, or none, while its direction
    still leads the others in many): each frame's colour is the mean over the outer half of its
    run (``ev``, the widest length cap; the inner half may lie on the hands and sleeves); of
    those, the group within ``COLOUR_Z * COLOUR_FLOOR`` of one of them with the most votes, each
    frame's vote its presence squared (so a frame where something else was taken for the bat
    does not pull the colour, and a few clear sightings outweigh many frames where the direction
    barely led, on grass as often as not the grass), its median and the spread about it (scaled
    MAD, at least ``COLOUR_FLOOR``). None where fewer than ``COLOUR_MIN`` frames agree, or where
    they saw it in one direction only (within ``SPREAD_DEG``) in fewer than ``COLOUR_SHARE`` of
    the clip's frames: a held bat turns through a stroke, or is seen for a good part of it (a
    follow-through held still), while a bar of the background that lines up with the hands for a
    few frames (a rocket on its gantry behind the batter's head) stays put, and its colour,
    searched for, would be found in every frame."""
    k = track.k
    rows = torch.arange(len(k), device=k.device)
    seen = (track.presence >= COLOUR_FROM) & (ev.points[rows, k] >= 3)
    rows = rows[seen]
    if len(rows) < COLOUR_MIN:
        return None
    c = ev.colour[rows, :, k[rows]]  # (N, C)
    near = torch.cdist(c, c) < COLOUR_Z * COLOUR_FLOOR  # (N, N)
    vote = track.presence[rows] ** 2  # a clear sighting outweighs many frames where the direction barely leads
    group = near[(near.float() * vote[None]).sum(1).argmax()]
    c, kk = c[group], k[rows][group]
    if len(c) < COLOUR_MIN:
        return None
    n = ev.score.shape[1]
    turn = torch.remainder(kk[:, None] - kk[None, :] + n // 2, n) - n // 2
    if float(turn.abs().max()) * 360.0 / n < SPREAD_DEG and len(c) < COLOUR_SHARE * len(k):
        return None  # one direction, a few frames: maybe the background
    mean = c.median(0).values
    spread = (c - mean).abs().median(0).values * 1.4826
    return mean, spread.clamp_min(COLOUR_FLOOR)


LOCAL_FRAMES = 4  # a sighting's length is bounded by the sightings this many frames either side of it ...
LOCAL_SLACK = 1.15  # ... times this


def _nearby_longest(length: torch.Tensor, ok: torch.Tensor) -> torch.Tensor:
    """``(T,)``: where a frame has sightings (``ok``) within ``LOCAL_FRAMES`` on both sides, the
    longer of the longest on each side; elsewhere infinity. A bat's length in the image changes
    smoothly (it turns towards or away from the camera), so a sighting far longer than the
    ones just before and after it ran on past the tip (into a blurred smear or a line beyond):
    it is cut back to them, and the frames bridged on either side follow it."""
    w = LOCAL_FRAMES
    seen = torch.where(ok, length, torch.full_like(length, -torch.inf))
    pad = torch.full((w,), -torch.inf, dtype=length.dtype, device=length.device)
    padded = torch.cat([pad, seen, pad])
    windows = padded.unfold(0, 2 * w + 1, 1)  # (T, 2w + 1): frames t - w .. t + w
    before, after = windows[:, :w].amax(1), windows[:, w + 1:].amax(1)
    both = torch.isfinite(before) & torch.isfinite(after)
    return torch.where(both, torch.maximum(before, after), torch.full_like(length, torch.inf))


HOLD_PRESENCE = 0.25  # a frame between sightings whose presence is at least this ...
HOLD_DEG = 10.0  # ... and whose direction is within this of the last or next sighting's anchors the bridge


def _held_still(angle: torch.Tensor, ok: torch.Tensor, presence: torch.Tensor) -> torch.Tensor:
    """``(T,)``: the frames between two sightings (``ok``) whose track direction ``angle``
    still leads the others a little (``presence`` at least ``HOLD_PRESENCE``) and lies within
    ``HOLD_DEG`` of the nearest sighting's before or after it: the bat held still (a stance, a
    follow-through) where it was seen, though not clearly enough to count as seen."""
    inside, p, n = _between_sightings(ok)
    near = math.radians(HOLD_DEG)
    before = wrap_angle(angle - angle[p]).abs() < near
    after = wrap_angle(angle - angle[n]).abs() < near
    return inside & ~ok & (before | after) & (presence >= HOLD_PRESENCE)


def _between_sightings(ok: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(inside, prev, next)`` ``(T,)`` each: whether a frame has a sighting (``ok``) at or
    before it and at or after it, and the nearest such frames (clamped into the clip where
    there is none)."""
    t = torch.arange(len(ok), device=ok.device)
    prev = torch.where(ok, t, -1).cummax(0).values
    nxt = torch.where(ok, t, len(ok)).flip(0).cummin(0).values.flip(0)
    inside = (prev >= 0) & (nxt < len(ok))
    return inside, prev.clamp(0, len(ok) - 1), nxt.clamp(0, len(ok) - 1)


def _bridge(angle: torch.Tensor, length: torch.Tensor, ok: torch.Tensor):
    """Bridge the frames where ``ok`` is false between the nearest frames where it is true.

    Returns ``(angle, length, inside, confidence)``: the angle by a cubic (unwrapped) keeping the
    turn rates seen just outside the gap, the length linearly, which frames lie between two
    sightings, and ``0.5 ** k`` for a frame ``k`` frames from the nearest sighting."""
    t = torch.arange(len(ok), device=ok.device)
    unwrapped = angle.clone()
    idx = torch.nonzero(ok).squeeze(1)
    steps = wrap_angle(angle[idx[1:]] - angle[idx[:-1]])
    unwrapped[idx] = angle[idx[0]] + torch.cat([steps.new_zeros(1), torch.cumsum(steps, 0)])
    inside, p, n = _between_sightings(ok)
    span = (n - p).clamp_min(1).to(angle.dtype)
    frac = (t - p).to(angle.dtype) / span
    # cubic Hermite in the angle, with the turn rates seen just before and just after the gap:
    # the bat is usually hidden mid-swing, accelerating, where a straight line flattens its peak
    arriving, leaving = torch.zeros_like(unwrapped), torch.zeros_like(unwrapped)
    if len(idx) > 1:
        rate = (unwrapped[idx[1:]] - unwrapped[idx[:-1]]) / (idx[1:] - idx[:-1]).to(angle.dtype)
        arriving[idx[1:]], leaving[idx[:-1]] = rate, rate
    m0, m1 = arriving[p] * span, leaving[n] * span  # the turn rates outside the gap, not across it
    h00, h10 = 2 * frac**3 - 3 * frac**2 + 1, frac**3 - 2 * frac**2 + frac
    h01, h11 = -2 * frac**3 + 3 * frac**2, frac**3 - frac**2
    a = h00 * unwrapped[p] + h10 * m0 + h01 * unwrapped[n] + h11 * m1
    ln = length[p] + frac * (length[n] - length[p])
    gap_conf = 0.5 ** torch.minimum(t - p, n - t).to(angle.dtype)
    return torch.where(ok, angle, a), torch.where(ok, length, ln), inside & ~ok, gap_conf
