"""``corrkin report``: an output folder of ``corrkin analyse``, ``run`` or ``library`` in, one
self-contained HTML page out (:func:`corrkin.render.report.write_report`)."""

from __future__ import annotations

from pathlib import Path

from corrkin.render.report import write_report


def run_report(cfg) -> int:
    """Write ``cfg.output``/index.html (default ``<input>/report``) for the results under
    ``cfg.input``, the alignment tables of ``cfg.align`` (default ``<input>/align`` when there);
    prints the page's path and returns 0, or 1 where a result could not be read (each named in
    the log and on the page, the others reported)."""
    src = Path(cfg.input)
    align = Path(cfg.align) if cfg.align else (src / "align" if (src / "align").is_dir() else None)
    left_out: list = []
    page = write_report(src, Path(cfg.output) if cfg.output else src / "report",
                        Path(cfg.videos) if cfg.videos else None, align, cfg.composite, left_out, cfg.progress)
    print(page)
    return 1 if left_out else 0
