"""OpenPose JSON output (and Sports2D's ``_json`` folders) in: a clip is a folder of frames.

OpenPose's ``--write_json`` writes one file per frame, ``<video>_000000000123_keypoints.json``,
each ``{"version": ..., "people": [{"person_id": [-1], "pose_keypoints_2d": [x0, y0, c0, x1,
...], ...}]}``. A folder of such files is one clip, its frames ordered by the number in their
names; a number missing between the first and the last is a frame where no one was found (more
missing than there are files is not one clip's frames, and is refused). Frames of two videos
(two name stems) in one folder are refused too: each clip needs a folder of its own.

The layout is told by the number of points (the same in every frame): 25 BODY_25, 18 OpenPose's
COCO body, 17 COCO-17, 26 HALPE-26 (Sports2D's and Pose2Sim's default), 133 COCO-WholeBody.
Each is read through its COCO-17 points (:data:`corrkin.skeleton.OPENPOSE_BODY25` ...), so the
13 joints are those of every other source: the pelvis is the hips' midpoint (BODY_25's own
``MidHip`` is not used). A point with confidence 0 (OpenPose writes x = y = 0 there) or a value
that is not finite is missing. Coordinates are taken as pixels (OpenPose's default
``keypoint_scale``). There is no frame rate in OpenPose output: ``fps=`` is required.

Everyone in every frame is returned (:func:`read_openpose_people`); the batter is chosen among
them as in an mmpose file (:func:`corrkin.io.keypoints.load_clip`, :mod:`corrkin.pose.select`).
A frame file that cannot be used raises :class:`~corrkin.io.files.ClipError` naming that file;
a folder that is not one clip's frames, naming the folder.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np

from corrkin.io.files import MAX_KEYPOINT_BYTES, ClipError, regular_file
from corrkin.skeleton import COCO17, HALPE26, OPENPOSE_BODY25, OPENPOSE_COCO18, coco17_index

FRAME_FILE = re.compile(r"^(?P<stem>.*?)(?P<number>\d+)_keypoints\.json$", re.IGNORECASE)
# points per person -> (layout, where its COCO-17 points are)
LAYOUTS: dict[int, tuple[str, list[int]]] = {
    25: ("BODY_25", coco17_index(OPENPOSE_BODY25)),
    18: ("COCO-18", coco17_index(OPENPOSE_COCO18)),
    17: ("COCO-17", coco17_index(COCO17)),
    26: ("HALPE-26", coco17_index(HALPE26)),
    133: ("COCO-WholeBody", coco17_index(COCO17)),  # its first 17 points are COCO-17's
}


def is_frame_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` is named as one of OpenPose's per-frame files (``*<number>_keypoints.json``)."""
    return FRAME_FILE.match(Path(path).name) is not None


def frame_files(folder: str | os.PathLike) -> list[Path]:
    """The visible per-frame files directly in ``folder`` (unsorted); none where it is not a folder."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    return [Path(e.path) for e in entries if not e.name.startswith(".") and FRAME_FILE.match(e.name)
            and e.is_file()]


def is_openpose_folder(folder: str | os.PathLike) -> bool:
    """Whether ``folder`` holds OpenPose per-frame files (it is then one clip)."""
    return bool(frame_files(folder))


def _ordered(folder: Path) -> tuple[list[Path], list[int]]:
    """The folder's frame files by frame number, and the numbers; a folder that is not one
    clip's frames raises :class:`ClipError`."""
    files = frame_files(folder)
    if not files:
        raise ClipError(folder, "no OpenPose frame files (<video>_<frame number>_keypoints.json) in the folder")
    parsed = sorted((int(FRAME_FILE.match(p.name)["number"]), p) for p in files)
    stems = sorted({FRAME_FILE.match(p.name)["stem"].rstrip("_") for p in files})
    if len(stems) > 1:
        raise ClipError(folder, f"frames of {len(stems)} videos ({', '.join(stems[:3])}{', ...' if len(stems) > 3 else ''}): "
                                "put each clip's frame files in a folder of its own")
    numbers = [n for n, _ in parsed]
    for (a, pa), (b, pb) in zip(parsed, parsed[1:]):
        if a == b:
            raise ClipError(folder, f"frame {a} is there twice ({pa.name}, {pb.name})")
    span = numbers[-1] - numbers[0] + 1
    if span - len(numbers) > len(numbers):
        raise ClipError(folder, f"frame numbers {numbers[0]}-{numbers[-1]} miss {span - len(numbers)} frames, more than "
                                f"the {len(numbers)} there: not one clip's frames")
    return [p for _, p in parsed], numbers


def _people(path: Path) -> list:
    """The ``people`` of one frame file."""
    try:
        regular_file(path, MAX_KEYPOINT_BYTES)
        doc = json.loads(path.read_bytes())
    except OSError as e:
        raise ClipError(path, f"cannot read ({e.strerror or e})") from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise ClipError(path, f"not readable JSON ({type(e).__name__}: {str(e)[:80]})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("people"), list):
        raise ClipError(path, "no 'people' list: not an OpenPose frame file")
    return doc["people"]


def _person(path: Path, i: int, person) -> np.ndarray | None:
    """One person's points ``(K, 3)`` (x, y, confidence), confidence 0 where not finite; None
    where the person has no body points."""
    if not isinstance(person, dict):
        raise ClipError(path, f"person {i} is not an object")
    raw = person.get("pose_keypoints_2d")
    if raw is None or (isinstance(raw, list) and not raw):
        return None
    try:
        flat = np.asarray(raw, np.float64)
    except (TypeError, ValueError):
        flat = None
    if flat is None or flat.ndim != 1:
        raise ClipError(path, f"person {i}: 'pose_keypoints_2d' is not a flat list of numbers")
    if flat.size % 3 or flat.size // 3 not in LAYOUTS:
        raise ClipError(path, f"person {i}: 'pose_keypoints_2d' holds {flat.size} numbers; expected x, y, confidence of "
                              + ", ".join(f"{k} ({name})" for k, (name, _) in LAYOUTS.items()) + " points")
    pts = flat.reshape(-1, 3)
    pts[~np.isfinite(pts).all(1)] = 0.0
    return pts


def read_openpose_people(folder: str | os.PathLike):
    """Everyone in an OpenPose clip folder, as :class:`corrkin.pose.select.People` (COCO-17, one
    frame per frame number from the first to the last), each person boxed by the points they
    are seen at. The module's docstring says what is read and refused."""
    from corrkin.pose.select import People

    folder = Path(folder)
    files, numbers = _ordered(folder)
    t = numbers[-1] - numbers[0] + 1
    frames: list[list[np.ndarray]] = [[] for _ in range(t)]
    layout: tuple[int, Path] | None = None  # points per person, and the file that set it
    for path, number in zip(files, numbers):
        for i, person in enumerate(_people(path)):
            pts = _person(path, i, person)
            if pts is None:
                continue
            if layout is None:
                layout = (len(pts), path)
            elif len(pts) != layout[0]:
                raise ClipError(path, f"person {i} has {len(pts)} points, but {layout[1].name} has {layout[0]}: "
                                      "one layout per clip")
            coco = pts[LAYOUTS[len(pts)][1]]
            if (coco[:, 2] > 0).any():  # a person with no point seen is no one
                frames[number - numbers[0]].append(coco)
    p = max(1, max(len(f) for f in frames))
    kps = np.zeros((t, p, 17, 2), np.float32)
    scores = np.zeros((t, p, 17), np.float32)
    boxes = np.zeros((t, p, 4))
    valid = np.zeros((t, p), bool)
    for f, people in enumerate(frames):
        for i, coco in enumerate(people):
            seen = coco[coco[:, 2] > 0, :2]
            kps[f, i], scores[f, i] = coco[:, :2], coco[:, 2]
            boxes[f, i], valid[f, i] = np.concatenate([seen.min(0), seen.max(0)]), True
    return People(kps, scores, boxes, valid)
