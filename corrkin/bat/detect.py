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
5. **Fallback.** Where the chosen run is weak (bat hidden behind the body, or blurred), the bat
   turns on between the frames that saw it (angle and length interpolated); before the first
   or after the last sighting, it lies along the forearm at the clip's median length. The
   bridge is a cubic in the angle that keeps the turn rates seen on either side (the bat is
   usually hidden mid-swing, accelerating). Confidence: the evidence where the bat is seen;
   ``0.5 ** k`` on a bridged frame ``k`` frames from the nearest sighting; 0 on the forearm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from corrkin.config import BatSettings
from corrkin.ops.geometry import point_segment_distance
from corrkin.skeleton import JOINT_INDEX as J
from corrkin.skeleton import LIMBS

# the trunk is drawn as an outline: its diagonals cover the inside too
GAIN_CAP = 4.0
BODY = LIMBS + (("l_hip", "r_shoulder"), ("r_hip", "l_shoulder"))


@dataclass
class BatTrack:
    tip: torch.Tensor  # (T, 2) pixels
    confidence: torch.Tensor  # (T,) in [0, 1]: evidence where seen, 0.5**k bridged, 0 on the forearm
    angle: torch.Tensor  # (T,) radians, image axes (y down)
    length: torch.Tensor  # (T,) pixels from the hands


def grey(frames: torch.Tensor) -> torch.Tensor:
    """``(T, 3, H, W)`` uint8 RGB to ``(T, 1, H, W)`` float luma (ITU-R 601, kornia)."""
    from kornia.color import rgb_to_grayscale

    return rgb_to_grayscale(frames.float())


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
    """Ridge contrast ``D`` ``(T, K, R)`` at each ray point: the smaller of its differences from
    its two side points when both have the same sign (a bar, lighter or darker than both
    sides), else 0. An edge beside the ray (one side differs) or a line crossing it near one
    side sample is no bar."""
    t, _, h, w = image.shape
    scale = torch.tensor([2.0 / w, 2.0 / h], device=image.device)
    grid = (trio * scale - 1).reshape(t, 3, -1, 2)
    v = F.grid_sample(image, grid, align_corners=False, padding_mode="border").reshape(t, *trio.shape[1:4])
    a, b = v[:, 0] - v[:, 1], v[:, 0] - v[:, 2]
    return torch.where(a * b > 0, torch.sign(a) * torch.minimum(a.abs(), b.abs()), torch.zeros_like(a))


def near_body(pts: torch.Tensor, keypoints: torch.Tensor, radius: torch.Tensor) -> torch.Tensor:
    """``(T, ..., 2)`` points to ``(T, ...)``: true within ``radius (T,)`` of a limb of
    ``keypoints (T, 13, 2)``, or of the head (not among the joints: placed above the shoulders,
    along the trunk, with a radius of a quarter shoulder width more)."""
    flat = pts.reshape(pts.shape[0], -1, 2)
    shoulders = (keypoints[:, J["l_shoulder"]] + keypoints[:, J["r_shoulder"]]) / 2
    width = torch.linalg.vector_norm(keypoints[:, J["l_shoulder"]] - keypoints[:, J["r_shoulder"]], dim=-1)
    head = shoulders + 0.45 * (shoulders - keypoints[:, J["pelvis"]])
    segments = [(keypoints[:, J[p]], keypoints[:, J[q]], radius) for p, q in BODY]
    segments.append((shoulders, head, radius + 0.25 * width))
    near = torch.zeros(flat.shape[:-1], dtype=torch.bool, device=pts.device)
    for a, b, r in segments:
        near |= point_segment_distance(flat, a[:, None], b[:, None]) < r[:, None]
    return near.view(pts.shape[:-1])


def body_mask_at(pts: torch.Tensor, keypoints: torch.Tensor, radius: torch.Tensor,
                 size: tuple[int, int], factor: int = 2, others: torch.Tensor | None = None,
                 margin: float = 0.0) -> tuple[torch.Tensor, torch.Tensor | None]:
    """:func:`near_body` at ``pts (T, ..., 2)``, from a mask drawn on a grid ``factor`` times
    coarser than the frames (``size = (H, W)``); a point counts as body where the bilinearly
    sampled mask exceeds one half. Returns ``(own, others)``: the person's own body, and that
    of ``others (T, Q, 13, 2)`` (NaN where absent; each within ``margin`` of their own shoulder
    width), ``None`` without others."""
    h, w = (-(-n // factor) for n in size)
    ys, xs = torch.meshgrid(torch.arange(h, device=pts.device), torch.arange(w, device=pts.device), indexing="ij")
    grid_px = (torch.stack([xs, ys], -1).float() + 0.5) * factor
    grid_px = grid_px[None].expand(len(pts), -1, -1, -1)
    masks = [near_body(grid_px, keypoints, radius)]
    if others is not None:
        near = torch.zeros_like(masks[0])
        for q in range(others.shape[1]):
            kq = others[:, q]
            there = torch.isfinite(kq).all(-1).all(-1)
            if bool(there.any()):
                kq = torch.where(there[:, None, None], kq, torch.full_like(kq, -1e6))
                near |= near_body(grid_px, kq, torch.where(there, margin * _shoulders(kq), torch.zeros_like(radius)))
        masks.append(near)
    t = pts.shape[0]
    scale = torch.tensor([2.0 / (w * factor), 2.0 / (h * factor)], device=pts.device)
    grid = (pts.reshape(t, -1, 1, 2) * scale - 1)
    v = F.grid_sample(torch.stack(masks, 1).float(), grid, align_corners=False, padding_mode="border")
    out = [(v[:, i].reshape(pts.shape[:-1]) > 0.5) for i in range(len(masks))]
    return out[0], (out[1] if others is not None else None)


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
    diff = torch.remainder(angles[:, None] - angles[None, :] + math.pi, 2 * math.pi) - math.pi
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


def _shoulders(kp: torch.Tensor) -> torch.Tensor:
    return torch.linalg.vector_norm(kp[:, J["l_shoulder"]] - kp[:, J["r_shoulder"]], dim=-1).clamp_min(4.0)


def _hands(kp: torch.Tensor) -> torch.Tensor:
    return (kp[:, J["l_wrist"]] + kp[:, J["r_wrist"]]) / 2


def _directions(s: BatSettings, device) -> torch.Tensor:
    return torch.arange(s.angles, device=device) * (2 * math.pi / s.angles)


def _ray_gain(frames: torch.Tensor, kp: torch.Tensor, s: BatSettings, max_sw: float,
              others: torch.Tensor | None = None, others_gain: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """``(gain (T, K, R), radii (R,))``: each ray point's bar contrast above ``tau``, zero on
    the body, ``others_gain`` on the bodies of ``others (T, Q, 13, 2)`` (NaN where absent), a
    large negative beyond the longest bat."""
    dev = frames.device
    sw, hands, theta = _shoulders(kp), _hands(kp), _directions(s, dev)
    radii = torch.arange(s.step_px, s.max_length * max_sw, s.step_px, device=dev)
    trio = side_points(ray_points(hands, theta, radii), theta, (0.2 * sw).clamp_min(2.0))
    d = bar_contrast(grey(frames), trio)
    # a point, or either of its side samples, on the body: its contrast says nothing of the bat
    # (the dark gap between two white legs looks like a bar). The mask is drawn once per frame
    # at half resolution and sampled at the ray points.
    own, other = body_mask_at(trio, kp, s.body_margin * sw, frames.shape[-2:], others=others, margin=s.body_margin)
    beyond = radii[None, None, :] <= s.max_length * sw[:, None, None]
    # a point's gain is capped (GAIN_CAP * tau): a bar is evidenced by its length, so no short,
    # very bright crossing (the crease) outweighs it
    gain = torch.where(own.any(1), torch.zeros_like(d), (d.abs() - s.tau).clamp(max=GAIN_CAP * s.tau))
    if other is not None:
        gain = torch.where(other.any(1), torch.full_like(d, others_gain), gain)
    return torch.where(beyond, gain, torch.full_like(gain, -1e3)), radii


def bat_evidence(frames: torch.Tensor, keypoints: torch.Tensor, s: BatSettings, max_sw: float,
                 others: torch.Tensor | None = None, caps: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Per frame and direction, the bat's score and far-end radius ``(T, K)`` each: the part of
    the detector that needs pixels, so a long clip can be fed chunk by chunk. ``max_sw`` (the
    clip's largest shoulder width) fixes the radii so chunks agree; ``others`` as in
    :func:`body_mask_at`. With ``caps``, ``(T, K, C)`` each: the best run ending within each of
    :func:`length_caps` shoulder widths of the hands (the last, ``max_length``, is the plain
    best run)."""
    kp = keypoints.float().to(frames.device)
    gain, radii = _ray_gain(frames, kp, s, max_sw, others)
    if not caps:
        return best_run(gain, radii)
    limits = _shoulders(kp)[:, None] * torch.tensor(length_caps(s), device=kp.device)
    return best_run(gain, radii, limits)


def grip_score(frames: torch.Tensor, keypoints: torch.Tensor, settings: BatSettings | None = None,
               others: torch.Tensor | None = None) -> torch.Tensor:
    """How surely the person with ``keypoints (T, 13, 2)`` holds a bat in each of ``frames
    (T, 3, H, W)``, ``(T,)`` in [0, 1], on the scale of the track's confidence. Used to tell
    the batter from the other people in the frame, so the bar must start in *their* hands: the
    best run along a ray is taken from the hands out, with each point's gain capped at ``tau``
    (so a strong edge further off, such as another person walked past, cannot buy back the
    background in between: the bar must run on from the hands). The bodies of ``others
    (T, Q, 13, 2)`` (NaN where absent) count as background: a bar does not run from one
    person's hands through another's body."""
    s = settings or BatSettings()
    kp = keypoints.float().to(frames.device)
    others = None if others is None else others.float().to(frames.device)
    gain, _ = _ray_gain(frames, kp, s, float(_shoulders(kp).max()), others, others_gain=-s.tau)
    from_hands = gain.clamp(max=s.tau).cumsum(-1).amax(-1).clamp_min(0)
    return (from_hands.amax(1) / (s.tau * 0.5 * _shoulders(kp) / s.step_px)).clamp(0, 1)


def track_bat(score: torch.Tensor, length: torch.Tensor, keypoints: torch.Tensor, s: BatSettings) -> BatTrack:
    """The whole clip's track from :func:`bat_evidence`: Viterbi over directions, then the
    fallbacks where the bat was not seen.

    With evidence for every length cap (``(T, K, C)``), the track is found twice: first with
    runs up to ``max_length``; then, once the bat's length is known from the frames where it
    was clearly seen (the most common length in at least five), with runs up to the first cap
    at least 1.2 times that length. A bat never looks longer than it is, so while it is hidden
    (behind a fielder walking past, say) nothing further off can pose as its tip."""
    if score.dim() == 2:
        return _track(score, length, keypoints, s)
    track = _track(score[..., -1], length[..., -1], keypoints, s)
    sw = _shoulders(keypoints.float().to(score.device))
    clear = track.confidence >= 0.9
    if int(clear.sum()) >= 5:
        # the most common length (0.1-wide bins, upper edge): a held bat shows the same length
        # frame after frame; a line further off, or a blurred tip, gives a different one each time
        bins = torch.floor(track.length[clear] / sw[clear] * 10).long()
        bat_sw = float(torch.mode(bins).values + 1) / 10
        caps = length_caps(s)
        c = next(i for i, cap in enumerate(caps) if cap >= 1.2 * bat_sw or i == len(caps) - 1)
        if c < len(caps) - 1:
            track = _track(score[..., c], length[..., c], keypoints, s)
    return track


def _track(score: torch.Tensor, length: torch.Tensor, keypoints: torch.Tensor, s: BatSettings) -> BatTrack:
    """:func:`track_bat` for one run-length limit: ``score``, ``length`` ``(T, K)``."""
    dev = score.device
    kp = keypoints.float().to(dev)
    sw, hands, theta = _shoulders(kp), _hands(kp), _directions(s, dev)
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
    conf = (best / (s.tau * 0.5 * sw / s.step_px)).clamp(0, 1)
    ok = conf >= s.min_confidence
    conf = torch.where(ok, conf, torch.zeros_like(conf))
    if not bool(ok.all()):
        # between sightings the bat turns on (see _bridge); before the first and after the last,
        # or with none at all, it lies along the forearm at the length seen (or 1.5 widths)
        seen = bool(ok.any())
        inside = torch.zeros_like(ok)
        if seen:
            ang, l_best, inside, gap_conf = _bridge(ang, l_best, ok)
            conf = torch.where(inside, gap_conf, conf)
        fore = kp[:, J["l_wrist"]] - kp[:, J["l_elbow"]]
        placed = ok | inside
        ang = torch.where(placed, ang, torch.atan2(fore[:, 1], fore[:, 0]))
        l_best = torch.where(placed, l_best, l_best[ok].median() if seen else 1.5 * sw)
    tip = hands + l_best[:, None] * torch.stack([ang.cos(), ang.sin()], -1)
    return BatTrack(tip=tip, confidence=conf, angle=ang, length=l_best)


def detect_bat(frames: torch.Tensor, keypoints: torch.Tensor, settings: BatSettings | None = None,
               chunk_frames: int = 64, others: torch.Tensor | None = None) -> BatTrack:
    """Track the bat tip through one clip.

    Args:
        frames: ``(T, 3, H, W)`` uint8 (or an iterable of such chunks, in order).
        keypoints: ``(T, 13, 2)`` the batter's joints in the frames' pixels.
        settings: :class:`BatSettings`: ``angles`` searched, ``step_px`` along a ray, ``tau``
            least bar contrast (grey levels), ``body_margin`` half-width of the body mask
            (shoulder widths), ``max_length`` longest bat (shoulder widths), ``turn_rad`` the
            angular change per frame that costs as much as a bat-length run at twice ``tau``,
            ``min_confidence`` below which the fallbacks place the tip.
        others: ``(T, Q, 13, 2)`` the other people in the frames (NaN where absent): their
            bodies are masked too, so a fielder or keeper by the bat is not taken for it.
    """
    s = settings or BatSettings()
    kp = keypoints.float()
    max_sw = float(_shoulders(kp).max())
    chunks = [frames[i: i + chunk_frames] for i in range(0, len(frames), chunk_frames)] \
        if isinstance(frames, torch.Tensor) else frames
    scores, lengths, f0 = [], [], 0
    for chunk in chunks:
        near = None if others is None else others[f0: f0 + len(chunk)].float().to(chunk.device)
        sc, ln = bat_evidence(chunk, kp[f0: f0 + len(chunk)].to(chunk.device), s, max_sw, near, caps=True)
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
    steps = torch.remainder(angle[idx[1:]] - angle[idx[:-1]] + math.pi, 2 * math.pi) - math.pi
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
