"""The bat's track through a clip: the best run along each ray, one direction per frame for the
whole clip by dynamic programming (Viterbi), the length bound once the bat's length is known,
and the :class:`BatTrack` that results (sightings, bridges, absences)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from corrkin.bat.body import hands_centre, person_size
from corrkin.bat.presence import bridge, held_still, nearby_longest, presence
from corrkin.bat.sampling import ray_angles
from corrkin.bat.settings import SEEN_SCORE, BatSettings
from corrkin.ops.swing import wrap_angle

ABSENT, SEEN, BRIDGED = 0, 1, 2  # BatTrack.state


@dataclass
class BatTrack:
    """The bat in each frame of a clip: the detector's result."""

    tip: torch.Tensor  # (T, 2) pixels; NaN where absent
    confidence: torch.Tensor  # (T,) in [0, 1]: presence where seen (>= SEEN_SCORE), 0.5**(k+1) bridged, 0 absent
    angle: torch.Tensor  # (T,) radians, image axes (y down); NaN where absent
    length: torch.Tensor  # (T,) pixels from the hands; NaN where absent
    state: torch.Tensor  # (T,) uint8: SEEN, BRIDGED (between two sightings, placed by bridge) or ABSENT
    presence: torch.Tensor  # (T,) the calibrated probability that a bat is visible in the frame
    k: torch.Tensor | None = None  # (T,) the index of the direction chosen in each frame (before the bridge)


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


def track_bat(score: torch.Tensor, length: torch.Tensor, keypoints: torch.Tensor, s: BatSettings,
              cut: torch.Tensor | None = None) -> BatTrack:
    """The whole clip's track from :func:`bat_evidence`: Viterbi over directions, the bat's
    presence per frame (:func:`presence`), and the bridge between sightings.

    With evidence for every length cap (``(T, K, C)``), the track is found twice: first with
    runs up to ``max_length``; then, once the bat's length is known from the frames where it
    was clearly seen (presence at least ``tuning.clear_presence``; the most common length in at
    least ``clear_frames``), with runs up to the first cap at least ``length_slack`` times that
    length. A bat never looks longer than it is, so while it is hidden
    (behind a fielder walking past, say) nothing further off can pose as its tip. Where the
    chosen run is ``cut`` (it ends at another person's body), the bat is not counted as seen
    in that frame: its tip may be behind them."""
    if score.dim() == 2:
        return _track(score, length, keypoints, s, cut=cut)
    track = _track(score[..., -1], length[..., -1], keypoints, s, cut=None if cut is None else cut[..., -1])
    t = s.tuning
    sw = person_size(keypoints.float().to(score.device), t)
    clear = (track.state == SEEN) & (track.confidence >= t.clear_presence)
    if int(clear.sum()) >= t.clear_frames:
        # the most common length (0.1-wide bins, upper edge): a held bat shows the same length
        # frame after frame; a line further off, or a blurred tip, gives a different one each time
        bins = torch.floor(track.length[clear] / sw[clear] * 10).long()
        bat_sw = float(torch.mode(bins).values + 1) / 10
        caps = length_caps(s)
        c = next(i for i, cap in enumerate(caps) if cap >= t.length_slack * bat_sw or i == len(caps) - 1)
        if c < len(caps) - 1:
            track = _track(score[..., c], length[..., c], keypoints, s, length[..., -1],
                           cut=None if cut is None else cut[..., c])
    return track


def _track(score: torch.Tensor, length: torch.Tensor, keypoints: torch.Tensor, s: BatSettings,
           open_length: torch.Tensor | None = None,
           cut: torch.Tensor | None = None) -> BatTrack:
    """:func:`track_bat` for one run-length limit: ``score``, ``length`` ``(T, K)``; the
    far ends without the length bound, where different, in ``open_length``.

    The presence compares like with like: the track's run and the null's, each within the same
    bound. A line of the background that runs on past any bat still counts in the null (where
    the background has such lines, a bat must stand out of them), but only over the length a
    bat could have: unbounded, it outscored any bat on a brick wall or a rocket's gantry."""
    dev, t = score.device, s.tuning
    kp = keypoints.float().to(dev)
    sw, hands, theta = person_size(kp, t), hands_centre(kp), ray_angles(s, dev)
    # a bar that runs on to the longest bat in a direction is a line of the background there
    # (a horizon, a coat's edge, the pitch's side): not the bat's direction (it still counts in
    # the null: where the background has such lines, a bat must stand out of them)
    endless = (open_length if open_length is not None else length) >= t.runs_on * s.max_length * sw[:, None]
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
    unit = s.tau * t.unit_sw * sw / s.step_px
    reach = (open_length if open_length is not None else length)[rows, k]
    p = presence(bounded, k, unit, reach, s.max_length * sw, t)
    # a run shorter than seen_min_sw shoulder widths is no bat's bar (a glove, a cuff, a crossing)
    usable = (best >= s.min_confidence * unit) & (l_best >= t.seen_min_sw * sw)
    if cut is not None:
        usable &= ~cut[rows, k]
    ok = (p >= SEEN_SCORE) & usable
    l_best = torch.where(ok, torch.minimum(l_best, t.local_slack * nearby_longest(l_best, ok, t)), l_best)
    conf = torch.where(ok, p, torch.zeros_like(p))
    state = torch.where(ok, SEEN, ABSENT).to(torch.uint8)
    if bool(ok.any()) and not bool(ok.all()):
        # between sightings the bat turns on (see bridge); before the first and after the last
        # it is absent: nothing is placed where nothing was seen
        # between two sightings the bat is there: a frame whose direction still leads a little
        # and points where the bat was last (or will next be) seen shows it held still, and
        # anchors the bridge, so a swing that starts late is not begun early
        weak = held_still(ang, ok, p, t) & usable
        ang, l_best, inside, gap_conf = bridge(ang, l_best, ok | weak, t.bridged_share)
        conf = torch.where(inside, t.bridged_share * gap_conf, conf)
        conf = torch.where(weak, t.bridged_share * p, conf)
        state = torch.where(inside | weak, BRIDGED, state).to(torch.uint8)
    placed = state != ABSENT
    nan = torch.full_like(ang, float("nan"))
    ang, l_best = torch.where(placed, ang, nan), torch.where(placed, l_best, nan)
    tip = hands + l_best[:, None] * torch.stack([ang.cos(), ang.sin()], -1)
    return BatTrack(tip=tip, confidence=conf, angle=ang, length=l_best, state=state, presence=p, k=k)
