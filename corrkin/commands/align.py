"""``corrkin align``: an analysis output folder in; alignment tables and figures out.

Tables (CSV, and Parquet with ``formats=[csv,parquet]``), in ``output``:

* ``clips``: one row per clip: batter, shot, DTW cost to the reference, activation times on the
  common timeline (ms from the reference's peak bat speed), distance to its shot's template and
  the nearest template;
* ``edges_by_shot``, ``edges_by_batter``: per group and edge, how often it appears and the mean
  and spread of its lag on the common timeline;
* ``paths_by_shot``, ``paths_by_batter``: per group, every path seen, ranked (rank 1: the most
  frequent);
* ``templates.npz``: the template swing ``(W, N, 2)`` of each shot type, and ``alignment.json``
  (reference, settings, failures).

Figures (:mod:`corrkin.plots.library`): ``aligned_speed.png`` (every clip's bat speed on the
common timeline, per shot type) and ``edge_frequency.png`` (edge frequency per shot type).
The maths is :mod:`corrkin.library.alignment`; this module is the command.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from corrkin.analysis.quality import check_min_quality, passes
from corrkin.io.results import remove_stale_temporaries, write_json, write_npz
from corrkin.io.tables import write_table
from corrkin.library.alignment import (
    LibraryClip,
    aggregate,
    align_library,
    batter_links,
    common_ms,
    distance_to,
    load_library,
    mapped_edges,
    procrustes_templates,
    read_labels,
    resample,
)
from corrkin.library.links import LINK_KEYS
from corrkin.skeleton import NODES

log = logging.getLogger(__name__)


def run_align(cfg) -> int:
    """Align the analysed library under ``cfg.input`` into ``cfg.output``; the exit code is 1
    when a result folder could not be read (reported by name in ``alignment.json``)."""
    check_min_quality(cfg.min_quality)
    clips, bad = load_library(cfg.input, read_labels(cfg.labels), cfg.only, cfg.progress)
    for name, reason in bad:
        log.error("%s: %s", name, reason)
    kept = [passes(c.record, cfg.min_quality) for c in clips]
    left_out = [c for c, k in zip(clips, kept) if not k]
    clips = [c for c, k in zip(clips, kept) if k]
    for c in left_out:
        log.info("%s: left out (min_quality=reliable): %s", c.name, "; ".join(c.record["quality"]["reasons"]))
    if not clips:
        raise FileNotFoundError(f"{cfg.input}: no analysed clips (result.json with series.npz)")
    out = Path(cfg.output)
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out)  # left by a run killed mid-write
    log.info("aligning %d clips (DTW to the %s, Procrustes templates, links across swings)", len(clips),
             "medoid" if cfg.reference == "medoid" else f"reference {cfg.reference}")
    summary = align_and_write(clips, out, cfg)
    summary["failed"] = [{"clip": n, "error": r} for n, r in bad]
    summary["left_out_unreliable"] = [{"clip": c.name, "reasons": c.record["quality"]["reasons"]} for c in left_out]
    write_json(out / "alignment.json", summary)
    log.info("%d clips aligned to %s; tables in %s", len(clips), summary["reference"], out)
    return 1 if bad else 0


def align_and_write(clips: list[LibraryClip], out: Path, cfg) -> dict:
    al = align_library(clips, cfg.reference, cfg.window.before_s, cfg.window.after_s, cfg.radius_s, cfg.device,
                       cfg.medoid_sample)
    edges = [mapped_edges(al, clips, k) for k in range(len(clips))]
    trajs = np.stack([resample(al, clips, k) for k in range(len(clips))])
    shots = [c.shot for c in clips]
    templates, _, dist = procrustes_templates(trajs, shots, cfg.procrustes_iters)
    rows = []
    for k, c in enumerate(clips):
        near = {g: distance_to(trajs[k], t) for g, t in templates.items()}
        row = {"clip": c.name, "batter": c.batter, "shot": c.shot, "fps": c.fps, "frames": len(c.speed),
               "reference": k == al.reference, "dtw_cost": float(al.cost[k]), "template_distance": float(dist[k]),
               "nearest_template": min(near, key=near.get), "path": " > ".join(c.record["path"]),
               "path_weight": c.record["path_weight"]}
        per_ms = c.fps / 1000.0  # the clip's frames per ms: sub-frame times map through the warp too
        cis = c.record.get("activation_ci_ms", {})
        for node in NODES:
            ms = c.record["activation_ms"][node]
            row[f"activation_ms_{node}"] = (round(common_ms(al, clips, k, ms * per_ms), 3) if ms is not None
                                            else float("nan"))
            ci = cis.get(node)
            for side, value in zip(("low", "high"), ci or (None, None)):
                row[f"activation_ci_{side}_ms_{node}"] = (round(common_ms(al, clips, k, value * per_ms), 3)
                                                          if value is not None else float("nan"))
        rows.append(row)
    fmt = list(cfg.formats)
    write_table(out / "clips", rows, fmt)
    by_shot = None
    for key in ("shot", "batter"):
        edge_rows, path_rows = aggregate(clips, edges, key)
        by_shot = edge_rows if key == "shot" else by_shot
        write_table(out / f"edges_by_{key}", edge_rows, fmt,
                    [key, "src", "dst", "clips", "count", "frequency", "lag_ms_mean", "lag_ms_std",
                     "lag_ms_mean_ci_low", "lag_ms_mean_ci_high", "raw_lag_ms_mean", "raw_lag_ci_halfwidth_ms_mean"])
        write_table(out / f"paths_by_{key}", path_rows, fmt, [key, "rank", "path", "count", "clips", "frequency"])
    link_rows, chains = batter_links(clips, cfg.links)
    write_table(out / "links", link_rows, fmt, ["batter", "shot", *LINK_KEYS])
    write_npz(out / "templates.npz", nodes=np.array(NODES), **{f"shot_{g}": t.astype(np.float32)
                                                                 for g, t in templates.items()})
    if cfg.plots:
        from corrkin.plots.library import plot_aligned_speed, plot_edge_frequency

        plot_aligned_speed(clips, al, out / "aligned_speed.png")
        plot_edge_frequency(by_shot, sorted(set(shots)), out / "edge_frequency.png")
    return {"reference": clips[al.reference].name, "clips": len(clips),
            "window_s": [cfg.window.before_s, cfg.window.after_s], "radius_s": cfg.radius_s,
            "shots": sorted(set(shots)), "batters": sorted({c.batter for c in clips}), "chains": chains}
