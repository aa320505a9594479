"""``corrkin export``: each clip's keypoints as an OpenSim ``.trc`` marker file, for Sports2D,
Pose2Sim, OpenSim and the tools that read them.

``corrkin export input=<results or keypoint files> output=<folder>`` writes ``<output>/<clip>.trc``
per clip (:func:`corrkin.io.trc.write_trc`): the 13 joints and the bat tip under OpenSim-style
marker names (``LAnkle`` ... ``RWrist``, the pelvis ``Hip``, the bat ``BatTip``:
:data:`corrkin.io.trc.MARKERS`), 2-D as Sports2D writes it (X the image's x, Y its y negated,
Z = 0), a point scored 0 (or below ``min_score``) as empty cells. ``corrkin analyse`` reads the
files back.

Where a clip's keypoints come from:

* a result folder of ``corrkin run`` (or a library's video clip): its ``keypoints.npz``, the
  keypoints the analysis read;
* a result folder of ``corrkin analyse``: the input file (or OpenPose folder) its
  ``result.json`` names (``provenance.input.path``), read again at the result's frame rate;
  refused where it is gone, has changed size since, or holds another number of frames.
  ``series.npz``'s ``positions`` are never used: they are the analysis's mended points, centred
  on the pelvis in every frame (the body's travel is lost), not the clip's keypoints;
* keypoint files (any format ``corrkin analyse`` reads), as they are.

Units: ``m`` where the clip's ``result.json`` holds a usable calibration: metres per pixel =
``calibration.m_per_shoulder_width / shoulder_width_px``, the origin at the clip's median
pelvis position; ``m`` too for a clip read in metres (a TRC in m), as it is; else ``px``, the
image's own pixels. A clip that cannot be read or written is reported with its reason and the
others go on (exit code 1).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
from tqdm import tqdm

from corrkin.io.keypoints import Clip, ClipError, find_inputs, load_clip
from corrkin.io.results import fitting_name, read_results, result_folders
from corrkin.io.trc import MARKERS, write_trc
from corrkin.skeleton import JOINT_INDEX, NODES

log = logging.getLogger(__name__)


@dataclass
class Source:
    """One clip to export: its name, the keypoints to read, and its analysis where there is one."""

    name: str
    path: Path  # a keypoint file or an OpenPose folder; for a result, its folder until resolved
    record: dict | None = None  # the result.json


def metres_per_pixel(record: dict | None) -> float | None:
    """The result's calibrated scale, metres per keypoint unit, or None where it has none."""
    cal = record.get("calibration") if record is not None else None
    if not isinstance(cal, dict) or "unavailable" in cal:
        return None
    try:
        scale = float(cal["m_per_shoulder_width"]) / float(record["shoulder_width_px"])
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    return scale if math.isfinite(scale) and scale > 0 else None


def trc_markers(clip: Clip, record: dict | None = None, min_score: float = 0.0) -> tuple[np.ndarray, np.ndarray, str]:
    """The clip's 14 nodes as TRC markers: ``xy (T, 14, 2)`` (image convention, y down), which
    are ``seen (T, 14)`` (score above 0 and at least ``min_score``), and the units (the
    module's rule)."""
    xy = np.concatenate([clip.keypoints, clip.bat[:, None]], 1).astype(np.float64)
    scores = np.concatenate([clip.scores, clip.bat_scores[:, None]], 1)
    seen = (scores > 0) & (scores >= min_score)
    scale = metres_per_pixel(record)
    if clip.units == "m" or scale is None:
        return xy, seen, "m" if clip.units == "m" else "px"
    pelvis = JOINT_INDEX["pelvis"]
    at = xy[seen[:, pelvis], pelvis]
    origin = np.median(at, 0) if len(at) else np.zeros(2)
    return (xy - origin) * scale, seen, "m"


def _results(root: Path) -> tuple[list[Source], list[str]]:
    """Every result under ``root`` as a source (names unique), and the unreadable ones' reasons."""
    good, bad = read_results(root)
    names = [rec["clip"] for _, rec, _ in good]
    shared = {n for n in names if names.count(n) > 1}
    sources = [Source(n if n not in shared else folder.relative_to(root).as_posix(), folder, rec)
               for n, (folder, rec, _) in zip(names, good)]
    return sources, [why for _, why in bad]


def analysed_keypoints(folder: Path, record: dict) -> Path:
    """The keypoints a result was analysed from: ``keypoints.npz`` beside it (``corrkin run``),
    else the input its provenance names, checked to be there and of the size it had."""
    beside = folder / "keypoints.npz"
    if beside.is_file():
        return beside
    prov = record.get("provenance")
    given = prov.get("input") if isinstance(prov, dict) else None
    if not isinstance(given, dict) or not given.get("path"):
        raise ClipError(folder / "result.json", "names no input (provenance.input.path) and has no keypoints.npz "
                                                "beside it: export the keypoint files themselves")
    path = Path(str(given["path"]))
    if not path.exists():
        raise ClipError(path, f"the input of result {folder.name} is gone (moved or deleted): export the keypoint "
                              "files themselves")
    size = given.get("bytes")
    if path.is_file() and isinstance(size, int) and size != path.stat().st_size:
        raise ClipError(path, f"changed since it was analysed ({size} bytes then, {path.stat().st_size} now): "
                              "analyse it again, or export the file itself")
    return path


def _out_path(out: Path, name: str, suffix: str = ".trc") -> Path:
    """Where clip ``name`` is written: ``<out>/<name><suffix>``, a name's folders kept, never above ``out``."""
    parts = [p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("/", ".", "..")] or ["clip"]
    return out.joinpath(*parts[:-1], fitting_name(parts[-1], suffix))


def export_one(source: Source, cfg, dest: Path) -> str:
    """Read one clip and write its markers to ``dest`` (TRC, or C3D with ``format=c3d``); returns
    their units. Raises
    :class:`ClipError` (unreadable, not the analysed keypoints) or ``OSError`` (not written)."""
    path, fps, rec = source.path, cfg.fps, source.record
    if rec is not None:
        path = analysed_keypoints(source.path, rec)
        fps = rec["fps"] if isinstance(rec["fps"], (int, float)) and not isinstance(rec["fps"], bool) else None
    box = list(cfg.batter.box) if cfg.batter.box is not None else None
    clip = load_clip(path, fps=fps, name=source.name, batter_box=box, batter_index=cfg.batter.index)
    if rec is not None and rec.get("frames") != clip.frames:
        raise ClipError(path, f"{clip.frames} frames, but result {source.path.name} analysed {rec.get('frames')}: "
                              "not the keypoints it was made from")
    xy, seen, units = trc_markers(clip, rec, cfg.min_score)
    if str(cfg.format) == "c3d":
        from corrkin.io.c3dfile import write_c3d

        write_c3d(dest, xy, seen, [MARKERS[n] for n in NODES], clip.fps, units)
    else:
        write_trc(dest, xy, seen, [MARKERS[n] for n in NODES], clip.fps, units)
    return units


def run_export(cfg) -> int:
    """Export every clip under ``cfg.input`` into ``cfg.output``; the exit code (1 when any failed)."""
    root, out = Path(cfg.input), Path(cfg.output)
    failed: list[str] = []
    if root.is_dir() and result_folders(root):
        sources, failed = _results(root)
    else:
        sources = [Source(name, path) for name, path in find_inputs(root, cfg.recursive, exclude=out)]
    if not sources and not failed:
        raise FileNotFoundError(f"{cfg.input}: no results (result.json) and no keypoint files (.npz, .json, .trc, "
                                "OpenPose frame folders)")
    for why in failed:
        log.error("%s", why)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[Path, str] = {}
    for source in tqdm(sources, desc="export", unit="clip", disable=None if cfg.progress else True):
        dest = _out_path(out, source.name, f".{cfg.format}")
        try:
            if dest in written:
                raise ClipError(source.path, f"its name gives the file of clip {written[dest]}")
            units = export_one(source, cfg, dest)
        except ClipError as e:
            log.error("%s", e)
            failed.append(str(e))
            continue
        except OSError as e:  # a full disk, a read-only folder: that clip fails, the others go on
            log.error("%s: could not write: %s", source.name, e.strerror or e)
            failed.append(source.name)
            continue
        written[dest] = source.name
        log.info("%s -> %s (%s)", source.name, dest, units)
    return 1 if failed else 0
