"""Keypoint files in, one padded batch out.

Formats read (chosen by content, not by name):

* corrkin ``.npz``: ``keypoints (T, J, 2)``, ``scores (T, J)``, optional ``bat (T, 2)`` and
  ``bat_scores (T,)``, ``fps`` and ``joints`` (names: the 13 analysis joints or COCO-17);
* the seed ``.npz`` files: ``kps (T, 13, 2)``, ``conf (T, 13)``, ``bat (T, 2)``, no fps (pass one);
* mmpose prediction JSON (``topdown_demo_with_mmdet.py --save-predictions`` or the
  inferencer's ``pred_out_dir``): per frame, instances with ``keypoints``, ``keypoint_scores``
  and ``bbox`` in COCO-17; an 18th keypoint is taken as the bat tip. The batter is chosen among
  the people and followed through the clip (:mod:`corrkin.pose.select`);
* OpenSim ``.trc`` marker files (Sports2D 2-D, Pose2Sim 3-D; :mod:`corrkin.io.trc`): markers
  matched to the joints by name, Y flipped to the image's, a 3-D swing seen square-on; a file
  in metres gives a clip in metres (``Clip.units``);
* a folder of OpenPose per-frame JSON files (BODY_25, COCO-18, HALPE-26 ...;
  :mod:`corrkin.io.openpose`), one clip, no fps (pass one): the batter is chosen among the
  people as in an mmpose file. A single frame file is refused with a pointer to its folder.

Every ``.npz`` is read with ``allow_pickle=False``. A file that cannot be used raises
:class:`ClipError` with one line naming the file and the problem.
"""

from __future__ import annotations

import io
import json
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from corrkin.io.files import MAX_KEYPOINT_BYTES, MAX_VIDEO_BYTES, ClipError, regular_file  # noqa: F401 - re-exported
from corrkin.skeleton import COCO17, JOINTS, coco17_to_joints

if TYPE_CHECKING:  # torch is imported where a batch is built, so file readers stay light
    import torch

SUFFIXES = (".npz", ".json", ".trc")
MIN_FPS, MAX_FPS = 1.0, 10000.0  # a frame rate outside is a unit or a typing error, not a camera's
KNOWN_KEYS = {"kps", "conf", "bat", "keypoints", "scores", "bat_scores", "fps", "joints"}


@dataclass
class Clip:
    """One clip's keypoints as read (numpy, float32, image convention: x right, y down; in
    pixels, or in metres where ``units`` says so)."""

    name: str
    path: str  # the file, or the folder of an OpenPose clip
    keypoints: np.ndarray  # (T, 13, 2)
    scores: np.ndarray  # (T, 13)
    bat: np.ndarray  # (T, 2), zeros where absent
    bat_scores: np.ndarray  # (T,), 0 where absent
    fps: float
    source: str  # "corrkin" | "seed" | "mmpose" | "trc" | "openpose"
    # what the video stages found: people seen, how the batter was chosen, identity switches
    story: dict | None = None
    units: str = "px"  # "px" image pixels; "m" metres (a TRC file in m, cm or mm)

    @property
    def frames(self) -> int:
        return self.keypoints.shape[0]


@dataclass
class KeypointBatch:
    """Clips padded to one length ``T``; every tensor is on one device.

    ``keypoints (B, T, 13, 2)``, ``scores (B, T, 13)``, ``bat (B, T, 2)``, ``bat_scores (B, T)``,
    ``frame_mask (B, T)``, ``lengths (B,)``, ``fps (B,)``. Padded frames are zero with mask false.
    """

    names: list[str]
    keypoints: torch.Tensor
    scores: torch.Tensor
    bat: torch.Tensor
    bat_scores: torch.Tensor
    frame_mask: torch.Tensor
    lengths: torch.Tensor
    fps: torch.Tensor
    stories: list[dict | None] | None = None  # each clip's Clip.story

    def __len__(self) -> int:
        return len(self.names)


def _to_joints(path, kps: np.ndarray, scores: np.ndarray, names) -> tuple[np.ndarray, np.ndarray]:
    j = kps.shape[1]
    if names is not None:
        names = tuple(str(n) for n in names)
        if len(names) != j:
            raise ClipError(path, f"'joints' names {len(names)} joints but keypoints have {j}")
        if names == JOINTS:
            return kps, scores
        if names == COCO17:
            return coco17_to_joints(kps, scores)
        missing = [n for n in JOINTS if n not in names and n != "pelvis"]
        if missing:
            raise ClipError(path, f"joints {missing} missing from 'joints' {list(names)}")
        idx = [names.index(n) for n in JOINTS if n != "pelvis"]
        sel_k, sel_s = kps[:, idx], scores[:, idx]
        if "pelvis" in names:
            pel_k, pel_s = kps[:, names.index("pelvis")], scores[:, names.index("pelvis")]
        else:
            hips = [names.index("l_hip"), names.index("r_hip")]
            pel_k, pel_s = kps[:, hips].mean(1), scores[:, hips].min(1)
        p = JOINTS.index("pelvis")
        return (np.insert(sel_k, p, pel_k, axis=1), np.insert(sel_s, p, pel_s, axis=1))
    if j == len(JOINTS):
        return kps, scores
    if j == len(COCO17):
        return coco17_to_joints(kps, scores)
    raise ClipError(path, f"{j} joints and no 'joints' names: expected 13 (analysis order) or 17 (COCO)")


def _array(path, data, key, ndim_shape, names: str = "TJ") -> np.ndarray:
    """``data[key]`` as float32 if it is numbers of shape ``ndim_shape`` (None: any length, named
    in the message by ``names`` in order: frames T, then joints J)."""
    arr = data[key]
    if arr.dtype.kind not in "fiu":
        raise ClipError(path, f"'{key}' has dtype {arr.dtype}, expected numbers")
    if arr.ndim != len(ndim_shape) or any(s is not None and a != s for a, s in zip(arr.shape, ndim_shape)):
        free = iter(names)
        want = "(" + ", ".join(next(free) if s is None else str(s) for s in ndim_shape) + ")"
        raise ClipError(path, f"'{key}' has shape {arr.shape}, expected {want}")
    return arr.astype(np.float32, copy=False)


def _read_npz(path: Path) -> tuple[str, dict]:
    try:
        raw = path.read_bytes()  # one read; zipfile then seeks in memory, not on the file
    except OSError as e:
        raise ClipError(path, f"cannot read ({e.strerror})") from None
    if raw[:4] != b"PK\x03\x04":
        raise ClipError(path, "not a readable .npz (not a zip archive; empty, truncated or another format)")
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
            # each access re-reads the archive, so read the keys we use once (and never others:
            # the seed files hold a pickled 'series' that must not be loaded)
            data = {k: npz[k] for k in npz.files if k in KNOWN_KEYS}
            keys = set(npz.files)
            if "kps" in keys:
                kps = _array(path, data, "kps", (None, 13, 2))
                out = dict(keypoints=kps, scores=_array(path, data, "conf", (None, 13)) if "conf" in keys
                           else None, bat=_array(path, data, "bat", (None, 2)) if "bat" in keys else None,
                           fps=None, joints=None, bat_scores=None)
                return "seed", out
            if "keypoints" not in keys:
                raise ClipError(path, f"no 'keypoints' (corrkin) or 'kps' (seed) array; keys are {sorted(keys)}")
            kps = _array(path, data, "keypoints", (None, None, 2))
            out = dict(
                keypoints=kps,
                scores=_array(path, data, "scores", (None, kps.shape[1])) if "scores" in keys else None,
                bat=_array(path, data, "bat", (None, 2)) if "bat" in keys else None,
                bat_scores=_array(path, data, "bat_scores", (None,)) if "bat_scores" in keys else None,
                fps=float(data["fps"]) if "fps" in keys else None,
                joints=data["joints"].tolist() if "joints" in keys else None,
            )
            return "corrkin", out
    except ClipError:
        raise
    except ValueError as e:
        if "pickle" in str(e):
            raise ClipError(path, "holds pickled objects, which are never loaded; save plain arrays") from None
        raise ClipError(path, f"not a readable .npz ({e})") from None
    except Exception as e:  # zipfile.BadZipFile, OSError, EOFError ...
        raise ClipError(path, f"not a readable .npz ({type(e).__name__}: {e})") from None


def read_mmpose_people(path: str | os.PathLike):
    """Everyone in an mmpose prediction file, as :class:`corrkin.pose.select.People` (COCO-17;
    an 18th keypoint is the bat tip). A person without a ``bbox`` is boxed by their keypoints."""
    from corrkin.pose.select import People

    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ClipError(path, f"not readable JSON ({e})") from None
    if isinstance(doc, dict) and "people" in doc and "instance_info" not in doc:
        raise ClipError(path, "one frame of OpenPose output ('people'), not a clip: pass the folder that holds "
                              "the clip's <video>_<frame>_keypoints.json files")
    frames = doc.get("instance_info") if isinstance(doc, dict) else doc
    if not isinstance(frames, list) or not frames:
        raise ClipError(path, "no frames: expected mmpose predictions ('instance_info' or a list of frames)")
    if isinstance(frames[0], dict) and "instances" not in frames[0] and "keypoints" in frames[0]:
        frames = [{"frame_id": 0, "instances": frames}]  # a single image's instances
    for f, frame in enumerate(frames):  # the structure first: any other shape is one line, not a crash
        if not isinstance(frame, dict) or "instances" not in frame:
            raise ClipError(path, f"frame {f} has no 'instances'")
        if not isinstance(frame["instances"], list) or not all(isinstance(i, dict) for i in frame["instances"]):
            raise ClipError(path, f"frame {f}: 'instances' is not a list of people (objects with 'keypoints')")
    t = len(frames)
    people = max(len(f["instances"]) for f in frames)
    kps = np.zeros((t, max(people, 1), 18, 2), np.float32)
    scores = np.zeros((t, max(people, 1), 18), np.float32)
    boxes = np.zeros((t, max(people, 1), 4))
    valid = np.zeros((t, max(people, 1)), bool)
    has_bat = False
    for f, frame in enumerate(frames):
        for i, inst in enumerate(frame["instances"]):
            try:
                k = np.asarray(inst["keypoints"], np.float32)
                sc = np.asarray(inst["keypoint_scores"], np.float32)
            except KeyError as e:
                raise ClipError(path, f"frame {f}: instance without {e}") from None
            except (TypeError, ValueError):
                raise ClipError(path, f"frame {f}: person {i}'s keypoints or scores are not lists of numbers") from None
            if k.ndim != 2 or k.shape[1] != 2 or k.shape[0] not in (17, 18) or sc.shape != (k.shape[0],):
                raise ClipError(path, f"frame {f}: keypoints {k.shape} / scores {sc.shape}, expected COCO-17 (+ bat tip)")
            kps[f, i, : len(k)], scores[f, i, : len(k)] = k, sc
            has_bat |= len(k) == 18
            try:
                box = np.asarray(inst["bbox"], np.float64).reshape(-1)[:4] if "bbox" in inst else None
            except (TypeError, ValueError):
                raise ClipError(path, f"frame {f}: 'bbox' is not four numbers") from None
            if box is None or box.size != 4:  # no box: the keypoints' extent
                seen = k[sc > 0] if (sc > 0).any() else k
                box = np.concatenate([seen.min(0), seen.max(0)])
            boxes[f, i], valid[f, i] = box, True
    return People(kps[:, :, :17], scores[:, :, :17], boxes, valid,
                  bat=kps[:, :, 17] if has_bat else None, bat_scores=scores[:, :, 17] if has_bat else None)


def _read_mmpose(path: Path, batter_box=None, batter_index=None) -> tuple[str, dict]:
    return "mmpose", _batter(path, read_mmpose_people(path), batter_box, batter_index)


def _read_openpose(path: Path, batter_box=None, batter_index=None) -> tuple[str, dict]:
    from corrkin.io.openpose import read_openpose_people

    return "openpose", _batter(path, read_openpose_people(path), batter_box, batter_index)


def _batter(path: Path, people, batter_box=None, batter_index=None) -> dict:
    """The batter's joints (and bat tip) among ``people`` (:class:`corrkin.pose.select.People`),
    chosen and followed, or given by ``batter_box`` / ``batter_index``, as a reader's dict; a
    choice that names no one raises :class:`ClipError` naming ``path``."""
    from corrkin.pose.select import select_batter

    valid, boxes = people.valid, people.boxes
    extent = (float(boxes[..., 2][valid].max(initial=1.0)), float(boxes[..., 3][valid].max(initial=1.0)))
    try:
        sel = select_batter(boxes, valid, extent, bat_score=people.bat_scores, box=batter_box, index=batter_index)
    except ValueError as e:
        raise ClipError(path, str(e).replace("select_batter: ", "")) from None
    k13, s13 = people.batter(sel)
    bat = bat_scores = None
    if people.bat is not None:
        rows, pick = np.arange(len(valid)), np.maximum(sel.index, 0)
        bat = people.bat[rows, pick]
        bat_scores = np.where(sel.found, people.bat_scores[rows, pick], 0.0).astype(np.float32)
        if not bat_scores.any():
            bat = bat_scores = None
    return dict(keypoints=k13, scores=s13, bat=bat, bat_scores=bat_scores, fps=None, joints=None)


def load_clip(path: str | os.PathLike, fps: float | None = None, name: str | None = None,
              batter_box=None, batter_index: int | None = None) -> Clip:
    """Read one keypoint file, or a folder of OpenPose frame files; ``fps`` overrides the file's
    frame rate (and is required for the seed, mmpose and OpenPose formats, which carry none, and
    for a TRC without a usable ``DataRate``). For files with several people (mmpose, OpenPose), the
    batter is chosen and followed (:mod:`corrkin.pose.select`), or given by ``batter_box`` /
    ``batter_index``; frames where the batter is lost get score 0 (gaps, never another person).

    Whatever is wrong with the file, the error is a :class:`ClipError` naming it: the formats'
    checks say what is wrong where they can, and anything they did not foresee (deep nesting,
    a type no check expected) is still reported as that file's problem, never a crash of the
    run that reads it."""
    try:
        return _load_clip(Path(path), fps, name, batter_box, batter_index)
    except ClipError:
        raise
    except Exception as e:  # noqa: BLE001 - whatever the file holds, it is this file's error
        raise ClipError(path, f"cannot be read as keypoints ({type(e).__name__}: {e})") from None


def _frame_rate(path: Path, clip_fps, source: str) -> float:
    """The clip's frame rate, checked to be a camera's."""
    if clip_fps is None:
        where = "OpenPose output" if source == "openpose" else f"a {source} file"
        raise ClipError(path, f"no frame rate in {where}: pass fps=<frames per second>")
    if not np.isfinite(clip_fps) or clip_fps <= 0:
        raise ClipError(path, f"frame rate {clip_fps} is not a positive number")
    if not MIN_FPS <= clip_fps <= MAX_FPS:
        raise ClipError(path, f"frame rate {float(clip_fps):g} fps is not a video's ({MIN_FPS:g} to {MAX_FPS:g}): "
                              "pass fps=<frames per second>")
    return float(clip_fps)


def _read(path: Path, fps: float | None, batter_box, batter_index) -> tuple[str, dict]:
    """The reader's ``(source, dict)`` for ``path``, by its suffix (a folder: OpenPose frames)."""
    if path.is_dir():
        return _read_openpose(path, batter_box, batter_index)
    try:
        regular_file(path, MAX_KEYPOINT_BYTES)
    except FileNotFoundError:
        raise ClipError(path, "no such file") from None
    except OSError as e:
        raise ClipError(path, e.strerror or str(e)) from None
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return _read_npz(path)
    if suffix == ".json":
        return _read_mmpose(path, batter_box, batter_index)
    if suffix == ".trc":
        from corrkin.io.trc import read_trc

        return "trc", read_trc(path, fps)
    raise ClipError(path, f"unknown keypoint format '{path.suffix}' (expected {', '.join(SUFFIXES)}, "
                          "or a folder of OpenPose frame files)")


def _load_clip(path: Path, fps: float | None, name: str | None, batter_box, batter_index) -> Clip:
    source, d = _read(path, fps, batter_box, batter_index)
    kps = d["keypoints"]
    t = kps.shape[0]
    if t == 0:
        raise ClipError(path, "no frames")
    scores = d["scores"] if d["scores"] is not None else np.ones(kps.shape[:2], np.float32)
    kps, scores = _to_joints(path, kps, scores, d["joints"])
    bat, bat_scores = d["bat"], d["bat_scores"]
    if bat is None:
        bat, bat_scores = np.zeros((t, 2), np.float32), np.zeros(t, np.float32)
    elif bat_scores is None:
        bat_scores = np.isfinite(bat).all(1).astype(np.float32)
    for key, x in (("bat", bat), ("bat_scores", bat_scores)):
        if x.shape[0] != t:
            raise ClipError(path, f"'{key}' has {x.shape[0]} frames but the keypoints have {t}")
    for key, x, s in (("keypoints", kps, scores), ("bat", bat, bat_scores)):
        bad = ~np.isfinite(x).all(-1) & (s > 0)
        if bad.any():
            f = int(np.argwhere(bad)[0][0])
            raise ClipError(path, f"'{key}' has {int(bad.sum())} NaN/inf positions with a positive score (first at frame {f})")
    kps = np.where(np.isfinite(kps), kps, 0).astype(np.float32)
    bat = np.where(np.isfinite(bat), bat, 0).astype(np.float32)
    if not np.isfinite(scores).all():
        raise ClipError(path, "scores contain NaN/inf")
    clip_fps = _frame_rate(path, fps if fps is not None else d["fps"], source)
    return Clip(name=name or (path.name if path.is_dir() else path.stem), path=str(path), keypoints=kps, scores=scores,
                bat=bat, bat_scores=bat_scores.astype(np.float32), fps=float(clip_fps), source=source,
                units=d.get("units", "px"))


def find_inputs(root: str | os.PathLike, recursive: bool = False,
                exclude: str | os.PathLike | None = None) -> list[tuple[str, Path]]:
    """``(clip name, path)`` for a file, or for every keypoint file in a folder (sorted); with
    ``recursive``, in its sub-folders too. A folder holding OpenPose per-frame files
    (``*_keypoints.json``, :mod:`corrkin.io.openpose`) is one clip, whose path is the folder:
    ``root`` itself where it holds them, else each such sub-folder; its frame files are never
    clips of their own.

    A clip's name is its path relative to the folder without the suffix, so clips with the same
    file name in different sub-folders stay apart; where two files differ only in their suffix
    (``clip.npz`` and ``clip.json``), both keep it (``clip.npz``, ``clip.json``): names are unique,
    so no result folder or summary row is shared. Hidden files and folders are skipped, and
    only regular files are read (never a FIFO or a device); suffixes match in any case
    (``CLIP.NPZ``). ``exclude``: a folder never read (the command's own output, where it lies
    inside the input).
    """
    from corrkin.io.openpose import is_frame_file, is_openpose_folder

    root = Path(root)
    if not str(root).strip():
        raise ValueError("input is empty: name a keypoint file or folder")
    if root.is_file():
        return [(root.stem, root)]
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such file or folder")
    if is_openpose_folder(root):
        return [(Path(os.path.abspath(root)).name or "openpose", root)]
    skip = Path(os.path.abspath(exclude)) if exclude is not None and str(exclude).strip() else None
    if skip is not None and Path(os.path.abspath(root)).is_relative_to(skip):
        skip = None  # the input lies inside the output (a folder of inputs kept there): read it

    def visible(p: Path) -> bool:
        if any(part.startswith(".") for part in p.relative_to(root).parts):
            return False
        return skip is None or not Path(os.path.abspath(p)).is_relative_to(skip)

    def wanted(p: Path) -> bool:
        if p.suffix.lower() not in SUFFIXES or is_frame_file(p) or not visible(p):
            return False
        return p.is_file()

    found = list(root.rglob("*") if recursive else root.glob("*"))
    clips = sorted([p for p in found if wanted(p)]
                   + [p for p in found if p.is_dir() and visible(p) and is_openpose_folder(p)])
    stems = [(p.relative_to(root) if p.is_dir() else p.relative_to(root).with_suffix("")).as_posix() for p in clips]
    shared = {s for s, n in Counter(stems).items() if n > 1}
    return [(s if s not in shared else p.relative_to(root).as_posix(), p) for s, p in zip(stems, clips)]


def collate(clips: list[Clip], device: str | torch.device = "cpu", dtype: torch.dtype | None = None) -> KeypointBatch:
    """Pad clips to the longest, rounded up to whole 64-frame blocks, and stack them (padding
    zero, masked). The rounding lets every reduction over frames run without a padded copy."""
    import torch

    from corrkin.ops.reduce import padded_length

    dtype = torch.float32 if dtype is None else dtype
    if not clips:
        raise ValueError("collate: no clips")
    t = padded_length(max(c.frames for c in clips))
    b = len(clips)
    kps = np.zeros((b, t, len(JOINTS), 2), np.float32)
    scores = np.zeros((b, t, len(JOINTS)), np.float32)
    bat = np.zeros((b, t, 2), np.float32)
    bat_scores = np.zeros((b, t), np.float32)
    for i, c in enumerate(clips):
        n = c.frames
        kps[i, :n], scores[i, :n], bat[i, :n], bat_scores[i, :n] = c.keypoints, c.scores, c.bat, c.bat_scores
    lengths = torch.tensor([c.frames for c in clips], device=device)
    as_t = lambda a: torch.from_numpy(a).to(device=device, dtype=dtype)  # noqa: E731
    return KeypointBatch(
        names=[c.name for c in clips], keypoints=as_t(kps), scores=as_t(scores), bat=as_t(bat),
        bat_scores=as_t(bat_scores), frame_mask=torch.arange(t, device=device)[None] < lengths[:, None],
        lengths=lengths, fps=torch.tensor([c.fps for c in clips], device=device, dtype=dtype),
        stories=[c.story for c in clips],
    )


def save_clip(path: str | os.PathLike, clip: Clip) -> None:
    """Write ``clip`` as a corrkin ``.npz`` (atomically)."""
    from corrkin.io.results import atomic_write

    with atomic_write(path) as f:
        np.savez(f, keypoints=clip.keypoints, scores=clip.scores, bat=clip.bat,
                 bat_scores=clip.bat_scores, fps=np.float64(clip.fps), joints=np.array(JOINTS))
