"""``pose=file``: keypoints already computed, matched to each video by name."""

from __future__ import annotations

from pathlib import Path

from corrkin.io.keypoints import SUFFIXES, ClipError, load_clip, read_mmpose_people
from corrkin.io.video import VideoInfo
from corrkin.pose.select import People


class FilePose:
    """Reads ``<keypoints>/<video stem>.npz`` (or ``.json``): any format ``corrkin analyse``
    reads. A pose backend is called as ``backend(video, info, stride, frames)`` (``frames()``
    gives a fresh iterator over the video's ``(N, 3, H, W)`` uint8 chunks) and returns
    :class:`People` for the frames a strided read of the video returns: everyone in an mmpose
    file (the batter is chosen afterwards, on the pixels too), the one person of a ``.npz``."""

    def __init__(self, keypoints: str):
        self.folder = Path(keypoints)
        if not self.folder.is_dir():
            raise FileNotFoundError(f"pose.keypoints={keypoints}: no such folder")

    def __call__(self, video: Path, info: VideoInfo, stride: int = 1, frames=None) -> People:
        for suffix in SUFFIXES:
            path = self.folder / f"{video.stem}{suffix}"
            if path.is_file():
                break
        else:
            raise ClipError(video, f"no keypoint file {video.stem}.npz or .json in {self.folder}")
        if path.suffix == ".json":
            people = read_mmpose_people(path)
            t = len(people.valid)
        else:
            clip = load_clip(path, fps=info.fps)
            if clip.units != "px":  # a TRC in metres: no point of it lies on the video's pixels
                raise ClipError(path, f"keypoints in {clip.units}, not the video's pixels: pose=file needs image "
                                      "pixels (Sports2D's _px.trc, not _m.trc)")
            people, t = People.one(clip.keypoints, clip.scores), clip.frames
        if t != info.frames:
            raise ClipError(video, f"{path.name} has {t} frames but the video has {info.frames}")
        sl = slice(None, None, stride)
        return People(people.keypoints[sl], people.scores[sl], people.boxes[sl], people.valid[sl],
                      None if people.bat is None else people.bat[sl],
                      None if people.bat_scores is None else people.bat_scores[sl])
