"""Metres from shoulder widths: the calibration a clip's real-unit figures carry.

Three, chosen by ``analysis.units.calibration``; each returns ``m_per_shoulder_width``, its
relative standard deviation (``relative_sd``), what it assumes and what it was measured from:

* ``bat``: the bat's longest projection in the clip (95th percentile of hands -> tip) is its
  length ``bat_length_m`` (the batter's own, or 0.85 m, full size);
* ``stature``: the batter's standing height ``stature_m``. The chain ankle -> knee -> hip ->
  shoulder (the shoulders' and hips' centres for the trunk), each link at its longest projection
  in the clip (legs: the longer side), is ``STATURE_SHARE`` of stature (Winter, *Biomechanics
  and Motor Control of Human Movement*, 2009: ankle 0.039, shoulder 0.818 of height; that share
  varies by ~3 % between adults);
* ``points``: two fixed image points a known distance apart (``points_px``, ``points_m``): the
  popping crease to the stumps is 1.22 m, the stumps 0.711 m high. Assumes a still camera (no
  zoom) and the points at the batter's distance from it.

Everything in the image plane: a movement towards the camera is not seen.
"""

from __future__ import annotations

import math

import numpy as np

from corrkin.skeleton import NODE_INDEX as N
from corrkin.timing import Z95

STATURE_SHARE = 0.779  # ankle -> shoulder as a share of stature (Winter 2009: 0.818 - 0.039)
STATURE_SHARE_SD = 0.03  # its spread between adults (relative)
METHODS = ("bat", "stature", "points")


def _longest(length: np.ndarray) -> tuple[float, float] | None:
    """The 95th percentile of a length over the frames it is seen, and the relative spread of
    the longest projections (90th to 99th percentile, half of it over the 95th): a segment
    never seen at its full length looks short, and the spread says how sure the longest is.
    None when seen in fewer than 5 frames."""
    length = length[np.isfinite(length)]
    if len(length) < 5:
        return None
    p90, p95, p99 = np.percentile(length, [90, 95, 99])
    return float(p95), float((p99 - p90) / 2 / max(p95, 1e-9))


def bat_calibration(positions: np.ndarray, bat_length_m: float, bat_length_sd_m: float) -> dict | None:
    """From the bat: ``positions (T, nodes, 2)`` in shoulder widths. None when the bat was seen
    in fewer than 5 frames."""
    hands = (positions[:, N["l_wrist"]] + positions[:, N["r_wrist"]]) / 2
    found = _longest(np.linalg.norm(positions[:, N["bat"]] - hands, axis=-1))
    if found is None:
        return None
    bat_sw, spread = found
    rel = math.hypot(bat_length_sd_m / bat_length_m, spread)
    return {"method": "bat length", "bat_length_m": bat_length_m, "bat_length_sw": round(bat_sw, 4),
            "m_per_shoulder_width": round(bat_length_m / max(bat_sw, 1e-9), 5), "relative_sd": round(rel, 4),
            "assumes": "the bat is seen at its full length (side-on) in some frames; the speeds are in the image plane"}


def stature_calibration(positions: np.ndarray, stature_m: float, stature_sd_m: float) -> dict | None:
    """From the batter's stature: ``positions (T, nodes, 2)`` in shoulder widths."""
    p = positions

    def link(a, b):
        return np.linalg.norm(p[:, N[a]] - p[:, N[b]], axis=-1)

    hips = (p[:, N["l_hip"]] + p[:, N["r_hip"]]) / 2
    shoulders = (p[:, N["l_shoulder"]] + p[:, N["r_shoulder"]]) / 2
    parts = []
    for side in ("l", "r"):
        parts.append((_longest(link(f"{side}_ankle", f"{side}_knee")), _longest(link(f"{side}_knee", f"{side}_hip"))))
    if any(x is None for pair in parts for x in pair):
        return None
    shank = max(parts, key=lambda pr: pr[0][0])[0]
    thigh = max(parts, key=lambda pr: pr[1][0])[1]
    trunk = _longest(np.linalg.norm(shoulders - hips, axis=-1))
    if trunk is None:
        return None
    links = (shank, thigh, trunk)
    chain = sum(x[0] for x in links)
    spread = math.sqrt(sum((x[0] * x[1]) ** 2 for x in links)) / max(chain, 1e-9)
    rel = math.sqrt((stature_sd_m / stature_m) ** 2 + STATURE_SHARE_SD**2 + spread**2)
    return {"method": "stature", "stature_m": stature_m, "chain_sw": round(chain, 4),
            "m_per_shoulder_width": round(stature_m * STATURE_SHARE / max(chain, 1e-9), 5),
            "relative_sd": round(rel, 4),
            "assumes": "shank, thigh and trunk each seen at full length in some frames; adult proportions "
                       "(ankle to shoulder 0.779 of stature, Winter 2009); the speeds are in the image plane"}


def points_calibration(points_px, points_m: float, points_sd_px: float, shoulder_width_px: float) -> dict:
    """From two image points ``points_px [[x, y], [x, y]]`` ``points_m`` apart, and the clip's
    shoulder width in pixels (the median the analysis scaled by)."""
    (x0, y0), (x1, y1) = points_px
    span_px = math.hypot(x1 - x0, y1 - y0)
    span_sw = max(span_px, 1e-12) / shoulder_width_px  # coincident points: an infinite scale, refused by implausible()
    rel = math.sqrt(2) * points_sd_px / max(span_px, 1e-12)
    return {"method": "known points", "points_px": [list(map(float, q)) for q in points_px], "points_m": points_m,
            "m_per_shoulder_width": round(points_m / span_sw, 5), "relative_sd": round(rel, 4),
            "assumes": "a still camera (no zoom or dolly) and the points at the batter's distance from it"}


def _one(method: str, positions: np.ndarray, units, shoulder_width_px: float) -> tuple[dict | None, str]:
    """One calibration by name, or None and why not."""
    if method == "bat":
        return (bat_calibration(positions, units.bat_length_m, units.bat_length_sd_m),
                "the bat was seen in fewer than 5 frames")
    if method == "stature":
        return (stature_calibration(positions, units.stature_m, units.stature_sd_m),
                "a leg or the trunk was seen in fewer than 5 frames")
    return points_calibration(units.points_px, units.points_m, units.points_sd_px, shoulder_width_px), ""


# a batter is 1.0-2.3 m tall; the bounds leave room for the chain read short in a crouch (legs and
# trunk never upright: to 0.6 of it) and a bat never seen side-on (to 0.58 of its length): beyond
# them the scale is wrong, as on strokes whose bat points at the camera (a hook filmed from square)
STATURE_RANGE_M = (0.6, 4.0)
MAX_RELATIVE_SD = 0.25  # a scale less sure than this (95 % interval wider than about +-50 %) is not a measurement


def body_chain_sw(positions: np.ndarray) -> float | None:
    """The batter's ankle -> knee -> hip -> shoulder chain at its longest (shoulder widths), as
    :func:`stature_calibration` measures it; None where a leg or the trunk is seen too rarely."""
    cal = stature_calibration(positions, 1.0, 0.0)
    return None if cal is None else cal["chain_sw"]


def implausible(cal: dict, chain: float | None) -> str | None:
    """Why a calibration cannot be a measurement, or None: its scale too unsure
    (``MAX_RELATIVE_SD``), or making the batter a stature no batter has (``STATURE_RANGE_M``,
    from ``chain``, the ankle -> shoulder chain at its longest in shoulder widths,
    :func:`body_chain_sw`, ``STATURE_SHARE`` of stature; None: not checked)."""
    if not math.isfinite(cal["m_per_shoulder_width"]) or cal["m_per_shoulder_width"] <= 0:
        return "no finite scale"
    if cal["relative_sd"] > MAX_RELATIVE_SD:
        return (f"its scale's relative SD is {cal['relative_sd']:.3g} (a 95 % interval of about "
                f"+-{100 * Z95 * cal['relative_sd']:.0f} %), more than {MAX_RELATIVE_SD} allows")
    if chain is not None:
        stature = chain * cal["m_per_shoulder_width"] / STATURE_SHARE
        lo, hi = STATURE_RANGE_M
        if not lo <= stature <= hi:
            return (f"it makes the batter {stature:.3g} m tall (ankle to shoulder at its longest is {STATURE_SHARE} "
                    f"of stature), outside {lo}-{hi} m")
    return None


def calibrate(positions: np.ndarray, units, shoulder_width_px: float) -> dict:
    """The clip's calibration by ``units.calibration`` (a :class:`corrkin.config.UnitsConfig`),
    or ``{"method", "unavailable": reason}``.

    Cross-checked against every other calibration the settings allow (the bat's always; the
    stature's where ``stature_m`` is given; the points' where ``points_px`` are): each in
    ``cross_check`` with the ratio of its scale to this one's and whether the two agree within
    their 95 % intervals (``|ln ratio| <= 1.96 x their relative SDs combined``). Where one does
    not, the disagreement is carried into this one's interval: ``relative_sd`` grows until the
    other's scale lies inside it (``relative_sd_alone`` keeps the calibration's own), and
    ``disagreement`` says so: the bat seen only foreshortened, a stature given wrong, points not
    at the batter's distance."""
    method = units.calibration
    cal, why = _one(method, positions, units, shoulder_width_px)
    chain = body_chain_sw(positions)  # once: every calibration is checked against it
    if cal is not None and (bad := implausible(cal, chain)) is not None:
        cal, why = None, f"the {cal['method']} calibration is not physical: {bad}"
    if cal is None:
        return {"method": method, "unavailable": why}
    others = ["bat"] + (["stature"] if units.stature_m is not None else []) + (
        ["points"] if units.points_px is not None else [])
    checks, widest = [], 0.0
    for other in others:
        if other == method:
            continue
        o, _ = _one(other, positions, units, shoulder_width_px)
        if o is None or implausible(o, chain) is not None:
            continue
        log_ratio = math.log(o["m_per_shoulder_width"] / cal["m_per_shoulder_width"])
        agrees = abs(log_ratio) <= Z95 * math.hypot(cal["relative_sd"], o["relative_sd"])
        checks.append({"method": o["method"], "m_per_shoulder_width": o["m_per_shoulder_width"],
                       "relative_sd": o["relative_sd"], "ratio": round(math.exp(log_ratio), 4), "agrees": agrees})
        if not agrees:
            widest = max(widest, abs(log_ratio) / Z95)
    if checks:
        cal["cross_check"] = checks
    if widest > cal["relative_sd"]:
        cal["relative_sd_alone"] = cal["relative_sd"]
        cal["relative_sd"] = round(widest, 4)
        cal["disagreement"] = ("the calibrations disagree beyond their intervals (" + ", ".join(
            f"{c['method']}: x{c['ratio']:.2f}" for c in checks if not c["agrees"]) + "): the interval is widened to "
            "hold them; check the bat was seen side-on, the stature, the points")
    return cal
