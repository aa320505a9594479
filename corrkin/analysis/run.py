"""``corrkin analyse``: keypoint files in, result folders and a summary out.

Files are read and results written by a pool of worker processes (reading, JSON, ``.npz`` and
figures are Python-bound work that threads cannot overlap), one chunk ahead of the analysis,
which runs in batches on the configured device in the main process. Every file is written
atomically; a clip that fails is reported by name and reason in ``summary.csv`` and the others
go on.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
from collections import deque
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

from tqdm import tqdm

from corrkin.analysis.checks import validate_clip
from corrkin.config import AnalyseConfig, AnalysisConfig, as_object
from corrkin.io.keypoints import Clip, ClipError, collate, find_inputs, load_clip
from corrkin.io.results import (
    atomic_folder,
    finite_or_raise,
    merge_summary,
    remove_stale_temporaries,
    write_json,
    write_npz,
)
from corrkin.io.tables import write_table
from corrkin.runtime import keep_freed_memory, stop_on_signals, stop_requested, worker_init

log = logging.getLogger(__name__)

READ_AHEAD = 2048  # clips read ahead of the analysis (about 40 kB each at 300 frames)


def resolve_device(name: str, threads: int | None = None, io_workers: int = 0):
    """The torch device, with CPU threads set: ``threads``, or the cores the I/O worker
    processes leave (at least one). On two cores, two torch threads spinning beside two busy
    workers cost more than they gain."""
    import torch

    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={name}: CUDA is not available on this machine (use device=cpu)")
    torch.set_num_threads(threads if threads else max(1, (os.cpu_count() or 1) - io_workers))
    return dev


def load_checked(name: str, path: Path, fps: float | None, acfg: AnalysisConfig,
                 batter: tuple = (None, None)) -> Clip | ClipError:
    """Read and validate one clip; a bad clip comes back as its :class:`ClipError`."""
    try:
        clip = load_clip(path, fps=fps, name=name, batter_box=batter[0], batter_index=batter[1])
        validate_clip(clip, acfg)
        return clip
    except ClipError as e:
        return e


def load_many(items: list[tuple[str, Path]], fps: float | None, acfg: AnalysisConfig,
              batter: tuple = (None, None)) -> list[Clip | ClipError]:
    return [load_checked(name, path, fps, acfg, batter) for name, path in items]


def write_many(out_dir: Path, jobs: list[tuple[str, dict, dict]], plots: bool,
               acfg: AnalysisConfig | None = None) -> list[tuple[str | None, dict | None]]:
    """Write several clips (:func:`write_clip`); for each, ``(None, metrics row)`` or ``(the
    reason it could not be written, None)``."""
    out = []
    for name, record, arrays in jobs:
        try:
            out.append((None, write_clip(out_dir, name, record, arrays, plots, acfg=acfg)))
        except Exception as e:  # noqa: BLE001 - a full disk or a bad path fails that clip only
            out.append((f"could not write results: {type(e).__name__}: {e}", None))
    return out


def _groups(seq: list, n: int) -> list[list]:
    size = max(1, -(-len(seq) // n))
    return [seq[i: i + size] for i in range(0, len(seq), size)]


def write_clip(out_dir: Path, name: str, record: dict, arrays: dict, plots: bool,
               keep: tuple[str, ...] = (), acfg: AnalysisConfig | None = None) -> dict:
    """``series.npz``, ``result.json`` and (with ``plots``) ``corrpath.png`` and
    ``kinematics.png`` (:mod:`corrkin.plots.kinematics`) of one clip, as one
    unit (:func:`corrkin.io.results.atomic_folder`; ``keep`` names files of the clip's folder
    that stay, such as the keypoints ``corrkin run`` wrote). With ``acfg``, the record gets its
    biomechanics first (:func:`corrkin.analysis.biomech.biomechanics`: per clip, so it runs
    here, in the I/O workers, beside the batched engine). Every number is checked finite
    (positions may be NaN where a joint is missing): a clip whose analysis went non-finite
    fails with nothing written, and an earlier result in its place stays whole. Returns the
    clip's metrics row (:func:`corrkin.analysis.metrics.metrics_row`)."""
    from corrkin.analysis.metrics import metrics_row

    if acfg is not None and "kinematic_sequence" not in record:
        from corrkin.analysis.biomech import biomechanics

        biomechanics(record, arrays["positions"], acfg)
    finite_or_raise(arrays, record, nan_ok=("positions",))
    with atomic_folder(out_dir / name, keep=keep) as clip_dir:
        write_npz(clip_dir / "series.npz", atomic=False, **arrays)  # the folder is the unit
        write_json(clip_dir / "result.json", record, atomic=False)
        if plots:
            from corrkin.plots.corrpath import plot_corrpath

            plot_corrpath(record, arrays["time_s"], arrays["v_tip"], clip_dir / "corrpath.png")
            if "kinematic_sequence" in record:
                from corrkin.plots.kinematics import plot_kinematic_sequence

                plot_kinematic_sequence(record, arrays["positions"], clip_dir / "kinematics.png")
    return metrics_row(record)


def _failed(name: str, err: BaseException | str) -> dict:
    """The summary row of a failed clip, from its error or the reason itself."""
    file = ""
    if isinstance(err, ClipError):
        err, file = err.reason, err.path
    elif isinstance(err, BaseException):
        err = f"{type(err).__name__}: {err}"
    return {"clip": name, "status": "failed", "error": err, "file": file}


FRAMES_PER_SLOT = 1024  # a batch of n clips holds at most n x this many (padded) frames


def length_buckets(clips: list[Clip]) -> list[list[Clip]]:
    """``clips`` in batches by length, so that memory follows each clip, not the longest one
    beside it: sorted by length, a batch closes before its padded size (clips x the longest's
    padded frames) would pass ``len(clips) * FRAMES_PER_SLOT``. Short clips share one batch as
    before; a 100,000-frame clip goes alone, or with few. Results do not depend on the
    grouping (a clip's results are the same in any batch)."""
    from corrkin.ops.reduce import padded_length

    budget = max(len(clips), 1) * FRAMES_PER_SLOT
    buckets, current = [], []
    for clip in sorted(clips, key=lambda c: c.frames):
        if current and (len(current) + 1) * padded_length(clip.frames) > budget:
            buckets.append(current)
            current = []
        current.append(clip)
    return buckets + [current] if current else buckets


def analyse_split(clips: list[Clip], acfg: AnalysisConfig, device) -> tuple[list[tuple], list[dict]]:
    """Analyse ``clips`` (in :func:`length_buckets`): ``(done, failed)``, ``done`` holding
    ``(clip, summary row, record, arrays)`` to write and ``failed`` ``(clip, summary row)`` of
    the clips the analysis could not take."""
    done, failed = [], []
    for bucket in length_buckets(clips):
        for clip, rec, arrays in _analyse_clips(bucket, acfg, device):
            if isinstance(rec, dict):
                done.append((clip, _summary_row(clip, rec), rec, arrays))
            else:
                failed.append((clip, _failed(clip.name, rec)))
    return done, failed


def _analyse_clips(clips: list[Clip], acfg: AnalysisConfig, device) -> list[tuple[Clip, dict | Exception, dict | None]]:
    """Analyse a batch; if the batch fails, analyse its clips one by one to isolate the culprit."""
    from corrkin.analysis.engine import analyse, series_arrays, to_records

    try:
        batch = collate(clips, device)
        out = analyse(batch, acfg)
        return list(zip(clips, to_records(out, batch, acfg), series_arrays(out, batch)))
    except Exception:
        if len(clips) == 1:
            raise
    results = []
    for clip in clips:
        try:
            results.extend(_analyse_clips([clip], acfg, device))
        except Exception as e:  # noqa: BLE001 - reported per clip, the run goes on
            log.exception("clip %s failed", clip.name)
            results.append((clip, e, None))
    return results


def _with_interval(value: float, ci: list[float] | None) -> str:
    """``value [low, high]`` in ms, one decimal; the value alone where there is no interval."""
    return f"{value:.1f} [{ci[0]:.1f}, {ci[1]:.1f}]" if ci else f"{value:.1f}"


def _path_lags(rec: dict) -> str:
    """Each link of the path: its lag in ms with the 95 % interval, ``;``-separated."""
    edges = {(e["src"], e["dst"]): e for e in rec["edges"]}
    links = (edges[(a, b)] for a, b in zip(rec["path"], rec["path"][1:]))
    return "; ".join(_with_interval(e["lag_ms"], e.get("lag_ci_ms")) for e in links)


def _path_activations(rec: dict) -> str:
    """Each node of the path: its activation time in ms with the 95 % interval, ``;``-separated."""
    cis = rec.get("activation_ci_ms", {})
    return "; ".join(f"{node} {_with_interval(rec['activation_ms'][node], cis.get(node))}" for node in rec["path"])


def _blank(x):
    return "" if x is None else x


def write_metrics(out_dir: Path, rows: list[dict]) -> None:
    """``metrics.csv`` and ``.parquet``: one row per clip listed ok in the summary, this run's
    from memory, an earlier run's from its ``result.json`` (:func:`metrics_row`)."""
    import json

    from corrkin.analysis.metrics import COLUMNS, metrics_row

    table = []
    for r in rows:
        if r.get("status") != "ok":
            continue
        m = r.get("_metrics")
        if m is None:
            try:
                m = metrics_row(json.loads((out_dir / r["clip"] / "result.json").read_text()))
            except (OSError, ValueError, KeyError):
                continue
        table.append(m)
    table.sort(key=lambda m: m["clip"])
    write_table(out_dir / "metrics", table, ("csv", "parquet"), list(COLUMNS))


def _summary_row(clip: Clip, rec: dict) -> dict:
    timing = rec.get("timing", {})
    return {
        "clip": clip.name, "status": "ok", "error": "", "source": clip.source, "fps": rec["fps"],
        "frames": rec["frames"], "edges": len(rec["edges"]), "path": " > ".join(rec["path"]),
        "path_weight": rec["path_weight"], "reaches_bat": rec["reaches_bat"],
        "reliable": rec["quality"]["reliable"], "quality_reasons": " | ".join(rec["quality"]["reasons"]),
        "path_lags_ms": _path_lags(rec),
        "path_activation_ms": _path_activations(rec),
        "frame_interval_ms": timing.get("frame_interval_ms"), "timing_warnings": " | ".join(timing.get("warnings", [])),
        # no bat through the swing: the speeds are left empty, the reason is in quality_reasons
        "bat_peak_speed": _blank(rec["bat"]["peak_speed"]), "bat_peak_frame": rec["bat"]["peak_frame"],
        "omega_peak": _blank(rec["bat"]["omega_peak"]),
    }


def _pool(workers: int) -> Executor:
    """Worker processes (forked before torch is imported, so they carry none of its threads or
    memory), or threads where fork is unavailable or ``io_workers`` is 0."""
    if workers > 0 and "fork" in mp.get_all_start_methods():
        return ProcessPoolExecutor(workers, mp_context=mp.get_context("fork"), initializer=worker_init,
                                   initargs=(os.getpid(),))
    return ThreadPoolExecutor(max(workers, 1))


def run_analyse(cfg: AnalyseConfig) -> int:
    """Analyse every clip under ``cfg.input`` into ``cfg.output``; returns the exit code
    (0 when every clip succeeded, 1 when any failed)."""
    keep_freed_memory()
    acfg = as_object(cfg.analysis)
    items = find_inputs(cfg.input, cfg.recursive)
    if not items:
        raise FileNotFoundError(f"{cfg.input}: no keypoint files (.npz, .json) found")
    if cfg.batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {cfg.batch_size}")
    out_dir = Path(cfg.output)
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out_dir)  # left by a run killed mid-write
    batter = (list(cfg.batter.box) if cfg.batter.box is not None else None, cfg.batter.index)
    chunks = [items[i: i + cfg.batch_size] for i in range(0, len(items), cfg.batch_size)]
    rows: list[dict] = []
    writes: list[tuple[list[tuple[str, dict]], Future]] = []
    # tasks go to the pool in groups: one future per file costs more than the file itself
    n_groups = max(2 * cfg.io_workers, 1)
    # the pool is forked before torch is imported: the workers start reading while it loads
    pool = _pool(cfg.io_workers)
    try:
        with stop_on_signals(), tqdm(total=len(items), unit="clip", disable=not cfg.progress, desc="analyse") as bar:
            _analyse_chunks(cfg, acfg, chunks, batter, out_dir, pool, n_groups, rows, writes, bar)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: no new work; what finished is kept and listed
        pool.shutdown(wait=True, cancel_futures=True)  # writes under way finish (each clip is one unit)
        finished = _written(writes, rows)
        log.warning("stopped: %d of %d clips finished and listed in %s; run again to do the rest",
                    len([r for r in finished if r["status"] == "ok"]), len(items), out_dir / "summary.csv")
        finish(out_dir, finished)
        return 130
    finally:
        pool.shutdown(wait=True)
    return finish(out_dir, _written(writes, rows))


def _written(writes: list, rows: list[dict]) -> list[dict]:
    """The summary rows: those known, and each write group's clips by how their writing went
    (a group cancelled by a stop is left out: nothing of it was written)."""
    rows = list(rows)
    for group, fut in writes:
        if fut.cancelled() or not fut.done():
            continue
        for (name, row), (err, metrics) in zip(group, fut.result()):
            rows.append(row | {"_metrics": metrics} if err is None else _failed(name, err))
    return rows


def _analyse_chunks(cfg, acfg, chunks, batter, out_dir, pool, n_groups, rows, writes, bar) -> None:
    """Read (ahead, in the pool), analyse (here) and write (in the pool) every chunk of files;
    ``rows`` gets the failures, ``writes`` each write group's clips and future."""
    def submit_loads(chunk):
        return [pool.submit(load_many, group, cfg.fps, acfg, batter) for group in _groups(chunk, n_groups)]

    # reads run up to READ_AHEAD clips ahead of the analysis (most of them while torch loads)
    ahead_chunks = max(1, READ_AHEAD // cfg.batch_size)
    pending = deque(submit_loads(c) for c in chunks[:ahead_chunks])
    device = resolve_device(cfg.device, cfg.threads, cfg.io_workers)
    for k, chunk in enumerate(chunks):
        stop_requested()
        loaded = [c for f in pending.popleft() for c in f.result()]
        if k + ahead_chunks < len(chunks):
            pending.append(submit_loads(chunks[k + ahead_chunks]))
        clips = [c for c in loaded if isinstance(c, Clip)]
        rows += [_failed(name, c) for (name, _), c in zip(chunk, loaded) if not isinstance(c, Clip)]
        done, failed = analyse_split(clips, acfg, device)
        rows += [row for _, row in failed]
        for group in _groups(done, n_groups):
            fut = pool.submit(write_many, out_dir, [(c.name, r, a) for c, _, r, a in group], cfg.plots, acfg)
            writes.append(([(c.name, row) for c, row, _, _ in group], fut))
        bar.update(len(chunk))
    for _, fut in writes:  # wait for every write (their errors are per clip, in the result), stoppable
        while True:
            try:
                fut.result(timeout=0.2)
                break
            except TimeoutError:
                stop_requested()


def finish(out_dir: Path, rows: list[dict]) -> int:
    """Write ``summary.csv`` (with the clips of earlier runs into the same folder,
    :func:`corrkin.io.results.merge_summary`), log every failure of this run by name, and
    return the exit code (1 if any)."""
    listed = merge_summary(out_dir / "summary.csv", rows)
    write_metrics(out_dir, listed)
    failed = [r for r in rows if r["status"] == "failed"]
    for r in failed:
        log.error("%s: %s", r.get("file") or r["clip"], r["error"])
    for r in rows:
        if r.get("timing_warnings"):
            log.warning("%s: timing: %s", r["clip"], r["timing_warnings"])
    log.info("%d clips done, %d failed; results in %s", len(rows) - len(failed), len(failed), out_dir)
    return 1 if failed else 0
