"""The library's figures: every clip's bat speed on the alignment's common timeline, and how
often each edge appears per shot type (drawn by ``corrkin align``, :mod:`corrkin.commands.align`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from corrkin.library.alignment import LibraryClip, common_ms
from corrkin.plots.layout import figure, save
from corrkin.skeleton import NODES


def plot_aligned_speed(clips: list[LibraryClip], al, path: Path) -> None:
    """Per shot type, every clip's bat speed against common time, the reference in black."""
    save(aligned_speed_figure(clips, al), path)


def aligned_speed_figure(clips: list[LibraryClip], al):
    """The figure :func:`plot_aligned_speed` saves (a matplotlib ``Figure``; close it)."""
    shots = sorted({c.shot for c in clips})
    ref = clips[al.reference]
    fig = figure(11.0, 1.0 + 2.8 * len(shots))
    axes = fig.subplots(len(shots), 1, squeeze=False, sharex=True)
    t_ref = [common_ms(al, clips, al.reference, f) for f in range(len(ref.speed))]
    for ax, shot in zip(axes[:, 0], shots):
        for k, c in enumerate(clips):
            if c.shot != shot or k == al.reference:
                continue
            t = [common_ms(al, clips, k, f) for f in range(len(c.speed))]
            ax.plot(t, c.speed, color="tab:blue", alpha=0.35, lw=1)
        ax.plot([], [], color="tab:blue", alpha=0.35, lw=1, label="each clip, warped onto the reference")
        ax.plot(t_ref, ref.speed, color="black", lw=2, label=f"the reference, {ref.name} ({ref.shot})")
        ax.axvline(0.0, color="0.4", lw=0.8, ls="--")
        ax.set_title(f"{shot}: {sum(c.shot == shot for c in clips)} clips", loc="left", fontsize=10)
        ax.set_ylabel("bat-tip speed,\nshoulder widths/s", fontsize=9)
        ax.legend(loc="upper left", fontsize=8.5, frameon=False)
        ax.grid(color="0.93")
    axes[-1, 0].set_xlabel("common time, ms from the reference clip's peak bat speed")
    axes[-1, 0].set_xlim(-1200, 800)
    fig.suptitle("bat-tip speed of every clip on the library's common timeline", fontsize=11, x=0.01, ha="left")
    return fig


def plot_edge_frequency(edge_rows: list[dict], shots: list[str], path: Path) -> None:
    """Per shot type, an N x N grid of how often each edge appears (source rows, target columns)."""
    save(edge_frequency_figure(edge_rows, shots), path)


def edge_frequency_figure(edge_rows: list[dict], shots: list[str]):
    """The figure :func:`plot_edge_frequency` saves (a matplotlib ``Figure``; close it): one
    square panel a shot type, the node names on the first panel's rows only (the panels share
    them), the columns' names turned upright."""
    idx = {n: i for i, n in enumerate(NODES)}
    fig = figure(1.6 + 5.2 * len(shots), 6.4)
    axes = fig.subplots(1, len(shots), squeeze=False, sharey=True)
    im = None
    for k, (ax, shot) in enumerate(zip(axes[0], shots)):
        grid = np.zeros((len(NODES), len(NODES)))
        clips = {r.get("clips") for r in edge_rows if r["shot"] == shot} - {None}
        for r in edge_rows:
            if r["shot"] == shot:
                grid[idx[r["src"]], idx[r["dst"]]] = r["frequency"]
        im = ax.imshow(grid, vmin=0, vmax=1, cmap="viridis")
        ax.set_xticks(range(len(NODES)), NODES, rotation=90, fontsize=8.5)
        ax.set_yticks(range(len(NODES)), NODES, fontsize=8.5)
        ax.tick_params(axis="y", labelleft=k == 0)
        ax.set_xlabel("target node (activates later)", fontsize=9.5)
        if k == 0:
            ax.set_ylabel("source node (activates first)", fontsize=9.5)
        n = f" ({max(clips)} clips)" if clips else ""
        ax.set_title(f"{shot}{n}", fontsize=10.5)
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8, label="share of the shot's clips with the edge")
    fig.suptitle("how often each edge (source → target) appears, per shot type", fontsize=11, x=0.01, ha="left")
    return fig
