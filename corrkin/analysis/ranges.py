"""What a stroke's figures can be, from the literature: each metric's plausible range and its
source. A value outside is not reported as if it were a measurement of a stroke: it is flagged
(``plausibility`` in ``result.json``, ``out_of_range`` in ``metrics.csv``) and the block it
belongs to is not ``reliable``.

The ranges are wide on purpose: they say what no stroke does, not what a good one does.
Published means (front-foot drives of 14 provincial batters filmed at 100 Hz, Stretch, Buys,
Du Toit & Viljoen 1998, J. Sports Sci. 16: 711-724): stride started 0.58 s and the downswing
0.36 s before impact, the front foot placed 0.06 s before it, stride 0.68 m, peak horizontal
bat velocity 11.8 +- 4.6 m/s; power hitting is faster (McErlain-Naylor et al. 2021, J. Sports
Sci., doi:10.1080/02640414.2021.1934289).
"""

from __future__ import annotations

STRETCH = "Stretch et al. 1998"
# metric: (low, high, unit, why): a value outside is no stroke's
RANGES: dict[str, tuple[float, float, str, str]] = {
    "bat_toe_speed_m_s": (2.0, 50.0, "m/s", f"a drive's bat 11.8 +- 4.6 m/s ({STRETCH}); power hitting faster "
                                             "(McErlain-Naylor et al. 2021); no swing passes 50 m/s"),
    "bat_sweet_spot_speed_m_s": (2.0, 45.0, "m/s", "as the toe's, the sweet spot a little slower"),
    "hands_speed_m_s": (0.5, 20.0, "m/s", "the hands turn the bat from within a metre of its toe: a fifth to a half of "
                                          "its speed"),
    "stride_m": (0.1, 1.5, "m", f"a drive's stride 0.68 m, a forward defence's 0.72 m ({STRETCH})"),
    "start_of_downswing_ms": (-800.0, -100.0, "ms", f"the downswing starts 0.36-0.38 s before impact ({STRETCH})"),
    "front_foot_toe_off_ms": (-1500.0, -150.0, "ms", f"the stride starts 0.58-0.64 s before impact ({STRETCH})"),
    "front_foot_contact_ms": (-600.0, 50.0, "ms", f"the front foot is placed 0.06-0.14 s before impact ({STRETCH})"),
}


def _values(record: dict) -> dict[str, float]:
    """The ranged metrics' values in a clip's ``result.json`` record (those it has)."""
    bat, units = record.get("bat") or {}, record.get("real_units") or {}
    events = (record.get("events") or {}).get("events") or {}
    found = {"bat_toe_speed_m_s": bat.get("peak_speed_m_s"), "bat_sweet_spot_speed_m_s": bat.get("sweet_spot_speed_m_s"),
             "hands_speed_m_s": (units.get("hands_peak_speed") or {}).get("m_s"),
             "stride_m": (units.get("stride") or {}).get("m")}
    for e in ("start_of_downswing", "front_foot_toe_off", "front_foot_contact"):
        found[f"{e}_ms"] = (events.get(e) or {}).get("time_ms")
    return {k: float(v) for k, v in found.items() if v is not None}


def flag_out_of_range(record: dict) -> dict:
    """``record`` with ``plausibility``: ``{"out_of_range": [{"metric", "value", "low", "high",
    "unit", "why"}], "checked": [metrics]}``; an event outside its range also makes the events
    not ``reliable`` (with the reason), and a bat speed outside its range is listed in
    ``bat.speed_flags``."""
    out = []
    values = _values(record)
    for metric, value in values.items():
        lo, hi, unit, why = RANGES[metric]
        if not lo <= value <= hi:
            out.append({"metric": metric, "value": round(value, 3), "low": lo, "high": hi, "unit": unit, "why": why})
    record["plausibility"] = {"out_of_range": out, "checked": sorted(values)}
    ev = record.get("events")
    for o in out:
        text = f"{o['metric']} = {o['value']:g} {o['unit']}, outside {o['low']:g} to {o['high']:g} ({o['why']})"
        if o["metric"].endswith("_ms") and ev is not None:
            ev["reliable"] = False
            ev["reasons"].append(text)
        elif o["metric"].startswith("bat_"):
            record["bat"].setdefault("speed_flags", []).append(text)
    return record
