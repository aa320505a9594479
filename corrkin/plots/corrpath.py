"""The correlation-path figure.

Top strip: |bat-tip speed| over time. Below: one marker per node at its activation time, in
its anatomy row (ground at the bottom, bat at the top); every edge faint, the maximum-weight path
bold with its weight and lag (ms ± the 95 % half-interval) on each link, and a bar for the 95 %
interval of each path node's activation time.
"""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from corrkin.io.results import path_links  # noqa: E402
from corrkin.skeleton import ANATOMY_ROW  # noqa: E402

ROW_NAMES = ["ankles", "knees", "hips / pelvis", "shoulders", "elbows", "wrists", "bat"]
SIDE_OFFSET = {"l": 0.16, "r": -0.16}


def _node_xy(record: dict) -> dict[str, tuple[float, float]]:
    xy = {}
    for node, ms in record["activation_ms"].items():
        if ms is None:  # never seen: no time to place it at
            continue
        y = ANATOMY_ROW[node] + SIDE_OFFSET.get(node.split("_")[0], 0.0) * ("_" in node)
        xy[node] = (ms, y)
    return xy


def plot_corrpath(record: dict, time_s: np.ndarray, v_tip: np.ndarray, path: str | os.PathLike) -> None:
    """Draw ``record`` (a ``result.json`` dict) with its bat speed to ``path`` (PNG)."""
    from corrkin.io.results import atomic_write

    fig, (top, ax) = plt.subplots(2, 1, figsize=(9, 6.8), gridspec_kw={"height_ratios": [1, 3.2], "hspace": 0.25})
    t_ms = np.asarray(time_s) * 1000
    x0, x1 = _zoom(record, t_ms)
    top.plot(t_ms, v_tip, color="0.25", lw=1.2)
    top.axvspan(x0, x1, color="tab:blue", alpha=0.08, lw=0)
    top.axvline(record["bat"]["peak_ms"], color="tab:red", lw=0.8, ls="--")
    top.set_ylabel("|bat speed|\n(sw/s)")
    top.set_xlabel("time (ms); shaded: the span shown below", fontsize=8)
    top.set_xlim(t_ms[0], t_ms[-1])
    top.set_title(_title(record), fontsize=10, loc="left")

    xy = {n: (min(max(x, x0), x1), y) for n, (x, y) in _node_xy(record).items()}
    outside = {n for n, ms in record["activation_ms"].items() if ms is not None and not x0 <= ms <= x1}
    on_path = set(zip(record["path"], record["path"][1:]))
    for e in record["edges"]:
        if (e["src"], e["dst"]) in on_path:
            continue
        ax.annotate("", xy=xy[e["dst"]], xytext=xy[e["src"]],
                    arrowprops=dict(arrowstyle="-|>", color="0.6", alpha=0.35, lw=0.8, shrinkA=6, shrinkB=6))
    for e in path_links(record):
        a, b = e["src"], e["dst"]
        ax.annotate("", xy=xy[b], xytext=xy[a],
                    arrowprops=dict(arrowstyle="-|>", color="tab:red", lw=2.6, shrinkA=7, shrinkB=7))
        mx, my = (xy[a][0] + xy[b][0]) / 2, (xy[a][1] + xy[b][1]) / 2
        ci = e.get("lag_ci_ms")
        lag = f"{e['lag_ms']:.0f} ± {(ci[1] - ci[0]) / 2:.0f} ms" if ci else f"{e['lag_ms']:.0f} ms"
        ax.annotate(f"{e['weight']:.2f} · {lag}", (mx, my), xytext=(-8, 0),
                    textcoords="offset points", fontsize=8, color="tab:red", ha="right", va="center", bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.8))
    path_nodes = set(record["path"])
    for node in path_nodes:  # the activation time's 95 % interval, where it is known
        ci = record.get("activation_ci_ms", {}).get(node)
        if ci and node not in outside:
            ax.plot([max(ci[0], x0), min(ci[1], x1)], [xy[node][1]] * 2, color="tab:red", lw=1.2, alpha=0.5, zorder=2)
    for node, (x, y) in xy.items():
        bold = node in path_nodes
        ax.plot(x, y, "o", ms=9 if bold else 6, color="tab:red" if bold else "0.35", zorder=3)
        label = f"{node} ({record['activation_ms'][node]:.0f} ms)" if node in outside else node
        ax.annotate(label, (x, y), xytext=(8, 0), textcoords="offset points", fontsize=7, ha="left",
                    va="center", color="0.1" if bold else "0.45")
    ax.set_yticks(range(len(ROW_NAMES)), ROW_NAMES)
    ax.set_ylim(-0.7, len(ROW_NAMES) - 0.4)
    ax.set_xlabel("activation time (ms)")
    ax.grid(axis="y", color="0.92")
    pad = 0.04 * (x1 - x0)
    ax.set_xlim(x0 - pad, x1 + pad)
    with atomic_write(path) as f:
        fig.savefig(f, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)


def _zoom(record: dict, t_ms: np.ndarray) -> tuple[float, float]:
    """The span worth reading: the nodes joined by edges (or the bat's peak) with a margin."""
    act = record["activation_ms"]
    nodes = {e["src"] for e in record["edges"]} | {e["dst"] for e in record["edges"]} | set(record["path"])
    times = [act[n] for n in nodes if act.get(n) is not None] or [record["bat"]["peak_ms"]]
    lo, hi = min(times), max(times)
    margin = max(150.0, 0.25 * (hi - lo))
    return max(float(t_ms[0]), lo - margin), min(float(t_ms[-1]), hi + margin)


def _links_said(record: dict) -> str:
    """How many couplings the clip claims and, where measured, how many pairs its timing orders."""
    pairs = record.get("pairs")
    ordered = f"{sum(e['ordered'] for e in pairs)} pairs ordered  ·  " if pairs is not None else ""
    return f"{ordered}{len(record['edges'])} couplings claimed"


def _title(record: dict) -> str:
    name = record["clip"].encode("utf-8", "backslashreplace").decode("utf-8")  # a file name that is not UTF-8
    head = f"{name}  ·  {record['fps']:g} fps ({1000 / record['fps']:.1f} ms a frame)  ·  {_links_said(record)}"
    warnings = record.get("timing", {}).get("warnings", [])
    if warnings:
        head += f"  ·  timing: {'; '.join(warnings)}"
    if record["reaches_bat"]:
        return f"{head}\npath weight {record['path_weight']:.2f}: " + " → ".join(record["path"])
    return f"{head}\n{record.get('path_note', 'no path reaches the bat')}"
