"""Checks on a clip before analysis: numpy only, so reader processes need no torch."""

from __future__ import annotations

import numpy as np

from corrkin.config import AnalysisConfig
from corrkin.io.keypoints import Clip, ClipError
from corrkin.skeleton import JOINT_INDEX, NODES
from corrkin.timing import savgol_window

L_SH, R_SH = JOINT_INDEX["l_shoulder"], JOINT_INDEX["r_shoulder"]
CORE = [JOINT_INDEX[n] for n in ("l_shoulder", "r_shoulder", "l_hip", "r_hip")]


def min_frames(cfg: AnalysisConfig, fps: float) -> int:
    """Fewest frames a clip needs: the smoothing window, and three for centred differences."""
    return max(savgol_window(cfg.smooth_window_s, fps, cfg.smooth_order), 3)


def validate_clip(clip: Clip, cfg: AnalysisConfig) -> None:
    """Raise :class:`ClipError` for a clip the analysis cannot use, saying why."""
    need = min_frames(cfg, clip.fps)
    if clip.frames < need:
        raise ClipError(clip.path, f"too short: {clip.frames} frames, the analysis needs at least {need} "
                                   f"({cfg.smooth_window_s:g} s smoothing window at {clip.fps:g} fps)")
    thr = cfg.min_confidence
    ok = clip.scores[:, CORE] >= thr if cfg.fill_gaps else np.ones((clip.frames, len(CORE)), bool)
    frac = ok.mean(0)
    if (frac < cfg.min_valid_fraction).any():
        j = int(np.argmin(frac))
        name = NODES[CORE[j]]
        raise ClipError(clip.path, f"'{name}' has score >= {thr:g} in only {frac[j]:.0%} of frames "
                                   f"(min_valid_fraction={cfg.min_valid_fraction:g})")
    # a clip with no bat is analysed, not refused: its record says "no bat found", reports no
    # bat speed and is unreliable (corrkin.analysis.engine._no_bat)
    width = np.linalg.norm(clip.keypoints[:, L_SH] - clip.keypoints[:, R_SH], axis=-1)
    if not (width > 0).any():
        raise ClipError(clip.path, "shoulder width is zero in every frame: cannot scale the pose")


