"""The events of a stroke, in ms relative to impact, each with how it was found and its 95 %
interval; and the figures read at them (stride, backlift height, X-factor proxy).

Every signal is a keypoint track relative to the hips' centre (the camera's pan drops out),
differentiated by the kinematic sequence's filter (:func:`corrkin.analysis.biomech.derivative`:
order-5 Savitzky-Golay over the analysis' window). A movement *starts* (or *ends*) where its
speed passes ``SHARE`` (10 %) of the peak it leads to (or comes from), found by walking from
that peak and interpolating between the two frames either side of the crossing: a threshold on
speed, not on position, so that it does not depend on where the movement ends. An event's
interval is the speed's noise over its slope at the crossing (``Z95`` x noise / slope).

* ``impact``: the bat tip's peak speed (:func:`corrkin.analysis.biomech.tip_peak_speed`), or the
  time given (a manifest's ``impact_s``);
* ``top_of_backlift``: the tip's highest point before impact (image up: the camera assumed level);
* ``start_of_backlift``: going back from the tip's fastest rise before the top;
* ``start_of_downswing``: going back from the bat's fastest turn in the image before impact, in
  the sense it turns at impact;
* ``front_foot_lift`` / ``front_foot_plant``: either side of the lead ankle's fastest movement
  relative to the back ankle (the stride), before impact;
* ``end_of_follow_through``: after impact, where the tip's speed falls below the share.

An event that cannot be found is ``None`` with the reason (``reasons``): a clip that ends first,
no stride, no bat. :func:`corrkin.synth.stroke_truth` writes the same definitions as plain loops
on noise-free motion; the tests hold these to it.
"""

from __future__ import annotations

import math

import numpy as np

from corrkin.analysis.biomech import (
    END_ON,
    ORDER,
    _coeffs,
    _filled,
    _savgol,
    derivative,
    derivative_window,
    noise_sd,
)
from corrkin.skeleton import NODE_INDEX as N
from corrkin.timing import Z95, to_frames

SHARE = 0.10  # a movement starts or ends where its speed passes this share of its peak
BEFORE_S = 1.5  # events before impact are looked for this far back
MIN_STRIDE_SW = 0.1
FOOT_S = 0.3  # the foot's speed is filtered over at least this long: a stride is slow, and its ends are where noise tells most
NOISE_TIMES = 5  # a movement whose peak speed is within this many noise SDs is not seen
SETTLE_S = 0.1  # the stride is measured between the foot's places this long before lift and after plant  # a lead-ankle movement shorter than this (shoulder widths) is no stride
EVENTS = ("start_of_backlift", "front_foot_lift", "top_of_backlift", "start_of_downswing", "front_foot_plant",
          "impact", "end_of_follow_through")
HOW = {
    "impact": "peak speed of the bat tip relative to the hips",
    "top_of_backlift": "highest point of the bat tip before impact (zero of its vertical speed)",
    "start_of_backlift": f"tip rising at {SHARE:.0%} of its fastest rise before the top of the backlift",
    "start_of_downswing": f"bat turning (in the image, towards the ball) at {SHARE:.0%} of its fastest turn",
    "front_foot_lift": f"lead ankle moving (relative to the back ankle) at {SHARE:.0%} of its fastest stride speed",
    "front_foot_plant": f"lead ankle slowed to {SHARE:.0%} of its fastest stride speed",
    "end_of_follow_through": f"bat tip slowed to {SHARE:.0%} of its peak speed after impact",
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


def _interp(x: np.ndarray, frame: float) -> np.ndarray:
    """``x (T, ...)`` at a fractional frame (linear)."""
    i = min(int(math.floor(frame)), len(x) - 2)
    w = frame - i
    return (1 - w) * x[i] + w * x[i + 1]


def _event(frame: float, half: float | None, impact: float, fps: float, how: str) -> dict:
    ms = 1000.0 / fps
    t = (frame - impact) * ms
    return {"time_ms": round(t, 2), "clip_ms": round(frame * ms, 2), "frame": round(frame, 3),
            "ci_ms": None if half is None else [round(t - half * ms, 2), round(t + half * ms, 2)], "how": how}


def stroke_events(positions: np.ndarray, fps: float, window_frames: int, lead: str, impact: float,
                  impact_half: float | None = None, bat_found: bool = True, given: bool = False) -> dict:
    """The ``events`` block of a clip's ``result.json``.

    Args:
        positions: ``(T, nodes, 2)`` in shoulder widths (image axes: y down), NaN where missing.
        fps: frames per second.
        window_frames: the analysis' smoothing window (the derivative filter's length).
        lead: ``"l"`` or ``"r"``: the lead (top-hand, front-foot) side.
        impact: the impact's frame (fractional).
        impact_half: its 95 % half-width in frames, if known.
        bat_found: the bat was seen through the swing (else only the stride's events).
        given: the impact time was given, not measured.

    Returns:
        ``{"events": {name: event or None}, "reasons": [...], "reliable", "stride_sw",
        "backlift_height_sw", "x_factor": {...}}`` (``reliable``: no reason given); an event is ``{"time_ms" (from impact), "clip_ms", "frame",
        "ci_ms", "how"}``.
    """
    t = len(positions)
    window = derivative_window(fps, window_frames)
    p = np.stack([np.stack([_filled(positions[:, n, 0]), _filled(positions[:, n, 1])], -1)
                  for n in range(positions.shape[1])], 1)
    hips = (p[:, N["l_hip"]] + p[:, N["r_hip"]]) / 2
    back = "r" if lead == "l" else "l"
    ki = int(round(min(max(impact, 0), t - 1)))
    lo = max(0, ki - to_frames(BEFORE_S, fps))
    events: dict = dict.fromkeys(EVENTS)
    reasons: list[str] = []
    how_impact = "given (impact_s: a manifest's, or corrkin analyse/run impacts=)" if given else HOW["impact"]
    events["impact"] = _event(impact, impact_half, impact, fps, how_impact)
    out: dict = {"events": events, "reasons": reasons, "stride_sw": None, "stride_sd_sw": None,
                 "stride_vector_sw": None, "backlift_height_sw": None, "backlift_height_sd_sw": None, "x_factor": None,
                 "reliable": False}
    order = min(ORDER, window - 2)
    smooth_gain = float(np.linalg.norm(_coeffs(window, order, 0, float(fps))))  # a smoothed point's share of the noise

    # the stride: the lead ankle relative to the back ankle
    feet = p[:, N[f"{lead}_ankle"]] - p[:, N[f"{back}_ankle"]]
    feet_s = _savgol(feet.T, window, order, fps)  # (2, T)
    v, noise, _, _ = derivative(feet.T, fps, max(window, derivative_window(fps, to_frames(FOOT_S, fps))))
    speed = np.hypot(v[0], v[1])
    hi = min(t, ki + to_frames(0.1, fps) + 1)
    if hi - lo >= 3:
        f = lo + int(np.argmax(speed[lo:hi]))
        u = v[:, f] / max(speed[f], 1e-12)
        along = u @ v  # the speed along the stride: its noise is symmetric, unlike |v|'s
        n_along = float(np.sqrt(np.mean(noise**2)))
        lift = crossing(along, f, -1, SHARE * along[f], n_along)
        plant = crossing(along, f, +1, SHARE * along[f], n_along)
        if along[f] < NOISE_TIMES * n_along:
            reasons.append(f"front foot: no stride seen (the lead ankle's fastest movement is within {NOISE_TIMES}x its noise)")
        elif lift is None or plant is None:
            reasons.append("front foot: the stride runs past the clip's start or end")
        else:
            # where the foot stood before and stands after: SETTLE_S beyond the crossings, where
            # a smooth step has finished (at the crossings themselves it has ~2 % still to go)
            before = max(lift[0] - SETTLE_S * fps, 0.0)
            after = min(plant[0] + SETTLE_S * fps, t - 1.0)
            d = _interp(feet_s.T, after) - _interp(feet_s.T, before)
            if np.hypot(*d) < MIN_STRIDE_SW:
                reasons.append(f"front foot: no stride (the lead ankle moved {np.hypot(*d):.2f} shoulder widths, "
                               f"less than {MIN_STRIDE_SW})")
            else:
                events["front_foot_lift"] = _event(*lift, impact, fps, HOW["front_foot_lift"])
                events["front_foot_plant"] = _event(*plant, impact, fps, HOW["front_foot_plant"])
                out["stride_sw"] = round(float(np.hypot(*d)), 4)
                out["stride_vector_sw"] = [round(float(d[0]), 4), round(float(d[1]), 4)]
                # two smoothed places, each axis' noise through the smoothing
                sd = float(np.sqrt(np.mean(noise_sd(feet.T, window, order, fps) ** 2))) * smooth_gain * math.sqrt(2)
                out["stride_sd_sw"] = round(sd, 5)
    if not bat_found:
        reasons.append("bat: not seen through the swing, so no backlift, downswing or follow-through")
        return out

    tip = p[:, N["bat"]] - hips
    height = -tip[:, 1]  # image y points down
    (rise,), (rise_noise,), _, _ = derivative(height[None], fps, window)
    # top of backlift: the highest point before impact, to below a frame by its vertical speed's zero
    if ki - lo < 3:
        reasons.append("backlift: the clip starts too close to impact")
    else:
        smooth_h = _savgol(height, window, order, fps)
        k = lo + int(np.argmax(smooth_h[lo:ki]))
        if k == lo:
            reasons.append("backlift: the tip is highest at the start of the search (the clip may start mid-backlift)")
        a = k if rise[k] > 0 else k - 1
        if 0 <= a < t - 1 and rise[a] > 0 >= rise[a + 1]:
            drop = float(rise[a] - rise[a + 1])
            top = (a + float(rise[a]) / drop, Z95 * rise_noise / drop)
        else:
            top = (float(k), None)
        events["top_of_backlift"] = _event(*top, impact, fps, HOW["top_of_backlift"])
        out["backlift_height_sw"] = round(float(_interp(smooth_h, top[0])), 4)
        out["backlift_height_sd_sw"] = round(float(noise_sd(height, window, order, fps)) * smooth_gain, 5)
        kt = int(round(top[0]))
        if kt - lo >= 2:
            r = lo + int(np.argmax(rise[lo:kt]))
            start = crossing(rise, r, -1, SHARE * rise[r], rise_noise) if rise[r] > 0 else None
            if start is None:
                reasons.append("start of backlift: the tip rises from the start of the clip")
            else:
                events["start_of_backlift"] = _event(*start, impact, fps, HOW["start_of_backlift"])
    # the bat's turn in the image, in the sense it turns at impact
    hands_to_tip = p[:, N["bat"]] - (p[:, N["l_wrist"]] + p[:, N["r_wrist"]]) / 2
    angle = _filled(np.unwrap(np.arctan2(hands_to_tip[:, 1], hands_to_tip[:, 0])))
    (omega,), (w_noise,), _, _ = derivative(angle[None], fps, window)
    sense = 1.0 if omega[ki] >= 0 else -1.0
    turn = sense * omega
    if ki - lo >= 2:
        w = lo + int(np.argmax(turn[lo: ki + 1]))
        start = crossing(turn, w, -1, SHARE * turn[w], float(w_noise))
        if start is None:
            reasons.append("start of downswing: the bat turns from the start of the clip")
        else:
            events["start_of_downswing"] = _event(*start, impact, fps, HOW["start_of_downswing"])
            length = np.hypot(hands_to_tip[:, 0], hands_to_tip[:, 1])
            share = float(length[int(round(start[0]))] / max(np.percentile(length, 95), 1e-9))
            if share < END_ON:
                reasons.append(f"start of downswing: the bat is seen end-on there ({share:.0%} of its longest)")
    # end of the follow-through: the tip's speed after impact
    (vx, vy), tip_noise, _, _ = derivative(tip.T, fps, window)
    tip_speed = np.hypot(vx, vy)
    end = crossing(tip_speed, ki, +1, SHARE * tip_speed[ki], float(np.sqrt(np.mean(tip_noise**2))))
    if end is None:
        reasons.append("end of follow-through: the clip ends before the bat slows")
    else:
        events["end_of_follow_through"] = _event(*end, impact, fps, HOW["end_of_follow_through"])
    out["x_factor"] = {"at_top_of_backlift_deg": None, "max_deg": None, "withheld": X_FACTOR}
    reasons.extend(_out_of_order(events))
    out["reliable"] = not reasons
    return out


TOP_TO_DOWNSWING_S = 0.3  # the downswing starts this close to the top of the backlift in any stroke
PLANT_BEFORE_S = 0.5  # a stride planted earlier than this before impact is not the stroke's (drives: ~0.06 s)


def _out_of_order(events: dict) -> list[str]:
    """What no stroke does, said instead of reported as if it were a stroke's timing: the
    downswing starting far from the top of the backlift (the bat turned slowly throughout, or the
    top is not the backlift's), the front foot planted after impact (late, or the movement found
    is not the stride) or long before it (a shuffle, or a keypoint jump taken for a stride)."""
    t = {e: v["time_ms"] for e, v in events.items() if v is not None}
    out = []
    if "top_of_backlift" in t and "start_of_downswing" in t:
        gap = t["start_of_downswing"] - t["top_of_backlift"]
        if abs(gap) > TOP_TO_DOWNSWING_S * 1000:
            out.append(f"start of downswing {gap:+.0f} ms from the top of the backlift (more than "
                       f"{TOP_TO_DOWNSWING_S * 1000:.0f} ms): one of them is not the stroke's")
    if t.get("front_foot_plant", -1.0) > 0:
        out.append(f"front foot planted {t['front_foot_plant']:.0f} ms after impact: late, or the movement found "
                   "is not the stride")
    if t.get("front_foot_plant", 0.0) < -PLANT_BEFORE_S * 1000:
        out.append(f"front foot planted {-t['front_foot_plant']:.0f} ms before impact (more than "
                   f"{PLANT_BEFORE_S * 1000:.0f} ms): too early to be the stroke's stride")
    return out


X_FACTOR = ("withheld: the X-factor is the trunk's axial turn less the pelvis's, which one camera cannot see "
            "(kinematic_sequence.withheld); the on-screen angle between the shoulder and hip lines had the wrong "
            "sign in 42 of 42 strokes built in 3-D and filmed side-on")
