"""The kinematic sequence from 2-D keypoints: how fast the lead arm and the bat turn, when
each peaks, in which order, and how much the bat gains on the arm.

Segments, each a line between two points of the pose:

* ``lead_arm``: lead shoulder -> lead wrist (the lead side is the top hand's);
* ``bat``: the hands (wrists' midpoint) -> the bat tip.

Both turn mostly in the swing's plane, which a camera at the side of the pitch sees face on:
their angle on screen (``view: in_image``) is the rotation.

**Withheld: the pelvis and the trunk.** The sequence's first two segments turn about the body's
long axis. One camera sees that turn only as the hip and shoulder lines' foreshortening, with
no sign, and their angle on screen is their tilt: on strokes built in 3-D and filmed side-on,
the on-screen angle put the pelvis's and trunk's peaks 58-376 ms from the axial ones at 0.3-0.6
of their speed, and the foreshortening's arccos has no sign. So ``segments.pelvis`` and
``segments.trunk`` are null with the reason in ``withheld``, and the lines' on-screen tilt is
kept under its own name (``lines_in_image``: ``hip_line``, ``shoulder_line``), for what it is.

Speeds are derivatives of the angle by a Savitzky-Golay filter of order 5 over the analysis'
window (at least 7 frames): degrees per second; the analysis' own order-2 smoothing is made for
correlations and flattens a fast peak. The bat tip's speed (:func:`tip_peak_speed`) uses a
0.1-s window: its peak is the sharpest. Each peak is the largest speed within the
swing window (the quality report's ``window_s`` either side of the peak bat speed), refined below
a frame by the vertex of the parabola through its neighbours; its 95 % interval in time comes
from the noise of the speed (the angle's residual from its smoothed curve, through the filter)
over the parabola's curvature, as for the analysis' activation times.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from corrkin.analysis.signal import (
    END_ON,
    ORDER,
    SEEN_SHARE,
    derivative,
    derivative_gain,
    derivative_window,
    filled,
    peak_window_derivative,
)
from corrkin.skeleton import NODE_INDEX as N

# not corrkin.ops: this runs in the I/O workers, which never import torch
from corrkin.timing import Z95, savgol_window, to_frames

SEGMENTS = ("pelvis", "trunk", "lead_arm", "bat")  # the kinematic sequence, proximal to distal
MEASURED = ("lead_arm", "bat")  # the segments one camera measures (they turn in the swing's plane)
LINES = {"pelvis": "hip_line", "trunk": "shoulder_line"}  # what the withheld segments' on-screen angle is
AXIAL = ("withheld: the {seg} turns about the body's long axis, which one camera sees only as the {line}'s "
         "foreshortening (no sign); its angle on screen is the line's tilt (lines_in_image.{line}), which put the "
         "axial peak 58-376 ms off at 0.3-0.6 of its speed on strokes built in 3-D and filmed side-on")
GAINS = (("trunk", "pelvis"), ("lead_arm", "trunk"), ("bat", "lead_arm"))

# The events' and the kinematic sequence's Savitzky–Golay window, seconds: their own, apart from
# the correlation analysis's (analysis.smooth_window_s), as validated for them.
SMOOTH_S = 0.20


def _ends(positions: np.ndarray, lead: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each segment's two ends ``(T, 2)`` from ``positions (T, nodes, 2)``."""
    p = positions
    both = np.stack([p[:, N["l_wrist"]], p[:, N["r_wrist"]]])
    seen = np.isfinite(both).all(-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):  # the hands: both wrists, or the one seen
        hands = np.where(seen, both, 0.0).sum(0) / seen.sum(0)
    return {"pelvis": (p[:, N["l_hip"]], p[:, N["r_hip"]]),
            "trunk": (p[:, N["l_shoulder"]], p[:, N["r_shoulder"]]),
            "lead_arm": (p[:, N[f"{lead}_shoulder"]], p[:, N[f"{lead}_wrist"]]),
            "bat": (hands, p[:, N["bat"]])}


def savgol_weights(window: int, order: int, deriv: int, fps: float) -> np.ndarray:
    """Savitzky-Golay weights ``(window,)``: the least-squares polynomial of ``order`` through
    ``window`` samples, its ``deriv``-th derivative at the centre, per second."""
    x = np.arange(window, dtype=float) - window // 2
    fit = np.linalg.pinv(x[:, None] ** np.arange(order + 1))  # samples -> polynomial coefficients
    return fit[deriv] * math.factorial(deriv) * fps**deriv


def angular_speed(angle: np.ndarray, fps: float, window: int) -> tuple[np.ndarray, np.ndarray]:
    """``(speed, noise)``: :func:`derivative` of ``angle (..., T)`` (radians, unwrapped), both in
    degrees per second."""
    speed, noise, _, _ = derivative(angle, fps, window)
    return np.degrees(speed), np.degrees(noise)


FIT_S = 0.06  # the peak's shape is fitted over this many seconds either side (one frame at least)


def peak(speed: np.ndarray, lo: int, hi: int, noise: float, fps: float) -> dict:
    """The largest ``|speed|`` in frames ``[lo, hi)``: value (deg/s, signed), time (ms, below a
    frame) and the time's 95 % interval. Gaussian interpolation, as for the analysis' lags: a
    least-squares parabola through ``log |speed|`` over ``FIT_S`` either side of the best frame
    (exact for a Gaussian pulse, so neither its time nor its height is pulled by the fit's
    width); the interval is the vertex's standard error from the speed's ``noise``, widened to
    every frame whose speed is within the noise of the peak's (a broad or two-humped profile's
    peak could be any of them)."""
    mag = np.abs(speed)
    k = lo + int(np.argmax(mag[lo:hi]))
    h = max(1, to_frames(FIT_S, fps))
    shift, value, half = 0.0, float(mag[k]), None
    # the pulse itself: up to where the speed, falling away from its top, rises again by more
    # than its noise (a second hump beside it is another pulse, and a parabola through both
    # would put the top in the trough between; a wiggle within the noise is the same pulse)
    rise = Z95 * math.sqrt(2.0) * noise
    first, low = k, mag[k]
    while first > max(k - h, 0) and mag[first - 1] <= low + rise:
        first -= 1
        low = min(low, mag[first])
    last, low = k, mag[k]
    while last < min(k + h, len(mag) - 1) and mag[last + 1] <= low + rise:
        last += 1
        low = min(low, mag[last])
    near = slice(first, last + 1)
    x = np.arange(near.start, near.stop, dtype=float) - k
    y = mag[near]
    keep = y > 0.25 * mag[k]  # nor the floor beside a narrow one
    if keep.sum() >= 3 and mag[k] > 0:
        x, y = x[keep], y[keep]
        design = np.stack([x**2, x, np.ones_like(x)], 1)
        weights = y / mag[k]  # log's noise is noise / |speed|: the points near the top count most
        wd = design * weights[:, None]
        coef, _, rank, _ = np.linalg.lstsq(wd, np.log(y) * weights, rcond=None)  # weighted least squares
        a, b, c = coef
        log_top = c - b * b / (4 * a) if rank == 3 and a < 0 else math.inf
        # a flat top (a near 0) puts the vertex anywhere: a fit whose top passes twice the best
        # sample's (a Gaussian through its samples does not) is no measurement of the peak
        if log_top <= math.log(2.0 * mag[k]):
            shift = float(np.clip(-b / (2 * a), max(x.min(), lo - k), min(x.max(), hi - 1 - k)))  # inside the search
            value = float(np.exp(log_top))
            # the vertex -b / 2a: b's standard error is (noise / |speed|) / sqrt(sum w^2 x^2)
            se_b = noise / mag[k] / math.sqrt(max(float((weights**2 * x**2).sum()), 1e-12))
            half = Z95 * se_b / (2 * abs(a)) * 1000.0 / fps
    t_ms = (k + shift) * 1000.0 / fps
    # a second hump as high as the first, within the noise, could be the peak: the interval spans it
    rivals = lo + np.flatnonzero(mag[lo:hi] >= mag[k] - Z95 * math.sqrt(2.0) * noise)
    span = max(abs(float(rivals.min()) - k - shift), abs(float(rivals.max()) - k - shift)) * 1000.0 / fps
    if half is not None and span > half:
        half = span
    # within the frames searched: a time outside them is not this peak's
    first, last = lo * 1000.0 / fps, (hi - 1) * 1000.0 / fps
    ci = None if half is None else [min(max(t_ms - half, first), t_ms), max(min(t_ms + half, last), t_ms)]
    return {"speed_deg_s": round(math.copysign(value, speed[k]), 3), "frame": k, "time_ms": round(t_ms, 3),
            "time_ci_ms": [round(v, 3) for v in ci] if ci is not None else None}


def _segment_angles(positions: np.ndarray, lead: str, names) -> tuple[np.ndarray, np.ndarray]:
    """``(angle (S, T), length (S, T))``: each named segment's angle on screen (radians,
    unwrapped) and its projected length (shoulder widths), gaps interpolated."""
    ends = _ends(positions, lead)
    lines = np.stack([ends[n][1] - ends[n][0] for n in names])  # (S, T, 2)
    angles = np.stack([filled(np.unwrap(np.arctan2(filled(d[:, 1]), filled(d[:, 0])))) for d in lines])
    lengths = np.stack([filled(np.linalg.norm(d, axis=-1)) for d in lines])
    return angles, lengths


def segment_speeds(positions: np.ndarray, fps: float, window: int, lead: str,
                   names: tuple[str, ...] | list[str] = SEGMENTS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(speed (S, T), noise (S,), length (S, T))``: each segment's angular speed in the image
    (deg/s, signed; the derivative filter of ``window`` frames) and its noise, and its projected
    length (shoulder widths), gaps interpolated. ``names`` picks the segments, in order."""
    angles, lengths = _segment_angles(positions, lead, names)
    speeds, noises = angular_speed(angles, fps, window)
    return speeds, noises, lengths


def segment_peak_speeds(positions: np.ndarray, fps: float, widest: int, lead: str, swing: tuple[int, int],
                        names: tuple[str, ...] | list[str] = SEGMENTS
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(speed (S, T), noise (S,), length (S, T), window (S,))``: as :func:`segment_speeds`,
    each segment differentiated over its own window (:func:`peak_window_derivative`: the
    shortest that keeps its peak in ``swing`` clear of the noise, ``widest`` at most)."""
    angles, lengths = _segment_angles(positions, lead, names)
    rate, noise, windows = peak_window_derivative(angles, fps, swing[0], swing[1], widest)
    return np.degrees(rate), np.degrees(noise), lengths, windows


def _unseen_segments(positions: np.ndarray, lead: str, lo: int, hi: int) -> dict[str, str]:
    """``{segment: why}`` for the segments an end of which is seen in less than ``SEEN_SHARE`` of
    frames ``[lo, hi)`` (a hand hidden, a joint out of the picture): withheld, not guessed."""
    ends = _ends(positions[lo:hi], lead)
    names = {"pelvis": ("l_hip", "r_hip"), "trunk": ("l_shoulder", "r_shoulder"),
             "lead_arm": (f"{lead}_shoulder", f"{lead}_wrist"), "bat": ("hands", "bat")}
    out = {}
    for seg, (a, b) in ends.items():
        share = [float(np.isfinite(x).all(-1).mean()) if len(x) else 0.0 for x in (a, b)]
        low = [n for n, f in zip(names[seg], share) if f < SEEN_SHARE]
        if low:
            out[seg] = (f"not measured: {' and '.join(low)} seen in {min(share):.0%} of the downswing's frames "
                        f"(at least {SEEN_SHARE:.0%} needed)")
    return out


def kinematic_sequence(positions: np.ndarray, fps: float, window_frames: int, lead: str, swing: tuple[int, int],
                       bat_found: bool = True) -> dict:
    """The kinematic-sequence block of ``result.json`` for one clip.

    Args:
        positions: ``(T, nodes, 2)`` the pose (any translation and scale: angles ignore them),
            NaN where a node is missing (interpolated).
        fps: frames per second.
        window_frames: the analysis' smoothing window.
        lead: ``"l"`` or ``"r"``: the lead (top-hand) side.
        swing: ``(lo, hi)`` frames where the peaks are looked for.
        bat_found: whether the bat was seen through the swing (else its figures are null).
    """
    t = len(positions)
    window = derivative_window(fps, window_frames)
    lo, hi = max(0, swing[0]), min(t, swing[1])
    if hi - lo < 3 or t < 5:
        return {"note": f"too few frames ({t}) for the kinematic sequence"}
    out: dict = {"units": "degrees / s", "speed_noise_deg_s": {}, "segments": {}, "lines_in_image": {},
                 "withheld": {}, "covers": list(MEASURED)}
    unseen = _unseen_segments(positions, lead, lo, hi)
    names = [n for n in SEGMENTS if (n != "bat" or bat_found) and n not in unseen]
    for name, why in unseen.items():
        out["segments"][name] = None
        out["withheld"][name] = why
    if not names:
        return out | {"reliable": False, "reasons": list(unseen.values()), "order": [], "proximal_to_distal": False,
                      "gaps_ms": {}, "gains": {}}
    speeds, noises, lengths, windows = segment_peak_speeds(positions, fps, window, lead, (lo, hi), names)
    widest = np.percentile(lengths, 95, axis=-1)  # filled: no NaN left
    for i, name in enumerate(names):
        found = _segment_peak(speeds[i], float(noises[i]), lengths[i], float(widest[i]), int(windows[i]), lo, hi, fps)
        if name in LINES:  # the line's tilt on screen, under its own name; the segment withheld
            line = LINES[name]
            out["lines_in_image"][line] = found | {"what": f"the {line.replace('_', ' ')}'s angle on screen (its tilt)"}
            out["segments"][name] = None
            out["withheld"][name] = AXIAL.format(seg=name, line=line.replace("_", " "))
            continue
        out["segments"][name] = found
        out["speed_noise_deg_s"][name] = round(float(noises[i]), 3)
    if not bat_found:
        out["segments"]["bat"] = None
    seen = {k: out["segments"][k] for k in MEASURED if out["segments"].get(k) is not None}
    out["reliable"] = all(not v["flags"] for v in seen.values()) and len(seen) == len(MEASURED)
    out["reasons"] = [f"{k}: {f}" for k, v in seen.items() for f in v["flags"]] + (
        [] if "bat" in seen else [unseen.get("bat", "bat: not seen through the swing")]) + [
        unseen[k] for k in MEASURED if k in unseen and k != "bat"]
    return _ordered(out, seen)


def _segment_peak(speed: np.ndarray, noise: float, length: np.ndarray, widest: float, window: int, lo: int, hi: int,
                  fps: float) -> dict:
    """One segment's :func:`peak` in frames ``[lo, hi)``, flagged where its line is seen end-on
    there (its angle on screen is then noise) or where it is largest at an edge of the search."""
    found = peak(speed, lo, hi, noise, fps) | {"view": "in_image", "window_frames": window}
    k = found["frame"]
    share = float(length[k] / max(widest, 1e-9))
    flags = []
    if share < END_ON:
        flags.append(f"seen end-on at its peak ({share:.0%} of its widest): its angle on screen is noise")
    if k in (lo, hi - 1):
        flags.append("largest at the edge of the downswing (top of the backlift to 0.1 s after the bat's peak speed): no peak inside it")
    found["flags"] = flags
    return found


def _ordered(out: dict, seen: dict) -> dict:
    """The sequence block ``out`` with its order, gaps and gains from the ``seen`` segments'
    peaks; an order is claimed only where each gap's 95 % interval (the two peaks' together)
    excludes zero, else the block is not reliable and says why."""
    order = sorted(seen, key=lambda k: seen[k]["time_ms"])
    out["order"] = order
    out["proximal_to_distal"] = order == [s for s in MEASURED if s in seen]
    out["gaps_ms"] = {f"{a}->{b}": round(seen[b]["time_ms"] - seen[a]["time_ms"], 3)
                      for a, b in zip(SEGMENTS, SEGMENTS[1:]) if a in seen and b in seen}
    for link, gap in out["gaps_ms"].items():
        a, b = link.split("->")
        halves = [(seen[k]["time_ci_ms"][1] - seen[k]["time_ci_ms"][0]) / 2 if seen[k]["time_ci_ms"] else None
                  for k in (a, b)]
        if None in halves or abs(gap) <= math.hypot(*halves):
            out["reliable"] = False
            out["reasons"].append(f"{a} -> {b}: the peaks are {abs(gap):.0f} ms apart, within their intervals"
                                  + ("" if None in halves else f" (+-{math.hypot(*halves):.0f} ms)")
                                  + ": their order is not measured")
    out["gains"] = {f"{a}/{b}": round(abs(seen[a]["speed_deg_s"]) / max(abs(seen[b]["speed_deg_s"]), 1e-9), 4)
                    for a, b in GAINS if a in seen and b in seen}
    return out


TIP_NOISE = 0.10  # a tip speed whose noise passes this share of its peak is flagged noisy


def tip_peak_speed(positions: np.ndarray, fps: float, swing: tuple[int, int]) -> dict | None:
    """The bat tip's :func:`peak_speed`, not the analysis' smoothed ``v_tip``, which is made for
    correlations and flattens a fast swing's peak. Unbiased where the tip is sampled finely
    enough (a peak 50 ms wide keeps 99 % of its height from 50 fps up; at 25 fps about 90 %).
    ``noisy`` where the speed's noise passes ``TIP_NOISE`` of its peak (broadcast keypoints at
    25 fps: a smoother filter would only trade that noise for a flattened peak)."""
    found = peak_speed(positions[:, N["bat"]], fps, swing)
    return None if found is None else found | {"noisy": bool(found["relative_sd"] > TIP_NOISE)}


def peak_speed(x: np.ndarray, fps: float, swing: tuple[int, int]) -> dict | None:
    """The peak speed of a point ``x (T, 2)`` (shoulder widths/s; pelvis-centred positions: the
    camera's pan drops out) within frames ``swing``. Used for the bat tip
    (:func:`tip_peak_speed`) and the hands. None without the point in enough frames.

    Its time (and interval) comes from the point's own derivative: order-5 Savitzky-Golay over
    the shortest window that keeps the peak clear of the noise (:func:`peak_window_derivative`,
    ``TIP_S`` = 0.1 s at most), Gaussian-interpolated peak. Its height too where that filter has
    its 7 frames within 0.1 s;
    below ``SAMPLED_FPS`` (where it cannot: 7 frames at least) a fast peak is only a frame or two
    wide and any such filter flattens it (-9 % at 25 fps), so the height comes from
    :func:`chord_peak` instead, where the filtered speed's noise is within ``TIP_NOISE`` of its
    peak and the chords' peak within ~25 % above it (noisy keypoints at 25 fps: the filter's
    height is kept, and ``method`` says it may read low). ``relative_sd`` is the speed's noise (the
    point's residual around its fit, through the filter or the frame difference) over the peak."""
    if np.isfinite(x).all(-1).sum() < ORDER + 2:
        return None
    lo, hi = max(0, swing[0]), min(len(x), swing[1])
    gaps_filled = np.stack([filled(x[:, 0]), filled(x[:, 1])])
    v, noises, windows = peak_window_derivative(gaps_filled, fps, lo, hi, derivative_window(fps), together=True)
    window = int(windows[0])
    order = min(ORDER, window - 2)
    noise = float(np.sqrt(np.mean(noises**2)))  # per axis
    found = peak(np.hypot(v[0], v[1]), lo, hi, noise, fps)
    speed, method = abs(found["speed_deg_s"]), "Savitzky-Golay derivative"
    if fps < SAMPLED_FPS:
        # frame differences carry the position's whole noise, and the largest of noisy speeds
        # reads high: only where the filtered speed is clean, and never far above it
        chord = chord_peak(gaps_filled.T, fps, found["frame"])
        if noise > TIP_NOISE * speed:
            method += " (too noisy for frame-to-frame arcs: may read low at this frame rate)"
        elif chord is not None and chord > CHORD_MAX_GAIN * 1.1 * speed:
            method += f" (frame-to-frame arcs {chord / speed:.1f}x higher, noise: not kept; may read low)"
        elif chord is not None:
            speed, method = chord, "frame-to-frame arcs, Gaussian peak less the frame's averaging"
            # the position's own noise (the derivative's, back through the filter), then a frame difference's
            position_sd = noise / derivative_gain(window, order, float(fps))
            noise = position_sd * math.sqrt(2) * fps
    return {"speed_sw_s": round(speed, 3), "frame": found["frame"], "time_ms": found["time_ms"],
            "time_ci_ms": found["time_ci_ms"], "method": method,
            "filter": {"order": order, "window_frames": window}, "relative_sd": round(noise / max(speed, 1e-9), 4)}


SAMPLED_FPS = 70.0  # from here the 0.1-s derivative filter has its 7 frames: no chord needed
CHORD_MAX_GAIN = 1.15  # the most the frame's averaging is undone by (a peak under ~0.7 frame wide)


def chord_peak(x: np.ndarray, fps: float, near: int) -> float | None:
    """The peak speed of ``x (T, 2)`` near frame ``near`` from its frame-to-frame movement,
    for a peak too narrow for any derivative filter at ``fps``:

    1. each frame's chord is lengthened to its arc, the point's path turning by the angle
       between the chords either side (a circle through the three: exact for a bat turning
       about the hands, 3 % at 50 degrees a frame);
    2. arc x fps is the mean speed over the frame, at its middle; the peak's height is the
       vertex of the parabola through the logs of the three around the largest (exact for a
       Gaussian pulse);
    3. a mean over a frame is the speed convolved with a one-frame box, which adds 1/12
       frame^2 to the pulse's variance: the fitted variance less that gives the pulse's own
       width, and the height is raised by the ratio of the widths (at most ``CHORD_MAX_GAIN``).

    None where the three speeds do not make a peak (flat, or at the clip's edge)."""
    d = np.diff(x, axis=0)
    chord = np.hypot(d[:, 0], d[:, 1])
    heading = np.arctan2(d[:, 1], d[:, 0])
    turn = np.abs(np.angle(np.exp(1j * np.diff(heading))))  # between consecutive chords
    half = np.zeros_like(chord)
    half[1:] += turn / 4
    half[:-1] += turn / 4  # each chord's own turn: half of each neighbour's, split at its ends
    arc = chord * np.where(half > 1e-6, half / np.sin(np.maximum(half, 1e-6)), 1.0)
    lo, hi = max(near - 2, 1), min(near + 2, len(arc) - 1)
    if hi <= lo:
        return None
    k = lo + int(np.argmax(arc[lo:hi]))
    y = arc[k - 1: k + 2] * fps
    if len(y) < 3 or (y <= 0).any():
        return None
    a = (np.log(y[0]) + np.log(y[2])) / 2 - np.log(y[1])
    if a >= 0:
        return None
    b = (np.log(y[2]) - np.log(y[0])) / 2
    top = math.exp(math.log(y[1]) - b * b / (4 * a))
    fitted = -1 / (2 * a)  # the box-averaged pulse's variance, frames^2
    gain = min(math.sqrt(fitted / max(fitted - 1 / 12, 1e-9)), CHORD_MAX_GAIN)
    return top * gain


def _in_metres(speed_sw_s: float, rel_noise: float, cal: dict) -> dict:
    """A speed in m/s and km/h with its 95 % interval (calibration and noise together), never
    below zero."""
    mps = speed_sw_s * cal["m_per_shoulder_width"]
    rel = math.hypot(cal["relative_sd"], rel_noise)
    return {"m_s": round(mps, 3), "m_s_ci": [round(max(mps * (1 - Z95 * rel), 0.0), 3), round(mps * (1 + Z95 * rel), 3)],
            "km_h": round(mps * 3.6, 2)}


def _length_in_metres(sw: float | None, sd_sw: float | None, cal: dict) -> dict | None:
    """A signed length in metres (a height may be below the hips) with its 95 % interval: the
    calibration's relative error on the length and the length's own noise, added as standard
    deviations in metres, so the interval holds the value whatever its sign or size."""
    if sw is None or "unavailable" in cal:
        return None
    scale = cal["m_per_shoulder_width"]
    m = sw * scale
    sd = math.hypot(cal["relative_sd"] * m, (sd_sw or 0.0) * scale)
    return {"m": round(m, 4), "m_ci": [round(m - Z95 * sd, 4), round(m + Z95 * sd, 4)]}


ALONG, SQUARE = 0.15, 0.25  # the hips' width over the trunk's length (its lower quartile) that sorts the views
VIEW_HOW = ("the hips' width over the trunk's length (hip midpoint to shoulder midpoint), its lower quartile over "
            "the clip: a batter's side-on hips are narrow from along the pitch (behind the bowler or the keeper) "
            f"and wide from square of it; below {ALONG}: along the pitch, from {SQUARE}: square, between: oblique")
ALONG_REASON = ("withheld: the camera looks along the pitch (camera_view), where the swing's plane is seen edge-on "
                "and the speeds, angles and stride in it read short")


def camera_view(positions: np.ndarray) -> dict:
    """Where the camera stands: ``{"estimate": "square" | "oblique" | "along the pitch" | None,
    "hip_width_over_trunk", "how"}`` from ``positions (T, nodes, 2)`` (NaN where missing). On
    strokes built in 3-D and filmed (``tests/analysis/test_biomech.py``), azimuths within 30 deg
    of square read square or oblique and those within 15 deg of the pitch's line read along it."""
    p = np.asarray(positions, np.float64)
    hips = np.linalg.norm(p[:, N["l_hip"]] - p[:, N["r_hip"]], axis=-1)
    trunk = np.linalg.norm((p[:, N["l_shoulder"]] + p[:, N["r_shoulder"]]) / 2 - (p[:, N["l_hip"]] + p[:, N["r_hip"]]) / 2,
                           axis=-1)
    ok = np.isfinite(hips) & np.isfinite(trunk) & (trunk > 0)
    if ok.sum() < 3:
        return {"estimate": None, "hip_width_over_trunk": None, "how": VIEW_HOW,
                "note": "the hips and shoulders are seen together in fewer than 3 frames"}
    ratio = float(np.percentile(hips[ok] / trunk[ok], 25))
    estimate = "along the pitch" if ratio < ALONG else "square" if ratio >= SQUARE else "oblique"
    return {"estimate": estimate, "hip_width_over_trunk": round(ratio, 4), "how": VIEW_HOW}


def _withhold_in_plane(record: dict) -> None:
    """From a camera along the pitch: the swing-plane figures withheld with the reason."""
    ks = record["kinematic_sequence"]
    if "segments" in ks:
        for name in MEASURED:
            if ks["segments"].get(name) is not None:
                ks["segments"][name] = None
                ks["withheld"][name] = ALONG_REASON
        ks.update(reliable=False, order=[], proximal_to_distal=False, gaps_ms={}, gains={})
        ks["reasons"].append(f"lead_arm, bat: {ALONG_REASON}")
    ev = record["events"]
    ev["reliable"] = False
    ev["reasons"].append("events: timed from speeds in the swing's plane, which a camera along the pitch sees edge-on")
    units = record["real_units"]
    units["stride"] = units["hands_peak_speed"] = None
    units["withheld"] = ALONG_REASON
    record["bat"]["speed_withheld"] = ALONG_REASON


def nanmedian_last(x: np.ndarray) -> np.ndarray:
    """``np.nanmedian(x, axis=-1)``, the same numbers (NaN where a row has none), by one sort:
    numpy takes a row this short through masked arrays, ten times slower here. The two middle
    values of the sorted finite ones (NaN sorts last), summed and halved, as numpy does."""
    ordered = np.sort(x, axis=-1)
    count = np.isfinite(ordered).sum(-1, keepdims=True)
    high = count // 2
    low = np.where(count % 2 == 1, high, high - 1)
    pair = np.take_along_axis(ordered, np.clip(np.concatenate([low, high], -1), 0, x.shape[-1] - 1), -1)
    return np.where(count[..., 0] > 0, (pair[..., 0] + pair[..., 1]) / 2.0, np.nan)


def hampel_positions(positions: np.ndarray, half: int, n_sigma: float, min_scale: float) -> tuple[np.ndarray, int]:
    """``(mended, count)``: ``positions (T, nodes, 2)`` with each point that lies further than
    ``n_sigma`` robust sigmas from its window's median (frames ``t - half .. t + half``, NaN
    frames left out) replaced by that median, as :func:`corrkin.ops.robust.hampel` does (one
    scale floor for both axes: a tenth of the larger axis' scaled MAD, at least ``min_scale``),
    and how many were. The engine mends the ankles, knees and elbows only around the frames it
    analyses; a stride or a backlift lies before them."""
    x = np.asarray(positions, np.float64)
    t = len(x)
    if t < 3:
        return x.copy(), 0
    padded = np.pad(x, ((half, half), (0, 0), (0, 0)), constant_values=np.nan)
    win = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1, axis=0)  # (T, nodes, 2, W)
    med = nanmedian_last(win)
    mad = 1.4826 * nanmedian_last(np.abs(win - med[..., None]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows: a node never seen there
        floor = np.maximum(0.1 * np.nanmax(mad, axis=-1, keepdims=True), min_scale)
    far = np.abs(x - med) > n_sigma * np.maximum(mad, floor)
    out = far.any(-1) & np.isfinite(x).all(-1) & np.isfinite(med).all(-1)
    mended = x.copy()
    mended[out] = med[out]
    return mended, int(out.sum())


AFTER_PEAK_S = 0.1  # the kinematic sequence's peaks are looked for up to this long after the bat's peak speed


def biomechanics(record: dict, positions: np.ndarray, cfg) -> dict:
    """:func:`_biomechanics`, then every ranged figure checked against what the literature says
    a stroke can be (:func:`corrkin.analysis.ranges.flag_out_of_range`)."""
    from corrkin.analysis.ranges import flag_out_of_range

    return flag_out_of_range(_biomechanics(record, positions, cfg))


MIN_BAT_SW = 0.5  # a bat's tip never further than this from the hands (shoulder widths) is not a bat
# a tip (or, with no bat, the hands) moving less than this over the clip (5-95 % extent, shoulder
# widths) made no swing: on the seed's broadcast strokes the tip spans 4.5-17, the hands 0.8-6.1
MIN_SWING_SW = {"bat tip": 0.5, "hands": 0.25}


def degenerate(positions: np.ndarray, bat_found: bool) -> tuple[list[str], bool]:
    """``(reasons, bat_usable)``: what makes a clip's geometry unable to carry a stroke's
    figures, from ``positions (T, nodes, 2)`` (pelvis-centred, shoulder widths): a bat tip that
    stays on the hands (its 95th-percentile distance below ``MIN_BAT_SW``), or no swing at all (the
    tip's, else the hands', 5-95 % extent over the clip below ``MIN_SWING_SW``)."""
    reasons, usable = [], bat_found
    hands, tip = _ends(positions, "l")["bat"]  # the hands (both wrists, or the one seen) and the tip
    if bat_found:
        length = np.linalg.norm(tip - hands, axis=-1)
        length = length[np.isfinite(length)]
        if len(length) and float(np.percentile(length, 95)) < MIN_BAT_SW:
            reasons.append(f"the bat tip stays within {float(np.percentile(length, 95)):.2f} shoulder widths of the hands "
                           f"(95th percentile; a bat reaches {MIN_BAT_SW} or more): it is not a bat, so no bat figures")
            usable = False
    what, moving = ("bat tip", tip) if usable else ("hands", hands)
    ok = np.isfinite(moving).all(-1)
    if ok.sum() >= 2:
        lo, hi = np.percentile(moving[ok], [5, 95], axis=0)
        extent = float(np.hypot(*(hi - lo)))
        if extent < MIN_SWING_SW[what]:
            reasons.append(f"no swing: the {what} moved {extent:.2f} shoulder widths over the clip (5-95 %), less "
                           f"than {MIN_SWING_SW[what]}")
    return reasons, usable


def _biomechanics(record: dict, positions: np.ndarray, cfg) -> dict:
    """``record`` (a clip's ``result.json``) with its ``kinematic_sequence``, ``events``
    (:mod:`corrkin.analysis.events`), ``calibration`` (:mod:`corrkin.analysis.units`) and
    ``real_units`` blocks, and the bat's speed in m/s (``bat.peak_speed_m_s``, its interval,
    ``km/h``, ``tip_peak``), from ``positions (T, nodes, 2)`` (``series.npz``'s) and ``cfg``
    (the :class:`corrkin.config.AnalysisConfig`: the swing window, the calibration). A given
    impact time (``record["impact_given_s"]``, from a manifest's ``impact_s``) is the ball's
    contact, and replaces the bat's peak speed as the events' reference. Per clip, in numpy: it runs where the clip's files
    are written (the I/O workers of ``corrkin analyse``), beside the batched engine."""
    from corrkin.analysis.units import calibrate

    fps = record["fps"]
    bat = _without_degenerate(record, positions)
    mending = {"half": max(1, to_frames(cfg.hampel_window_s / 2, fps)), "n_sigma": float(cfg.hampel_sigmas),
               "min_scale": 1.0 / max(float(record.get("shoulder_width_px") or 1.0), 1e-9)}
    pos, mended = hampel_positions(positions, **mending)
    half = to_frames(cfg.quality.window_s, fps)
    swing = (bat["peak_frame"] - half, bat["peak_frame"] + half + 1)
    cal = calibrate(pos, cfg.units, record["shoulder_width_px"])
    record["calibration"] = cal
    tip = tip_peak_speed(pos, fps, swing) if bat["found"] else None
    lead = "l" if bat["top_hand"].startswith("l_") else "r"
    window = savgol_window(SMOOTH_S, fps, cfg.smooth_order)
    ev, peak_at = _events(record, pos, lead, window, tip, mended)
    _sequence(record, pos, lead, window, tip, ev, swing, peak_at, mending)
    hands_at = (pos[:, N["l_wrist"]] + pos[:, N["r_wrist"]]) / 2
    hands = peak_speed(hands_at, fps, swing)
    # the sweet spot: the point that far up the bat from the toe, hands -> tip being the bat's length
    # (as the bat calibration takes it); a fixed share of the segment, foreshortened or not
    up = cfg.units.sweet_spot_from_toe_m / cfg.units.bat_length_m
    sweet = peak_speed(hands_at + (1.0 - up) * (pos[:, N["bat"]] - hands_at), fps, swing) if tip is not None else None
    units = {"calibration": cal.get("method"), "stride": _length_in_metres(ev["stride_sw"], ev["stride_sd_sw"], cal),
             "backlift_height": _length_in_metres(ev["backlift_height_sw"], ev["backlift_height_sd_sw"], cal),
             "hands_peak_speed": None}
    if hands is not None and "unavailable" not in cal:
        units["hands_peak_speed"] = _in_metres(hands["speed_sw_s"], hands["relative_sd"], cal) | {
            "sw_s": hands["speed_sw_s"], "time_ms": hands["time_ms"]}
    record["events"], record["real_units"] = ev, units
    record["camera_view"] = view = _view(pos, cfg)
    if view["estimate"] == "along the pitch":
        _withhold_in_plane(record)
        return record
    if tip is None or "unavailable" in cal:
        return record
    _bat_in_metres(bat, tip, sweet, cal, cfg)
    return record


def _without_degenerate(record: dict, positions: np.ndarray) -> dict:
    """The record's ``bat`` block, marked not found where the geometry is no bat's
    (:func:`degenerate`: the reasons join the quality verdict's, which turns unreliable)."""
    bat = record["bat"]
    wrong, usable = degenerate(positions, bat["found"])
    if wrong:
        quality = record.setdefault("quality", {"reliable": False, "reasons": []})
        quality["reliable"] = False
        quality["reasons"] = list(quality.get("reasons", [])) + wrong
    if not usable and bat["found"]:
        bat = record["bat"] = bat | {"found": False, "note": wrong[0]}
    return bat


def _events(record: dict, pos: np.ndarray, lead: str, window: int, tip: dict | None, mended: int
            ) -> tuple[dict, float]:
    """``(events block, reference frame)``: the stroke's events (:func:`corrkin.analysis.events.stroke_events`)
    about the bat tip's peak speed (the analysis' peak frame where the tip has none), or about a
    given impact time inside the clip (one outside it is said and left out)."""
    from corrkin.analysis.events import stroke_events

    fps, bat = record["fps"], record["bat"]
    given = record.get("impact_given_s")
    note = None
    if given is not None and not 0 <= given * fps <= len(pos) - 1:
        note = (f"the given impact ({given:.3f} s into the clip) lies outside it (0-{(len(pos) - 1) / fps:.3f} s): "
                "the peak bat speed is used instead")
        given = None
    if tip is not None:
        peak_at = tip["time_ms"] * fps / 1000.0
        ci = tip["time_ci_ms"]
        peak_half = None if ci is None else (ci[1] - ci[0]) / 2 * fps / 1000.0
    else:
        peak_at, peak_half = float(bat["peak_frame"]), None
    ev = stroke_events(pos, fps, window, lead, peak_at, peak_half, tip is not None,
                       None if given is None else float(given) * fps)
    if note:
        ev["reasons"].insert(0, note)
    ev["points_mended"] = mended  # glitches replaced by their window's median before any of this
    return ev, peak_at


def _sequence(record: dict, pos: np.ndarray, lead: str, window: int, tip: dict | None, ev: dict,
              swing: tuple[int, int], peak_at: float, mending: dict) -> None:
    """The record's ``kinematic_sequence`` block (:func:`kinematic_sequence`), its peaks looked
    for in the downswing: from the top of the backlift to just after the bat's peak speed (the
    follow-through can turn the arm and bat as fast, in the image)."""
    fps, bat = record["fps"], record["bat"]
    top = ev["events"].get("top_of_backlift")
    downswing = (max(0, int(math.floor(top["frame"]))) if top else swing[0],
                 min(swing[1], int(round(peak_at)) + to_frames(AFTER_PEAK_S, fps) + 1))
    record["kinematic_sequence"] = ks = kinematic_sequence(pos, fps, window, lead, downswing, bat["found"])
    ks["mended_with"] = mending  # series.npz keeps the positions as read: a figure mends them the same way
    turn = (ks.get("segments") or {}).get("bat")
    if turn is not None and tip is not None and abs(turn["time_ms"] - tip["time_ms"]) > AFTER_PEAK_S * 1000:
        # the bat turns fastest where its tip is fastest, give or take the hands' own speed
        ks["reliable"] = False
        ks["reasons"].append(f"bat: its turn peaks {turn['time_ms'] - tip['time_ms']:+.0f} ms from its tip's peak speed: "
                             "one of them is not the swing's")


def _view(pos: np.ndarray, cfg) -> dict:
    """The camera's view (:func:`camera_view`), or the user's word for it (``analysis.camera_view``)
    with the estimate beside it."""
    stated = str(getattr(cfg, "camera_view", "auto"))
    view = camera_view(pos)
    if stated != "auto":  # the user's word over the estimate, which stays beside it
        view = {"estimate": "along the pitch" if stated == "along" else stated, "stated": True,
                "estimated": view["estimate"], "hip_width_over_trunk": view["hip_width_over_trunk"], "how": "stated (analysis.camera_view)"}
    return view


def _bat_in_metres(bat: dict, tip: dict, sweet: dict | None, cal: dict, cfg) -> None:
    """The bat block's speeds in m/s and km/h with their intervals: at the toe (the tip's own
    peak) and at the sweet spot; and the calibration they came through."""
    m = _in_metres(tip["speed_sw_s"], tip["relative_sd"], cal)
    bat["tip_peak"] = tip | {"how": "the tip's own derivative (order-5 Savitzky-Golay, Gaussian interpolation); "
                                    "peak_speed is the analysis' smoothed v_tip"}
    bat["peak_speed_m_s"], bat["peak_speed_m_s_ci"], bat["peak_speed_km_h"] = m["m_s"], m["m_s_ci"], m["km_h"]
    bat["peak_speed_at"] = "toe"
    if sweet is not None:
        s = _in_metres(sweet["speed_sw_s"], sweet["relative_sd"], cal)
        bat["sweet_spot_peak"] = sweet | {"from_toe_m": cfg.units.sweet_spot_from_toe_m,
                                          "how": "the point sweet_spot_from_toe_m up the bat from the toe (hands -> "
                                                 "tip as the bat's length), its own derivative as the tip's"}
        bat["sweet_spot_speed_m_s"], bat["sweet_spot_speed_m_s_ci"] = s["m_s"], s["m_s_ci"]
        bat["sweet_spot_speed_km_h"] = s["km_h"]
    bat["calibration"] = cal
