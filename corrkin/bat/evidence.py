"""The evidence for the bat along rays from the hands: each point's gain (bar contrast above a
floor, the body masked, the bat's colour once known), the best run per direction and length
cap, each run's colour, how surely a person holds a bar (:func:`grip_score`), and the bat's
colour learned from a first pass (:func:`bat_colour`)."""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from corrkin.bat.body import body_capsules, hands_centre, others_capsules, person_size, ray_body_masks
from corrkin.bat.sampling import ray_angles, ray_points, ridge, sample_trio, side_points, work_factor, work_image
from corrkin.bat.settings import DEFAULT_TUNING, BatSettings, BatTuning, sealed
from corrkin.bat.track import BatTrack, best_run, length_caps


class Rays(NamedTuple):
    """What :func:`ray_gain` measures along the rays of a chunk of frames."""

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


def _channel_gain(d: torch.Tensor, v: torch.Tensor, base: torch.Tensor, counts: torch.Tensor,
                  colour: tuple[torch.Tensor, torch.Tensor] | None, s: BatSettings) -> torch.Tensor:
    """Each ray point's gain ``(T, K, R)`` from its signed ridge contrast ``d (T, C, K, R)`` over
    ``base``: in the channel and sign with the most evidence along the ray (``counts``), or, with
    the bat's ``colour``, in any channel, plus or minus as the point has the bat's colour."""
    t, dev = s.tuning, d.device
    # each ray keeps the channel and sign (lighter or darker) with the most evidence along it,
    # where evidence counts: a bat is one colour, so its run does not mix them (until the
    # colour pass)
    cap = t.gain_cap * s.tau
    lighter = ((d - base).clamp(0, cap) * counts[:, None]).sum(-1)
    darker = ((-d - base).clamp(0, cap) * counts[:, None]).sum(-1)  # (T, C, K)
    c = d.shape[1]
    which = torch.cat([lighter, darker], 1).argmax(1)  # (T, K) in [0, 2C)
    channel, sign = (which % c)[:, None, :, None], torch.where(which < c, 1.0, -1.0)[..., None]
    pick = channel.expand(-1, 1, -1, d.shape[-1])
    # a point's gain is capped (gain_cap * tau): a bar is evidenced by its length, so no short,
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
        match = (z[:, 0] < t.colour_z) & (z[:, 1] > t.colour_z) & (z[:, 2] > t.colour_z)
        gain = gain + torch.where(match, t.colour_gain * s.tau, -t.colour_loss * s.tau)
    return gain


def ray_gain(image: torch.Tensor, kp: torch.Tensor, s: BatSettings, max_sw: float,
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
    have not, and loses elsewhere (``s.tuning.colour_*``).

    The floor is ``tau`` on the body, and over the background ``tuning.texture`` times the
    frame's mean ridge contrast where that is busier. ``start``: a bat is held, so its visible
    run begins within ``held_sw`` shoulder widths of the hands, or where the ray leaves the body
    (behind which the bat may pass), give or take ``held_slack_sw``: a bar out in the background
    with plain ground between it and the body is no bat, however bat-like."""
    dev, t = image.device, s.tuning
    sw, hands, theta = person_size(kp, t), hands_centre(kp), ray_angles(s, dev)
    radii = torch.arange(s.step_px, s.max_length * max_sw, s.step_px, device=dev)
    width = (t.side_sw * sw).clamp_min(t.side_least_px)
    trio = side_points(ray_points(hands, theta, radii), theta, width)
    v = sample_trio(image, trio)  # (T, C, 3, K, R): centre, sides
    d, level = ridge(v), v[:, :, 0]  # (T, C, K, R) each
    # off the frame nothing is seen: the edge's pixels, repeated, would make an endless bar of
    # any line that meets the edge
    size = torch.tensor([image.shape[-1], image.shape[-2]], device=dev, dtype=trio.dtype)
    off_frame = ((trio < 0) | (trio > size)).any(-1).any(1)  # (T, K, R)
    lag = max(1, int(round(t.level_lag_sw * max_sw / s.step_px)))
    change = torch.zeros_like(level)
    change[..., lag:] = (level[..., lag:] - level[..., :-lag]).abs()
    # the least contrast that counts: tau, or texture times the frame's mean ridge contrast in
    # that channel where the background is busier (grass, gravel, a crowd: everything there is
    # a little bar, and only what stands out of it is the bat); on the body (clothes) tau: a bat
    # across the shirt is seen against the shirt, not against the brick wall behind
    floor = (t.texture * d.abs().mean((2, 3))).clamp_min(s.tau)[..., None, None]  # (T, C, 1, 1)
    body = ray_body_masks(hands, theta, torch.zeros_like(width), radii,
                          body_capsules(kp, s.body_margin * sw, diagonals=True, tuning=t))  # (T, K, R)
    base = change + torch.where(body[:, None], torch.full_like(floor, s.tau), floor)
    # a ray along a limb: its contrast says nothing of the bat (the dark gap between two white
    # legs looks like a bar); nor does anything past the longest bat
    own = ray_body_masks(hands, theta, width, radii, body_capsules(kp, s.body_margin * sw, whole_body, t),
                         None if whole_body else math.cos(math.radians(t.parallel_deg)))
    other = None if others is None else ray_body_masks(hands, theta, width, radii,
                                                       others_capsules(others, s.body_margin, t))
    beyond = radii[None, None, :] <= s.max_length * sw[:, None, None]
    counts = ~own & beyond if other is None else ~own & ~other & beyond  # (T, K, R)
    gain = _channel_gain(d, v, base, counts, colour, s)
    gain = torch.where(own | off_frame, torch.zeros_like(gain), gain)
    if other is not None:
        gain = torch.where(other, torch.full_like(gain, others_gain), gain)
    gain = torch.where(beyond, gain, torch.full_like(gain, t.beyond_gain))
    held = body | (radii[None, None, :] <= t.held_sw * sw[:, None, None])
    start = held.int().cumprod(-1).sum(-1) + int(round(t.held_slack_sw * float(sw.median()) / s.step_px))
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
    the bat's, for the colour pass (:func:`ray_gain`). Also each run's colour, for
    :func:`bat_colour` (see :class:`Evidence`). With ``shrunk``, ``frames`` is already
    :func:`work_image`'s output for ``factor``."""
    t = s.tuning
    kp = keypoints.float().to(frames.device) / factor
    others = None if others is None else others.float().to(frames.device) / factor
    image = frames.float() if shrunk else work_image(frames, factor)
    rays = ray_gain(image, kp, s, max_sw / factor, others, t.others_gain * s.tau, colour=colour)
    limits = person_size(kp, t)[:, None] * torch.tensor(length_caps(s), device=kp.device) if caps else None
    score, end = best_run(rays.gain, rays.radii, limits, start=rays.start)
    far = end[..., -1] if caps else end  # (T, K) work pixels
    outer = rays.counts & (rays.radii >= t.colour_outer * far[..., None]) & (rays.radii <= far[..., None])  # (T, K, R)
    n = outer.sum(-1)
    colour_of_run = (rays.level * outer[:, None]).sum(-1) / n.clamp_min(1)[:, None]  # (T, C, K)
    # another person's body within cut_reach_sw shoulder widths past the run's end: the bat
    # may go on behind them, so where it ends is not seen
    r = rays.radii.shape[0]
    reach = max(1, int(round(t.cut_reach_sw * float(person_size(kp, t).median()) / s.step_px)))
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
    (``tuning.grip_cap``)
    (so a strong edge further off, such as another person walked past, cannot buy back the
    background in between: the bar must run on from the hands). The bodies of ``others
    (T, Q, 13, 2)`` (NaN where absent) count as background: a bar does not run from one
    person's hands through another's body, nor along their own: their whole body is masked, as
    the other people's are (a hand hanging by a leg is no grip)."""
    s = sealed(settings or BatSettings())
    t, f = s.tuning, work_factor(keypoints, s)
    kp = keypoints.float().to(frames.device) / f
    others = None if others is None else others.float().to(frames.device) / f
    gain = ray_gain(work_image(frames, f), kp, s, float(person_size(kp, t).max()), others,
                    others_gain=t.grip_others_gain * s.tau, whole_body=True).gain
    from_hands = gain.clamp(max=t.grip_cap * s.tau).cumsum(-1).amax(-1).clamp_min(0)
    return (from_hands.amax(1) / (s.tau * t.unit_sw * person_size(kp, t) / s.step_px)).clamp(0, 1)


def bat_colour(track: BatTrack, ev: Evidence,
               tuning: BatTuning = DEFAULT_TUNING) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The bat's colour ``(mean, spread)``, ``(C,)`` each, from the frames where ``track``'s
    direction stands out at all (presence at least ``tuning.colour_from``, well below a sighting's:
    on busy ground the first pass may see the bat in few frames, or none, while its direction
    still leads the others in many): each frame's colour is the mean over the outer half of its
    run (``ev``, the widest length cap; the inner half may lie on the hands and sleeves); of
    those, the group within ``colour_z * colour_floor`` of one of them with the most votes, each
    frame's vote its presence squared (so a frame where something else was taken for the bat
    does not pull the colour, and a few clear sightings outweigh many frames where the direction
    barely led, on grass as often as not the grass), its median and the spread about it (scaled
    MAD, at least ``colour_floor``). None where fewer than ``colour_min`` frames agree, or where
    they saw it in one direction only (within ``spread_deg``) in fewer than ``colour_share`` of
    the clip's frames: a held bat turns through a stroke, or is seen for a good part of it (a
    follow-through held still), while a bar of the background that lines up with the hands for a
    few frames (a rocket on its gantry behind the batter's head) stays put, and its colour,
    searched for, would be found in every frame."""
    t, k = tuning, track.k
    rows = torch.arange(len(k), device=k.device)
    seen = (track.presence >= t.colour_from) & (ev.points[rows, k] >= t.colour_points)
    rows = rows[seen]
    if len(rows) < t.colour_min:
        return None
    c = ev.colour[rows, :, k[rows]]  # (N, C)
    near = torch.cdist(c, c) < t.colour_z * t.colour_floor  # (N, N)
    vote = track.presence[rows] ** 2  # a clear sighting outweighs many frames where the direction barely leads
    group = near[(near.float() * vote[None]).sum(1).argmax()]
    c, kk = c[group], k[rows][group]
    if len(c) < t.colour_min:
        return None
    n = ev.score.shape[1]
    turn = torch.remainder(kk[:, None] - kk[None, :] + n // 2, n) - n // 2
    if float(turn.abs().max()) * 360.0 / n < t.spread_deg and len(c) < t.colour_share * len(k):
        return None  # one direction, a few frames: maybe the background
    mean = c.median(0).values
    spread = (c - mean).abs().median(0).values * 1.4826
    return mean, spread.clamp_min(t.colour_floor)
