"""The video front end, a video in and a :class:`~corrkin.io.keypoints.Clip` out: decoded once
(PyAV, in chunks, each frame at its container timestamp), the pose from the configured backend (:mod:`corrkin.pose`), the batter
chosen among the people (:mod:`corrkin.pose.select`), the bat tip found on the pixels
(:mod:`corrkin.bat.detect`), and the story of how the batter was followed and how the frames
were timed for the quality report. A variable-frame-rate video (phone slow motion) is put on a
uniform time grid (:func:`on_uniform_times`) before the analysis, which smooths and
differentiates at one rate. ``corrkin run`` (:mod:`corrkin.commands.run`) and ``corrkin library`` call it per video.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from corrkin.bat.detect import detect_bat
from corrkin.config import BatSettings, BatterConfig
from corrkin.io.keypoints import Clip, ClipError
from corrkin.io.video import VIDEO_SUFFIXES, DecodedOnce, VideoInfo
from corrkin.pose.evidence import pixel_evidence
from corrkin.pose.select import People, Selection, box_iou, select_batter

log = logging.getLogger(__name__)


def find_videos(root: str | Path) -> list[Path]:
    root = Path(root)
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such file or folder")
    return sorted(p for p in root.iterdir()
                  if p.suffix.lower() in VIDEO_SUFFIXES and not p.name.startswith(".") and p.is_file())


def clip_names(videos: list[Path]) -> list[str]:
    """Each video's clip name: its stem, or its whole file name where two share a stem
    (``swing.mp4`` and ``swing.mov``), so no two share a result folder."""
    stems = Counter(p.stem for p in videos)
    return [p.stem if stems[p.stem] == 1 else p.name for p in videos]


def choose_batter(people: People, frames: Callable, info: VideoInfo, bat: BatSettings, batter: BatterConfig) -> Selection:
    """Who the batter is in each frame: the configured box or index, else the evidence over
    whole tracks (the bat in the hands: a bat-tip keypoint, or the pixels; standing at the
    crease; size; centrality)."""
    if people.count == 1 and batter.box is None and batter.index is None:
        return Selection(np.where(people.valid[:, 0], 0, -1), int(np.argmax(people.valid[:, 0])))
    if batter.box is not None or batter.index is not None:
        return select_batter(people.boxes, people.valid, (info.width, info.height), box=batter.box, index=batter.index)
    grip, crease = pixel_evidence(frames(), people, bat, grip=people.bat_scores is None)
    if people.bat_scores is not None:  # the model's own bat-tip keypoint
        grip = people.bat_scores
    return select_batter(people.boxes, people.valid, (info.width, info.height), grip, crease_score=crease)


def process_video(path: Path, pose: Callable, bat: BatSettings, fps: float | None, stride: int, chunk_frames: int,
                  device, batter: BatterConfig | None = None) -> Clip:
    """Keypoints and bat tip of one video, as a :class:`Clip` (raises :class:`ClipError`).
    The bat is NaN with score 0 where it is absent (not seen, nor between two sightings); its
    score elsewhere is the calibrated presence (:func:`corrkin.bat.presence.presence`).

    The video is decoded once (:class:`DecodedOnce`): the pose backend reads the RGB frames
    while a copy is kept on disk for the batter's evidence and the bat."""
    with DecodedOnce(path, fps, stride, chunk_frames, device) as video:
        times = video.times_s
        info = video.info
        people = pose(path, info, stride, video.rgb)
        try:
            sel = choose_batter(people, video.kept, info, bat, batter or BatterConfig())
        except ValueError as e:
            raise ClipError(path, str(e).replace("select_batter: ", "")) from None
        if not sel.found.any():
            raise ClipError(path, "no person found in any frame")
        kps, scores = people.batter(sel)
        others = None
        if people.count > 1:  # everyone else, masked out of the bat's evidence
            others = torch.from_numpy(people.everyone(leave_out=sel.index))
        track = detect_bat(video.kept, torch.from_numpy(kps).to(device), bat, chunk_frames=chunk_frames,
                           others=others)
    tip, conf = track.tip.cpu().numpy(), track.confidence.cpu().numpy()
    rate, timing = info.fps / stride, info.timing()
    if info.variable:  # the analysis smooths and differentiates at one rate: the true times, resampled
        rate = round(1.0 / float(np.percentile(np.diff(times), 10)), 6)  # the fast stretch (slow motion) keeps its detail
        (kps, tip), (scores, conf) = on_uniform_times(times, rate, [kps, tip], [scores, conf])
        timing["resampled_to_fps"] = round(rate, 4)
    kps, scores, tip, conf = (np.asarray(a, np.float32) for a in (kps, scores, tip, conf))
    story = batter_story(people, sel, batter or BatterConfig()) | {"frame_timing": timing}
    return Clip(name=path.stem, path=str(path), keypoints=kps, scores=scores, bat=tip, bat_scores=conf, fps=rate,
                source="video", story=story)


def on_uniform_times(times: np.ndarray, rate: float, positions: list[np.ndarray],
                     scores: list[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``positions`` and ``scores`` (each ``(T, ...)``, on the frames' true ``times`` in s) on a
    uniform grid at ``rate`` frames/s from the first frame's time to the last's: a position
    linearly between the two frames around the grid time (NaN where either is NaN), a score the
    lower of the two (the grid point is as sure as its less sure neighbour); a grid time on a
    frame takes that frame's values."""
    t = np.asarray(times, np.float64)
    grid = t[0] + np.arange(int(np.floor((t[-1] - t[0]) * rate + 1e-9)) + 1) / rate
    i = np.clip(np.searchsorted(t, grid, side="right") - 1, 0, max(len(t) - 2, 0))
    j = np.minimum(i + 1, len(t) - 1)
    w = np.where(j > i, (grid - t[i]) / np.maximum(t[j] - t[i], 1e-12), 0.0)

    def at_grid(x: np.ndarray, between) -> np.ndarray:
        x = np.asarray(x, np.float64)
        ww = w.reshape((-1,) + (1,) * (x.ndim - 1))
        return np.where(ww <= 1e-9, x[i], between(x[i], x[j], ww))

    return ([at_grid(x, lambda a, b, ww: (1 - ww) * a + ww * b) for x in positions],
            [at_grid(x, lambda a, b, ww: np.minimum(a, b)) for x in scores])


def batter_story(people: People, sel: Selection, batter: BatterConfig) -> dict:
    """How the batter was followed, for the clip's quality report: the most people seen in a
    frame, how the batter was chosen, frames without the batter, and identity switches (the
    chosen box jumping to one it hardly overlaps from one frame to the next)."""
    if batter.box is not None:
        how = "the box given (batter.box)"
    elif batter.index is not None:
        how = "the detection given (batter.index)"
    elif people.count == 1:
        how = "single person followed"
    else:
        how = "chosen by the evidence over whole tracks (bat in the hands, crease, size, centrality)"
    idx = sel.index
    both = (idx[1:] >= 0) & (idx[:-1] >= 0)
    t = np.nonzero(both)[0]
    prev = people.boxes[t, idx[t]]
    cur = people.boxes[t + 1, idx[t + 1]]
    switches = int((box_iou(prev, cur) < 0.3).sum()) if len(t) else 0
    return {"most_in_a_frame": int(people.valid.sum(1).max()) if people.valid.size else 0, "selection": how,
            "frames_without_batter": int((idx < 0).sum()), "switches": switches}
