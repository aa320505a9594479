"""The kinematic-sequence figure of one clip.

Top: each measured segment's angular speed in the image (lead arm, bat; deg/s, magnitude; the
pelvis and trunk are withheld from one camera, and the subtitle says so) against time from
impact (:mod:`corrkin.plots.timebase`: the ball's contact where given, else the bat's peak
speed), its peak marked and given in the legend with its time, the impact's line. A segment the
record flags (seen end-on, no peak inside the downswing) is drawn faint and dashed and does not
set the scale: the y-axis fits the trusted curves, and an untrusted one above it is clipped
(its legend says so, a triangle marks its peak at the top). Below: the stroke's events on the
same time axis, each with its 95 % interval, their labels in as many rows as keep them apart.
The title says the order of the peaks; the subtitle whether the sequence and the events can be
trusted (and why not).
"""

from __future__ import annotations

import os

import numpy as np

from corrkin.analysis.biomech import SEGMENTS, hampel_positions, segment_speeds
from corrkin.analysis.events import EVENTS
from corrkin.analysis.signal import derivative_window
from corrkin.plots.layout import assign_rows, figure, save, wrapped
from corrkin.plots.timebase import time_zero

COLOURS = {"pelvis": "#1b9e77", "trunk": "#d95f02", "lead_arm": "#7570b3", "bat": "#e7298a"}
HEADROOM = 1.15  # the y-axis' top over the largest trusted speed shown


def plot_kinematic_sequence(record: dict, positions: np.ndarray, path: str | os.PathLike) -> None:
    """Draw the kinematic sequence and the events of ``record`` (a ``result.json`` dict with
    its ``kinematic_sequence`` and ``events``) from ``positions (T, nodes, 2)`` to ``path`` (PNG)."""
    save(kinematics_figure(record, positions), path)


def kinematics_figure(record: dict, positions: np.ndarray):
    """The figure :func:`plot_kinematic_sequence` saves (a matplotlib ``Figure``; close it)."""
    events = (record.get("events") or {}).get("events") or {}
    zero, time_title = time_zero(record)
    fig = figure(11.0, 7.4)
    ax, line = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1.45]})
    t_ms = np.arange(len(positions)) * 1000.0 / record["fps"] - zero
    x0, x1 = _span(events, float(t_ms[0]), float(t_ms[-1]))
    line.set_xlim(x0, x1)
    curves = _curves(ax, record, positions, t_ms, zero)
    _y_scale(ax, curves, t_ms, x0, x1)
    for a in (ax, line):
        a.axvline(0.0, color="0.2", lw=1, ls="--")
    ax.set_ylabel("angular speed in the image, deg/s")
    ax.grid(color="0.93")
    if curves:
        ax.legend(loc="best", fontsize=8.5, framealpha=0.92, edgecolor="0.8")
    fig.suptitle(_head(record), fontsize=12, x=0.01, ha="left")
    ax.set_title(_subtitle(record), loc="left", fontsize=8.5, color="0.25")
    line.set_xlabel(time_title)
    _events(line, events)
    return fig


def _curves(ax, record: dict, positions: np.ndarray, t_ms: np.ndarray, zero: float) -> list[dict]:
    """Draw each measured segment's speed, peak and interval; per curve ``{"line", "speed"
    (|deg/s| per frame), "peak_t", "peak_v", "trusted"}``."""
    ks = record["kinematic_sequence"]
    names = [s for s in SEGMENTS if (ks.get("segments") or {}).get(s)]
    if not names:
        withheld = [n.replace("_", " ") for n in SEGMENTS if n in (ks.get("withheld") or {})]
        note = ks.get("note") or "no segment measured" + (f": {', '.join(withheld)} withheld (see above)" if withheld else "")
        ax.text(0.5, 0.5, wrapped(note, 90), transform=ax.transAxes, ha="center", va="center", color="0.35")
        ax.set_yticks([])
        return []
    fps = record["fps"]
    lead = "l" if record["bat"]["top_hand"].startswith("l_") else "r"
    positions = np.asarray(positions, np.float64)
    if ks.get("mended_with"):  # the glitches the peaks were read without
        positions = hampel_positions(positions, **ks["mended_with"])[0]
    out = []
    for name in names:  # each over the window its peak was read with
        seg = ks["segments"][name]
        window = seg.get("window_frames") or derivative_window(fps, record["smoothing_window_frames"])
        speed = np.abs(segment_speeds(positions, fps, int(window), lead, [name])[0][0])
        trusted = not seg.get("flags") and name not in (ks.get("withheld") or {})
        colour, peak_t, peak_v = COLOURS[name], seg["time_ms"] - zero, abs(seg["speed_deg_s"])
        label = f"{name.replace('_', ' ')}: peak {peak_v:.0f} deg/s at {peak_t:+.0f} ms"
        line, = ax.plot(t_ms, speed, color=colour, lw=1.8 if trusted else 1.3, ls="-" if trusted else "--",
                        alpha=1.0 if trusted else 0.6, label=label if trusted else label + " (not trusted)")
        ax.plot([peak_t], [peak_v], "o", color=colour, ms=6, mec=colour, mfc=colour if trusted else "white")
        if seg.get("time_ci_ms"):
            lo, hi = (x - zero for x in seg["time_ci_ms"])
            ax.plot([lo, hi], [peak_v] * 2, color=colour, lw=3, alpha=0.35)
        out.append({"line": line, "speed": speed, "peak_t": peak_t, "peak_v": peak_v, "trusted": trusted})
    return out


def _y_scale(ax, curves: list[dict], t_ms: np.ndarray, x0: float, x1: float) -> None:
    """The y-axis from the trusted curves within ``[x0, x1]`` (all curves where none is
    trusted); an untrusted curve above it is clipped, its legend entry says so and a triangle
    at the top marks its peak."""
    if not curves:
        return
    shown = (t_ms >= x0) & (t_ms <= x1)
    highest = {id(c): max(float(np.nanmax(c["speed"][shown], initial=0.0)), c["peak_v"]) for c in curves}
    basis = [c for c in curves if c["trusted"]] or curves
    top = max(1.0, HEADROOM * max(highest[id(c)] for c in basis))
    ax.set_ylim(-0.03 * top, top)
    for c in curves:
        if highest[id(c)] <= top:
            continue
        c["line"].set_label(c["line"].get_label() + ", clipped at the top")
        if c["peak_v"] > top and x0 <= c["peak_t"] <= x1:
            ax.plot([c["peak_t"]], [top], "^", color=c["line"].get_color(), ms=8, clip_on=False, zorder=4)


def _events(ax, events: dict) -> None:
    """One mark per event found at its time, a bar for its interval and its name, in rows that
    keep every label (and interval) clear of the others; the events not found above."""
    found = [e for e in EVENTS if events.get(e)]
    fig = ax.figure
    marks = []
    for e in found:
        v = events[e]
        dot, = ax.plot([v["time_ms"]], [0], "s", color="0.2", ms=4)
        bar = ax.plot(v["ci_ms"], [0, 0], color="0.2", lw=2.5, alpha=0.4)[0] if v.get("ci_ms") else None
        ends = (min(v["ci_ms"][0], v["time_ms"]), max(v["ci_ms"][1], v["time_ms"])) if bar else (v["time_ms"],) * 2
        text = ax.annotate(f"{e.replace('_', ' ')} {v['time_ms']:+.0f} ms", (ends[1], 0), xytext=(6, 0),
                           textcoords="offset points", fontsize=8.5, va="center", ha="left")
        marks.append((ends, dot, bar, text))
    ax.set_yticks([])
    missing = [e.replace("_", " ") for e in EVENTS if not events.get(e)]
    ax.set_title(wrapped("stroke events" + (f" (not found: {', '.join(missing)})" if missing else ""), 160),
                 loc="left", fontsize=8.5, color="0.35")
    if not marks:
        ax.set_ylim(0.5, -0.5)
        return
    fig.draw_without_rendering()  # the layout, so the labels' widths in pixels are final
    renderer = fig.canvas.get_renderer()
    right, offset = ax.bbox.x1, 6 * fig.dpi / 72
    spans = []
    for (lo, hi), _, _, text in marks:  # the label after its interval, or before it near the right edge
        box = text.get_window_extent(renderer)
        left, x_hi = (ax.transData.transform((t, 0))[0] for t in (lo, hi))
        if box.x1 > right - 2:
            text.set(ha="right", position=(-6, 0))
            text.xy = (lo, 0)
            box = box.translated(left - offset - box.width - box.x0, 0)
        spans.append((min(box.x0, left - 4), max(box.x1, x_hi + 4)))
    rows = assign_rows(spans, pad=8)
    for (_, dot, bar, text), row in zip(marks, rows):
        dot.set_ydata([row])
        if bar is not None:
            bar.set_ydata([row, row])
        text.xy = (text.xy[0], row)
    ax.set_ylim(max(rows) + 0.6, -0.6)  # the first row at the top


def _span(events: dict, first: float, last: float) -> tuple[float, float]:
    """The stroke's span: its first event to its last with a margin, or 1 s before the reference
    to 0.5 s after; within the clip."""
    times = [v["time_ms"] for v in events.values() if v]
    lo, hi = (min(times), max(times)) if len(times) > 1 else (-1000.0, 500.0)
    margin = max(100.0, 0.1 * (hi - lo))
    return max(first, lo - margin), min(last, hi + margin)


def _clip_name(record: dict) -> str:
    return record["clip"].encode("utf-8", "backslashreplace").decode("utf-8")  # a file name that is not UTF-8


def _head(record: dict) -> str:
    """The title: the clip and the order of the peaks."""
    order = record["kinematic_sequence"].get("order") or []
    said = " > ".join(s.replace("_", " ") for s in order) if order else "no order measured"
    return f"{_clip_name(record)}  ·  kinematic sequence: {said}"


def _withheld(ks: dict) -> list[str]:
    """``"pelvis and trunk withheld: why"``, one line per distinct reason."""
    by_reason: dict[str, list[str]] = {}
    for name, why in (ks.get("withheld") or {}).items():
        short = ("one camera cannot see their turn about the body's long axis" if "long axis" in why
                 else why.removeprefix("withheld: "))
        by_reason.setdefault(short, []).append(name.replace("_", " "))
    return [f"{' and '.join(names)} withheld: {why}" for why, names in by_reason.items()]


def _subtitle(record: dict) -> str:
    """The frame rate, the bat's speed, what is withheld and why the sequence or the events
    cannot be trusted (two reasons each), wrapped to the figure's width."""
    ks, ev = record["kinematic_sequence"], record.get("events") or {}
    speed = record["bat"].get("peak_speed_m_s")
    first = f"{record['fps']:g} fps" + (f"  ·  bat tip {speed:.1f} m/s ({record['bat']['peak_speed_km_h']:.0f} km/h)"
                                       if speed else "")
    lines = [first] + _withheld(ks)
    if ks.get("reasons"):
        lines.append("sequence not trusted: " + "; ".join(ks["reasons"][:2]) + ("; ..." if len(ks["reasons"]) > 2 else ""))
    if ev.get("reasons"):
        lines.append("events not trusted: " + "; ".join(ev["reasons"][:2]) + ("; ..." if len(ev["reasons"]) > 2 else ""))
    return wrapped("\n".join(lines), 165)


MAIN_METRICS = (("bat_toe_speed_m_s", "bat toe speed (m/s)"), ("hands_speed_m_s", "hand speed (m/s)"),
                ("stride_m", "stride (m)"), ("backlift_height_m", "backlift height (m)"),
                ("gap_lead_arm_bat_ms", "lead arm → bat gap (ms)"),
                ("front_foot_contact_ms", "front-foot contact from impact (ms)"))


def plot_distributions(rows: list[dict], by: str, path: str | os.PathLike) -> bool:
    """The main metrics (:data:`MAIN_METRICS`) of ``rows`` (metrics rows) per value of ``by``
    (``"batter"`` or ``"shot"``): one panel a metric, each group's clips as dots over its box
    (median, quartiles), its count in the label. Empty cells are left out and counted. Writes
    ``path`` (PNG) and returns True, or False when no row has a ``by`` label."""
    fig = distributions_figure(rows, by)
    if fig is None:
        return False
    save(fig, path)
    return True


def distributions_figure(rows: list[dict], by: str):
    """The figure :func:`plot_distributions` saves, or None when no row has a ``by`` label."""
    groups = sorted({str(r.get(by) or "") for r in rows} - {""})
    if not groups:
        return None
    fig = figure(12.0, 7.0)
    axes = fig.subplots(2, 3, squeeze=False)
    rng = np.random.default_rng(0)  # the dots' sideways jitter only: the same picture each run
    for ax, (col, label) in zip(axes.flat, MAIN_METRICS):
        data = [[float(r[col]) for r in rows if str(r.get(by) or "") == g and r.get(col) not in (None, "")]
                for g in groups]
        kept = [(g, d) for g, d in zip(groups, data) if d]
        if kept:
            ax.boxplot([d for _, d in kept], showfliers=False, widths=0.5)
            for i, (_, d) in enumerate(kept, 1):
                ax.plot(i + rng.uniform(-0.12, 0.12, len(d)), d, "o", ms=3.5, alpha=0.6, color="#1f77b4")
            ax.set_xticks(range(1, len(kept) + 1), [f"{wrapped(g, 14)}\n(n={len(d)})" for g, d in kept], fontsize=8)
        else:
            ax.text(0.5, 0.5, "no values", transform=ax.transAxes, ha="center", color="0.5")
            ax.set_xticks([])
        ax.set_title(label, fontsize=9.5)
        ax.set_xlabel(by, fontsize=8.5)
        ax.grid(axis="y", color="0.93")
    fig.suptitle(f"main metrics by {by} (dots: clips; boxes: median and quartiles)", fontsize=11)
    return fig
