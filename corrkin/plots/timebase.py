"""The moment every picture counts time from, so a figure, a video and the metrics agree.

It is the stroke's reference event of the record's ``events`` block: the ball's contact where
an impact time was given (``impacts=``), else the bat tip's peak speed (some 20 ms before the
ball's contact in a drive); a record without events falls back to ``bat.peak_ms``, and one
with neither counts from the clip's start, and says so. The figures' axes and the skeleton
videos' captions say "from impact" and name which of the two it is.
No matplotlib here: the video renderer imports it too.
"""

from __future__ import annotations

IMPACT_NAMES = {"ball_contact": "ball contact", "bat_peak_speed": "bat peak speed", "swing_peak": "swing peak"}


def impact_ms(record: dict | None) -> tuple[float, str] | None:
    """``(ms into the clip, what it is)`` of ``record``'s impact: its events' reference where
    that event was found, else the bat's peak speed (``bat.peak_ms``); None without either."""
    ev = (record or {}).get("events") or {}
    reference = ev.get("reference", "bat_peak_speed")
    found = (ev.get("events") or {}).get(reference)
    if found:
        return float(found["clip_ms"]), IMPACT_NAMES.get(reference, reference.replace("_", " "))
    peak = ((record or {}).get("bat") or {}).get("peak_ms")
    return None if peak is None else (float(peak), IMPACT_NAMES["bat_peak_speed"])


def time_zero(record: dict | None, what: str = "time") -> tuple[float, str]:
    """``(ms into the clip that is 0, axis title)``: ``record``'s impact, e.g. ``time from impact
    (bat peak speed), ms``, or the clip's start, ``time from the clip's start, ms``."""
    impact = impact_ms(record)
    if impact is None:
        return 0.0, f"{what} from the clip's start, ms"
    return impact[0], f"{what} from impact ({impact[1]}), ms"
