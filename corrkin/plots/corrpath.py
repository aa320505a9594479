"""The correlation-path figure.

Top strip: |bat-tip speed| over the whole clip. Below: one marker per node at its activation
time, in its anatomy row (ground at the bottom, bat at the top); every edge faint, the
maximum-weight path bold with its weight and lag (ms ± the 95 % half-interval) on each link, and
a bar for the 95 % interval of each path node's activation time. Both time axes count from
impact (:mod:`corrkin.plots.timebase`: the ball's contact where given, else the bat's peak
speed), as ``kinematics.png`` does; labels are nudged apart where they would overlap.
"""

from __future__ import annotations

import os

import numpy as np

from corrkin.io.results import path_links
from corrkin.plots.layout import declutter, figure, save, wrapped
from corrkin.plots.timebase import time_zero
from corrkin.skeleton import ANATOMY_ROW

ROW_NAMES = ["ankles", "knees", "hips / pelvis", "shoulders", "elbows", "wrists", "bat"]
SIDE_OFFSET = {"l": 0.16, "r": -0.16}


def _node_xy(record: dict, zero: float) -> dict[str, tuple[float, float]]:
    xy = {}
    for node, ms in record["activation_ms"].items():
        if ms is None:  # never seen: no time to place it at
            continue
        y = ANATOMY_ROW[node] + SIDE_OFFSET.get(node.split("_")[0], 0.0) * ("_" in node)
        xy[node] = (ms - zero, y)
    return xy


def plot_corrpath(record: dict, time_s: np.ndarray, v_tip: np.ndarray, path: str | os.PathLike) -> None:
    """Draw ``record`` (a ``result.json`` dict) with its bat speed to ``path`` (PNG)."""
    save(corrpath_figure(record, time_s, v_tip), path)


def corrpath_figure(record: dict, time_s: np.ndarray, v_tip: np.ndarray):
    """The figure :func:`plot_corrpath` saves (a matplotlib ``Figure``; close it)."""
    zero, time_title = time_zero(record)
    fig = figure(11.0, 8.0)
    top, ax = fig.subplots(2, 1, gridspec_kw={"height_ratios": [1, 3.2]})
    t_ms = np.asarray(time_s) * 1000 - zero
    x0, x1 = _zoom(record, t_ms, zero)
    top.plot(t_ms, v_tip, color="0.25", lw=1.2)
    top.axvspan(x0, x1, color="tab:blue", alpha=0.08, lw=0)
    top.axvline(0.0, color="tab:red", lw=0.8, ls="--")
    top.set_ylabel("bat-tip speed,\nshoulder widths/s", fontsize=9)
    top.set_xlabel(f"{time_title}; shaded: the span shown below", fontsize=9)
    top.set_xlim(t_ms[0], t_ms[-1])
    fig.suptitle(_head(record), fontsize=12, x=0.01, ha="left")
    top.set_title(_subtitle(record), loc="left", fontsize=8.5, color="0.25")

    xy = {n: (min(max(x, x0), x1), y) for n, (x, y) in _node_xy(record, zero).items()}
    outside = {n for n, ms in record["activation_ms"].items() if ms is not None and not x0 <= ms - zero <= x1}
    on_path = set(zip(record["path"], record["path"][1:]))
    for e in record["edges"]:
        if (e["src"], e["dst"]) in on_path:
            continue
        ax.annotate("", xy=xy[e["dst"]], xytext=xy[e["src"]],
                    arrowprops=dict(arrowstyle="-|>", color="0.6", alpha=0.35, lw=0.8, shrinkA=6, shrinkB=6))
    labels = []
    for e in path_links(record):
        a, b = e["src"], e["dst"]
        ax.annotate("", xy=xy[b], xytext=xy[a],
                    arrowprops=dict(arrowstyle="-|>", color="tab:red", lw=2.6, shrinkA=7, shrinkB=7))
        mx, my = (xy[a][0] + xy[b][0]) / 2, (xy[a][1] + xy[b][1]) / 2
        ci = e.get("lag_ci_ms")
        lag = f"{e['lag_ms']:.0f} ± {(ci[1] - ci[0]) / 2:.0f} ms" if ci else f"{e['lag_ms']:.0f} ms"
        labels.append(ax.annotate(f"{e['weight']:.2f} · {lag}", (mx, my), xytext=(-8, 0), textcoords="offset points",
                                  fontsize=8.5, color="tab:red", ha="right", va="center",
                                  bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.8)))
    path_nodes = set(record["path"])
    for node in path_nodes:  # the activation time's 95 % interval, where it is known
        ci = record.get("activation_ci_ms", {}).get(node)
        if ci and node not in outside:
            ax.plot([max(ci[0] - zero, x0), min(ci[1] - zero, x1)], [xy[node][1]] * 2, color="tab:red", lw=1.2,
                    alpha=0.5, zorder=2)
    for node, (x, y) in sorted(xy.items(), key=lambda kv: kv[0] not in path_nodes):
        bold = node in path_nodes
        ax.plot(x, y, "o", ms=9 if bold else 6, color="tab:red" if bold else "0.35", zorder=3)
        label = f"{node} ({record['activation_ms'][node] - zero:+.0f} ms)" if node in outside else node
        right = x >= x1 - 0.02 * (x1 - x0)  # at the right edge: the label to the node's left
        labels.append(ax.annotate(label, (x, y), xytext=(-8 if right else 8, 0), textcoords="offset points",
                                  fontsize=8, ha="right" if right else "left", va="center",
                                  color="0.1" if bold else "0.45", zorder=2.5,
                                  bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.75)))
    ax.set_yticks(range(len(ROW_NAMES)), ROW_NAMES)
    ax.set_ylim(-0.7, len(ROW_NAMES) - 0.4)
    ax.set_xlabel(time_title.replace("time", "activation time", 1))
    ax.grid(axis="y", color="0.92")
    if x0 <= 0.0 <= x1:
        ax.axvline(0.0, color="tab:red", lw=0.8, ls="--", alpha=0.6, zorder=1)
    pad = 0.04 * (x1 - x0)
    ax.set_xlim(x0 - pad, x1 + pad)
    declutter(ax, labels)
    return fig


def _zoom(record: dict, t_ms: np.ndarray, zero: float) -> tuple[float, float]:
    """The span worth reading (ms from impact): the nodes joined by edges (or the bat's peak)
    with a margin."""
    act = record["activation_ms"]
    nodes = {e["src"] for e in record["edges"]} | {e["dst"] for e in record["edges"]} | set(record["path"])
    times = [act[n] - zero for n in nodes if act.get(n) is not None] or [record["bat"]["peak_ms"] - zero]
    lo, hi = min(times), max(times)
    margin = max(150.0, 0.25 * (hi - lo))
    return max(float(t_ms[0]), lo - margin), min(float(t_ms[-1]), hi + margin)


def _links_said(record: dict) -> str:
    """How many couplings the clip claims and, where measured, how many pairs its timing orders."""
    pairs = record.get("pairs")
    ordered = f"{sum(e['ordered'] for e in pairs)} pairs ordered  ·  " if pairs is not None else ""
    return f"{ordered}{len(record['edges'])} couplings claimed"


def _head(record: dict) -> str:
    """The title: the clip and its path (or that none reaches the bat)."""
    name = record["clip"].encode("utf-8", "backslashreplace").decode("utf-8")  # a file name that is not UTF-8
    if record["reaches_bat"]:
        return f"{name}  ·  path weight {record['path_weight']:.2f}: " + " → ".join(record["path"])
    return f"{name}  ·  no path reaches the bat"


def _subtitle(record: dict) -> str:
    """The frame rate, what the clip claims and why it has no path, or its timing warnings."""
    head = f"{record['fps']:g} fps ({1000 / record['fps']:.1f} ms a frame)  ·  {_links_said(record)}"
    lines = [head]
    if not record["reaches_bat"]:
        lines.append(record.get("path_note", "no path reaches the bat"))
    warnings = record.get("timing", {}).get("warnings", [])
    if warnings:
        lines.append(f"timing: {'; '.join(warnings)}")
    return wrapped("\n".join(lines), 165)
