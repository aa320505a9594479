"""What every batch command shares (``corrkin analyse``, ``run``, ``library``): the device and
threads, worker processes and signals, analysing clips in batches by length with the failing
ones isolated, writing each clip's folder as one unit with its metrics row, and the summary
with the exit code, and :class:`ClipResult`, what a clip is from its analysis to its summary row.
The commands (:mod:`corrkin.commands`) orchestrate these."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from corrkin.io.keypoints import Clip, ClipError, collate
from corrkin.io.results import (
    atomic_folder,
    finite_or_raise,
    merge_summary,
    path_links,
    timing_links,
    write_json,
    write_npz,
)
from corrkin.io.tables import write_table

if TYPE_CHECKING:  # annotations only: the worker processes need no config schemas
    from corrkin.config import AnalysisConfig

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def keep_freed_memory() -> bool:
    """Ask glibc to keep freed memory for reuse instead of handing it back to the OS.

    Every batch allocates the same temporaries; with glibc's defaults each large one is mapped
    afresh and its pages faulted in again, which costs about a fifth of the engine's CPU time
    here. This raises the mmap threshold to its maximum (32 MiB on 64-bit) and disables trimming
    for the process, the same effect as ``MALLOC_MMAP_THRESHOLD_`` / ``MALLOC_TRIM_THRESHOLD_``.
    Returns whether it took effect (False off glibc). The peak memory of a run is unchanged.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, 32 * 2**20)) and bool(mallopt(_M_TRIM_THRESHOLD, 2**31 - 1))


class Stopped(KeyboardInterrupt):
    """The run was asked to stop (Ctrl-C, or SIGTERM from a scheduler or ``kill``): it stops
    taking new work, keeps what finished, and says what is left."""


_STOP = threading.Event()
_SIGNAL: list[int | None] = [None]  # the signal that asked the run to stop
_SHARED: list = [None]  # the stop request as worker processes see it (shared_stop())


def shared_stop():
    """The stop request as an event that worker processes forked from this one see
    (:func:`worker_init` takes it): set with the run's own, so a worker's loop
    (:func:`write_many`) ends after the clip under way rather than after its whole group."""
    if _SHARED[0] is None:
        import multiprocessing as mp

        _SHARED[0] = mp.get_context("fork").Event() if "fork" in mp.get_all_start_methods() else threading.Event()
    return _SHARED[0]


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Ctrl-C (SIGINT), SIGTERM (a scheduler, ``kill``) and SIGHUP (a closed terminal) ask the
    run to stop: it finishes the step under way, keeps what finished, writes the summary of it
    and exits 128 + the signal (:func:`stop_code`: 130, 143, 129). The loops ask
    :func:`stop_requested` between steps, so no step is cut off at a random point (where
    Python may even swallow the interrupt); a second signal stops at once (KeyboardInterrupt).
    SIGKILL cannot be caught: the temporaries it leaves are removed by the next run
    (:func:`corrkin.io.results.remove_stale_temporaries`)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _STOP.clear()
    if _SHARED[0] is not None:
        _SHARED[0].clear()
    _SIGNAL[0] = None

    def on_signal(signum, frame):
        if _STOP.is_set():
            raise Stopped(f"signal {signum}, again")
        _SIGNAL[0] = signum
        _STOP.set()
        if _SHARED[0] is not None:
            _SHARED[0].set()
        print(f"stopping after the step under way (signal {signum}; again to stop now)", file=sys.stderr, flush=True)

    with _handling(on_signal):
        try:
            yield
        finally:
            _STOP.clear()
            if _SHARED[0] is not None:
                _SHARED[0].clear()


@contextlib.contextmanager
def _handling(on_signal) -> Iterator[None]:
    """``on_signal`` handles Ctrl-C, SIGTERM and SIGHUP (where the platform has it) while the
    block runs; the handlers before it are put back after."""
    caught = [signal.SIGINT, signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    previous = {s: signal.signal(s, on_signal) for s in caught}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@contextlib.contextmanager
def interrupt_on_signals() -> Iterator[None]:
    """Outside a command's own loops (:func:`stop_on_signals`), Ctrl-C, SIGTERM and SIGHUP end the
    step at once, as Ctrl-C does (``KeyboardInterrupt``), and :func:`stop_code` says which: the
    command line catches it and exits 128 + the signal, with one line and no traceback."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _SIGNAL[0] = None

    def on_signal(signum, frame):
        _SIGNAL[0] = signum
        raise Stopped(f"signal {signum}")

    with _handling(on_signal):
        yield


def stop_code() -> int:
    """The exit code of a run stopped by a signal: 128 + its number (Ctrl-C 130, SIGTERM 143,
    SIGHUP 129), as a shell reports a process that signal ended."""
    return 128 + (_SIGNAL[0] or signal.SIGINT)


def stopping() -> bool:
    """Whether a signal asked the run to stop (:func:`stop_on_signals`), here or, in a worker
    process, in the run that forked it (:func:`shared_stop`)."""
    return _STOP.is_set() or (_SHARED[0] is not None and _SHARED[0].is_set())


def stop_requested() -> None:
    """Raise :class:`Stopped` if a signal asked the run to stop (:func:`stopping`)."""
    if stopping():
        raise Stopped("stop requested")


def worker_init(parent: int, stop=None) -> None:
    """In a worker process: Ctrl-C is the parent's to handle (it stops the run and then the
    workers, so no file is cut off mid-write by the keyboard); ``stop`` (:func:`shared_stop`)
    is how the parent asks the worker's loops to end after the clip under way; and the worker
    ends itself when its parent is gone, however the parent died (SIGKILL, the OOM killer),
    instead of waiting on a pipe nobody will write to again."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _SHARED[0] = stop

    def watch():
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="corrkin-parent-watch", daemon=True).start()


# --- analysing and writing clips (shared by analyse, run and library) ---

log = logging.getLogger(__name__)


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


@dataclass
class ClipResult:
    """One clip through a batch command (analyse, run, library), from its analysis to its
    summary: ``row`` is its ``summary.csv`` row (``status`` ok, or failed with the reason);
    ``record`` (``result.json``) and ``arrays`` (``series.npz``) are held until the clip is
    written, ``metrics`` (its ``metrics.csv`` row) once it is."""

    name: str
    row: dict
    record: dict | None = None
    arrays: dict | None = None
    metrics: dict | None = None

    @property
    def ok(self) -> bool:
        return self.row["status"] == "ok"

    @classmethod
    def failed(cls, name: str, err: BaseException | str) -> ClipResult:
        """A clip that failed (to read, analyse or write), with the reason (:func:`failed_row`)."""
        return cls(name, failed_row(name, err))


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
    is asked to stop (:func:`stopping`), the clip under way is finished and the rest are left
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


def failed_row(name: str, err: BaseException | str) -> dict:
    """The summary row of a failed clip, from its error or the reason itself."""
    file = ""
    if isinstance(err, ClipError):
        err, file = err.reason, err.path
    elif isinstance(err, BaseException):
        err = f"{type(err).__name__}: {err}"
    return {"clip": name, "status": "failed", "error": err, "file": file}


FRAMES_PER_SLOT = 1024  # a batch of n clips holds at most n x this many (padded) frames


def length_buckets(frames: list[int]) -> list[list[int]]:
    """The clips of lengths ``frames``, by index, in batches by length, so that memory follows
    each clip, not the longest one beside it: sorted by length, a batch closes before its padded
    size (clips x the longest's padded frames) would pass ``len(frames) * FRAMES_PER_SLOT``.
    Short clips share one batch as before; a 100,000-frame clip goes alone, or with few. Results
    do not depend on the grouping (a clip's results are the same in any batch)."""
    from corrkin.ops.reduce import padded_length

    budget = max(len(frames), 1) * FRAMES_PER_SLOT
    buckets, current = [], []
    for k in sorted(range(len(frames)), key=lambda k: frames[k]):
        if current and (len(current) + 1) * padded_length(frames[k]) > budget:
            buckets.append(current)
            current = []
        current.append(k)
    return buckets + [current] if current else buckets


def analyse_split(clips: list[Clip], acfg: AnalysisConfig, device) -> list[ClipResult]:
    """Analyse ``clips`` (in :func:`length_buckets`): one :class:`ClipResult` per clip, in the
    order given, analysed (``record`` and ``arrays`` to write) or failed with the reason."""
    results: list[ClipResult | None] = [None] * len(clips)
    for bucket in length_buckets([c.frames for c in clips]):
        for k, (rec, arrays) in zip(bucket, _analyse_clips([clips[k] for k in bucket], acfg, device)):
            clip = clips[k]
            if isinstance(rec, dict):
                rec["provenance"] = provenance(clip, acfg)
            results[k] = (ClipResult(clip.name, _summary_row(clip, rec), rec, arrays) if isinstance(rec, dict)
                          else ClipResult.failed(clip.name, rec))
    return results


def settings_digest(acfg: AnalysisConfig) -> str:
    """16 hex digits of SHA-256 over the analysis settings (every field, sorted): results of one
    digest were made alike; two digests in one folder are two analyses."""
    import dataclasses
    import hashlib
    import json

    text = json.dumps(dataclasses.asdict(acfg), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def provenance(clip: Clip, acfg: AnalysisConfig) -> dict:
    """What a result was made from and by: the corrkin version, the analysis preset and its
    settings' digest (:func:`settings_digest`), and the input file's path, size and modification
    time (None where the clip came from memory)."""
    from corrkin import __version__

    source = {"path": str(clip.path) if clip.path else None, "bytes": None, "mtime_ns": None}
    try:
        st = os.stat(clip.path)
        source.update(bytes=st.st_size, mtime_ns=st.st_mtime_ns)
    except (OSError, TypeError, ValueError):
        pass
    return {"corrkin": __version__, "analysis": acfg.name, "settings_digest": settings_digest(acfg), "input": source}


def load_impacts(path: str | None, names: list[str]) -> dict[str, float]:
    """The impact times of an ``impacts=`` CSV (:func:`corrkin.io.tables.read_impacts`), read
    before any work (a bad file stops the command); clips it names that are not among
    ``names`` are said once."""
    if path is None:
        return {}
    from corrkin.io.tables import read_impacts

    impacts = read_impacts(path)
    unknown = sorted(set(impacts) - set(names))
    if unknown:
        log.warning("impacts=%s: %d clips not among the inputs: %s", path, len(unknown), ", ".join(unknown[:10]))
    return impacts


def attach_impacts(results: list[ClipResult], impacts: dict[str, float]) -> list[ClipResult]:
    """Each analysed clip's given impact time (``record["impact_given_s"]``), which the
    biomechanics take as the events' reference instead of the peak bat speed."""
    for r in results:
        if r.ok and r.name in impacts:
            r.record["impact_given_s"] = impacts[r.name]
    return results


def _analyse_clips(clips: list[Clip], acfg: AnalysisConfig, device) -> list[tuple[dict | Exception, dict | None]]:
    """Analyse a batch: per clip ``(record, arrays)``, or ``(the exception, None)``; if the batch
    fails, its clips are analysed one by one to isolate the culprit."""
    from corrkin.analysis.engine import analyse, series_arrays, to_records

    try:
        batch = collate(clips, device)
        out = analyse(batch, acfg)
        return list(zip(to_records(out, batch, acfg), series_arrays(out, batch)))
    except Exception:
        if len(clips) == 1:
            raise
    results = []
    for clip in clips:
        try:
            results.extend(_analyse_clips([clip], acfg, device))
        except Exception as e:  # noqa: BLE001 - reported per clip, the run goes on
            log.exception("clip %s failed", clip.name)
            results.append((e, None))
    return results


def _with_interval(value: float, ci: list[float] | None) -> str:
    """``value [low, high]`` in ms, one decimal; the value alone where there is no interval."""
    return f"{value:.1f} [{ci[0]:.1f}, {ci[1]:.1f}]" if ci else f"{value:.1f}"


def _path_lags(rec: dict) -> str:
    """Each link of the path: its lag in ms with the 95 % interval, ``;``-separated."""
    return "; ".join(_with_interval(e["lag_ms"], e.get("lag_ci_ms")) for e in path_links(rec))


def _path_activations(rec: dict) -> str:
    """Each node of the path: its activation time in ms with the 95 % interval, ``;``-separated."""
    cis = rec.get("activation_ci_ms", {})
    return "; ".join(f"{node} {_with_interval(rec['activation_ms'][node], cis.get(node))}" for node in rec["path"])


def _blank(x):
    return "" if x is None else x


def write_metrics(out_dir: Path, rows: list[dict], metrics: dict[str, dict] | None = None) -> None:
    """``metrics.csv`` and ``.parquet``: one row per clip listed ok in the summary, this run's
    from memory (``metrics`` by clip), an earlier run's from its ``result.json`` (:func:`metrics_row`)."""
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


def _summary_row(clip: Clip, rec: dict) -> dict:
    timing = rec.get("timing", {})
    return {
        "clip": clip.name, "status": "ok", "error": "", "source": clip.source, "fps": rec["fps"],
        "settings_digest": (rec.get("provenance") or {}).get("settings_digest", ""),
        "frames": rec["frames"], "edges": len(rec["edges"]), "ordered_pairs": len(timing_links(rec)),
        "path": " > ".join(rec["path"]),
        "path_weight": rec["path_weight"], "reaches_bat": rec["reaches_bat"],
        "reliable": rec["quality"]["reliable"], "quality_reasons": " | ".join(rec["quality"]["reasons"]),
        "path_lags_ms": _path_lags(rec),
        "path_activation_ms": _path_activations(rec),
        "frame_interval_ms": timing.get("frame_interval_ms"), "timing_warnings": " | ".join(timing.get("warnings", [])),
        # no bat through the swing: the speeds are left empty, the reason is in quality_reasons
        "bat_peak_speed": _blank(rec["bat"]["peak_speed"]), "bat_peak_frame": rec["bat"]["peak_frame"],
        "omega_peak": _blank(rec["bat"]["omega_peak"]),
    }


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
