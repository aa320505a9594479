"""Checks on a clip before analysis: numpy only, so reader processes need no torch."""

from __future__ import annotations

import numpy as np

from corrkin.config import AnalysisConfig
from corrkin.io.keypoints import Clip, ClipError
from corrkin.skeleton import JOINT_INDEX, NODES, shoulder_width
from corrkin.timing import noise_window, savgol_window

L_SH, R_SH = JOINT_INDEX["l_shoulder"], JOINT_INDEX["r_shoulder"]
CORE = [JOINT_INDEX[n] for n in ("l_shoulder", "r_shoulder", "l_hip", "r_hip")]
MAX_PIXELS = 1e6  # no frame is a million pixels across: coordinates beyond are not pixels
MIN_WIDTH = 1e-6  # a shoulder width (pixels) at or below this is no width


def min_frames(cfg: AnalysisConfig, fps: float) -> int:
    """Fewest frames a clip needs: the smoothing window (and the one its noise is read from),
    and three for centred differences."""
    return max(noise_window(savgol_window(cfg.smooth_window_s, fps, cfg.smooth_order), cfg.smooth_order), 3)


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
    for key, xy, s in (("keypoints", clip.keypoints, clip.scores), ("bat", clip.bat, clip.bat_scores)):
        reach = float(np.abs(xy[s > 0]).max(initial=0.0))
        if reach > MAX_PIXELS:
            raise ClipError(clip.path, f"'{key}' reach {reach:.3g} px from the origin: not image pixels "
                                       f"(the bound is {MAX_PIXELS:.0e})")
    # the pose is scaled by the median shoulder width over the frames that see both shoulders:
    # it must be a width, so more than half of those frames need the shoulders apart
    both = (clip.scores[:, L_SH] >= thr) & (clip.scores[:, R_SH] >= thr) if cfg.fill_gaps else np.ones(clip.frames, bool)
    width = shoulder_width(clip.keypoints)
    apart = (width > MIN_WIDTH)[both]
    if not apart.size or apart.mean() <= 0.5:
        share = 1.0 - (apart.mean() if apart.size else 0.0)
        raise ClipError(clip.path, f"the shoulders coincide (width <= {MIN_WIDTH:g} px) in {share:.0%} of the frames "
                                   "that see both: cannot scale the pose")


