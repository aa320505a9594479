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
4. **Motion model.** One direction per frame is chosen for the whole clip at once by dynamic
   programming (Viterbi) with a cost on angular change, not by per-frame guesses.
5. **Presence.** Whether a bat is visible at all is decided per frame against that frame's own
   null: the scores of the directions away from the track (:func:`presence`), a calibrated
   probability (``BatTrack.presence``; a frame counts as seen from 0.5). A bar that runs on past
   the longest bat is the background, never a bat.
6. **Bridge.** Between frames that saw the bat (hidden behind the body, or blurred), it turns
   on, angle and length interpolated: a cubic in the angle that keeps the turn rates seen on
   either side (the bat is usually hidden mid-swing, accelerating), confidence ``0.5 ** (k +
   1)`` ``k`` frames from the nearest sighting. Before the first sighting and after the last,
   and in a clip with none, the bat is absent (NaN): nothing is placed where nothing was seen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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


def bar_contrast(image: torch.Tensor, trio: torch.Tensor, centre: bool = False):
    """Ridge contrast ``D`` ``(T, C, K, R)`` at each ray point, per channel of ``image (T, C, H,
    W)``: the smaller of its differences from its two side points when both have the same sign
    (a bar, lighter or darker than both sides), else 0. An edge beside the ray (one side
    differs) or a line crossing it near one side sample is no bar. With ``centre``, also the
    values at the ray points themselves, ``(T, C, K, R)``."""
    t, c, h, w = image.shape
    scale = torch.tensor([2.0 / w, 2.0 / h], device=image.device)
    grid = (trio * scale - 1).reshape(t, 3, -1, 2)
    v = F.grid_sample(image, grid, align_corners=False, padding_mode="border").reshape(t, c, *trio.shape[1:4])
    a, b = v[:, :, 0] - v[:, :, 1], v[:, :, 0] - v[:, :, 2]
    d = torch.where(a * b > 0, torch.sign(a) * torch.minimum(a.abs(), b.abs()), torch.zeros_like(a))
    return (d, v[:, :, 0]) if centre else d


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


def best_run(gain: torch.Tensor, radii: torch.Tensor, limits: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Largest-sum run of ``gain (T, K, R)`` along the last axis: ``(score, far end radius)``,
    ``(T, K)`` each; with ``limits (T, C)`` (radii), the best run ending within each limit,
    ``(T, K, C)`` each.

    With ``C`` the running sum, the best run ending at ``r`` is ``C[r] - min_{r' < r} C[r']``
    (``C[-1] = 0``): one ``cumsum`` and one ``cummin`` (and a ``cummax`` for the limits), no
    loop over radii.
    """
    c = torch.cumsum(gain, -1)
    before = torch.cat([torch.zeros_like(c[..., :1]), c[..., :-1]], -1).cummin(-1).values.clamp_max(0)
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

    On the CPU, uint8 frames are shrunk by OpenCV (``resize`` with ``INTER_AREA``: the same
    block means, rounded to whole levels), much faster there than converting a 1080p frame to
    float first; elsewhere ``avg_pool2d``."""
    t, c, h, w = frames.shape
    h2, w2 = h // factor * factor, w // factor * factor
    frames = frames[..., :h2, :w2]
    if factor > 1 and frames.device.type == "cpu" and frames.dtype == torch.uint8:
        import cv2

        size = (w2 // factor, h2 // factor)
        small = np.empty((t, size[1], size[0], c), np.uint8)
        for i, frame in enumerate(frames.permute(0, 2, 3, 1).numpy()):
            if c == 3 and not frame.flags.c_contiguous:  # planar: shrink each plane
                for j in range(3):
                    small[i, ..., j] = cv2.resize(np.ascontiguousarray(frames[i, j].numpy()), size,
                                                  interpolation=cv2.INTER_AREA)
            else:
                small[i] = cv2.resize(frame, size, interpolation=cv2.INTER_AREA).reshape(size[1], size[0], c)
        x = torch.from_numpy(small).permute(0, 3, 1, 2).float()
    else:
        x = F.avg_pool2d(frames.float(), factor) if factor > 1 else frames.float()
    if c == 1:
        return x
    return F.conv2d(x, YCC.to(x.device, x.dtype)[:, :, None, None])  # per pixel: YCC @ rgb


TEXTURE = 3.0
PARALLEL = math.cos(math.radians(30))  # a limb masks the rays within 30 degrees of its axis


def _ray_gain(image: torch.Tensor, kp: torch.Tensor, s: BatSettings, max_sw: float,
              others: torch.Tensor | None = None, others_gain: float = 0.0,
              whole_body: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """``(gain (T, K, R), radii (R,))``: along each ray, in the channel of ``image (T, C, H,
    W)`` and the sign (a bar lighter, or darker, than its sides) with the most evidence on that
    ray, each point's signed bar contrast above a floor, less how much the bar's own level
    changes along the ray over a tenth of a shoulder width (a bat is one even object; a
    texture is not); zero on the
    body where a limb runs along the ray, ``others_gain`` on the bodies of ``others (T, Q, 13,
    2)`` (NaN where absent), a large negative beyond the longest bat. ``image``, ``kp`` and
    ``max_sw`` share their pixels. With ``whole_body``, the person's whole body is masked for
    every ray (as for everyone else), not only where a limb runs along it. Zero off the frame."""
    dev = image.device
    sw, hands, theta = _shoulders(kp), _hands(kp), _directions(s, dev)
    radii = torch.arange(s.step_px, s.max_length * max_sw, s.step_px, device=dev)
    width = (0.2 * sw).clamp_min(2.0)
    trio = side_points(ray_points(hands, theta, radii), theta, width)
    d, level = bar_contrast(image, trio, centre=True)  # (T, C, K, R) each
    # off the frame nothing is seen: the edge's pixels, repeated, would make an endless bar of
    # any line that meets the edge
    size = torch.tensor([image.shape[-1], image.shape[-2]], device=dev, dtype=trio.dtype)
    off_frame = ((trio < 0) | (trio > size)).any(-1).any(1)  # (T, K, R)
    lag = max(1, int(round(0.1 * max_sw / s.step_px)))
    change = torch.zeros_like(level)
    change[..., lag:] = (level[..., lag:] - level[..., :-lag]).abs()
    # the least contrast that counts: tau, or TEXTURE times the frame's mean ridge contrast in
    # that channel where the background is busier (grass, gravel, a crowd: everything there is
    # a little bar, and only what stands out of it is the bat)
    floor = (TEXTURE * d.abs().mean((2, 3))).clamp_min(s.tau)[..., None, None]  # (T, C, 1, 1)
    base = change + floor
    # a ray along a limb: its contrast says nothing of the bat (the dark gap between two white
    # legs looks like a bar); nor does anything past the longest bat
    own = ray_body_masks(hands, theta, width, radii, body_capsules(kp, s.body_margin * sw, diagonals=whole_body),
                         None if whole_body else PARALLEL)
    other = None if others is None else ray_body_masks(hands, theta, width, radii, others_capsules(others, s.body_margin))
    beyond = radii[None, None, :] <= s.max_length * sw[:, None, None]
    counts = ~own & beyond if other is None else ~own & ~other & beyond  # (T, K, R)
    # each ray keeps the channel and sign (lighter or darker) with the most evidence along it,
    # where evidence counts: a bat is one colour, so its run does not mix them
    cap = GAIN_CAP * s.tau
    lighter = ((d - base).clamp(0, cap) * counts[:, None]).sum(-1)
    darker = ((-d - base).clamp(0, cap) * counts[:, None]).sum(-1)  # (T, C, K)
    c = d.shape[1]
    which = torch.cat([lighter, darker], 1).argmax(1)  # (T, K) in [0, 2C)
    channel, sign = (which % c)[:, None, :, None], torch.where(which < c, 1.0, -1.0)[..., None]
    pick = channel.expand(-1, 1, -1, d.shape[-1])
    # a point's gain is capped (GAIN_CAP * tau): a bar is evidenced by its length, so no short,
    # very bright crossing (the crease) outweighs it
    gain = (sign * d.gather(1, pick)[:, 0] - base.gather(1, pick)[:, 0]).clamp(max=cap)  # (T, K, R)
    gain = torch.where(own | off_frame, torch.zeros_like(gain), gain)
    if other is not None:
        gain = torch.where(other, torch.full_like(gain, others_gain), gain)
    return torch.where(beyond, gain, torch.full_like(gain, -1e3)), radii


def bat_evidence(frames: torch.Tensor, keypoints: torch.Tensor, s: BatSettings, max_sw: float,
                 others: torch.Tensor | None = None, caps: bool = False,
                 factor: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Per frame and direction, the bat's score and far-end radius ``(T, K)`` each: the part of
    the detector that needs pixels, so a long clip can be fed chunk by chunk. ``max_sw`` (the
    clip's largest shoulder width) fixes the radii so chunks agree; ``others`` as in
    :func:`others_capsules`. With ``caps``, ``(T, K, C)`` each: the best run ending within each
    of :func:`length_caps` shoulder widths of the hands (the last, ``max_length``, is the plain
    best run). The frames (RGB or grey) are shrunk by ``factor`` (:func:`work_factor`) first;
    keypoints, ``max_sw`` and the lengths returned are in the frames' own pixels."""
    kp = keypoints.float().to(frames.device) / factor
    others = None if others is None else others.float().to(frames.device) / factor
    gain, radii = _ray_gain(work_image(frames, factor), kp, s, max_sw / factor, others)
    if not caps:
        score, end = best_run(gain, radii)
        return score, end * factor
    limits = _shoulders(kp)[:, None] * torch.tensor(length_caps(s), device=kp.device)
    score, end = best_run(gain, radii, limits)
    return score, end * factor


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
    gain, _ = _ray_gain(work_image(frames, f), kp, s, float(_shoulders(kp).max()), others, others_gain=-s.tau,
                        whole_body=True)
    from_hands = gain.clamp(max=s.tau).cumsum(-1).amax(-1).clamp_min(0)
    return (from_hands.amax(1) / (s.tau * 0.5 * _shoulders(kp) / s.step_px)).clamp(0, 1)


def track_bat(score: torch.Tensor, length: torch.Tensor, keypoints: torch.Tensor, s: BatSettings) -> BatTrack:
    """The whole clip's track from :func:`bat_evidence`: Viterbi over directions, the bat's
    presence per frame (:func:`presence`), and the bridge between sightings.

    With evidence for every length cap (``(T, K, C)``), the track is found twice: first with
    runs up to ``max_length``; then, once the bat's length is known from the frames where it
    was clearly seen (the most common length in at least five), with runs up to the first cap
    at least 1.2 times that length. A bat never looks longer than it is, so while it is hidden
    (behind a fielder walking past, say) nothing further off can pose as its tip."""
    if score.dim() == 2:
        return _track(score, length, keypoints, s)
    track = _track(score[..., -1], length[..., -1], keypoints, s)
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
            track = _track(score[..., c], length[..., c], keypoints, s, score[..., -1], length[..., -1])
    return track


PRESENCE_MID = 2.0  # the bat's run scores this many times the best elsewhere: presence 0.5
PRESENCE_SLOPE = 2.2  # per doubling of that ratio (2x: 0.5, 4x: 0.9, 1x: 0.1)
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
           open_score: torch.Tensor | None = None, open_length: torch.Tensor | None = None) -> BatTrack:
    """:func:`track_bat` for one run-length limit: ``score``, ``length`` ``(T, K)``; the
    evidence without the length bound, where different, in ``open_score``, ``open_length``."""
    dev = score.device
    kp = keypoints.float().to(dev)
    sw, hands, theta = _shoulders(kp), _hands(kp), _directions(s, dev)
    # a bar that runs on to the longest bat in a direction is a line of the background there
    # (a horizon, a coat's edge, the pitch's side): not the bat's direction (it still counts in
    # the null: where the background has such lines, a bat must stand out of them)
    endless = (open_length if open_length is not None else length) >= RUNS_ON * s.max_length * sw[:, None]
    if open_score is None:
        open_score = score
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
    p = presence(open_score, k, unit, reach, s.max_length * sw)
    ok = (p >= 0.5) & (best >= s.min_confidence * unit)
    conf = torch.where(ok, p, torch.zeros_like(p))
    state = torch.where(ok, SEEN, ABSENT).to(torch.uint8)
    if bool(ok.any()) and not bool(ok.all()):
        # between sightings the bat turns on (see _bridge); before the first and after the last
        # it is absent: nothing is placed where nothing was seen
        ang, l_best, inside, gap_conf = _bridge(ang, l_best, ok)
        conf = torch.where(inside, 0.5 * gap_conf, conf)
        state = torch.where(inside, BRIDGED, state).to(torch.uint8)
    placed = state != ABSENT
    nan = torch.full_like(ang, float("nan"))
    ang, l_best = torch.where(placed, ang, nan), torch.where(placed, l_best, nan)
    tip = hands + l_best[:, None] * torch.stack([ang.cos(), ang.sin()], -1)
    return BatTrack(tip=tip, confidence=conf, angle=ang, length=l_best, state=state, presence=p)


def detect_bat(frames: torch.Tensor, keypoints: torch.Tensor, settings: BatSettings | None = None,
               chunk_frames: int = 64, others: torch.Tensor | None = None) -> BatTrack:
    """Track the bat tip through one clip.

    Args:
        frames: ``(T, 3, H, W)`` uint8 RGB or ``(T, 1, H, W)`` grey (or an iterable of such
            chunks, in order). They are shrunk to the batter's size first (:func:`work_factor`).
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
    chunks = [frames[i: i + chunk_frames] for i in range(0, len(frames), chunk_frames)] \
        if isinstance(frames, torch.Tensor) else frames
    scores, lengths, f0 = [], [], 0
    for chunk in chunks:
        near = None if others is None else others[f0: f0 + len(chunk)].float().to(chunk.device)
        sc, ln = bat_evidence(chunk, kp[f0: f0 + len(chunk)].to(chunk.device), s, max_sw, near, caps=True,
                              factor=factor)
        scores.append(sc)
        lengths.append(ln)
        f0 += len(chunk)
    if f0 != len(kp):
        raise ValueError(f"detect_bat: {f0} frames but {len(kp)} poses")
    return track_bat(torch.cat(scores), torch.cat(lengths), kp.to(scores[0].device), s)


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
    prev = torch.where(ok, t, -1).cummax(0).values
    nxt = torch.where(ok, t, len(ok)).flip(0).cummin(0).values.flip(0)
    inside = (prev >= 0) & (nxt < len(ok))
    p, n = prev.clamp(0, len(ok) - 1), nxt.clamp(0, len(ok) - 1)
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
