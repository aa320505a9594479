"""``corrkin library``: a whole shot library, resumable, on one process or many.

Input is a manifest (CSV with ``path``, ``batter``, ``shot`` and optional ``fps``, ``start_s``,
``end_s``, ``impact_s``: the moment of impact when known, in the file's time, which then replaces
the peak bat speed as the events' reference; paths relative to the manifest's folder) or a folder of keypoint files. A keypoint
file is read as ``corrkin analyse`` reads it; a video goes through the video front end (pose
backend, batter, bat tip: :func:`corrkin.perception.process_video`) and its keypoints are kept
as ``clips/<key>/keypoints.npz``. Each clip's
results live in ``output/clips/<key>/``, ``key`` a hash of the file's bytes, its time range and
frame rate, and the analysis settings, so:

* a re-run skips every clip whose ``done.json`` is there (written last, atomically, after the
  clip's other files), and resumes after a crash or a kill without losing or duplicating
  anything; a changed setting gives new keys beside the old results;
* a clip that cannot be read or analysed is quarantined (``output/quarantine/<key>.json``: the
  file and the reason) and not retried unless ``retry_failed=true``; the others go on.

Under ``torchrun --nproc-per-node=N -m corrkin library ...`` each rank takes every N-th row of
the manifest (NCCL on GPUs, gloo on the CPU), writes its own clips, and rank 0 merges the
library summary (``library.csv``, ``library.json``) and, with ``align=true``, the alignment
tables (:mod:`corrkin.commands.align`) once every rank is done.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from tqdm import tqdm

from corrkin.analysis.checks import validate_clip
from corrkin.analysis.metrics import COLUMNS as METRIC_COLUMNS
from corrkin.analysis.metrics import metrics_row
from corrkin.config import as_object
from corrkin.io.keypoints import (
    MAX_VIDEO_BYTES,
    SUFFIXES,
    Clip,
    ClipError,
    find_inputs,
    load_clip,
    regular_file,
    save_clip,
)
from corrkin.io.results import read_result, remove_stale_temporaries, write_json
from corrkin.io.tables import read_csv, write_table
from corrkin.io.video import VIDEO_SUFFIXES
from corrkin.runtime import analyse_split, resolve_device, stop_code, stop_on_signals, stop_requested, write_result
from corrkin.timing import to_frames

log = logging.getLogger(__name__)

SUMMARY = ("clip", "batter", "shot", "path", "key", "status", "error", "fps", "frames", "edges", "ordered_pairs", "chain",
           "path_weight", "reaches_bat", "reliable", "quality_reasons", "bat_peak_speed")


@dataclass
class Item:
    """One row of the manifest."""

    clip: str
    path: str
    batter: str = ""
    shot: str = ""
    fps: float | None = None
    start_s: float | None = None
    end_s: float | None = None
    impact_s: float | None = None  # in the file's time (before trimming)


NOT_GIVEN = ("", "nan", "na", "n/a", "none", "null", "-")  # what spreadsheets write for a blank


def _number(row: dict, key: str, where: str) -> float | None:
    value = (row.get(key) or "").strip()
    if value.lower() in NOT_GIVEN:
        return None
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{where}: {key} '{value}' is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{where}: {key} '{value}' is not a finite number")
    return number


def read_manifest(source: str | Path) -> list[Item]:
    """The manifest's rows, or one row per keypoint file of a folder."""
    source = Path(source)
    if source.is_dir():
        from corrkin.perception import find_videos

        videos = [(p.stem, p) for p in find_videos(source)]
        return [Item(name, str(path)) for name, path in sorted(find_inputs(source) + videos)]
    if not source.is_file():
        raise FileNotFoundError(f"{source}: no such manifest or folder")
    items = []

    def identity(row: dict) -> tuple:  # one file, one time range, one label: a row given twice is a mistake
        return tuple(row.get(k, "") for k in ("path", "batter", "shot", "fps", "start_s", "end_s"))

    for n, row in read_csv(source, "manifest", (("path",),), key=identity):
        where = f"{source}, line {n}"
        path = row.get("path", "")
        if not path:
            raise ValueError(f"{where}: empty path")
        full = Path(path) if Path(path).is_absolute() else source.parent / path
        items.append(Item(Path(path).stem, str(full), row.get("batter", ""), row.get("shot", ""),
                          _number(row, "fps", where), _number(row, "start_s", where), _number(row, "end_s", where),
                          _number(row, "impact_s", where)))
    return items


def clip_key(item: Item, settings: str) -> str:
    """16 hex digits of SHA-256 over the file's bytes, the row's frame rate, time range and
    labels (the result records them: one file listed under two labels is two results), and the
    analysis settings: the name of the clip's result folder."""
    h = hashlib.sha256()
    regular_file(item.path, MAX_VIDEO_BYTES)
    with open(item.path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    h.update(json.dumps([item.fps, item.start_s, item.end_s, item.batter, item.shot, settings]
                        + ([item.impact_s] if item.impact_s is not None else [])).encode())
    return h.hexdigest()[:16]


def trim(clip: Clip, start_s: float | None, end_s: float | None) -> Clip:
    """The clip's frames in ``[start_s, end_s)`` (raises :class:`ClipError` when none)."""
    if start_s is None and end_s is None:
        return clip
    a = 0 if start_s is None else max(0, to_frames(start_s, clip.fps))
    b = clip.frames if end_s is None else min(clip.frames, to_frames(end_s, clip.fps))
    if b <= a:
        raise ClipError(clip.path, f"time range [{start_s}, {end_s}) s holds no frames of a {clip.frames}-frame clip")
    return Clip(clip.name, clip.path, clip.keypoints[a:b], clip.scores[a:b], clip.bat[a:b], clip.bat_scores[a:b],
                clip.fps, clip.source, units=clip.units)


def _distributed(device: str):
    """``(rank, world, device)``: from torchrun's environment, with the process group up
    (NCCL for CUDA, gloo for the CPU); ``(0, 1, device)`` when not launched by torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1, device
    import torch
    import torch.distributed as dist

    cuda = device.startswith("cuda")
    if cuda:
        device = f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
        torch.cuda.set_device(torch.device(device))
    if not dist.is_initialized():
        dist.init_process_group("nccl" if cuda else "gloo")
    return dist.get_rank(), dist.get_world_size(), device


def run_library(cfg) -> int:
    """Analyse the library of ``cfg.input`` into ``cfg.output`` (see the module docstring);
    exit code 1 when any clip is quarantined."""
    cfg = as_object(cfg)
    rank, world, device = _distributed(cfg.device)
    out = Path(cfg.output)
    clips_dir, quarantine = out / "clips", out / "quarantine"
    items = read_manifest(cfg.input)
    if not items:
        raise FileNotFoundError(f"{cfg.input}: no clips")
    settings = json.dumps(asdict(cfg.analysis), sort_keys=True)
    mine = items[rank::world]
    keys: list[str] = []
    for folder in (out, clips_dir, quarantine):  # left by a process killed mid-write
        remove_stale_temporaries(folder)
    try:
        work, keys = _todo(mine, settings, clips_dir, quarantine, cfg.retry_failed)
        dev = resolve_device(device, cfg.threads)
        with stop_on_signals(), tqdm(total=len(mine), initial=len(mine) - len(work), unit="clip",
                                     disable=not cfg.progress or rank > 0,
                                     desc=f"library (rank {rank}/{world})" if world > 1 else "library") as bar:
            for k in range(0, len(work), cfg.batch_size):
                stop_requested()
                _run_batch(work[k: k + cfg.batch_size], cfg, dev, clips_dir, quarantine)
                bar.update(len(work[k: k + cfg.batch_size]))
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: every finished clip is kept (done.json), the rest resume
        if world > 1:
            raise
        log.warning("stopped: the clips finished so far are kept; run the same command again to resume")
        return stop_code()
    finally:
        if world > 1:
            import torch.distributed as dist

            dist.barrier()  # every rank's clips are written before rank 0 reads them
    if world > 1:  # rank 0 gets every rank's keys rather than hashing every file again
        import torch.distributed as dist

        gathered = [None] * world if rank == 0 else None
        dist.gather_object(keys, gathered, dst=0)
        if rank == 0:
            keys = [None] * len(items)
            for r, part in enumerate(gathered):
                keys[r::world] = part
    code = 0
    if rank == 0:
        code = _merge(items, keys, out, cfg)
    if world > 1:
        import torch
        import torch.distributed as dist

        flag = torch.tensor([code])
        dist.broadcast(flag, 0)
        code = int(flag)
        dist.destroy_process_group()
    return code


def _todo(items: list[Item], settings: str, clips_dir: Path, quarantine: Path, retry: bool):
    """``([(item, key)] still to do, every item's key)``; a missing file is quarantined here."""
    work, keys, seen = [], [], set()
    for item in items:
        try:
            key = clip_key(item, settings)
        except OSError as e:
            key = _missing_key(item)
            keys.append(key)
            if retry or not (quarantine / f"{key}.json").is_file():
                _quarantine(quarantine, key, item, f"cannot read the file: {e.strerror or e}")
            continue
        keys.append(key)
        if key in seen or _finished(clips_dir / key) is not None:
            continue
        if (quarantine / f"{key}.json").is_file() and not retry:
            continue
        seen.add(key)
        work.append((item, key))
    return work, keys


def _finished(clip_dir: Path) -> tuple[dict, dict] | None:
    """``(summary row, result record)`` of a clip finished earlier (its ``done.json``,
    ``result.json`` and ``series.npz`` whole), else None; a finished clip whose files were since
    cut off or damaged loses its ``done.json`` (with a warning naming the file) so that it is
    done again."""
    done = clip_dir / "done.json"
    if not done.is_file():
        return None
    try:
        summary = json.loads(done.read_text(encoding="utf-8"))["summary"]
        if not isinstance(summary, dict):
            raise ValueError("no summary")
        record = read_result(clip_dir, series=True)[0]
    except (OSError, ValueError, KeyError, TypeError) as e:  # ResultError is a ValueError
        log.warning("%s: unreadable (%s); the clip is analysed again", clip_dir, _first_line(e))
        done.unlink(missing_ok=True)
        return None
    return summary, record


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


def _quarantine_reason(path: Path) -> str:
    try:
        return str(json.loads(path.read_text(encoding="utf-8"))["error"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        return f"failed earlier; its record {path.name} is unreadable ({type(e).__name__})"


def _missing_key(item: Item) -> str:
    return "missing-" + hashlib.sha256(item.path.encode()).hexdigest()[:16]


def _quarantine(folder: Path, key: str, item: Item, reason: str) -> None:
    log.error("%s: %s", item.path, reason)
    write_json(folder / f"{key}.json", {"key": key, "clip": item.clip, "path": item.path, "error": reason})


_POSE: dict = {}  # pose backends by their config, each built on the first video that needs it


def read_clip(item: Item, key: str, cfg, device, clips_dir: Path) -> Clip:
    """One row's clip: a keypoint file read, or a video through the video front end (its
    keypoints saved beside the results); trimmed to the row's time range, checked."""
    path = Path(item.path)
    fps = item.fps or cfg.fps
    if path.suffix.lower() in VIDEO_SUFFIXES:
        from hydra.utils import instantiate

        from corrkin.perception import process_video

        if cfg.pose is None:
            raise ClipError(path, "a video, and no pose backend configured (pose=mediapipe|mmpose|file)")
        spec = repr(cfg.pose)
        if spec not in _POSE:
            _POSE[spec] = instantiate(cfg.pose)
        clip = process_video(path, _POSE[spec], cfg.bat, fps, cfg.stride, cfg.chunk_frames, device, cfg.batter)
        clip.name = item.clip
        save_clip(clips_dir / key / "keypoints.npz", clip)
    elif path.suffix in SUFFIXES or path.is_dir():  # a folder: an OpenPose clip's frame files
        clip = load_clip(path, fps=fps, name=item.clip)
    else:
        raise ClipError(path, f"neither a keypoint file ({', '.join(SUFFIXES)}) nor a video "
                              f"({', '.join(VIDEO_SUFFIXES)})")
    clip = trim(clip, item.start_s, item.end_s)
    validate_clip(clip, cfg.analysis)
    return clip


def _run_batch(batch: list[tuple[Item, str]], cfg, device, clips_dir: Path, quarantine: Path) -> None:
    loaded = []
    for item, key in batch:  # a stop ends the batch after the clip under way (each clip is one unit)
        stop_requested()
        try:
            loaded.append((item, key, read_clip(item, key, cfg, device, clips_dir)))
        except ClipError as e:
            _quarantine(quarantine, key, item, e.reason)
        except Exception as e:  # noqa: BLE001 - a decoder or model failing on one file fails that clip only
            log.exception("%s failed", item.path)
            _quarantine(quarantine, key, item, f"{type(e).__name__}: {e}")
    results = analyse_split([clip for _, _, clip in loaded], cfg.analysis, device)
    for (item, key, clip), result in zip(loaded, results):
        stop_requested()
        if not result.ok:
            _quarantine(quarantine, key, item, result.row["error"])
            continue
        record = result.record | {"batter": item.batter, "shot": item.shot, "key": key, "source_path": item.path}
        if item.impact_s is not None:  # the clip's time starts at the trim's start
            first = 0 if item.start_s is None else max(0, to_frames(item.start_s, record["fps"]))  # as trim() cuts
            record["impact_given_s"] = item.impact_s - first / record["fps"]
        written = write_result(clips_dir, replace(result, name=key, record=record), cfg.plots,
                               keep=("keypoints.npz",), acfg=cfg.analysis)
        if not written.ok:
            _quarantine(quarantine, key, item, written.row["error"])
            continue
        write_json(clips_dir / key / "done.json", {"key": key, "clip": clip.name, "summary": result.row})  # last


def _merge(items: list[Item], keys: list[str], out: Path, cfg) -> int:
    """``library.csv`` (one row per manifest row, in manifest order) and ``library.json``."""
    rows, metrics, failed = [], [], 0
    for item, key in zip(items, keys):
        row = {"clip": item.clip, "batter": item.batter, "shot": item.shot, "path": item.path, "key": key}
        bad = out / "quarantine" / f"{key}.json"
        if (finished := _finished(out / "clips" / key)) is not None:
            s, record = finished
            metrics.append(metrics_row(record, item.batter, item.shot))
            row |= {"status": "ok", "error": "", "fps": s["fps"], "frames": s["frames"], "edges": s["edges"],
                    "ordered_pairs": s.get("ordered_pairs", ""), "chain": s["path"], "path_weight": s["path_weight"], "reaches_bat": s["reaches_bat"],
                    "reliable": s.get("reliable"), "quality_reasons": s.get("quality_reasons", ""),
                    "bat_peak_speed": s["bat_peak_speed"]}
        elif bad.is_file():
            row |= {"status": "failed", "error": _quarantine_reason(bad)}
            failed += 1
        else:
            row |= {"status": "missing", "error": "no result (another rank stopped?)"}
            failed += 1
        rows.append(row)
    write_table(out / "library", rows, list(cfg.formats), list(SUMMARY))
    write_table(out / "metrics", metrics, list(cfg.formats), list(METRIC_COLUMNS))
    write_json(out / "library.json", {"clips": len(items), "ok": len(items) - failed, "failed": failed})
    log.info("%d clips, %d ok, %d failed; %s", len(items), len(items) - failed, failed, out / "library.csv")
    if cfg.align and len(items) > failed:
        from corrkin.commands.align import run_align

        acfg = as_object(cfg.alignment)
        acfg.input, acfg.output, acfg.device = str(out / "clips"), str(out / "align"), cfg.device
        # this manifest's results alone: another setting's, or a row since dropped, stay out
        acfg.only = [r["key"] for r in rows if r["status"] == "ok"]
        acfg.formats = list(cfg.formats)
        run_align(acfg)
    return 1 if failed else 0
