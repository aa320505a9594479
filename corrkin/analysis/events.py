"""The events of a stroke as the cricket-batting literature defines them, in ms from the
stroke's reference (the ball's contact where it is given, else the bat's peak speed), each with
how it was found and its 95 % interval; and the figures read at them (stride, backlift height).

Definitions (Stretch, Buys, Du Toit & Viljoen 1998, *J. Sports Sci.* 16: 711-724, "Kinematics
and kinetics of the drive off the front foot in cricket batting", whose drives had the stride
start 0.58 s, the downswing 0.36 s and front-foot placement 0.06 s before impact; the
downswing's start as the bat's reversal at the top of the backlift as in McErlain-Naylor et
al. 2021):

* ``start_of_backlift``: the bat's first movement;
* ``top_of_backlift`` = ``start_of_downswing``: the bat's reversal, where it is turned furthest
  back (in the image, in the sense it turns at the bat's peak speed) before the downswing's
  fastest turn;
* ``front_foot_toe_off`` / ``front_foot_contact``: the lead foot (ankle, relative to the back
  ankle) leaving rest and coming back to it, either side of its fastest movement;
* ``bat_peak_speed``: the bat tip's peak speed (its own column: it comes some 20 ms before the
  ball's contact in a drive, Stretch et al. 1998);
* ``ball_contact``: the time given (a manifest's ``impact_s``, or ``impacts=``); without it,
  None, with the reason: no ball is tracked;
* ``end_of_follow_through``: the bat at rest after impact.

The bat's first movement and its rest after the follow-through are where its speed is 1 % of
its peak (``REST_SHARE``): the crossings of three low levels (``REST_LEVELS``: 5, 10 and 20 % of
the peak, raised above the speed's noise) are found by walking from the peak, and a power law
through them, the shape of any movement starting from rest (speed ~ t^m), is extrapolated to
that share (:func:`rest`). The front foot's toe-off and contact are the ends of a smooth step
with a lift fitted to the ankle (:func:`step_fit`). Every signal is a keypoint track relative to
the hips' centre (the camera's pan drops out), differentiated by an order-5 Savitzky-Golay
filter (:func:`corrkin.analysis.biomech.derivative`, its noise the positions' white noise). An
event's interval is the speed's noise over its slope at each crossing, carried through the
extrapolation, with half the extrapolation's difference from a straight line's as its model
error.

An event that cannot be found is ``None`` with the reason (``reasons``): a clip that ends first,
no stride, no bat, no reversal. ``benchmarks/biomech.py`` measures them against strokes built in
3-D and filmed, whose events are found on the 3-D motion by these definitions.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from corrkin.analysis.signal import (
    END_ON,
    ORDER,
    SEEN_SHARE,
    derivative,
    derivative_window,
    filled,
    noise_sd,
    peak_window_derivative,
    position_noise,
    savgol,
    savgol_weights,
)
from corrkin.skeleton import NODE_INDEX as N
from corrkin.timing import Z95, to_frames

REST_LEVELS = (0.05, 0.10, 0.20)  # a movement's start (end) is extrapolated from these shares of its peak
REST_SHARE = 0.01  # ... to where its speed is this share of its peak: the movement's start (end)
REST_NOISE = 3.0  # the lowest level is at least this many noise SDs (the levels keep their ratios)
REST_SNR = REST_NOISE / REST_LEVELS[0]  # a movement's filter keeps its peak this many noise SDs up: its lowest level clear
REST_M = 4.0  # the steepest power a movement's start is taken to have (a minimum-jerk start: 2)
REST_FLOOR = 0.5  # frames: the least half-width of a rest's interval (the frame's own sampling of the shape)
REST_S = 0.2  # the bat is at rest after the follow-through once its speed stays below the lowest level this long
BEFORE_S = 1.5  # events before the reference are looked for this far back
MIN_STRIDE_SW = 0.1  # a lead-ankle movement shorter than this (shoulder widths) is no stride
FOOT_S = 0.3  # the foot's speed is filtered over at least this long: a stride is slow, and its ends are where noise tells most
NOISE_TIMES = 5  # a movement whose peak speed is within this many noise SDs is not seen
ACROSS = 0.3  # a stride with this share of its length across the image is timed across it (the lift is up it)
SETTLE_S = 0.1  # the stride is measured between the foot's places this long before toe-off and after contact
EVENTS = ("start_of_backlift", "front_foot_toe_off", "top_of_backlift", "start_of_downswing", "front_foot_contact",
          "bat_peak_speed", "ball_contact", "end_of_follow_through")
SOURCE = "Stretch et al. 1998, J. Sports Sci. 16: 711-724"
HOW = {
    "start_of_backlift": "the bat's first movement: where the tip's speed (about the hips) is 1 % of its fastest before "
                         f"the top of the backlift, extrapolated back from that movement ({SOURCE})",
    "front_foot_toe_off": "the lead foot leaving the ground: the start of a smooth step with a lift fitted to the lead "
                          "ankle relative to the back ankle, across and up the image (Stretch et al. 1998: start of "
                          "the stride)",
    "top_of_backlift": "the bat's reversal: turned furthest back in the image (in the sense it turns at its peak speed) "
                       f"before the downswing's fastest turn ({SOURCE})",
    "start_of_downswing": "the top of the backlift: the bat's reversal, where the downswing begins (Stretch et al. 1998; "
                          "McErlain-Naylor et al. 2021)",
    "front_foot_contact": "the lead foot set down: the end of that step (Stretch et al. 1998: front-foot placement)",
    "bat_peak_speed": "the bat tip's peak speed about the hips (below a frame); some 20 ms before the ball's contact in "
                      f"a drive ({SOURCE})",
    "ball_contact": "the ball's contact with the bat: given (impact_s: a manifest's, or impacts=); no ball is tracked, so "
                    "without it there is none",
    "end_of_follow_through": "the bat at rest after impact: where the tip's speed falls to 1 % of its peak and stays "
                             f"there (or within its noise) for {REST_S} s, extrapolated from the follow-through's last "
                             "movement",
}


def crossing(x: np.ndarray, start: int, step: int, level: float, noise: float) -> tuple[float, float] | None:
    """Walk ``x (T,)`` from frame ``start`` by ``step`` (-1 or +1) while it stays at or above
    ``level``: ``(frame, half-width)`` where it crosses below, the frame interpolated between the
    last frame above and the first below, the half-width of its 95 % interval in frames from
    ``noise`` (the standard deviation of ``x``) over the slope there. None if ``x`` never
    crosses before the clip's end."""
    i = start
    while 0 <= i + step < len(x) and x[i + step] >= level:
        i += step
    j = i + step
    if not 0 <= j < len(x) or x[i] < level:
        return None
    drop = max(float(x[i] - x[j]), 1e-12)
    return i + step * float(x[i] - level) / drop, Z95 * noise / drop


def _to_rest(t1: float, t2: float, t4: float, step: int, share: float) -> float:
    """The frame where the speed falls to ``share`` of the lowest level L, beyond the crossings
    of L, 2L and 4L (``t1`` furthest from the peak): a power law ``c |t - t0|^m`` through them,
    ``r = 2^(1/m)`` from the ratio of the spans ``d2 / d1``; the reach past ``t1`` is
    ``d1 (1 - share^(1/m)) / (r - 1)``, ``m`` at most ``REST_M`` (a flatter start is taken as
    that: the levels cannot tell them apart from noise). A ratio below 1, which no power law has
    (noise, or a movement in two goes), is taken as a straight line."""
    d1, d2 = step * (t1 - t2), step * (t2 - t4)
    if d1 <= 1e-9:
        return t1
    share = min(max(share, 1e-6), 1.0)
    if d2 < d1:  # no power law: a straight line
        return t1 + step * d1 * (1.0 - share)
    r = min(max(d2 / d1, 2.0 ** (1.0 / REST_M)), 3.0)
    k = math.log2(r)  # 1 / m
    return t1 + step * d1 * -math.expm1(k * math.log(share)) / (r - 1.0)


def rest(x: np.ndarray, start: int, step: int, noise: float, peak: float | None = None,
         of: float | None = None) -> tuple[float, float] | None:
    """Where a movement whose speed is ``x (T,)`` starts (ends): where its speed is
    ``REST_SHARE`` of its peak, walking from frame ``start``
    (its fastest, or any frame on its flank) by ``step`` (-1: its start, +1: its end):
    ``(frame, half-width of the 95 % interval in frames)``, or None where the clip ends first.

    The crossings of ``L``, ``2L`` and ``4L``, ``L`` the first of ``REST_LEVELS`` of ``peak``
    (``x[start]`` by default) or ``REST_NOISE`` noise SDs, whichever is higher, are extrapolated
    to ``REST_SHARE`` of the peak by a power law (exact for speed ~ (t - t0)^m,
    :func:`_to_rest`); where ``4L`` passes the peak, the
    lowest crossing itself, its interval widened by its distance from the next level's (the
    extrapolation it could not make). ``of``: the speed whose ``REST_SHARE`` is sought, where
    not the movement's own peak (a follow-through's last, slow movement is at rest relative to
    the swing's peak). The interval carries each crossing's (noise over slope)
    through the extrapolation, half the extrapolation's difference from a straight line's, and
    ``REST_FLOOR`` of a frame."""
    top = float(x[start]) if peak is None else float(peak)
    low = max(REST_LEVELS[0] * top, REST_NOISE * noise)
    target = REST_SHARE * (top if of is None else float(of))
    if target >= low:  # the movement's own levels lie below the target: its crossing, read directly
        found = crossing(x, start, step, target, noise)
        return None if found is None else (found[0], math.hypot(found[1], REST_FLOOR))
    if 4 * low >= top:  # too noisy for three levels: the lowest crossing, as far from rest as a straight line says
        one = crossing(x, start, step, low, noise)
        half_level = crossing(x, start, step, 2 * low, noise) if one is not None else None
        if one is None or half_level is None:
            return one
        return one[0], math.hypot(one[1], abs(one[0] - half_level[0]), REST_FLOOR)
    found = [crossing(x, start, step, low * k, noise) for k in (1.0, 2.0, 4.0)]
    if any(f is None for f in found):
        return None
    (t1, h1), (t2, h2), (t4, h4) = found
    share = target / low  # where the speed is REST_SHARE of the peak, as a share of the lowest level
    t0 = _to_rest(t1, t2, t4, step, share)
    eps = 1e-3  # each crossing's share of the result, by a small step
    grad = [(_to_rest(*(np.array([t1, t2, t4]) + eps * np.eye(3)[i]), step, share) - t0) / eps for i in range(3)]
    spread = math.sqrt(sum((g * h) ** 2 for g, h in zip(grad, (h1, h2, h4))))
    straight = t1 + (t1 - t2) * (1.0 - min(share, 1.0))  # a straight line through the lowest two, to the same speed
    return t0, math.hypot(spread, (t0 - straight) / 2, REST_FLOOR)


STEP_SHAPES = (2.0, 2.5, 3.0, 3.7, 4.5, 5.5)  # the smooth steps' beta parameters (3, 3: minimum jerk)
STEP_S = (0.08, 1.0)  # the step's duration is looked for in this range, seconds
STEP_MARGIN_S = 0.4  # the fit spans this much either side of the step's rough ends


@functools.lru_cache(maxsize=64)
def _step_table(a: float, b: float, n: int = 1001) -> np.ndarray:
    """The regularised incomplete beta function I_s(a, b) on ``n`` points of s in [0, 1]
    (cumulative trapezoids of s^(a-1) (1-s)^(b-1)): a smooth step from rest to rest."""
    s = np.linspace(0.0, 1.0, n)
    f = s ** (a - 1) * (1 - s) ** (b - 1)
    c = np.concatenate([[0.0], np.cumsum((f[1:] + f[:-1]) / 2)])
    return c / c[-1]


def _step_sse(xc: np.ndarray, q: np.ndarray, first: float, count: int, per_frame: int, durations,
              shapes) -> list:
    """``[(sse (M, S), starts (S,), durations (M,), shape)]``: the residual of ``xc (n, K)`` (the
    data less each axis' level and drift, ``q`` their orthonormal basis) after the best step
    for each of ``count`` starts from ``first``, ``per_frame`` a frame, and each of the
    ``durations``, per shape, summed over the axes: each axis its own step's height, and the
    last axis, where ``K`` is 2, a lift too (``LIFT``: a foot rises and is set down as it steps).
    A start's step is the same curve shifted by whole frames, so each phase's rows are windows
    of one curve: one interpolation per phase and duration."""
    n, naxes = xc.shape
    rows = -(-count // per_frame)
    d = np.asarray(durations, float)[:, None, None]
    base = (first + np.arange(per_frame) / per_frame)[None, :, None]
    k = np.arange(-(rows - 1), n, dtype=float)[None, None, :]
    u = np.clip((k - base) / d, 0.0, 1.0)  # (M, P, rows + n - 1)
    starts = (base[0, :, :] + np.arange(rows)[None, :]).T.reshape(-1)  # start of row j, phase p: j-major

    def windows(curve):  # (M, P, rows + n - 1) -> (M, S, n), the level and drift taken out
        basis = np.lib.stride_tricks.sliding_window_view(curve, n, axis=-1)[:, :, ::-1]  # (M, P, rows, n)
        basis = basis.transpose(0, 2, 1, 3).reshape(len(d), rows * per_frame, n)  # rows j-major, then phase
        return basis - (basis @ q) @ q.T

    lift = windows(LIFT(u)) if naxes == 2 else None
    sxx = float((xc * xc).sum())
    out = []
    for ab in shapes:
        table = _step_table(*ab)
        bc = windows(np.interp(u, np.linspace(0.0, 1.0, len(table)), table))
        sbb = np.einsum("msn,msn->ms", bc, bc)
        ok = sbb > 1e-9
        sbx = bc @ xc[:, 0]
        explained = sbx**2 / np.where(ok, sbb, 1.0)
        if naxes == 2:  # the step and the lift together on the second axis (2 x 2 normal equations)
            sll = np.einsum("msn,msn->ms", lift, lift)
            sbl = np.einsum("msn,msn->ms", bc, lift)
            r1, r2 = bc @ xc[:, 1], lift @ xc[:, 1]
            det = sbb * sll - sbl**2
            ok &= det > 1e-9 * np.maximum(sbb * sll, 1e-30)
            det = np.where(ok, det, 1.0)
            explained = explained + (sll * r1**2 - 2 * sbl * r1 * r2 + sbb * r2**2) / det
        out.append((np.where(ok, sxx - explained, np.inf), starts, d[:, 0, 0], ab))
    return out


def LIFT(u: np.ndarray) -> np.ndarray:
    """A foot's rise and set-down through its step, ``u`` in [0, 1]: ``16 u^2 (1 - u)^2``,
    smooth at both ends, 1 at the middle."""
    return 16.0 * u * u * (1.0 - u) * (1.0 - u)


def _best(cands: list) -> tuple[float, float, float]:
    """``(sse, start, duration)`` of the least residual among :func:`_step_sse`'s."""
    sse, starts, dur, _ = min(cands, key=lambda c: float(c[0].min()))
    m, j = np.unravel_index(int(np.argmin(sse)), sse.shape)
    return float(sse[m, j]), float(starts[j]), float(dur[m])


def step_fit(x: np.ndarray, fps: float, lo: int, hi: int) -> dict | None:
    """The movement of ``x`` from one place of rest to another within frames ``[lo, hi)``, by
    least squares: each axis ``c + g t + A I((t - t0) / D; a, b)``, a smooth step (the
    regularised incomplete beta: a point-to-point movement's displacement, minimum jerk among
    them), and for ``x (T, 2)`` (a foot in the image: across, up) the second axis a lift too,
    ``+ B LIFT((t - t0) / D)`` (the foot leaves the ground at the step's start and is set down
    at its end). The axes share ``t0``, ``D`` and the shape; ``c``, ``g`` (a slow drift: a zoom
    scales what is measured), ``A`` and ``B`` are solved for each on a grid of start ``t0``
    (whole frames, then eighths near the best), duration ``D`` (``STEP_S``) and shapes
    (``STEP_SHAPES`` squared). Every sample counts, so the ends of a slow movement are found
    where a speed threshold sees only noise.

    Returns ``{"start", "end" (frames), "start_half", "end_half" (95 % half-widths, frames)}``:
    the intervals span every step whose residual is within 3.84 sigma^2 of the best (a profile
    likelihood, sigma^2 from the best fit's residual), shapes included, and a frame at least;
    None where the window is too short."""
    seg = np.asarray(x[lo:hi], np.float64)
    seg = seg[:, None] if seg.ndim == 1 else seg
    n = len(seg)
    if n < 8:
        return None
    t = np.arange(n, dtype=float)
    q, _ = np.linalg.qr(np.stack([np.ones(n), t / n], 1))  # a level and a slow drift
    xc = seg - q @ (q.T @ seg)
    shapes = [(a, b) for a in STEP_SHAPES for b in STEP_SHAPES]
    d_lo, d_hi = max(STEP_S[0] * fps, 2.0), max(min(STEP_S[1] * fps, n - 2), 3.0)
    coarse = _step_sse(xc, q, -0.25 * n, int(1.25 * n) - 2, 1, np.geomspace(d_lo, d_hi, 16), shapes)
    _, start, dur = _best(coarse)
    fine = _step_sse(xc, q, start - 4.0, 64, 8, np.geomspace(dur / 1.5, dur * 1.5, 33), shapes)
    sse0, t0, d0 = _best(coarse + fine)
    params = 2 * seg.shape[1] + seg.shape[1] + (seg.shape[1] == 2) + 2  # levels, drifts, heights, lift, t0, D
    cut = sse0 + 3.84 * max(sse0, 1e-12) / max(n * seg.shape[1] - params, 1)
    lo_s = hi_s = t0
    lo_e = hi_e = t0 + d0
    for sse, st, dur, _ in coarse + fine:
        keep = sse <= cut  # (M, S)
        rows = keep.any(1)
        if not rows.any():
            continue
        first = np.where(keep, st, np.inf).min(1)[rows]  # each duration's earliest and latest start kept
        last = np.where(keep, st, -np.inf).max(1)[rows]
        lo_s, hi_s = min(lo_s, float(first.min())), max(hi_s, float(last.max()))
        lo_e, hi_e = min(lo_e, float((first + dur[rows]).min())), max(hi_e, float((last + dur[rows]).max()))
    # a frame at least: the grid's and the shape family's own resolution (a step shaped between
    # two of the family's ends up to a frame from the fitted one's)
    return {"start": lo + t0, "end": lo + t0 + d0, "start_half": max(t0 - lo_s, hi_s - t0, 1.0),
            "end_half": max(t0 + d0 - lo_e, hi_e - t0 - d0, 1.0)}


def _interp(x: np.ndarray, frame: float) -> np.ndarray:
    """``x (T, ...)`` at a fractional frame (linear), clamped to the clip."""
    frame = min(max(float(frame), 0.0), len(x) - 1.0)
    i = min(int(math.floor(frame)), len(x) - 2)
    w = frame - i
    return (1 - w) * x[i] + w * x[i + 1]


def _event(frame: float, half: float | None, ref: float, fps: float, how: str) -> dict:
    ms = 1000.0 / fps
    t = (frame - ref) * ms
    return {"time_ms": round(t, 2), "clip_ms": round(frame * ms, 2), "frame": round(frame, 3),
            "ci_ms": None if half is None else [round(t - half * ms, 2), round(t + half * ms, 2)], "how": how}


TOP_DEG = 3.0  # the bat's angle at the top is known to this much (projection, the hands' point): the top's interval


def _reversal(turn: np.ndarray, angle: np.ndarray, lo: int, w: int, noise: float, fps: float,
              angle_noise: float) -> tuple[float, float] | str:
    """The bat's reversal before its fastest turn ``w`` (frames ``lo`` on): the frame where the
    smoothed ``angle`` (in the downswing's sense) is least, refined below a frame to where
    ``turn`` crosses zero beside it; or why there is none. Its interval: the turn's noise over
    its slope there, and the frames over which the angle stays within ``TOP_DEG`` (and its own
    noise) of its least, the bat being slowest at its top (``sqrt(2 delta / angular
    acceleration)``, or every frame within that of the least, where the backlift dips twice)."""
    a = lo + int(np.argmin(angle[lo:w + 1]))
    if a <= lo:
        return "top of backlift: the bat turns towards the ball from the start of the search (no backlift seen)"
    if turn[lo:a].min() > -REST_NOISE * noise:
        return "top of backlift: the bat never turns back beyond its noise before the downswing (no reversal seen)"
    frame = float(a)
    for i in (a - 1, a):
        if 0 <= i < len(turn) - 1 and turn[i] <= 0 < turn[i + 1]:
            frame = i - float(turn[i]) / float(turn[i + 1] - turn[i])
    i = min(max(a, 1), len(turn) - 2)
    slope = max(float(turn[i + 1] - turn[i - 1]) / 2, 1e-12)  # rad/s per frame
    delta = math.hypot(math.radians(TOP_DEG), Z95 * angle_noise)
    near = lo + np.flatnonzero(angle[lo:w + 1] <= angle[a] + delta)  # every frame the top could be (a loop: two dips)
    span = max(frame - float(near.min()), float(near.max()) - frame)
    return frame, max(math.hypot(Z95 * noise / slope, math.sqrt(2 * delta * fps / slope)), span)


@dataclass
class _Stroke:
    """One clip's signals and what its events are measured against, shared by the parts of
    :func:`stroke_events`."""

    p: np.ndarray  # (T, nodes, 2) positions, gaps filled
    seen: np.ndarray  # (T, nodes) bool: where each node was seen (before the gaps were filled)
    fps: float
    window: int
    order: int
    smooth_gain: float  # a smoothed point's share of the noise
    ref: float  # the reference's frame
    ki: int  # the bat's peak speed's frame
    lo: int  # the first frame events before it are looked for in
    events: dict
    reasons: list
    out: dict

    def put(self, name: str, frame: float, half: float | None) -> None:
        self.events[name] = _event(frame, half, self.ref, self.fps, HOW[name])


def stroke_events(positions: np.ndarray, fps: float, window_frames: int, lead: str, bat_peak: float,
                  bat_peak_half: float | None = None, bat_found: bool = True, contact: float | None = None) -> dict:
    """The ``events`` block of a clip's ``result.json``.

    Args:
        positions: ``(T, nodes, 2)`` in shoulder widths (image axes: y down), NaN where missing.
        fps: frames per second.
        window_frames: the analysis' smoothing window (the derivative filter's length).
        lead: ``"l"`` or ``"r"``: the lead (top-hand, front-foot) side.
        bat_peak: the bat tip's peak speed's frame (fractional); without a bat, the swing's peak.
        bat_peak_half: its 95 % half-width in frames, if known.
        bat_found: the bat was seen through the swing (else only the stride's events).
        contact: the ball's contact, a frame (fractional), where given.

    Returns:
        ``{"events": {name: event or None}, "reference", "reasons": [...], "reliable",
        "tolerance_ms", "stride_sw", "backlift_height_sw", "x_factor": {...}}`` (``reliable``:
        no reason given: every event found, in order, and trusted); an event is ``{"time_ms"
        (from the reference), "clip_ms", "frame", "ci_ms", "how", "trusted"}`` (``trusted``: its
        95 % half-width within ``tolerance_ms``, :func:`event_tolerance_ms`); ``reference``:
        ``ball_contact``, ``bat_peak_speed`` or, without either, ``swing_peak`` (the analysis'
        peak of the swing).
    """
    t = len(positions)
    window = derivative_window(fps, window_frames)
    p = np.stack([np.stack([filled(positions[:, n, 0]), filled(positions[:, n, 1])], -1)
                  for n in range(positions.shape[1])], 1)
    order = min(ORDER, window - 2)
    ki = int(round(min(max(bat_peak, 0), t - 1)))
    reference = "ball_contact" if contact is not None else "bat_peak_speed" if bat_found else "swing_peak"
    out: dict = {"events": dict.fromkeys(EVENTS), "reference": reference, "reasons": [], "stride_sw": None,
                 "stride_sd_sw": None, "stride_vector_sw": None, "backlift_height_sw": None,
                 "backlift_height_sd_sw": None, "x_factor": None, "reliable": False}
    c = _Stroke(p, np.isfinite(positions).all(-1), float(fps), window, order, float(np.linalg.norm(savgol_weights(window, order, 0, float(fps)))),
                contact if contact is not None else bat_peak, ki, max(0, ki - to_frames(BEFORE_S, fps)),
                out["events"], out["reasons"], out)
    if contact is not None:
        c.put("ball_contact", contact, None)
    if bat_found:
        c.put("bat_peak_speed", bat_peak, bat_peak_half)
    _stride(c, lead)
    if bat_found:
        _backlift(c)
        _follow_through(c)
    else:
        c.reasons.append("bat: not seen through the swing, so no backlift, downswing or follow-through")
    out["x_factor"] = {"at_top_of_backlift_deg": None, "max_deg": None, "withheld": X_FACTOR}
    c.reasons.extend(out_of_order(c.events))
    _trust(c)
    out["reliable"] = not c.reasons
    return out


def _stride(c: _Stroke, lead: str) -> None:
    """The front foot's toe-off and contact and the stride, from the lead ankle relative to the
    back ankle: a smooth step with a lift fitted across and up the image (:func:`step_fit`)."""
    t, fps = len(c.p), c.fps
    back = "r" if lead == "l" else "l"
    before = c.seen[c.lo: c.ki + 1]
    for ankle in (f"{lead}_ankle", f"{back}_ankle"):
        share = float(before[:, N[ankle]].mean()) if len(before) else 0.0
        if share < SEEN_SHARE:
            c.reasons.append(f"front foot: the {ankle.replace('_', ' ')} is seen in {share:.0%} of the frames before "
                             f"the bat's peak speed (at least {SEEN_SHARE:.0%} needed): no stride measured")
            return
    feet = c.p[:, N[f"{lead}_ankle"]] - c.p[:, N[f"{back}_ankle"]]
    feet_s = savgol(feet.T, c.window, c.order, fps)  # (2, T)
    v, noise = derivative(feet.T, fps, max(c.window, derivative_window(fps, to_frames(FOOT_S, fps))), white=True)[:2]
    speed = np.hypot(v[0], v[1])
    hi = min(t, c.ki + to_frames(0.1, fps) + 1)
    if hi - c.lo < 3:
        return
    f = c.lo + int(np.argmax(speed[c.lo:hi]))
    along = (v[:, f] / max(speed[f], 1e-12)) @ v  # the speed along the stride: its noise is symmetric, unlike |v|'s
    n_along = float(np.sqrt(np.mean(noise**2)))
    rough = [crossing(along, f, step, REST_LEVELS[-1] * along[f], n_along) for step in (-1, +1)]
    fit = None
    if None not in rough:
        margin = to_frames(STEP_MARGIN_S, fps)
        a0, a1 = max(0, int(rough[0][0]) - margin), min(t, int(math.ceil(rough[1][0])) + margin + 1)
        settle = to_frames(SETTLE_S, fps)
        gap = _interp(feet_s.T, rough[1][0] + settle) - _interp(feet_s.T, rough[0][0] - settle)
        # across and up the image, the foot's lift on the second (a level camera); from along
        # the pitch, where the stride is up the image too, along the stride alone
        across = abs(float(gap[0])) >= ACROSS * float(np.hypot(*gap))
        fit = step_fit(feet if across else feet @ (gap / max(float(np.hypot(*gap)), 1e-12)), fps, a0, a1)
        if fit is not None and not (a0 <= fit["start"] and fit["end"] <= a1 - 1):
            fit = None  # the step's ends fall outside what the clip holds
    if along[f] < NOISE_TIMES * n_along:
        c.reasons.append(f"front foot: no stride seen (the lead ankle's fastest movement is within {NOISE_TIMES}x its noise)")
        return
    if fit is None:
        c.reasons.append("front foot: the stride runs past the clip's start or end")
        return
    # where the foot stood before and stands after, SETTLE_S beyond its moments of rest
    d = _interp(feet_s.T, fit["end"] + SETTLE_S * fps) - _interp(feet_s.T, fit["start"] - SETTLE_S * fps)
    if np.hypot(*d) < MIN_STRIDE_SW:
        c.reasons.append(f"front foot: no stride (the lead ankle moved {np.hypot(*d):.2f} shoulder widths, "
                         f"less than {MIN_STRIDE_SW})")
        return
    c.put("front_foot_toe_off", fit["start"], fit["start_half"])
    c.put("front_foot_contact", fit["end"], fit["end_half"])
    c.out["stride_sw"] = round(float(np.hypot(*d)), 4)
    c.out["stride_vector_sw"] = [round(float(d[0]), 4), round(float(d[1]), 4)]
    # two smoothed places, each axis' noise through the smoothing
    sd = float(np.sqrt(np.mean(noise_sd(feet.T, c.window, c.order, fps) ** 2))) * c.smooth_gain * math.sqrt(2)
    c.out["stride_sd_sw"] = round(sd, 5)


def _tip(c: _Stroke) -> np.ndarray:
    """The bat tip relative to the hips' centre, ``(T, 2)``."""
    return c.p[:, N["bat"]] - (c.p[:, N["l_hip"]] + c.p[:, N["r_hip"]]) / 2


def _backlift(c: _Stroke) -> None:
    """The backlift's height, its top (the bat's reversal, the downswing's start) and its start
    (the bat's first movement)."""
    fps, lo, ki = c.fps, c.lo, c.ki
    tip = _tip(c)
    if ki - lo < 3:
        c.reasons.append("backlift: the clip starts too close to the bat's peak speed")
    else:  # the tip's highest point above the hips before the bat's peak speed
        height = savgol(-tip[:, 1], c.window, c.order, fps)  # image y points down
        c.out["backlift_height_sw"] = round(float(height[lo + int(np.argmax(height[lo:ki]))]), 4)
        c.out["backlift_height_sd_sw"] = round(float(noise_sd(-tip[:, 1], c.window, c.order, fps)) * c.smooth_gain, 5)
    if ki - lo < 2:
        return
    # the bat's turn in the image, in the sense it turns at its peak speed
    hands_to_tip = c.p[:, N["bat"]] - (c.p[:, N["l_wrist"]] + c.p[:, N["r_wrist"]]) / 2
    angle = filled(np.unwrap(np.arctan2(hands_to_tip[:, 1], hands_to_tip[:, 0])))
    (omega,), (w_noise,), _, _ = derivative(angle[None], fps, c.window, white=True)
    sense = 1.0 if omega[ki] >= 0 else -1.0
    turn = sense * omega
    w = lo + int(np.argmax(turn[lo: ki + 1]))
    top = _reversal(turn, sense * savgol(angle, c.window, c.order, fps), lo, w, float(w_noise), fps,
                    float(position_noise(angle)) * c.smooth_gain)
    if isinstance(top, str):
        c.reasons.append(top)
        return
    c.put("top_of_backlift", *top)
    c.put("start_of_downswing", *top)
    length = np.hypot(hands_to_tip[:, 0], hands_to_tip[:, 1])
    share = float(length[int(round(top[0]))] / max(np.percentile(length, 95), 1e-9))
    if share < END_ON:
        c.reasons.append(f"top of backlift: the bat is seen end-on there ({share:.0%} of its longest)")
    kt = int(round(top[0]))
    if kt - lo < 2:
        c.reasons.append("start of backlift: the clip starts too close to the top of the backlift")
        return
    # the backlift's own filter: the shortest that keeps its lowest level clear of the noise (a
    # longer one spreads the movement's start earlier by up to half its length)
    v_b, n_b, _ = peak_window_derivative(tip.T, fps, lo, kt, c.window, together=True, snr=REST_SNR)
    speed, noise = np.hypot(v_b[0], v_b[1]), float(np.sqrt(np.mean(n_b**2)))
    b = lo + int(np.argmax(speed[lo:kt]))
    start = rest(speed, b, -1, noise)
    # the first movement: a backlift in two goes (a pause, a trigger) starts with the first
    while start is not None and int(start[0]) - 1 > lo:
        before = speed[lo:int(start[0]) - 1]
        if before.max() < max(REST_LEVELS[-1] * speed[b], NOISE_TIMES * noise):
            break
        start = rest(speed, lo + int(np.argmax(before)), -1, noise, peak=speed[b])  # earlier each time round
    if start is None:
        c.reasons.append("start of backlift: the bat moves from the start of the clip")
    elif speed[b] < NOISE_TIMES * noise:
        c.reasons.append(f"start of backlift: no backlift seen (the tip's fastest movement before the top is within "
                         f"{NOISE_TIMES}x its noise)")
    else:
        c.put("start_of_backlift", *start)


def _follow_through(c: _Stroke) -> None:
    """The follow-through's end: where the tip's speed falls to ``REST_SHARE`` of its peak after
    impact and stays near it (below that, or the noise, for ``REST_S``), extrapolated from the
    last movement before (:func:`rest`)."""
    (vx, vy), tip_noise, _, _ = derivative(_tip(c).T, c.fps, c.window, white=True)
    speed, noise, ki = np.hypot(vx, vy), float(np.sqrt(np.mean(tip_noise**2))), c.ki
    still_below = max(REST_SHARE * speed[ki], REST_NOISE * noise)
    n_rest = max(to_frames(REST_S, c.fps), 2)
    still = np.convolve((speed < still_below).astype(float), np.ones(n_rest), "valid") >= n_rest  # still from i on
    after = np.flatnonzero(still[ki:]) + ki if ki < len(still) else np.array([], int)
    end = None
    if len(after):
        # the last movement's own peak: the last local maximum before rest that stands clear of
        # rest (a follow-through slower than the swing), else the swing's peak itself
        j = int(after[0])
        clear = max(2 * still_below, NOISE_TIMES * noise)
        tops = [i for i in range(ki + 1, j) if speed[i] >= clear and speed[i] >= speed[i - 1] and speed[i] >= speed[i + 1]]
        end = rest(speed, tops[-1] if tops else ki, +1, noise, of=speed[ki])
        if end is not None and still_below > REST_LEVELS[0] * speed[ki]:
            # the noise hides a follow-through slower than 5 % of the swing: it may go on unseen, as
            # late as the still stretch's end
            run = j + int(np.argmin(np.append(speed[j:] < still_below, False)))
            end = (end[0], max(end[1], (run - end[0]) / 2))
    if end is None:
        c.reasons.append("end of follow-through: the clip ends before the bat comes to rest")
    else:
        c.put("end_of_follow_through", *end)


def _trust(c: _Stroke) -> None:
    """Each event ``trusted`` where its 95 % half-width is within the tolerance (a given ball
    contact always); why not, among the reasons."""
    tol = event_tolerance_ms(c.fps)
    c.out["tolerance_ms"] = round(tol, 2)
    for name, e in c.events.items():
        if e is None:
            continue
        if name == "ball_contact":  # given
            e["trusted"] = True
            continue
        half = None if e["ci_ms"] is None else (e["ci_ms"][1] - e["ci_ms"][0]) / 2
        e["trusted"] = bool(half is not None and half <= tol)
        if not e["trusted"] and name != "start_of_downswing":  # the top of the backlift's, said once
            c.reasons.append(f"{name.replace('_', ' ')}: " + ("no interval could be put on it" if half is None else
                             f"its 95 % interval is +-{half:.0f} ms, wider than the +-{tol:.0f} ms events are held to"))


TOL_FRAMES, TOL_S = 1.5, 0.015  # an event is held to a 95 % half-width of this many frames, or this long if longer


def event_tolerance_ms(fps: float) -> float:
    """The half-width (ms) of the 95 % interval an event must have for the events to be
    ``reliable``: ``TOL_FRAMES`` frames or ``TOL_S``, whichever is longer; an event that
    tight is more than 3 frames off in under 1 % of strokes where its interval holds."""
    return max(TOL_FRAMES * 1000.0 / fps, TOL_S * 1000.0)


def out_of_order(events: dict) -> list[str]:
    """What no stroke does, said instead of reported as if it were a stroke's timing: the
    backlift starting after its top. How far each event may lie from the reference is the
    plausibility ranges' to say (:mod:`corrkin.analysis.ranges`)."""
    t = {e: v["time_ms"] for e, v in events.items() if v is not None}
    out = []
    if "start_of_backlift" in t and "top_of_backlift" in t and t["start_of_backlift"] >= t["top_of_backlift"]:
        out.append("start of backlift after its top: the movement found is not the backlift's")
    return out


X_FACTOR = ("withheld: the X-factor is the trunk's axial turn less the pelvis's, which one camera cannot see "
            "(kinematic_sequence.withheld); the on-screen angle between the shoulder and hip lines had the wrong "
            "sign in 42 of 42 strokes built in 3-D and filmed side-on")
