"""``corrkin sample``: swings drawn from a technique model, written as corrkin keypoint files.

``corrkin sample model=runs/base [lora=runs/lora_b] shot=drive [batter=<label>] n=16
guidance=2 [stance=<keypoint file or analysed clip folder>] output=samples/`` writes
``samples/<shot>_<k>.npz`` (13 joints and the bat tip in pixels of a 1280 x 720 frame, 100 px a
shoulder width, at the model's frame rate), which ``corrkin analyse`` and the renderers take, and
``samples.json`` with each sample's kinetic chain as the analysis reads it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from corrkin.io.keypoints import save_clip
from corrkin.io.results import write_json
from corrkin.synth import CHAIN
from corrkin.technique.sample import label_index, load_model, stance
from corrkin.technique.training import chain_lags, sample_swings, to_clip

log = logging.getLogger(__name__)


def run_sample(cfg) -> int:
    net = load_model(cfg.model, cfg.lora, cfg.device)
    shot = label_index(net.config.shot_names, cfg.shot, "shot")
    batter = label_index(net.config.batter_names, cfg.batter, "batter")
    gen = torch.Generator().manual_seed(cfg.seed)
    swings = sample_swings(net, cfg.n, shot, batter, stance(cfg.stance, net), cfg.guidance, cfg.steps, gen)
    swings = swings.cpu().numpy()
    out = Path(cfg.output)
    name = cfg.shot or "swing"
    for k, s in enumerate(swings):
        save_clip(out / f"{name}_{k:03d}.npz", to_clip(s, net.config.fps, f"{name}_{k:03d}"))
    lags, paths = chain_lags(swings, net.config.fps, CHAIN)
    write_json(out / "samples.json", {
        "model": str(cfg.model), "lora": None if cfg.lora is None else str(cfg.lora), "shot": cfg.shot,
        "batter": cfg.batter, "guidance": cfg.guidance, "fps": net.config.fps,
        "chain": list(CHAIN), "mean_lag_frames": np.round(lags.mean(0), 3).tolist(),
        "samples": [{"file": f"{name}_{k:03d}.npz", "lag_frames": lags[k].tolist(), "path": paths[k]}
                    for k in range(len(swings))]})
    log.info("%d swings in %s", len(swings), out)
    return 0
