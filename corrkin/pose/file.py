"""``pose=file``: keypoints already computed, matched to each video by name."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from corrkin.io.keypoints import SUFFIXES, ClipError, load_clip
from corrkin.io.video import VideoInfo


class FilePose:
    """Reads ``<keypoints>/<video stem>.npz`` (or ``.json``): any format ``corrkin analyse``
    reads. A pose backend is called as ``backend(video, info, stride, frames)`` (``frames()``
    gives a fresh iterator over the video's ``(N, 3, H, W)`` uint8 chunks) and returns the
    batter's 13 joints and scores for the frames a strided read of the video returns."""

    def __init__(self, keypoints: str):
        self.folder = Path(keypoints)
        if not self.folder.is_dir():
            raise FileNotFoundError(f"pose.keypoints={keypoints}: no such folder")

    def __call__(self, video: Path, info: VideoInfo, stride: int = 1, frames=None) -> tuple[np.ndarray, np.ndarray]:
        """``(keypoints (T, 13, 2), scores (T, 13))`` for the frames a strided read returns
        (``frames``, the video's frame source, is not needed here)."""
        for suffix in SUFFIXES:
            path = self.folder / f"{video.stem}{suffix}"
            if path.is_file():
                break
        else:
            raise ClipError(video, f"no keypoint file {video.stem}.npz or .json in {self.folder}")
        clip = load_clip(path, fps=info.fps)
        if clip.frames != info.frames:
            raise ClipError(video, f"{path.name} has {clip.frames} frames but the video has {info.frames}")
        return clip.keypoints[::stride], clip.scores[::stride]
