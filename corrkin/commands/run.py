"""``corrkin run``: videos in; keypoints, bat tip and the correlation analysis out.

Each video goes through the video front end (:func:`corrkin.perception.process_video`: decoded
once, pose, batter, bat tip), and the clip's keypoints, bat included, are written as
``<output>/<clip>/keypoints.npz`` (so the analysis can be re-run without the video). All clips
are then analysed together as ``corrkin analyse`` does. A video that cannot be used is reported
by name and reason in ``summary.csv``; the others go on.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from tqdm import tqdm

from corrkin.analysis.checks import validate_clip
from corrkin.config import as_object
from corrkin.io.keypoints import ClipError, save_clip
from corrkin.io.results import remove_stale_temporaries
from corrkin.io.video import VIDEO_SUFFIXES
from corrkin.perception import clip_names, find_videos, process_video
from corrkin.runtime import (
    ClipResult,
    analyse_split,
    attach_impacts,
    finish,
    load_impacts,
    resolve_device,
    stop_code,
    stop_on_signals,
    stop_requested,
    write_result,
)

log = logging.getLogger(__name__)


def run_video(cfg) -> int:
    """Process every video under ``cfg.input``; returns the exit code (1 when any clip failed)."""
    device = resolve_device(cfg.device, None, 0)
    acfg, bat, batter = as_object(cfg.analysis), as_object(cfg.bat), as_object(cfg.batter)
    try:
        pose = instantiate(cfg.pose)
    except InstantiationException as e:  # a backend not installed here says which: that, not Hydra's wrapping
        if isinstance(e.__cause__, ImportError):
            raise e.__cause__ from None
        raise
    videos = find_videos(cfg.input)
    if not videos:
        raise FileNotFoundError(f"{cfg.input}: no videos ({', '.join(VIDEO_SUFFIXES)}) found")
    names = clip_names(videos)
    impacts = load_impacts(cfg.impacts, names)
    out_dir = Path(cfg.output)
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out_dir)  # left by a run killed mid-write
    results: list[ClipResult] = []  # the videos that failed, then every analysed clip
    clips, stopped = [], 0  # stopped: the exit code of the signal that stopped the run
    with stop_on_signals():
        try:
            for path, name in tqdm(list(zip(videos, names)), unit="video", disable=not cfg.progress,
                                   desc="run"):
                stop_requested()
                try:
                    clip = process_video(path, pose, bat, cfg.fps, cfg.stride, cfg.chunk_frames, device, batter)
                    clip.name = name
                    save_clip(out_dir / name / "keypoints.npz", clip)  # the bat NaN where absent
                    clip = dataclasses.replace(clip, bat=np.nan_to_num(clip.bat))  # as load_clip reads it back
                    validate_clip(clip, acfg)
                    clips.append(clip)
                except ClipError as e:
                    results.append(ClipResult.failed(name, e))
                except Exception as e:  # noqa: BLE001 - a decoder or model failing on one video fails that clip only
                    log.exception("%s failed", path)
                    results.append(ClipResult.failed(name, ClipError(path, f"{type(e).__name__}: {e}")))
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the videos done so far are analysed and listed
            stopped = stop_code()
            log.warning("stopped after %d of %d videos; the rest are not listed: run again to do them",
                        len(clips) + len(results), len(videos))
    try:  # a stop now ends the analysis of the videos decoded so far: the clips written are listed
        with stop_on_signals():
            for result in attach_impacts(analyse_split(clips, acfg, device), impacts):
                stop_requested()
                results.append(write_result(out_dir, result, cfg.plots, keep=("keypoints.npz",), acfg=acfg)
                               if result.ok else result)
    except KeyboardInterrupt:
        stopped = stop_code()
        log.warning("stopped while analysing: the clips written so far are listed; run again to do the rest")
    code = finish(out_dir, results)
    return stopped or code
