"""Whether the bat is in sight, frame by frame, and where it is between sightings: the
calibrated presence against each frame's own null, a sighting's length bounded by its
neighbours', the bat held still, and the bridge that turns it on between two sightings."""

from __future__ import annotations

import math

import torch

from corrkin.bat.settings import DEFAULT_TUNING, BatTuning
from corrkin.ops.swing import wrap_angle


def presence(score: torch.Tensor, k: torch.Tensor, unit: torch.Tensor, reach: torch.Tensor | None = None,
             longest: torch.Tensor | None = None, tuning: BatTuning = DEFAULT_TUNING) -> torch.Tensor:
    """The probability ``(T,)`` that a bat is visible in each frame, from the scores ``(T, K)``
    of every direction and the track's direction ``k (T,)``.

    A frame's own null is what the directions away from the track (``null_deg`` and more)
    score: background texture, limbs, lines. Where a bat is seen its run stands out from them;
    where none is, the best direction is just the best of many alike. The presence is a
    logistic in ``log2`` of that ratio (scores padded by ``null_pad`` ``unit``, the score of a
    half-shoulder-width run at twice ``tau``, so that nothing against nothing is a ratio of 1),
    0.5 at ``presence_mid`` times, rising ``presence_slope`` per doubling: set so that no-bat
    frames over varied grounds (procedural, real photographs, a fielder crossing) stay below
    0.5 (the claim rate is measured by ``benchmarks/bat.py``). A bar that ``reach``es
    ``runs_on`` of the ``longest`` bat along the track's direction (without the length bound)
    runs on past any bat: a line of the background, presence 0."""
    n = score.shape[1]
    rows = torch.arange(len(k), device=score.device)
    off = torch.remainder(torch.arange(n, device=score.device)[None] - k[:, None] + n // 2, n) - n // 2
    null = torch.where(off.abs() * (360.0 / n) >= tuning.null_deg, score, torch.zeros_like(score)).amax(1)
    pad = tuning.null_pad * unit
    p = torch.sigmoid(tuning.presence_slope * torch.log2((score[rows, k] + pad) / (null + pad) / tuning.presence_mid))
    if reach is not None:
        p = torch.where(reach >= tuning.runs_on * longest, torch.zeros_like(p), p)
    return p


def nearby_longest(length: torch.Tensor, ok: torch.Tensor, tuning: BatTuning = DEFAULT_TUNING) -> torch.Tensor:
    """``(T,)``: where a frame has sightings (``ok``) within ``local_frames`` on both sides, the
    longer of the longest on each side; elsewhere infinity. A bat's length in the image changes
    smoothly (it turns towards or away from the camera), so a sighting far longer than the
    ones just before and after it ran on past the tip (into a blurred smear or a line beyond):
    it is cut back to them, and the frames bridged on either side follow it."""
    w = tuning.local_frames
    seen = torch.where(ok, length, torch.full_like(length, -torch.inf))
    pad = torch.full((w,), -torch.inf, dtype=length.dtype, device=length.device)
    padded = torch.cat([pad, seen, pad])
    windows = padded.unfold(0, 2 * w + 1, 1)  # (T, 2w + 1): frames t - w .. t + w
    before, after = windows[:, :w].amax(1), windows[:, w + 1:].amax(1)
    both = torch.isfinite(before) & torch.isfinite(after)
    return torch.where(both, torch.maximum(before, after), torch.full_like(length, torch.inf))


def held_still(angle: torch.Tensor, ok: torch.Tensor, presence: torch.Tensor,
               tuning: BatTuning = DEFAULT_TUNING) -> torch.Tensor:
    """``(T,)``: the frames between two sightings (``ok``) whose track direction ``angle``
    still leads the others a little (``presence`` at least ``hold_presence``) and lies within
    ``hold_deg`` of the nearest sighting's before or after it: the bat held still (a stance, a
    follow-through) where it was seen, though not clearly enough to count as seen."""
    inside, p, n = between_sightings(ok)
    near = math.radians(tuning.hold_deg)
    before = wrap_angle(angle - angle[p]).abs() < near
    after = wrap_angle(angle - angle[n]).abs() < near
    return inside & ~ok & (before | after) & (presence >= tuning.hold_presence)


def between_sightings(ok: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(inside, prev, next)`` ``(T,)`` each: whether a frame has a sighting (``ok``) at or
    before it and at or after it, and the nearest such frames (clamped into the clip where
    there is none)."""
    t = torch.arange(len(ok), device=ok.device)
    prev = torch.where(ok, t, -1).cummax(0).values
    nxt = torch.where(ok, t, len(ok)).flip(0).cummin(0).values.flip(0)
    inside = (prev >= 0) & (nxt < len(ok))
    return inside, prev.clamp(0, len(ok) - 1), nxt.clamp(0, len(ok) - 1)


def bridge(angle: torch.Tensor, length: torch.Tensor, ok: torch.Tensor, decay: float = 0.5):
    """Bridge the frames where ``ok`` is false between the nearest frames where it is true.

    Returns ``(angle, length, inside, confidence)``: the angle by a cubic (unwrapped) keeping the
    turn rates seen just outside the gap, the length linearly, which frames lie between two
    sightings, and ``decay ** k`` for a frame ``k`` frames from the nearest sighting (the
    detector's ``tuning.bridged_share``)."""
    t = torch.arange(len(ok), device=ok.device)
    unwrapped = angle.clone()
    idx = torch.nonzero(ok).squeeze(1)
    steps = wrap_angle(angle[idx[1:]] - angle[idx[:-1]])
    unwrapped[idx] = angle[idx[0]] + torch.cat([steps.new_zeros(1), torch.cumsum(steps, 0)])
    inside, p, n = between_sightings(ok)
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
    gap_conf = decay ** torch.minimum(t - p, n - t).to(angle.dtype)
    return torch.where(ok, angle, a), torch.where(ok, length, ln), inside & ~ok, gap_conf
