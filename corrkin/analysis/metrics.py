"""One row per swing: the figures a coach sorts and compares (``metrics.csv`` / ``.parquet``).

Built from a clip's ``result.json`` alone (:func:`metrics_row`), so any output folder's table
can be made again from its results. The columns, their units and how each is computed are in
:data:`COLUMNS` (the README's data dictionary is made from it).
"""

from __future__ import annotations

from corrkin.analysis.biomech import SEGMENTS

# name: (unit, how it is computed)
COLUMNS: dict[str, tuple[str, str]] = {
    "clip": ("", "the clip's name"),
    "batter": ("", "from the library manifest (empty elsewhere)"),
    "shot": ("", "from the library manifest (empty elsewhere)"),
    "fps": ("frames/s", "the clip's frame rate"),
    "frames": ("frames", "the clip's length"),
    "reliable": ("", "the clip's quality verdict (result.json quality.reliable)"),
    "quality_reasons": ("", "why not, '|'-separated"),
    "bat_found": ("", "the bat was seen through the swing (else no bat figure is given)"),
    "bat_peak_speed_sw_s": ("shoulder widths/s", "peak speed of the bat tip, pelvis-centred and scaled by the median shoulder width"),
    "impact_ms": ("ms", "time of the peak bat speed from the clip's start: the reference of every *_to_impact_ms"),
    "bat_speed_m_s": ("m/s", "peak bat-tip speed from the tip's own derivative (order-5 Savitzky-Golay over 0.1 s), "
                              "pelvis-centred, metres from the bat's length (units.bat_length_m over the longest bat seen)"),
    "bat_speed_m_s_low": ("m/s", "its 95 % interval, low end (calibration and noise)"),
    "bat_speed_m_s_high": ("m/s", "its 95 % interval, high end"),
    "bat_speed_km_h": ("km/h", "bat_speed_m_s x 3.6"),
    "bat_speed_noisy": ("", "the tip speed's noise passes 10 % of its peak (e.g. broadcast keypoints at 25 fps)"),
    **{f"{s}_peak_deg_s": ("deg/s", f"peak angular speed of the {s.replace('_', ' ')} in the image (Savitzky-Golay derivative, Gaussian-interpolated peak)")
       for s in SEGMENTS},
    **{f"{s}_peak_to_impact_ms": ("ms", f"time of the {s.replace('_', ' ')}'s peak relative to impact (negative: before)")
       for s in SEGMENTS},
    **{f"{s}_vertical_peak_deg_s": ("deg/s", f"peak speed of the {s} line's turn about the vertical, from its foreshortening (sign unknown)")
       for s in ("pelvis", "trunk")},
    "sequence_order": ("", "segments in the order of their in-image peaks, '>'-separated"),
    "proximal_to_distal": ("", "the order is pelvis > trunk > lead arm > bat"),
    "gap_pelvis_trunk_ms": ("ms", "trunk peak time minus pelvis peak time"),
    "gap_trunk_lead_arm_ms": ("ms", "lead-arm peak time minus trunk peak time"),
    "gap_lead_arm_bat_ms": ("ms", "bat peak time minus lead-arm peak time"),
    "gain_trunk_pelvis": ("ratio", "trunk peak speed over pelvis peak speed"),
    "gain_lead_arm_trunk": ("ratio", "lead-arm peak speed over trunk peak speed"),
    "gain_bat_lead_arm": ("ratio", "bat peak speed over lead-arm peak speed"),
    "sequence_reliable": ("", "every segment's peak inside the swing window and its line not seen end-on"),
    "sequence_reasons": ("", "why not, '|'-separated"),
    "path": ("", "the maximum-weight correlation path, '>'-separated"),
    "path_weight": ("", "its summed edge weights"),
}


def _r(x, nd=3):
    return None if x is None else round(float(x), nd)


def metrics_row(rec: dict, batter: str = "", shot: str = "") -> dict:
    """The metrics row of one ``result.json`` record (empty cells where a figure is absent)."""
    ks = rec.get("kinematic_sequence") or {}
    seg = ks.get("segments") or {}
    vert = ks.get("about_vertical") or {}
    fps = rec["fps"]
    impact = rec["bat"]["peak_frame"] * 1000.0 / fps
    row = {
        "clip": rec["clip"], "batter": batter or rec.get("batter", ""), "shot": shot or rec.get("shot", ""),
        "fps": fps, "frames": rec["frames"], "reliable": rec["quality"]["reliable"],
        "quality_reasons": " | ".join(rec["quality"]["reasons"]), "bat_found": rec["bat"]["found"],
        "bat_peak_speed_sw_s": _r(rec["bat"]["peak_speed"], 4), "impact_ms": round(impact, 3),
    }
    ci = rec["bat"].get("peak_speed_m_s_ci") or [None, None]
    row |= {"bat_speed_m_s": _r(rec["bat"].get("peak_speed_m_s")), "bat_speed_m_s_low": _r(ci[0]),
            "bat_speed_m_s_high": _r(ci[1]), "bat_speed_km_h": _r(rec["bat"].get("peak_speed_km_h"), 2),
            "bat_speed_noisy": (rec["bat"].get("tip_peak") or {}).get("noisy")}
    for s in SEGMENTS:
        v = seg.get(s)
        row[f"{s}_peak_deg_s"] = _r(abs(v["speed_deg_s"]) if v else None, 1)
        row[f"{s}_peak_to_impact_ms"] = _r(v["time_ms"] - impact if v else None, 1)
    for s in ("pelvis", "trunk"):
        v = vert.get(s)
        row[f"{s}_vertical_peak_deg_s"] = _r(v["speed_deg_s"] if v else None, 1)
    gaps, gains = ks.get("gaps_ms", {}), ks.get("gains", {})
    row |= {
        "sequence_order": " > ".join(ks.get("order", [])), "proximal_to_distal": ks.get("proximal_to_distal", ""),
        "gap_pelvis_trunk_ms": _r(gaps.get("pelvis->trunk"), 1), "gap_trunk_lead_arm_ms": _r(gaps.get("trunk->lead_arm"), 1),
        "gap_lead_arm_bat_ms": _r(gaps.get("lead_arm->bat"), 1), "gain_trunk_pelvis": _r(gains.get("trunk/pelvis")),
        "gain_lead_arm_trunk": _r(gains.get("lead_arm/trunk")), "gain_bat_lead_arm": _r(gains.get("bat/lead_arm")),
        "sequence_reliable": ks.get("reliable", False), "sequence_reasons": " | ".join(ks.get("reasons", [ks.get("note", "")])),
        "path": " > ".join(rec["path"]), "path_weight": rec["path_weight"],
    }
    return row
