"""Config sweeps: a table comparing the runs of a Hydra multirun.

``corrkin analyse -m input=... output=out analysis.max_lag_s=0.2,0.3,0.4 analysis.theta=0.35,0.4``
runs every combination (in parallel with the joblib launcher, or on a SLURM cluster with
``hydra/launcher=slurm``), each into ``out/multirun/<n>/``. When the sweep ends,
:class:`SweepTable` (a Hydra callback, set in the command's config) writes
``out/multirun/sweep.csv`` (and ``.parquet``): one row per run with its swept values and what
it found over the library: clips done and failed, how many reach the bat, the median path
weight, the mean number of edges, and the most frequent path with its share.
"""

from __future__ import annotations

import csv
import logging
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from corrkin.io.tables import write_table

log = logging.getLogger(__name__)


def summarise_run(folder: Path) -> dict:
    """What one run found, from its ``summary.csv`` (analyse, run) or ``library.csv`` (library)."""
    table = folder / "summary.csv" if (folder / "summary.csv").is_file() else folder / "library.csv"
    if not table.is_file():
        return {"status": "no results"}
    with open(table, newline="") as f:
        rows = list(csv.DictReader(f))
    ok = [r for r in rows if r["status"] == "ok"]
    path_key = "path" if table.name == "summary.csv" else "chain"
    paths = Counter(r[path_key] or "(none)" for r in ok)
    top, count = paths.most_common(1)[0] if paths else ("", 0)
    return {
        "status": "done", "clips_ok": len(ok), "clips_failed": len(rows) - len(ok),
        "reach_bat": sum(r["reaches_bat"] == "True" for r in ok) / len(ok) if ok else float("nan"),
        "median_path_weight": statistics.median(float(r["path_weight"]) for r in ok) if ok else float("nan"),
        "mean_edges": statistics.fmean(float(r["edges"]) for r in ok) if ok else float("nan"),
        "mean_ordered_pairs": statistics.fmean(float(r["ordered_pairs"]) for r in ok) if ok else float("nan"),
        "top_path": top, "top_path_share": count / len(ok) if ok else float("nan"),
    }


def sweep_table(sweep_dir: str | Path, formats=("csv",)) -> list[dict]:
    """One row per run folder of ``sweep_dir`` (``<n>/.hydra/overrides.yaml``), written as
    ``sweep.csv`` (and the other ``formats``) in it; returns the rows."""
    sweep_dir = Path(sweep_dir)
    jobs = sorted((p for p in sweep_dir.iterdir() if (p / ".hydra" / "overrides.yaml").is_file()),
                  key=lambda p: int(p.name) if p.name.isdigit() else p.name)
    settings = []
    for job in jobs:
        overrides = OmegaConf.load(job / ".hydra" / "overrides.yaml")
        settings.append(dict(str(o).split("=", 1) for o in overrides if "=" in str(o)))
    # the swept settings: overrides whose value differs between runs (the rest is the same in all)
    keys = list(dict.fromkeys(k for s in settings for k in s if k not in ("input", "output")))
    if len(jobs) > 1:
        keys = [k for k in keys if len({s.get(k) for s in settings}) > 1]
    rows = [{"run": job.name, **{k: s.get(k, "") for k in keys}, **summarise_run(job)}
            for job, s in zip(jobs, settings)]
    write_table(sweep_dir / "sweep", rows, formats)
    return rows


class SweepTable(Callback):
    """Writes :func:`sweep_table` when a multirun ends (configured under ``hydra.callbacks``)."""

    def __init__(self, formats: list[str] | None = None) -> None:
        self.formats = list(formats or ["csv"])

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        if sweep_dir.is_dir():
            rows = sweep_table(sweep_dir, self.formats)
            log.info("sweep of %d runs compared in %s", len(rows), sweep_dir / "sweep.csv")
