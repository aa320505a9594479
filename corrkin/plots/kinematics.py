"""The kinematic-sequence figure of one clip.

Top: each measured segment's angular speed in the image (lead arm, bat; deg/s, magnitude; the
pelvis and trunk are withheld from one camera, and the title says so)
against time from the stroke's reference event (the ball's contact where given, else the bat's peak
speed), its peak marked with its speed and time, the reference's line. Below: the
stroke's events on the same time axis, each with its 95 % interval. The title says the order of
the peaks and whether the sequence and the events can be trusted (and why not).
"""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from corrkin.analysis.biomech import SEGMENTS, derivative_window, segment_speeds  # noqa: E402
from corrkin.analysis.events import EVENTS  # noqa: E402

COLOURS = {"pelvis": "#1b9e77", "trunk": "#d95f02", "lead_arm": "#7570b3", "bat": "#e7298a"}


def plot_kinematic_sequence(record: dict, positions: np.ndarray, path: str | os.PathLike) -> None:
    """Draw the kinematic sequence and the events of ``record`` (a ``result.json`` dict with
    its ``kinematic_sequence`` and ``events``) from ``positions (T, nodes, 2)`` to ``path`` (PNG)."""
    from corrkin.io.results import atomic_write

    ks, ev = record["kinematic_sequence"], record.get("events") or {}
    fps = record["fps"]
    events = ev.get("events") or {}
    reference = ev.get("reference", "bat_peak_speed")
    impact = events[reference]["clip_ms"] if events.get(reference) else record["bat"]["peak_ms"]
    names = [s for s in SEGMENTS if (ks.get("segments") or {}).get(s)]
    fig, (ax, line) = plt.subplots(2, 1, figsize=(9, 5.6), sharex=True,
                                   gridspec_kw={"height_ratios": [3, 1.3], "hspace": 0.08})
    t_ms = np.arange(len(positions)) * 1000.0 / fps - impact
    if names:
        lead = "l" if record["bat"]["top_hand"].startswith("l_") else "r"
        for name in names:  # each over the window its peak was read with
            window = ks["segments"][name].get("window_frames") or derivative_window(fps, record["smoothing_window_frames"])
            speed = segment_speeds(np.asarray(positions, np.float64), fps, int(window), lead, [name])[0][0]
            seg = ks["segments"][name]
            colour, doubtful = COLOURS[name], bool(seg.get("flags"))
            # a flagged segment (seen end-on, no peak inside the window) dashed, its peak hollow
            ax.plot(t_ms, np.abs(speed), color=colour, lw=1.6, ls="--" if doubtful else "-",
                    label=name.replace("_", " ") + (" (not trusted)" if doubtful else ""))
            peak_t = seg["time_ms"] - impact
            ax.plot([peak_t], [abs(seg["speed_deg_s"])], "o", color=colour, ms=6, mec=colour,
                    mfc="white" if doubtful else colour)
            ax.annotate(f"{abs(seg['speed_deg_s']):.0f}°/s{'?' if doubtful else ''}\n{peak_t:+.0f} ms",
                        (peak_t, abs(seg["speed_deg_s"])), textcoords="offset points", xytext=(5, 4), fontsize=7.5,
                        color=colour)
            if seg.get("time_ci_ms"):
                lo, hi = (x - impact for x in seg["time_ci_ms"])
                ax.plot([lo, hi], [abs(seg["speed_deg_s"])] * 2, color=colour, lw=3, alpha=0.35)
    else:
        ax.text(0.5, 0.5, ks.get("note", "no segment seen"), transform=ax.transAxes, ha="center")
    for a in (ax, line):
        a.axvline(0.0, color="0.2", lw=1, ls="--")
    ax.set_ylabel("angular speed in the image (deg/s)")
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    ax.grid(color="0.93")
    _events(line, events)
    line.set_xlabel(f"time from the {reference.replace('_', ' ')} (ms)")
    x0, x1 = _span(events, float(t_ms[0]), float(t_ms[-1]))
    line.set_xlim(x0, x1)
    fig.suptitle(_title(record), fontsize=9, x=0.01, y=0.9, ha="left", va="bottom")  # above the axes, any lines
    with atomic_write(path) as f:
        fig.savefig(f, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)


def _events(ax, events: dict) -> None:
    """One row per event found: a dot at its time, a bar for its interval, its name."""
    found = [e for e in EVENTS if events.get(e)]
    for row, e in enumerate(reversed(found)):
        v = events[e]
        ax.plot([v["time_ms"]], [row], "s", color="0.2", ms=4)
        if v.get("ci_ms"):
            ax.plot(v["ci_ms"], [row, row], color="0.2", lw=2.5, alpha=0.4)
        ax.annotate(f"{e.replace('_', ' ')} {v['time_ms']:+.0f} ms", (v["time_ms"], row), textcoords="offset points",
                    xytext=(6, -3), fontsize=7.5)
    ax.set_yticks([])
    ax.set_ylim(-0.7, max(len(found), 1) - 0.3)
    missing = [e.replace("_", " ") for e in EVENTS if not events.get(e)]
    if missing:
        ax.text(0.99, 0.04, "not found: " + ", ".join(missing), transform=ax.transAxes, ha="right", fontsize=7,
                color="0.4")


def _span(events: dict, first: float, last: float) -> tuple[float, float]:
    """The stroke's span: its first event to its last with a margin, or 1 s before the reference
    to 0.5 s after; within the clip."""
    times = [v["time_ms"] for v in events.values() if v]
    lo, hi = (min(times), max(times)) if len(times) > 1 else (-1000.0, 500.0)
    margin = max(100.0, 0.1 * (hi - lo))
    return max(first, lo - margin), min(last, hi + margin)


def _title(record: dict) -> str:
    ks, ev = record["kinematic_sequence"], record.get("events") or {}
    name = record["clip"].encode("utf-8", "backslashreplace").decode("utf-8")
    head = f"{name}  ·  {record['fps']:g} fps  ·  kinematic sequence: " + " > ".join(
        s.replace("_", " ") for s in ks.get("order", []))
    bits = []
    if ks.get("reasons"):
        bits.append("sequence: " + "; ".join(ks["reasons"][:2]))
    if ks.get("withheld"):
        bits.append(" and ".join(ks["withheld"]) + " withheld: one camera cannot see their turn about the body's axis")
    if ev.get("reasons"):
        bits.append("events: " + "; ".join(ev["reasons"][:2]))
    speed = record["bat"].get("peak_speed_m_s")
    tail = f"bat tip {speed:.1f} m/s ({record['bat']['peak_speed_km_h']:.0f} km/h)" if speed else ""
    lines = [head, tail] + [b if len(b) < 160 else b[:157] + "..." for b in bits]
    return "\n".join(x for x in lines if x)


MAIN_METRICS = (("bat_toe_speed_m_s", "bat toe speed (m/s)"), ("hands_speed_m_s", "hand speed (m/s)"),
                ("stride_m", "stride (m)"), ("backlift_height_m", "backlift height (m)"),
                ("gap_lead_arm_bat_ms", "lead arm → bat gap (ms)"),
                ("front_foot_contact_ms", "front-foot contact, from the reference (ms)"))


def plot_distributions(rows: list[dict], by: str, path: str | os.PathLike) -> bool:
    """The main metrics (:data:`MAIN_METRICS`) of ``rows`` (metrics rows) per value of ``by``
    (``"batter"`` or ``"shot"``): one panel a metric, each group's clips as dots over its box
    (median, quartiles), its count in the label. Empty cells are left out and counted. Writes
    ``path`` (PNG) and returns True, or False when no row has a ``by`` label."""
    from corrkin.io.results import atomic_write

    groups = sorted({str(r.get(by) or "") for r in rows} - {""})
    if not groups:
        return False
    fig, axes = plt.subplots(2, 3, figsize=(11, 6.2), squeeze=False)
    rng = np.random.default_rng(0)  # the dots' sideways jitter only: the same picture each run
    for ax, (col, label) in zip(axes.flat, MAIN_METRICS):
        data = [[float(r[col]) for r in rows if str(r.get(by) or "") == g and r.get(col) not in (None, "")]
                for g in groups]
        kept = [(g, d) for g, d in zip(groups, data) if d]
        if kept:
            ax.boxplot([d for _, d in kept], showfliers=False, widths=0.5)
            for i, (_, d) in enumerate(kept, 1):
                ax.plot(i + rng.uniform(-0.12, 0.12, len(d)), d, "o", ms=3.5, alpha=0.6, color="#1f77b4")
            ax.set_xticks(range(1, len(kept) + 1), [f"{g}\n(n={len(d)})" for g, d in kept], fontsize=7.5)
        else:
            ax.text(0.5, 0.5, "no values", transform=ax.transAxes, ha="center", color="0.5")
            ax.set_xticks([])
        ax.set_title(label, fontsize=9)
        ax.grid(axis="y", color="0.93")
    fig.suptitle(f"main metrics by {by} (dots: clips; boxes: median and quartiles)", fontsize=10)
    fig.tight_layout()
    with atomic_write(path) as f:
        fig.savefig(f, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return True
