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
from corrkin.io.keypoints import Clip, ClipError, find_inputs, load_clip
from corrkin.io.results import remove_stale_temporaries
from corrkin.runtime import (
    ClipResult,
    analyse_split,
    attach_impacts,
    finish,
    keep_freed_memory,
    load_impacts,
    resolve_device,
    shared_stop,
    stop_code,
    stop_on_signals,
    stop_requested,
    worker_init,
    write_many,
)

log = logging.getLogger(__name__)


READ_AHEAD = 2048  # clips read ahead of the analysis (about 40 kB each at 300 frames)


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


def _groups(seq: list, n: int) -> list[list]:
    size = max(1, -(-len(seq) // n))
    return [seq[i: i + size] for i in range(0, len(seq), size)]


def _pool(workers: int) -> Executor:
    """Worker processes (forked before torch is imported, so they carry none of its threads or
    memory), or threads where fork is unavailable or ``io_workers`` is 0."""
    if workers > 0 and "fork" in mp.get_all_start_methods():
        return ProcessPoolExecutor(workers, mp_context=mp.get_context("fork"), initializer=worker_init,
                                   initargs=(os.getpid(), shared_stop()))
    return ThreadPoolExecutor(max(workers, 1))


def run_analyse(cfg: AnalyseConfig) -> int:
    """Analyse every clip under ``cfg.input`` into ``cfg.output``; returns the exit code
    (0 when every clip succeeded, 1 when any failed)."""
    keep_freed_memory()
    acfg = as_object(cfg.analysis)
    items = find_inputs(cfg.input, cfg.recursive, exclude=cfg.output)  # never its own results
    if not items:
        raise FileNotFoundError(f"{cfg.input}: no keypoint files (.npz, .json) found")
    if cfg.batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {cfg.batch_size}")
    out_dir = Path(cfg.output)
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out_dir)  # left by a run killed mid-write
    impacts = load_impacts(cfg.impacts, [name for name, _ in items])
    batter = (list(cfg.batter.box) if cfg.batter.box is not None else None, cfg.batter.index)
    chunks = [items[i: i + cfg.batch_size] for i in range(0, len(items), cfg.batch_size)]
    results: list[ClipResult] = []  # those that failed before writing
    writes: list[Future] = []  # each a group of clips being written: its ClipResults
    # tasks go to the pool in groups: one future per file costs more than the file itself
    n_groups = max(2 * cfg.io_workers, 1)
    # the pool is forked before torch is imported: the workers start reading while it loads
    pool = _pool(cfg.io_workers)
    stopped = False
    try:
        with stop_on_signals(), tqdm(total=len(items), unit="clip", disable=not cfg.progress, desc="analyse") as bar:
            try:
                _analyse_chunks(cfg, acfg, chunks, batter, impacts, out_dir, pool, n_groups, results, writes, bar)
            except KeyboardInterrupt:  # Ctrl-C or SIGTERM: no new work; what finished is kept and listed
                stopped = True  # the workers see the request too: each finishes its clip (one unit), no more
                pool.shutdown(wait=True, cancel_futures=True)
        if stopped:
            finished = _written(writes, results)
            log.warning("stopped: %d of %d clips finished and listed in %s; run again to do the rest",
                        sum(r.ok for r in finished), len(items), out_dir / "summary.csv")
            finish(out_dir, finished)
            return stop_code()
    finally:
        pool.shutdown(wait=True)
    return finish(out_dir, _written(writes, results))


def _written(writes: list[Future], results: list[ClipResult]) -> list[ClipResult]:
    """Every clip's result: those known, and each write group's clips as their writing went
    (a group cancelled by a stop is left out: nothing of it was written)."""
    return list(results) + [r for fut in writes if fut.done() and not fut.cancelled() for r in fut.result()]


def _analyse_chunks(cfg, acfg, chunks, batter, impacts, out_dir, pool, n_groups, results, writes, bar) -> None:
    """Read (ahead, in the pool), analyse (here) and write (in the pool) every chunk of files;
    ``results`` gets the failures, ``writes`` each write group's future."""
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
        results += [ClipResult.failed(name, c) for (name, _), c in zip(chunk, loaded) if not isinstance(c, Clip)]
        analysed = attach_impacts(analyse_split(clips, acfg, device), impacts)
        results += [r for r in analysed if not r.ok]
        for group in _groups([r for r in analysed if r.ok], n_groups):
            writes.append(pool.submit(write_many, out_dir, group, cfg.plots, acfg))
        bar.update(len(chunk))
    for fut in writes:  # wait for every write (their errors are per clip, in the result), stoppable
        while True:
            try:
                fut.result(timeout=0.2)
                break
            except TimeoutError:
                stop_requested()
