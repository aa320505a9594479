"""One row per swing: the figures a coach sorts and compares (``metrics.csv`` / ``.parquet``).

Built from a clip's ``result.json`` alone (:func:`metrics_row`), so any output folder's table
can be made again from its results. The columns, their units and how each is computed are in
:data:`COLUMNS` (the docs' data dictionary, docs/metrics.md, is made from it).
"""

from __future__ import annotations

from corrkin.analysis.biomech import LINES, MEASURED, SEGMENTS
from corrkin.analysis.events import EVENTS, HOW, out_of_order

# name: (unit, how it is computed)
COLUMNS: dict[str, tuple[str, str]] = {
    "clip": ("", "the clip's name"),
    "batter": ("", "from the library manifest (empty elsewhere)"),
    "shot": ("", "from the library manifest (empty elsewhere)"),
    "fps": ("frames/s", "the clip's frame rate"),
    "frames": ("frames", "the clip's length"),
    "reliable": ("", "the clip's quality verdict (result.json quality.reliable)"),
    "quality_reasons": ("", "why not, '|'-separated"),
    "camera_view": ("", "square | oblique | along the pitch (behind the bowler or the keeper): from the hips' width "
                        "over the trunk's length; along the pitch the swing-plane figures (bat, hands, stride, lead "
                        "arm) are withheld"),
    "bat_found": ("", "the bat was seen through the swing (else no bat figure is given)"),
    "bat_peak_speed_sw_s": ("shoulder widths/s", "the bat tip's speed about the pelvis at the swing's peak (the frame of the "
                                                 "tip's greatest speed about the hands), in median shoulder widths"),
    "reference_event": ("", "what every *_ms time is measured from: ball_contact where given (impact_s: a manifest's, "
                            "or impacts=), else bat_peak_speed (the bat tip's peak speed, some 20 ms before the ball's "
                            "contact in a drive: Stretch et al. 1998), else swing_peak (no bat seen)"),
    "reference_clip_ms": ("ms", "the reference event's time from the clip's start"),
    "bat_toe_speed_m_s": ("m/s", "peak speed of the bat's toe (its tip) about the pelvis, in the image plane, from the "
                                 "tip's own derivative (order-5 Savitzky-Golay over the shortest window its noise "
                                 "allows, 0.1 s at most); metres by the calibration"),
    "bat_toe_speed_m_s_low": ("m/s", "its 95 % interval, low end (calibration and noise)"),
    "bat_toe_speed_m_s_high": ("m/s", "its 95 % interval, high end"),
    "bat_toe_speed_km_h": ("km/h", "bat_toe_speed_m_s x 3.6"),
    "bat_sweet_spot_speed_m_s": ("m/s", "peak speed of the bat's sweet spot, units.sweet_spot_from_toe_m (0.15 m: the "
                                        "bat's fundamental vibration node) up from the toe, as the toe's"),
    "bat_sweet_spot_speed_m_s_low": ("m/s", "its 95 % interval, low end"),
    "bat_sweet_spot_speed_m_s_high": ("m/s", "its 95 % interval, high end"),
    "bat_speed_noisy": ("", "the tip speed's noise passes 10 % of its peak (e.g. broadcast keypoints at 25 fps)"),
    **{f"{s}_peak_deg_s": ("deg/s", f"peak angular speed of the {s.replace('_', ' ')} in the image (Savitzky-Golay derivative, Gaussian-interpolated peak)"
                           if s in MEASURED else f"peak axial angular speed of the {s}: empty, one camera cannot measure it "
                           "(sequence_reasons says why)")
       for s in SEGMENTS},
    **{f"{s}_peak_ms": ("ms", f"time of the {s.replace('_', ' ')}'s peak from the reference event (negative: before)"
                        + ("" if s in MEASURED else "; empty, as above"))
       for s in SEGMENTS},
    **{f"{line}_tilt_peak_deg_s": ("deg/s", f"peak angular speed of the {line.replace('_', ' ')} on screen: its tilt, not "
                                            f"the {s}'s axial turn")
       for s, line in LINES.items()},
    **{f"{e}_ms": ("ms", f"{e.replace('_', ' ')}: {HOW[e]}; from the reference event, negative before")
       for e in EVENTS},
    "events_reliable": ("", "every event found, in a stroke's order, each with a 95 % interval within +-1.5 frames or "
                            "+-15 ms, whichever is longer (an event that tight was more than 3 frames off in under 5 % "
                            "of strokes built in 3-D and filmed: benchmarks/biomech.py)"),
    "events_reasons": ("", "events not found or out of order and why, '|'-separated"),
    "calibration": ("", "how metres were found: bat length | stature | known points (analysis.units.calibration)"),
    "m_per_shoulder_width": ("m", "the calibration's scale"),
    "calibration_relative_sd": ("", "its relative standard deviation (widened where another calibration the settings "
                                    "allow disagrees beyond both intervals)"),
    "calibration_disagreement": ("", "which other calibration disagrees, and by what ratio"),
    "calibration_unavailable": ("", "why there is no calibration (and so no figure in metres): too few frames, or a "
                                    "scale no batter can have (its relative SD above 0.25, or a stature outside "
                                    "0.6-4.0 m from the ankle-to-shoulder chain, 0.779 of stature, Winter 2009)"),
    "stride_m": ("m", "the lead ankle's move relative to the back ankle, from 0.1 s before front-foot toe-off to "
                      "0.1 s after its contact, in the image plane"),
    "stride_m_low": ("m", "its 95 % interval, low end (calibration)"),
    "stride_m_high": ("m", "its 95 % interval, high end"),
    "stride_sw": ("shoulder widths", "the stride in shoulder widths"),
    "backlift_height_m": ("m", "the bat tip's greatest height above the hips' centre before its peak speed, in the "
                               "image plane"),
    "hands_speed_m_s": ("m/s", "peak speed of the hands (wrists' midpoint) relative to the hips in the swing window"),
    "hands_speed_m_s_low": ("m/s", "its 95 % interval, low end (calibration and noise)"),
    "hands_speed_m_s_high": ("m/s", "its 95 % interval, high end"),
    "hands_speed_km_h": ("km/h", "hands_speed_m_s x 3.6"),
    "x_factor_top_deg": ("deg", "the trunk's axial turn less the pelvis's at the top of the backlift: empty, one camera "
                                "cannot measure it (x_factor_reason)"),
    "x_factor_max_deg": ("deg", "the same at its largest magnitude: empty, as above"),
    "x_factor_reason": ("", "why the X-factor is withheld"),
    "sequence_order": ("", "the measured segments (lead arm, bat) in the order of their peaks, '>'-separated"),
    "proximal_to_distal": ("", "the lead arm peaks before the bat"),
    "gap_pelvis_trunk_ms": ("ms", "trunk peak time minus pelvis peak time"),
    "gap_trunk_lead_arm_ms": ("ms", "lead-arm peak time minus trunk peak time"),
    "gap_lead_arm_bat_ms": ("ms", "bat peak time minus lead-arm peak time"),
    "gain_trunk_pelvis": ("ratio", "trunk peak speed over pelvis peak speed"),
    "gain_lead_arm_trunk": ("ratio", "lead-arm peak speed over trunk peak speed"),
    "gain_bat_lead_arm": ("ratio", "bat peak speed over lead-arm peak speed"),
    "sequence_reliable": ("", "the lead arm's and the bat's peaks inside the swing window, neither seen end-on (the "
                              "pelvis and trunk are withheld, not covered)"),
    "sequence_reasons": ("", "why not, '|'-separated"),
    "out_of_range": ("", "figures outside what the literature says a stroke can be (corrkin.analysis.ranges: bat and "
                         "hand speeds, stride, the downswing's start, the front foot's toe-off and contact), each with "
                         "its range and source, '|'-separated; empty where every one checked is within"),
    "path": ("", "the maximum-weight correlation path, '>'-separated"),
    "path_weight": ("", "its summed edge weights"),
    "untrusted": ("", "values measured but not trusted, left out of their columns so that no mean or sort takes "
                      "them: 'column value: why', '|'-separated (outside the literature's range; events out of a "
                      "stroke's order; a kinematic sequence not reliable); result.json keeps them"),
}


# measured against strokes built in 3-D and filmed side-on (python benchmarks/biomech.py, seed 2,
# 40 strokes a cell): median |error| at 50-120 fps clean, then with every pose error, then at 25 fps
_EV = "median |error| vs its 3-D definition: {clean} ms at 50-120 fps, {noisy} ms with pose errors, {slow} ms at 25 fps"
TOLERANCE: dict[str, str] = {
    "start_of_backlift_ms": _EV.format(clean="2-4", noisy="11-14", slow="10-18"),
    "front_foot_toe_off_ms": _EV.format(clean="2-4", noisy="23-26", slow="4-26"),
    "top_of_backlift_ms": _EV.format(clean="5-10", noisy="12-16", slow="11-13"),
    "start_of_downswing_ms": _EV.format(clean="5-10", noisy="12-16", slow="11-13"),
    "front_foot_contact_ms": _EV.format(clean="3-4", noisy="15-16", slow="5-31"),
    "bat_peak_speed_ms": _EV.format(clean="4-5", noisy="5", slow="16-17"),
    "end_of_follow_through_ms": _EV.format(clean="6-8", noisy="10", slow="10-17"),
    "lead_arm_peak_ms": "median |error| vs the 3-D angular speed's peak: 6-7 ms at 50-120 fps, 21-23 ms with pose "
                        "errors, 22-40 ms at 25 fps",
    "bat_peak_ms": "median |error| vs the 3-D angular speed's peak: 6 ms at 50-120 fps, 6-8 ms with pose errors, "
                   "14-15 ms at 25 fps",
    "gap_lead_arm_bat_ms": "median error (bias) vs 3-D: -5 ms at 50-120 fps, -14 to -15 with pose errors, -24 to "
                           "-45 at 25 fps",
    "bat_toe_speed_m_s": "median error vs the toe's 3-D speed: -5 to -7 % at 50-120 fps, pose errors or not (the image "
                         "plane), -20 to -24 % at 25 fps; oblique views -14 to -17 %",
    "bat_sweet_spot_speed_m_s": "median error vs the sweet spot's 3-D speed: -5 to -7 % at 50-120 fps, -19 to -23 % at "
                                "25 fps",
    "stride_m": "median error vs the 3-D stride: -2 to -6 % side-on; -21 to -34 % from oblique views (the image plane)",
    "proximal_to_distal": "where sequence_reliable: the true 3-D order in every filmed stroke (25-120 fps, pose errors "
                          "included)",
}


def _r(x, nd=3):
    return None if x is None else round(float(x), nd)


# a value's companions: its interval's ends and its other units go where it goes
COMPANIONS = {"bat_toe_speed_m_s": ("bat_toe_speed_m_s_low", "bat_toe_speed_m_s_high", "bat_toe_speed_km_h"),
              "bat_sweet_spot_speed_m_s": ("bat_sweet_spot_speed_m_s_low", "bat_sweet_spot_speed_m_s_high"),
              "hands_speed_m_s": ("hands_speed_m_s_low", "hands_speed_m_s_high", "hands_speed_km_h"),
              "stride_m": ("stride_m_low", "stride_m_high", "stride_sw")}
SEQUENCE_VALUES = ("lead_arm_peak_deg_s", "bat_peak_deg_s", "lead_arm_peak_ms", "bat_peak_ms", "sequence_order",
                   "proximal_to_distal", "gap_lead_arm_bat_ms", "gain_bat_lead_arm")


def untrusted_values(rec: dict, row: dict) -> dict[str, str]:
    """``{column: why}`` for the values of ``row`` (``rec``'s metrics row, as measured) that may
    be wrong, not merely imprecise: outside the literature's range (:mod:`corrkin.analysis.ranges`);
    every event where they are out of a stroke's order; the sequence's values where it is not
    reliable (a peak seen end-on, outside the downswing, or away from the tip's). Companions
    (:data:`COMPANIONS`) follow their value. An event whose interval is merely wide stays (its
    ``trusted`` flag in result.json says so)."""
    why: dict[str, str] = {}
    ev = rec.get("events") or {}
    found = ev.get("events") or {}
    disordered = out_of_order(found)
    if disordered:  # which of them is wrong is not known: none is kept
        why |= {f"{e}_ms": disordered[0] for e in EVENTS if found.get(e) is not None}
    ks = rec.get("kinematic_sequence") or {}
    if not ks.get("reliable", False):
        reasons = "; ".join(ks.get("reasons", [])) or "not reliable"
        why |= {c: f"sequence not trusted: {reasons}" for c in SEQUENCE_VALUES}
    for o in (rec.get("plausibility") or {}).get("out_of_range", []):
        why[o["metric"]] = f"outside {o['low']:g} to {o['high']:g} {o['unit']} ({o['why']})"
    for col, also in COMPANIONS.items():
        if col in why:
            why |= {c: why[col] for c in also}
    return {c: w for c, w in why.items() if row.get(c) not in (None, "")}


def metrics_row(rec: dict, batter: str = "", shot: str = "") -> dict:
    """The metrics row of one ``result.json`` record (empty cells where a figure is absent).
    A value not to be trusted (:func:`untrusted_values`) is moved out of its column into
    ``untrusted``, with why, so that a table's means and sorts never take it (the report reads
    :func:`measured_row` and greys it in its column instead)."""
    row = measured_row(rec, batter, shot)
    why = untrusted_values(rec, row)
    row["untrusted"] = " | ".join(f"{c} {row[c]:g}: {w}" if isinstance(row[c], float) else f"{c} {row[c]}: {w}"
                                  for c, w in why.items() if c not in _COMPANION_OF)
    return row | {c: None for c in why}


_COMPANION_OF = {c for also in COMPANIONS.values() for c in also}


def measured_row(rec: dict, batter: str = "", shot: str = "") -> dict:
    """Every column of :func:`metrics_row` as measured, trusted or not."""
    ks = rec.get("kinematic_sequence") or {}
    seg = ks.get("segments") or {}
    lines = ks.get("lines_in_image") or {}
    fps = rec["fps"]
    ev = rec.get("events") or {}
    found = ev.get("events") or {}
    reference = ev.get("reference", "swing_peak")
    at = found.get(reference)
    impact = at["clip_ms"] if at else rec["bat"]["peak_frame"] * 1000.0 / fps
    row = {
        "clip": rec["clip"], "batter": batter or rec.get("batter", ""), "shot": shot or rec.get("shot", ""),
        "fps": fps, "frames": rec["frames"], "reliable": rec["quality"]["reliable"],
        "quality_reasons": " | ".join(rec["quality"]["reasons"]),
        "camera_view": (rec.get("camera_view") or {}).get("estimate") or "", "bat_found": rec["bat"]["found"],
        "bat_peak_speed_sw_s": _r(rec["bat"]["peak_speed"], 4), "reference_event": reference,
        "reference_clip_ms": round(impact, 3),
    }
    row |= _bat_columns(rec["bat"])
    for s in SEGMENTS:
        v = seg.get(s)
        row[f"{s}_peak_deg_s"] = _r(abs(v["speed_deg_s"]) if v else None, 1)
        row[f"{s}_peak_ms"] = _r(v["time_ms"] - impact if v else None, 1)
    for line in LINES.values():
        v = lines.get(line)
        row[f"{line}_tilt_peak_deg_s"] = _r(abs(v["speed_deg_s"]) if v else None, 1)
    for e in EVENTS:
        row[f"{e}_ms"] = _r((found.get(e) or {}).get("time_ms"), 1)
    row["events_reliable"] = ev.get("reliable", False)
    row["events_reasons"] = " | ".join(ev.get("reasons", []))
    row |= _unit_columns(rec, ev)
    row |= _sequence_columns(ks, rec)
    return row


def _bat_columns(bat: dict) -> dict:
    """The bat's speeds in m/s and km/h with their intervals, at the toe and the sweet spot."""
    ci = bat.get("peak_speed_m_s_ci") or [None, None]
    ss = bat.get("sweet_spot_speed_m_s_ci") or [None, None]
    return {"bat_toe_speed_m_s": _r(bat.get("peak_speed_m_s")), "bat_toe_speed_m_s_low": _r(ci[0]),
            "bat_toe_speed_m_s_high": _r(ci[1]), "bat_toe_speed_km_h": _r(bat.get("peak_speed_km_h"), 2),
            "bat_sweet_spot_speed_m_s": _r(bat.get("sweet_spot_speed_m_s")),
            "bat_sweet_spot_speed_m_s_low": _r(ss[0]), "bat_sweet_spot_speed_m_s_high": _r(ss[1]),
            "bat_speed_noisy": (bat.get("tip_peak") or {}).get("noisy")}


def _unit_columns(rec: dict, ev: dict) -> dict:
    """The calibration, stride, backlift height, hands' speed and X-factor columns."""
    cal = rec.get("calibration") or {}
    units = rec.get("real_units") or {}
    stride, lift, hands = units.get("stride") or {}, units.get("backlift_height") or {}, units.get("hands_peak_speed") or {}
    xf = ev.get("x_factor") or {}
    return {"calibration": cal.get("method", ""), "m_per_shoulder_width": _r(cal.get("m_per_shoulder_width"), 5),
            "calibration_relative_sd": _r(cal.get("relative_sd"), 4),
            "calibration_disagreement": cal.get("disagreement", ""), "calibration_unavailable": cal.get("unavailable", ""), "stride_m": _r(stride.get("m")),
            "stride_m_low": _r((stride.get("m_ci") or [None])[0]), "stride_m_high": _r((stride.get("m_ci") or [None, None])[1]),
            "stride_sw": _r(ev.get("stride_sw")), "backlift_height_m": _r(lift.get("m")),
            "hands_speed_m_s": _r(hands.get("m_s")), "hands_speed_m_s_low": _r((hands.get("m_s_ci") or [None])[0]),
            "hands_speed_m_s_high": _r((hands.get("m_s_ci") or [None, None])[1]), "hands_speed_km_h": _r(hands.get("km_h"), 2),
            "x_factor_top_deg": _r(xf.get("at_top_of_backlift_deg"), 1), "x_factor_max_deg": _r(xf.get("max_deg"), 1),
            "x_factor_reason": xf.get("withheld", "")}


def _sequence_columns(ks: dict, rec: dict) -> dict:
    """The kinematic sequence's order, gaps, gains and verdict, what was out of range, and the path."""
    gaps, gains = ks.get("gaps_ms", {}), ks.get("gains", {})
    return {
        "sequence_order": " > ".join(ks.get("order", [])), "proximal_to_distal": ks.get("proximal_to_distal", ""),
        "gap_pelvis_trunk_ms": _r(gaps.get("pelvis->trunk"), 1), "gap_trunk_lead_arm_ms": _r(gaps.get("trunk->lead_arm"), 1),
        "gap_lead_arm_bat_ms": _r(gaps.get("lead_arm->bat"), 1), "gain_trunk_pelvis": _r(gains.get("trunk/pelvis")),
        "gain_lead_arm_trunk": _r(gains.get("lead_arm/trunk")), "gain_bat_lead_arm": _r(gains.get("bat/lead_arm")),
        "sequence_reliable": ks.get("reliable", False), "sequence_reasons": " | ".join(ks.get("reasons", [ks.get("note", "")])
                                        + [f"{k}: {v}" for k, v in (ks.get("withheld") or {}).items()]),
        "out_of_range": " | ".join(f"{o['metric']} {o['value']:g} {o['unit']} outside {o['low']:g} to {o['high']:g} "
                                   f"({o['why']})" for o in (rec.get("plausibility") or {}).get("out_of_range", [])),
        "path": " > ".join(rec["path"]), "path_weight": rec["path_weight"],
    }


def dictionary_markdown() -> str:
    """The data dictionary (docs/metrics.md): a Markdown table of :data:`COLUMNS` and, where measured,
    each column's tolerance (:data:`TOLERANCE`; a test holds the page to it)."""
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| column | unit | how it is computed | tolerance (measured) |", "|---|---|---|---|"]
    lines += [f"| `{name}` | {cell(unit)} | {cell(how)} | {cell(TOLERANCE.get(name, ''))} |"
              for name, (unit, how) in COLUMNS.items()]
    return "\n".join(lines)
