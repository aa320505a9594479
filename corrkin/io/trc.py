"""OpenSim ``.trc`` marker files (Sports2D, Pose2Sim, OpenSim) in and out.

The layout, tab-separated: line 1 ``PathFileType  4  (X/Y/Z)  <name>``; line 2 the header's
names (``DataRate CameraRate NumFrames NumMarkers Units OrigDataRate OrigDataStartFrame
OrigNumFrames``) and line 3 their values; line 4 ``Frame#  Time  <marker 1>  ...`` (each name
followed by two empty cells); line 5 ``X1 Y1 Z1 X2 ...``; then, after any empty lines, one row
per frame: ``frame  time  x1  y1  z1  x2 ...``. A missing value is an empty cell or ``NaN``.

Reading (:func:`read_trc`, through :func:`corrkin.io.keypoints.load_clip`):

* markers are matched to corrkin's joints by name, ignoring case and ``_ . -`` and spaces:
  ``RShoulder``, ``r_shoulder``, ``Right_Shoulder`` ... (Sports2D's and Pose2Sim's HALPE-26 /
  COCO names; their other markers, ``Nose``, ``Neck``, ``Head``, toes and heels, are not used);
  the pelvis is the ``Hip`` (or ``Pelvis`` / ``MidHip``) marker where it is seen, else the hips'
  midpoint; a ``BatTip`` (or ``Bat``) marker is the bat tip;
* a TRC has no scores: a point scores 1 where its coordinates are finite, 0 where missing;
* the frame rate is ``DataRate`` (``fps=`` overrides it, and is needed where it is missing or
  not a rate); ``Units`` ``m``, ``cm`` and ``mm`` give a clip in metres (``Clip.units == "m"``),
  anything else (``px``) a clip in pixels. The analysis measures by shoulder widths, so either
  serves;
* TRC's Y points up, corrkin's image y down: Y is negated. A 2-D file (every Z zero, Sports2D's)
  is X and -Y. A 3-D file (Pose2Sim's, Y vertical) is seen by an orthographic camera square-on
  to the swing: of the two horizontal axes, X and Z, the one in which the wrists move least over
  the clip (the summed standard deviation of both wrists; all body markers where no wrist is
  seen; X is kept on a tie) is the camera's line of sight and dropped. The image's x is then
  the other axis, signed so the view is never mirrored: X seen from +Z, or Z seen from -X.

Anything a file gets wrong (not a TRC, a row of the wrong width, a cell that is not a number,
no body marker corrkin knows, fewer than :data:`MIN_FRAMES` frames, a ``DataRate`` that is not
a rate) raises :class:`~corrkin.io.files.ClipError` naming the file, with the line where there
is one.

Writing (:func:`write_trc`, ``corrkin export``): a 2-D TRC as Sports2D writes it (X = x,
Y = -y, Z = 0, a missing point as three empty cells), under :data:`MARKERS`' names.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from corrkin.io.files import MAX_KEYPOINT_BYTES, ClipError, regular_file
from corrkin.skeleton import JOINTS, NODES

MIN_FRAMES = 3  # fewer frames are no motion: no velocity can be taken
HEADER_LINES = 5  # PathFileType, the header's names, its values, the markers, X1 Y1 Z1 ...
# corrkin's nodes as the marker names written (Sports2D's / Pose2Sim's HALPE-26 names; the
# pelvis is HALPE's mid-hip, "Hip")
MARKERS: dict[str, str] = {
    "l_ankle": "LAnkle", "r_ankle": "RAnkle", "l_knee": "LKnee", "r_knee": "RKnee", "l_hip": "LHip",
    "r_hip": "RHip", "pelvis": "Hip", "l_shoulder": "LShoulder", "r_shoulder": "RShoulder",
    "l_elbow": "LElbow", "r_elbow": "RElbow", "l_wrist": "LWrist", "r_wrist": "RWrist", "bat": "BatTip",
}
TO_METRES = {"m": 1.0, "cm": 0.01, "mm": 0.001}  # Units read as lengths; any other is image units (px)


def _key(name: str) -> str:
    """A marker name as compared: lower case, letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _aliases() -> dict[str, str]:
    out = {"hip": "pelvis", "pelvis": "pelvis", "midhip": "pelvis", "hipcenter": "pelvis", "hipcentre": "pelvis",
           "battip": "bat", "bat": "bat"}
    for node in NODES:
        if node not in ("pelvis", "bat"):
            side, part = node.split("_")
            for prefix in ((side, "left") if side == "l" else (side, "right")):
                out[prefix + part] = node
    return out


ALIASES = _aliases()  # compared marker name -> corrkin node


def _lines(path: Path) -> list[str]:
    try:
        regular_file(path, MAX_KEYPOINT_BYTES)
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ClipError(path, "no such file") from None
    except OSError as e:
        raise ClipError(path, f"cannot read ({e.strerror or e})") from None
    lines = raw.decode("utf-8", errors="replace").splitlines()
    if not lines or not lines[0].startswith("PathFileType"):
        raise ClipError(path, "not a TRC file (its first line does not start with 'PathFileType')")
    if len(lines) < HEADER_LINES:
        raise ClipError(path, f"cut off: {len(lines)} lines, fewer than the {HEADER_LINES} of a TRC header")
    return lines


def _header(lines: list[str]) -> dict[str, str]:
    """Line 2's names with line 3's values."""
    return {k.strip(): v.strip() for k, v in zip(lines[1].split("\t"), lines[2].split("\t")) if k.strip()}


def _whole(header: dict, key: str) -> int | None:
    """The header's ``key`` as a whole number; None where it is absent or not one (the counts
    are checked against the file only where they are given)."""
    try:
        value = float(header[key])
    except (KeyError, ValueError):
        return None
    return int(value) if math.isfinite(value) and value == int(value) else None


def _markers(path: Path, lines: list[str], header: dict) -> list[str]:
    cells = lines[3].split("\t")
    if not cells[0].strip().lower().startswith("frame"):
        raise ClipError(path, f"line 4 is not the marker line ('Frame#', 'Time', marker names): {lines[3][:60]!r}")
    names = [c.strip() for c in cells[2:] if c.strip()]
    if not names:
        raise ClipError(path, "line 4 names no markers")
    said = _whole(header, "NumMarkers")
    if said is not None and said != len(names):
        raise ClipError(path, f"NumMarkers is {said} but line 4 names {len(names)} markers")
    return names


def _numbers(path: Path, lines: list[str], start: int, markers: int) -> np.ndarray:
    """The data rows from line ``start`` (0-based) as ``(T, markers, 3)`` float64, NaN where empty."""
    width = 2 + 3 * markers
    table = []
    for i in range(start, len(lines)):
        if not lines[i].strip():
            continue  # the empty line some writers put after the header, or a trailing one
        cells = lines[i].split("\t")
        if len(cells) < width or any(c.strip() for c in cells[width:]):
            raise ClipError(path, f"line {i + 1} has {len(cells)} cells, expected {width} (Frame#, Time, and X, Y, Z "
                                  f"of {markers} markers)")
        table.append((i, cells[2:width]))
    if not table:
        return np.zeros((0, markers, 3))
    text = np.char.strip(np.array([cells for _, cells in table], dtype=str))
    try:
        values = np.where(text == "", "nan", text).astype(np.float64)
    except ValueError:
        for i, cells in table:  # the first cell that is not a number, named
            for c, cell in enumerate(cells):
                try:
                    float(cell) if cell.strip() else None
                except ValueError:
                    raise ClipError(path, f"line {i + 1}, column {c + 3}: {cell.strip()[:30]!r} is not a number") from None
        raise  # not reached: some cell failed above
    if np.isinf(values).any():
        i = table[int(np.argwhere(np.isinf(values))[0][0])][0]
        raise ClipError(path, f"line {i + 1}: an infinite coordinate is not a position (a missing one is empty or NaN)")
    return values.reshape(len(table), markers, 3)


def _data_start(lines: list[str]) -> int:
    """The first data line: line 6 after the ``X1 Y1 Z1`` line, line 5 where a writer left it out."""
    first = lines[4].split("\t")[0].strip()
    try:
        float(first)
        return HEADER_LINES - 1
    except ValueError:
        return HEADER_LINES


def _data_rate(path: Path, header: dict) -> float:
    raw = header.get("DataRate")
    if raw is None:
        raise ClipError(path, "no DataRate in the header: pass fps=<frames per second>")
    try:
        rate = float(raw)
    except ValueError:
        rate = math.nan
    if not (math.isfinite(rate) and rate > 0):
        raise ClipError(path, f"DataRate {raw[:30]!r} is not a frame rate: pass fps=<frames per second>")
    return rate


def _nodes(path: Path, names: list[str]) -> dict[str, int]:
    """corrkin node -> marker column, for the markers whose names corrkin knows."""
    found: dict[str, int] = {}
    for i, name in enumerate(names):
        node = ALIASES.get(_key(name))
        if node is None:
            continue
        if node in found:
            raise ClipError(path, f"markers '{names[found[node]]}' and '{name}' both name the {node}")
        found[node] = i
    if not any(n in found for n in JOINTS):
        shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
        raise ClipError(path, f"no body marker corrkin knows among {shown}: expected names such as RShoulder, LWrist, "
                              "RHip (Sports2D / Pose2Sim HALPE-26 or COCO names)")
    return found


def _view(xyz: np.ndarray, found: dict[str, int]) -> np.ndarray:
    """``(T, M, 2)`` image coordinates (y down) of ``xyz (T, M, 3)`` (Y up): 2-D as X, -Y; 3-D
    square-on to the swing (the module's docstring)."""
    z = xyz[..., 2][np.isfinite(xyz[..., 2])]
    if not (z != 0).any():  # 2-D (Sports2D): Z is zero, or absent
        return np.stack([xyz[..., 0], -xyz[..., 1]], -1)
    wrists = [found[w] for w in ("l_wrist", "r_wrist") if w in found and np.isfinite(xyz[:, found[w]]).all(-1).any()]
    cols = wrists or [found[n] for n in JOINTS if n in found]

    def spread(axis: int) -> float:
        total = 0.0
        for c in cols:
            v = xyz[:, c, axis][np.isfinite(xyz[:, c, axis])]
            total += float(v.std()) if v.size else 0.0
        return total

    keep_x = spread(0) >= spread(2)  # the axis the wrists move least in is the line of sight
    horizontal = xyz[..., 0] if keep_x else xyz[..., 2]  # X seen from +Z; Z seen from -X (never mirrored)
    return np.stack([horizontal, -xyz[..., 1]], -1)


def read_trc(path: str | os.PathLike, fps: float | None = None) -> dict:
    """A TRC file as a reader's dict for :func:`corrkin.io.keypoints.load_clip`:
    ``keypoints (T, 13, 2)`` (NaN where missing) and ``scores (T, 13)`` in corrkin's joint order,
    ``bat (T, 2)`` and ``bat_scores (T,)`` (None without a bat marker), ``fps`` (``DataRate``,
    or None where ``fps`` is given), ``joints`` and ``units`` (``"m"`` or ``"px"``). How markers
    are matched and 3-D is viewed: the module's docstring."""
    path = Path(path)
    lines = _lines(path)
    header = _header(lines)
    names = _markers(path, lines, header)
    found = _nodes(path, names)
    rate = _data_rate(path, header) if fps is None else None
    xyz = _numbers(path, lines, _data_start(lines), len(names))
    t = len(xyz)
    said = _whole(header, "NumFrames")
    if said is not None and said != t:
        raise ClipError(path, f"NumFrames is {said} but the file holds {t} rows (cut off, or rows added)")
    if t < MIN_FRAMES:
        raise ClipError(path, f"{t} frames: a clip needs at least {MIN_FRAMES}")
    unit = header.get("Units", "").strip().lower()
    xy = _view(xyz, found) * TO_METRES.get(unit, 1.0)
    seen = np.isfinite(xy).all(-1)
    kps = np.full((t, len(JOINTS), 2), np.nan, np.float32)
    scores = np.zeros((t, len(JOINTS)), np.float32)
    for j, joint in enumerate(JOINTS):
        if joint in found:
            kps[:, j], scores[:, j] = xy[:, found[joint]], seen[:, found[joint]]
    if "l_hip" in found and "r_hip" in found:  # the pelvis: its marker where seen, else the hips' midpoint
        p, hips = JOINTS.index("pelvis"), [JOINTS.index("l_hip"), JOINTS.index("r_hip")]
        both = scores[:, hips].min(1) > 0
        fill = both & (scores[:, p] == 0)
        kps[fill, p], scores[fill, p] = kps[fill][:, hips].mean(1), 1.0
    bat = bat_scores = None
    if "bat" in found:
        bat, bat_scores = xy[:, found["bat"]].astype(np.float32), seen[:, found["bat"]].astype(np.float32)
    return dict(keypoints=kps, scores=scores, bat=bat, bat_scores=bat_scores, fps=rate, joints=list(JOINTS),
                units="m" if unit in TO_METRES else "px")


def checked_markers(writer: str, xy, seen, names: Sequence[str], fps: float) -> tuple[np.ndarray, np.ndarray]:
    """``(xy (T, M, 2) float, seen (T, M))`` for a marker writer (:func:`write_trc`,
    :func:`corrkin.io.c3dfile.write_c3d`): shapes that agree with the ``M`` names and a frame
    rate, else ``ValueError`` naming ``writer``; a point not finite is not seen."""
    xy, seen = np.asarray(xy, np.float64), np.asarray(seen, bool)
    t, m = xy.shape[:2]
    if xy.shape != (t, m, 2) or seen.shape != (t, m) or len(names) != m:
        raise ValueError(f"{writer}: xy {xy.shape}, seen {seen.shape} and {len(names)} names do not match "
                         "(T, M, 2), (T, M), M")
    if not (math.isfinite(fps) and fps > 0):
        raise ValueError(f"{writer}: fps={fps} is not a frame rate")
    return xy, seen & np.isfinite(xy).all(-1)


def write_trc(path: str | os.PathLike, xy: np.ndarray, seen: np.ndarray, names: Sequence[str], fps: float,
              units: str = "px") -> None:
    """Write markers ``xy (T, M, 2)`` (corrkin's image convention: y down) as a 2-D TRC,
    atomically: X = x, Y = -y, Z = 0, six decimals; a point not ``seen (T, M)`` (or not finite)
    as three empty cells. ``names`` are the ``M`` marker names, ``units`` the header's Units
    (``px`` or ``m``); frames are numbered from 1, times ``frame / fps`` from 0."""
    from corrkin.io.results import atomic_write

    xy, seen = checked_markers("write_trc", xy, seen, names, fps)
    t, m = seen.shape
    clean = [re.sub(r"\s", " ", str(n)) for n in [*names, Path(path).name]]  # a tab or newline would break a line
    cells = np.where(seen[..., None], np.char.mod("%.6f", np.stack([xy[..., 0], -xy[..., 1], np.zeros((t, m))], -1)
                                                  + 0.0), "")  # + 0.0: no "-0.000000"
    rate = repr(float(fps))
    lines = [f"PathFileType\t4\t(X/Y/Z)\t{clean[-1]}",
             "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\tOrigDataStartFrame\tOrigNumFrames",
             f"{rate}\t{rate}\t{t}\t{m}\t{units}\t{rate}\t1\t{t}",
             "Frame#\tTime\t" + "\t\t\t".join(clean[:-1]) + "\t\t",
             "\t\t" + "\t".join(f"X{i}\tY{i}\tZ{i}" for i in range(1, m + 1))]
    lines += [f"{f + 1}\t{f / fps:.6f}\t" + "\t".join(cells[f].reshape(-1)) for f in range(t)]
    with atomic_write(path, "w") as out:
        out.write("\n".join(lines) + "\n")
