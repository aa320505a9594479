"""``corrkin analyse``: keypoint files in, result folders and a summary out.

Clips are read by a thread pool, analysed in batches on the configured device, and written
atomically; a clip that fails is reported by name and reason in ``summary.csv`` and the others
go on.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch
from tqdm import tqdm

from corrkin.analysis.engine import analyse, series_arrays, to_records, validate_clip
from corrkin.config import AnalyseConfig
from corrkin.io.keypoints import Clip, ClipError, collate, find_inputs, load_clip
from corrkin.io.results import write_json, write_npz, write_summary

log = logging.getLogger(__name__)


def resolve_device(name: str) -> torch.device:
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device={name}: CUDA is not available on this machine (use device=cpu)")
    return dev


def _load(item, cfg: AnalyseConfig) -> Clip | ClipError:
    name, path = item
    try:
        clip = load_clip(path, fps=cfg.fps, name=name)
        validate_clip(clip, cfg.analysis)
        return clip
    except ClipError as e:
        return e


def _failed(name: str, err: Exception) -> dict:
    reason = err.reason if isinstance(err, ClipError) else f"{type(err).__name__}: {err}"
    return {"clip": name, "status": "failed", "error": reason}


def _analyse_clips(clips: list[Clip], cfg: AnalyseConfig, device) -> list[tuple[Clip, dict | Exception, dict | None]]:
    """Analyse a batch; if the batch fails, analyse its clips one by one to isolate the culprit."""
    try:
        batch = collate(clips, device)
        out = analyse(batch, cfg.analysis)
        return list(zip(clips, to_records(out, batch, cfg.analysis), series_arrays(out, batch)))
    except Exception:
        if len(clips) == 1:
            raise
    results = []
    for clip in clips:
        try:
            results.extend(_analyse_clips([clip], cfg, device))
        except Exception as e:  # noqa: BLE001 - reported per clip, the run goes on
            log.exception("clip %s failed", clip.name)
            results.append((clip, e, None))
    return results


def _write(out_dir: Path, clip: Clip, record: dict, arrays: dict, plots: bool) -> None:
    clip_dir = out_dir / clip.name
    write_npz(clip_dir / "series.npz", **arrays)
    write_json(clip_dir / "result.json", record)
    if plots:
        from corrkin.plots.corrpath import plot_corrpath

        plot_corrpath(record, arrays["time_s"], arrays["v_tip"], clip_dir / "corrpath.png")


def _summary_row(clip: Clip, rec: dict) -> dict:
    return {
        "clip": clip.name, "status": "ok", "error": "", "source": clip.source, "fps": rec["fps"],
        "frames": rec["frames"], "edges": len(rec["edges"]), "path": " > ".join(rec["path"]),
        "path_weight": rec["path_weight"], "reaches_bat": rec["reaches_bat"],
        "bat_peak_speed": rec["bat"]["peak_speed"], "bat_peak_frame": rec["bat"]["peak_frame"],
        "omega_peak": rec["bat"]["omega_peak"],
    }


def run_analyse(cfg: AnalyseConfig) -> int:
    """Analyse every clip under ``cfg.input`` into ``cfg.output``; returns the exit code
    (0 when every clip succeeded, 1 when any failed)."""
    device = resolve_device(cfg.device)
    items = find_inputs(cfg.input, cfg.recursive)
    if not items:
        raise FileNotFoundError(f"{cfg.input}: no keypoint files (.npz, .json) found")
    if cfg.batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {cfg.batch_size}")
    out_dir = Path(cfg.output)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    with ThreadPoolExecutor(max(cfg.io_workers, 1)) as pool, \
            tqdm(total=len(items), unit="clip", disable=not cfg.progress, desc="analyse") as bar:
        for start in range(0, len(items), cfg.batch_size):
            chunk = items[start: start + cfg.batch_size]
            loaded = list(pool.map(lambda it: _load(it, cfg), chunk))
            clips = [c for c in loaded if isinstance(c, Clip)]
            rows += [_failed(name, c) for (name, _), c in zip(chunk, loaded) if not isinstance(c, Clip)]
            results = _analyse_clips(clips, cfg, device) if clips else []
            ok = [(c, r, a) for c, r, a in results if isinstance(r, dict)]
            rows += [_failed(c.name, r) for c, r, _ in results if not isinstance(r, dict)]
            # matplotlib is not thread-safe: figures are drawn here, arrays and JSON in the pool
            if cfg.plots:
                for c, r, a in ok:
                    _write(out_dir, c, r, a, True)
            else:
                list(pool.map(lambda x: _write(out_dir, *x, False), ok))
            rows += [_summary_row(c, r) for c, r, _ in ok]
            bar.update(len(chunk))
    write_summary(out_dir / "summary.csv", rows)
    failed = [r for r in rows if r["status"] == "failed"]
    for r in failed:
        log.error("%s: %s", r["clip"], r["error"])
    log.info("%d clips analysed, %d failed; results in %s", len(rows) - len(failed), len(failed), out_dir)
    return 1 if failed else 0
