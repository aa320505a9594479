"""``corrkin run``: videos in; keypoints, bat tip and the correlation analysis out.

Each video is decoded in chunks (decord), its pose comes from the configured backend, the bat
tip is found on the pixels (:mod:`corrkin.bat.detect`), and the clip's keypoints, bat included,
are written as ``<output>/<clip>/keypoints.npz`` (so the analysis can be re-run without the
video). All clips are then analysed together as ``corrkin analyse`` does. A video that cannot
be used is reported by name and reason in ``summary.csv``; the others go on.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from hydra.utils import instantiate
from tqdm import tqdm

from corrkin.analysis.checks import validate_clip
from corrkin.analysis.run import _failed, analyse_split, finish, resolve_device, write_clip
from corrkin.bat.detect import detect_bat
from corrkin.config import BatSettings, as_object
from corrkin.io.keypoints import Clip, ClipError, save_clip
from corrkin.io.video import VIDEO_SUFFIXES, probe, read_video

def find_videos(root: str | Path) -> list[Path]:
    root = Path(root)
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such file or folder")
    return sorted(p for p in root.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES and not p.name.startswith("."))


def process_video(path: Path, pose: Callable, bat: BatSettings, fps: float | None, stride: int, chunk_frames: int,
                  device) -> Clip:
    """Keypoints and bat tip of one video, as a :class:`Clip` (raises :class:`ClipError`)."""
    info = probe(path, fps)

    def frames():  # decoding is cheap next to pose and bat: each stage reads the video afresh
        return (c.frames for c in read_video(path, fps=fps, stride=stride, chunk_frames=chunk_frames, device=device))

    kps, scores = pose(path, info, stride, frames)
    track = detect_bat(frames(), torch.from_numpy(kps).to(device), bat)
    return Clip(name=path.stem, path=str(path), keypoints=kps.astype(np.float32), scores=scores.astype(np.float32),
                bat=track.tip.cpu().numpy().astype(np.float32),
                bat_scores=track.confidence.cpu().numpy().astype(np.float32), fps=info.fps / stride, source="video")


def run_video(cfg) -> int:
    """Process every video under ``cfg.input``; returns the exit code (1 when any clip failed)."""
    device = resolve_device(cfg.device, None, 0)
    acfg, bat = as_object(cfg.analysis), as_object(cfg.bat)
    pose = instantiate(cfg.pose)
    videos = find_videos(cfg.input)
    if not videos:
        raise FileNotFoundError(f"{cfg.input}: no videos ({', '.join(VIDEO_SUFFIXES)}) found")
    out_dir = Path(cfg.output)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows, clips = [], []
    for path in tqdm(videos, unit="video", disable=not cfg.progress, desc="run"):
        try:
            clip = process_video(path, pose, bat, cfg.fps, cfg.stride, cfg.chunk_frames, device)
            save_clip(out_dir / clip.name / "keypoints.npz", clip)
            validate_clip(clip, acfg)
            clips.append(clip)
        except ClipError as e:
            rows.append(_failed(path.stem, e))
    done, failed = analyse_split(clips, acfg, device)
    for clip, row, rec, arrays in done:
        write_clip(out_dir, clip.name, rec, arrays, cfg.plots)
        rows.append(row)
    rows += failed
    return finish(out_dir, rows)
