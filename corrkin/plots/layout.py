"""How the figures are laid out and saved: one size and resolution, labels put in rows where
they cannot overlap, long notes wrapped, and the PNG written atomically.

Every figure is made at its saved resolution (``DPI``) with matplotlib's constrained layout, so
what a test measures on the figure is what the PNG holds; the report shows them at 600 px or
more, and they are saved at least 1200 px wide.
"""

from __future__ import annotations

import os
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

DPI = 120  # the figures' own and saved resolution: 10 in -> 1200 px
MIN_WIDTH_IN = 10.5


def figure(width_in: float, height_in: float):
    """A constrained-layout figure at the saved resolution, at least ``MIN_WIDTH_IN`` wide."""
    return plt.figure(figsize=(max(width_in, MIN_WIDTH_IN), height_in), dpi=DPI, layout="constrained")


def save(fig, path: str | os.PathLike) -> None:
    """Write ``fig`` to ``path`` as a PNG at its own size (atomically) and close it."""
    from corrkin.io.results import atomic_write

    try:
        with atomic_write(path) as f:
            fig.savefig(f, format="png", dpi=DPI)
    finally:
        plt.close(fig)


def wrapped(text: str, width: int = 150) -> str:
    """``text`` wrapped at ``width`` characters (each of its lines on its own)."""
    return "\n".join(textwrap.fill(line, width) for line in text.split("\n"))


def assign_rows(spans: list[tuple[float, float]], pad: float = 0.0) -> list[int]:
    """A row per span ``(left, right)`` so that no two spans in one row come within ``pad``:
    each takes the first row whose spans it clears (greedy, in the order given)."""
    rows: list[list[tuple[float, float]]] = []
    out = []
    for lo, hi in spans:
        for k, taken in enumerate(rows):
            if all(hi + pad <= a or lo - pad >= b for a, b in taken):
                taken.append((lo, hi))
                out.append(k)
                break
        else:
            rows.append([(lo, hi)])
            out.append(len(rows) - 1)
    return out


def text_box(text, renderer):
    """``text``'s box on the canvas (an annotation's text only, not its arrow)."""
    from matplotlib.text import Annotation, Text

    if isinstance(text, Annotation):
        text.update_positions(renderer)
    return Text.get_window_extent(text, renderer)


def declutter(ax, texts: list, step_pt: float = 4.0, tries: int = 6) -> None:
    """Move each annotation of ``texts`` (offset in points; most important first) up or down
    by ``step_pt`` steps, up to ``tries`` each way, until its box clears those placed before it
    and stays inside the axes; one that finds no place stays where it was."""
    fig = ax.figure
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    inside, placed = ax.bbox, []
    for text in texts:
        if not text.get_text():
            continue
        x, y = text.xyann
        for k in [0] + [s * j for j in range(1, tries + 1) for s in (1, -1)]:
            text.xyann = (x, y + k * step_pt)
            box = text_box(text, renderer).padded(1.0)
            clear = not any(box.overlaps(b) for b in placed)
            if clear and inside.x0 <= box.x0 and box.x1 <= inside.x1 and inside.y0 <= box.y0 and box.y1 <= inside.y1:
                break
        else:
            text.xyann = (x, y)
            box = text_box(text, renderer).padded(1.0)
        placed.append(box)
