"""The correlation-path figure.

Top strip: |bat-tip speed| over time. Below: one marker per node at its activation time, in
its anatomy row (ground at the bottom, bat at the top); every edge faint, the maximum-weight path
bold with its weight and lag (ms) on each link.
"""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from corrkin.skeleton import ANATOMY_ROW  # noqa: E402

ROW_NAMES = ["ankles", "knees", "hips / pelvis", "shoulders", "elbows", "wrists", "bat"]
SIDE_OFFSET = {"l": 0.16, "r": -0.16}


def _node_xy(record: dict) -> dict[str, tuple[float, float]]:
    xy = {}
    for node, ms in record["activation_ms"].items():
        y = ANATOMY_ROW[node] + SIDE_OFFSET.get(node.split("_")[0], 0.0) * ("_" in node)
        xy[node] = (ms, y)
    return xy


def plot_corrpath(record: dict, time_s: np.ndarray, v_tip: np.ndarray, path: str | os.PathLike) -> None:
    """Draw ``record`` (a ``result.json`` dict) with its bat speed to ``path`` (PNG)."""
    from corrkin.io.results import atomic_write

    fig, (top, ax) = plt.subplots(2, 1, figsize=(9, 6.5), sharex=True,
                                  gridspec_kw={"height_ratios": [1, 3.2], "hspace": 0.06})
    t_ms = np.asarray(time_s) * 1000
    top.plot(t_ms, v_tip, color="0.25", lw=1.2)
    lo, hi = record["frames_analysed"] or [0, len(t_ms) - 1]
    top.axvspan(t_ms[lo], t_ms[hi], color="tab:blue", alpha=0.06, lw=0)
    top.axvline(record["bat"]["peak_ms"], color="tab:red", lw=0.8, ls="--")
    top.set_ylabel("|bat speed|\n(sw/s)")
    top.set_title(_title(record), fontsize=10, loc="left")

    xy = _node_xy(record)
    on_path = set(zip(record["path"], record["path"][1:]))
    for e in record["edges"]:
        if (e["src"], e["dst"]) in on_path:
            continue
        ax.annotate("", xy=xy[e["dst"]], xytext=xy[e["src"]],
                    arrowprops=dict(arrowstyle="-|>", color="0.6", alpha=0.35, lw=0.8, shrinkA=6, shrinkB=6))
    by_pair = {(e["src"], e["dst"]): e for e in record["edges"]}
    for a, b in on_path:
        e = by_pair[(a, b)]
        ax.annotate("", xy=xy[b], xytext=xy[a],
                    arrowprops=dict(arrowstyle="-|>", color="tab:red", lw=2.6, shrinkA=7, shrinkB=7))
        mx, my = (xy[a][0] + xy[b][0]) / 2, (xy[a][1] + xy[b][1]) / 2
        ax.text(mx - 12, my, f"{e['weight']:.2f} · {e['lag_ms']:.0f} ms", fontsize=8, color="tab:red",
                ha="right", va="center", bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.8))
    path_nodes = set(record["path"])
    for node, (x, y) in xy.items():
        bold = node in path_nodes
        ax.plot(x, y, "o", ms=9 if bold else 6, color="tab:red" if bold else "0.35", zorder=3)
        ax.text(x + 14, y - 0.02, node, fontsize=7, ha="left", va="center", color="0.1" if bold else "0.45")
    ax.set_yticks(range(len(ROW_NAMES)), ROW_NAMES)
    ax.set_ylim(-0.7, len(ROW_NAMES) - 0.4)
    ax.set_xlabel("activation time (ms)")
    ax.grid(axis="y", color="0.92")
    ax.set_xlim(t_ms[0] - 40, t_ms[-1] + 40)
    with atomic_write(path) as f:
        fig.savefig(f, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)


def _title(record: dict) -> str:
    head = f"{record['clip']}  ·  {record['fps']:g} fps  ·  {len(record['edges'])} edges"
    if record["reaches_bat"]:
        return f"{head}\npath weight {record['path_weight']:.2f}: " + " → ".join(record["path"])
    return f"{head}\n{record.get('path_note', 'no path reaches the bat')}"
