"""The library's figures: every clip's bat speed on the alignment's common timeline, and how
often each edge appears per shot type (drawn by ``corrkin align``, :mod:`corrkin.commands.align`)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from corrkin.library.alignment import LibraryClip, common_ms  # noqa: E402
from corrkin.skeleton import NODES  # noqa: E402


def plot_aligned_speed(clips: list[LibraryClip], al, path: Path) -> None:
    """Per shot type, every clip's bat speed against common time, the reference in black."""
    shots = sorted({c.shot for c in clips})
    fig, axes = plt.subplots(len(shots), 1, figsize=(8, 2.6 * len(shots)), squeeze=False, sharex=True)
    for ax, shot in zip(axes[:, 0], shots):
        for k, c in enumerate(clips):
            if c.shot != shot or k == al.reference:
                continue
            t = [common_ms(al, clips, k, f) for f in range(len(c.speed))]
            ax.plot(t, c.speed, color="tab:blue", alpha=0.35, lw=1)
        ref = clips[al.reference]
        t = [common_ms(al, clips, al.reference, f) for f in range(len(ref.speed))]
        ax.plot(t, ref.speed, color="black", lw=2, label=f"reference {ref.name}")
        ax.set_title(f"{shot}: {sum(c.shot == shot for c in clips)} clips", loc="left", fontsize=10)
        ax.set_ylabel("|v tip| (sw/s)")
        ax.legend(loc="upper left", fontsize=8, frameon=False)
    axes[-1, 0].set_xlabel("common time (ms from the reference's peak bat speed)")
    axes[-1, 0].set_xlim(-1200, 800)
    fig.tight_layout()
    _save(fig, path)


def plot_edge_frequency(edge_rows: list[dict], shots: list[str], path: Path) -> None:
    """Per shot type, an N x N grid of how often each edge appears (source rows, target columns)."""
    idx = {n: i for i, n in enumerate(NODES)}
    fig, axes = plt.subplots(1, len(shots), figsize=(4.6 * len(shots), 4.4), squeeze=False)
    for ax, shot in zip(axes[0], shots):
        grid = np.zeros((len(NODES), len(NODES)))
        for r in edge_rows:
            if r["shot"] == shot:
                grid[idx[r["src"]], idx[r["dst"]]] = r["frequency"]
        im = ax.imshow(grid, vmin=0, vmax=1, cmap="viridis")
        ax.set_xticks(range(len(NODES)), NODES, rotation=90, fontsize=7)
        ax.set_yticks(range(len(NODES)), NODES, fontsize=7)
        ax.set_title(f"{shot}: edge frequency", fontsize=10)
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8, label="fraction of clips")
    _save(fig, path)


def _save(fig, path: Path) -> None:
    from corrkin.io.results import atomic_write

    with atomic_write(path) as f:
        fig.savefig(f, format="png", dpi=110)
    plt.close(fig)
