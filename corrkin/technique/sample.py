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
from corrkin.technique.model import SwingDenoiser
from corrkin.technique.training import chain_lags, sample_swings, to_clip

log = logging.getLogger(__name__)


def load_model(model: str | Path, lora: str | Path | None = None, device: str = "cpu") -> SwingDenoiser:
    """A base (``<run>/model``) with, optionally, a batter's adapter (``<run>/lora``)."""
    model = Path(model)
    net = SwingDenoiser.from_pretrained(model / "model" if (model / "model").is_dir() else model)
    if lora is not None:
        lora = Path(lora)
        lora = lora / "lora" if (lora / "lora").is_dir() else lora
        net.load_lora_adapter(lora, prefix=None, weight_name="pytorch_lora_weights.safetensors")
    return net.to(device).eval()


def _label(names, value, what: str) -> int:
    if value is None:
        return 0
    if value not in names:
        raise ValueError(f"{what} '{value}' is not one the model knows: {list(names)}")
    return list(names).index(value) + 1


def _stance(path: str | Path | None, net: SwingDenoiser) -> torch.Tensor | None:
    """The first frames of an analysed clip's swing window, as the stance to start from."""
    if path is None:
        return None
    from corrkin.technique.data import load_swings

    cfg = net.config
    swings = load_swings(path, cfg.frames, cfg.before_s, cfg.after_s)
    return torch.from_numpy(swings.swings[0, : cfg.prefix_frames])


def run_sample(cfg) -> int:
    net = load_model(cfg.model, cfg.lora, cfg.device)
    shot = _label(net.config.shot_names, cfg.shot, "shot")
    batter = _label(net.config.batter_names, cfg.batter, "batter")
    gen = torch.Generator().manual_seed(cfg.seed)
    swings = sample_swings(net, cfg.n, shot, batter, _stance(cfg.stance, net), cfg.guidance, cfg.steps, gen)
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
