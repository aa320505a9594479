"""Swings as training data: each analysed clip's normalised keypoints and bat tip around its
peak bat speed, resampled to a fixed number of frames, with shot and batter labels.

A swing is ``(F, 14, 2)``: the 13 joints and the bat tip, pelvis-centred and in shoulder widths
(``positions`` of ``series.npz``), on ``F`` frames evenly spaced from ``before_s`` before to
``after_s`` after the peak. Missing points are interpolated over time from the clip's valid
frames. Mirroring (for left-handed batters, ``mirror``) flips x and swaps left and right.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from corrkin.analysis.quality import check_min_quality, passes
from corrkin.io.results import ResultError, read_result, result_folders
from corrkin.skeleton import NODES

log = logging.getLogger(__name__)

MIRROR = [NODES.index(n.replace("l_", "r_", 1) if n.startswith("l_") else n.replace("r_", "l_", 1)
                      if n.startswith("r_") else n) for n in NODES]


@dataclass
class SwingSet:
    """Swings ``(S, F, 14, 2)`` with their labels and where they came from."""

    swings: np.ndarray
    shots: list[str]
    batters: list[str]
    clips: list[str]
    fps: float  # frames per second of the resampled swings

    def __len__(self) -> int:
        return len(self.swings)

    def where(self, batter: str | None = None, shot: str | None = None, exclude: tuple = ()) -> "SwingSet":
        keep = [k for k in range(len(self)) if (batter is None or self.batters[k] == batter)
                and (shot is None or self.shots[k] == shot) and self.batters[k] not in exclude]
        return SwingSet(self.swings[keep], [self.shots[k] for k in keep], [self.batters[k] for k in keep],
                        [self.clips[k] for k in keep], self.fps)


def mirror(swing: np.ndarray) -> np.ndarray:
    """A swing as a batter of the other hand would play it: x negated, left and right swapped."""
    out = swing[..., MIRROR, :].copy()
    out[..., 0] *= -1
    return out


def window(positions: np.ndarray, fps: float, peak: int, before_s: float, after_s: float, frames: int) -> np.ndarray:
    """``positions (T, N, 2)`` resampled on ``frames`` times from ``peak - before_s`` to
    ``peak + after_s`` (held at the clip's ends beyond them), gaps interpolated."""
    t = np.arange(len(positions)) / fps
    grid = peak / fps + np.linspace(-before_s, after_s, frames)
    out = np.zeros((frames,) + positions.shape[1:])
    for j in range(positions.shape[1]):
        for c in range(positions.shape[2]):
            v = positions[:, j, c]
            ok = np.isfinite(v)
            if ok.any():
                out[:, j, c] = np.interp(grid, t[ok], v[ok])
    return out


def load_swings(folder: str | Path, frames: int = 32, before_s: float = 0.8, after_s: float = 0.44,
                labels: dict | None = None, mirror_batters: tuple[str, ...] = (), min_quality: str = "any") -> SwingSet:
    """Every analysed clip under ``folder`` (``result.json`` + ``series.npz``) as a swing; labels
    from ``labels`` (``{clip: {"batter", "shot"}}``) or the result (``corrkin library``). With
    ``min_quality="reliable"``, clips whose quality report says ``reliable: false`` are left out."""
    check_min_quality(min_quality)
    swings, shots, batters, clips = [], [], [], []
    labels = labels or {}
    for clip_dir in result_folders(folder):
        try:
            rec, z = read_result(clip_dir, series=True)
            pos = z["positions"].astype(np.float64)
        except (ResultError, KeyError) as e:
            log.warning("left out of the swings: %s", e if isinstance(e, ResultError) else f"{clip_dir}: no {e}")
            continue
        if not passes(rec, min_quality):
            continue
        lab = labels.get(rec["clip"], {})
        batter = lab.get("batter") or rec.get("batter") or "unknown"
        swing = window(pos, float(rec["fps"]), int(rec["bat"]["peak_frame"]), before_s, after_s, frames)
        swings.append(mirror(swing) if batter in mirror_batters else swing)
        shots.append(lab.get("shot") or rec.get("shot") or "unknown")
        batters.append(batter)
        clips.append(rec["clip"])
    if not swings:
        raise FileNotFoundError(f"{folder}: no analysed clips (result.json + series.npz)")
    fps = (frames - 1) / (before_s + after_s)
    return SwingSet(np.stack(swings).astype(np.float32), shots, batters, clips, fps)


class SwingData(torch.utils.data.Dataset):
    """Training items: ``sample (F, 28)``, ``shot``, ``batter`` (indices; 0 is reserved for
    "none", the unconditional label of classifier-free guidance) and ``prefix (P, 28)`` (the
    stance: the first ``P`` frames)."""

    def __init__(self, data: SwingSet, shots: list[str], batters: list[str], prefix_frames: int):
        self.x = torch.from_numpy(data.swings.reshape(len(data), data.swings.shape[1], -1))
        self.shot = torch.tensor([shots.index(s) + 1 if s in shots else 0 for s in data.shots])
        self.batter = torch.tensor([batters.index(b) + 1 if b in batters else 0 for b in data.batters])
        self.prefix_frames = prefix_frames

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, k: int) -> dict:
        return {"sample": self.x[k], "shot": self.shot[k], "batter": self.batter[k],
                "prefix": self.x[k, : self.prefix_frames]}
