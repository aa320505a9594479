"""Writing analysed clips, each clip's folder as one unit with its biomechanics and figures
(in the I/O worker processes too), then ``summary.csv``, ``metrics.csv`` and the exit code."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from corrkin.io.results import atomic_folder, finite_or_raise, merge_summary, write_json, write_npz
from corrkin.io.tables import write_table
from corrkin.runtime.clips import ClipResult
from corrkin.runtime.process import stopping

if TYPE_CHECKING:  # annotations only: the worker processes need no config schemas
    from corrkin.config import AnalysisConfig

log = logging.getLogger(__name__)

def write_result(out_dir: Path, result: ClipResult, plots: bool, keep: tuple[str, ...] = (),
                 acfg: AnalysisConfig | None = None) -> ClipResult:
    """Write an analysed clip (:func:`write_clip`): the clip with its metrics row, or failed with
    the reason it could not be written (a full disk or a bad path fails that clip only)."""
    try:
        metrics = write_clip(out_dir, result.name, result.record, result.arrays, plots, keep, acfg)
    except Exception as e:  # noqa: BLE001 - reported per clip, the run goes on
        return ClipResult.failed(result.name, f"could not write results: {type(e).__name__}: {e}")
    return ClipResult(result.name, result.row, metrics=metrics)


def write_many(out_dir: Path, results: list[ClipResult], plots: bool,
               acfg: AnalysisConfig | None = None) -> list[ClipResult]:
    """Write several analysed clips (:func:`write_result`), as the I/O workers do; once the run
    is asked to stop (:func:`corrkin.runtime.process.stopping`), the clip under way is finished and the rest are left
    unwritten and unlisted (the next run does them)."""
    written = []
    for r in results:
        if stopping():
            break
        written.append(write_result(out_dir, r, plots, acfg=acfg))
    return written


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


def write_metrics(out_dir: Path, rows: list[dict], metrics: dict[str, dict] | None = None) -> None:
    """``metrics.csv`` and ``.parquet``: one row per clip listed ok in the summary, this run's
    from memory (``metrics`` by clip), an earlier run's from its ``result.json`` (:func:`corrkin.analysis.metrics.metrics_row`)."""
    from corrkin.analysis.metrics import COLUMNS, metrics_row
    from corrkin.io.results import ResultError, read_result

    metrics = metrics or {}
    table = []
    for r in rows:
        if r.get("status") != "ok":
            continue
        m = metrics.get(r["clip"])
        if m is None:
            try:
                m = metrics_row(read_result(out_dir / r["clip"])[0])
            except (ResultError, KeyError, TypeError) as e:
                log.warning("left out of metrics: %s", e if isinstance(e, ResultError) else
                            f"{out_dir / r['clip'] / 'result.json'}: {type(e).__name__}: {e}")
                continue
        table.append(m)
    table.sort(key=lambda m: m["clip"])
    write_table(out_dir / "metrics", table, ("csv", "parquet"), list(COLUMNS))


def _log_failures(failed: list[dict], every: bool) -> None:
    """One line per reason: a clip's own (by its file), or one shared by several clips (said
    once, with their names: a frame rate missing from every file is one line, not seven)."""
    by_reason: dict[str, list[dict]] = {}
    for r in failed:
        by_reason.setdefault(r["error"], []).append(r)
    for reason, rows in by_reason.items():
        if len(rows) == 1:
            log.error("%s: %s", rows[0].get("file") or rows[0]["clip"], reason)
            continue
        names = [r["clip"] for r in rows]
        listed = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        who = f"every clip ({len(rows)})" if every and len(by_reason) == 1 else f"{len(rows)} clips"
        log.error("%s: %s (%s)", who, reason, listed)


def finish(out_dir: Path, results: list[ClipResult]) -> int:
    """Write ``summary.csv`` (with the clips of earlier runs into the same folder,
    :func:`corrkin.io.results.merge_summary`) and ``metrics.csv``, log every failure of this run
    by name, and return the exit code (1 if any). A clip that failed now beside an earlier
    result of it gets ``failed.json`` there, so that no reader takes the earlier one for current
    (:func:`corrkin.io.results.read_result`); results of other analysis settings in the folder
    are said."""
    rows = [r.row for r in results]
    for r in rows:
        if r["status"] == "failed" and (out_dir / r["clip"] / "result.json").is_file():
            write_json(out_dir / r["clip"] / "failed.json", {"clip": r["clip"], "error": r["error"], "file": r.get("file", "")})
    listed = merge_summary(out_dir / "summary.csv", rows)
    digests = sorted({r.get("settings_digest") for r in listed if r.get("status") == "ok" and r.get("settings_digest")})
    if len(digests) > 1:
        log.warning("%s holds results of %d different analysis settings (summary.csv settings_digest: %s): "
                    "compare and align within one", out_dir, len(digests), ", ".join(digests))
    write_metrics(out_dir, listed, {r.name: r.metrics for r in results if r.metrics is not None})
    failed = [r for r in rows if r["status"] == "failed"]
    _log_failures(failed, every=len(failed) == len(rows))
    for r in rows:
        if r.get("timing_warnings"):
            log.warning("%s: timing: %s", r["clip"], r["timing_warnings"])
    done = [r for r in rows if r["status"] != "failed"]
    trusted = sum(str(r.get("reliable")) == "True" for r in done)
    verdict = (f" ({trusted} reliable; {len(done) - trusted} not: why in summary.csv's quality_reasons)"
               if trusted < len(done) else " (all reliable)" if done else "")
    log.info("%d clips done%s, %d failed; results in %s", len(done), verdict, len(failed), out_dir)
    return 1 if failed else 0
