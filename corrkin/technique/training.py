"""What ``train/train_technique.py`` is made of, each piece with a test: the model and its
LoRA, the denoising loss with condition dropout, sampling with classifier-free guidance, and
reading a sample's kinetic chain with the correlated-kinetics analysis.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from diffusers import DDIMScheduler, DDPMScheduler

from corrkin.io.keypoints import Clip
from corrkin.skeleton import NODES
from corrkin.technique.model import LORA_TARGETS, SwingDenoiser

PIXELS_PER_WIDTH = 100.0  # samples are written in a 1280 x 720 frame, 100 px per shoulder width
FRAME_CENTRE = (640.0, 360.0)


def noise_scheduler(train_steps: int = 1000, beta_schedule: str = "squaredcos_cap_v2") -> DDPMScheduler:
    return DDPMScheduler(num_train_timesteps=train_steps, beta_schedule=beta_schedule, prediction_type="epsilon")


def set_stats(model: SwingDenoiser, swings: torch.Tensor) -> None:
    """Set the model's per-channel mean and spread from training swings ``(S, F, 14, 2)``."""
    flat = swings.flatten(-2).reshape(-1, model.config.channels).double()
    model.mean.copy_(flat.mean(0).to(model.mean.dtype))
    model.std.copy_(flat.std(0).clamp_min(1e-3).to(model.std.dtype))


def add_lora(model: SwingDenoiser, rank: int, alpha: float, dropout: float = 0.0,
             targets=None) -> list[torch.nn.Parameter]:
    """Freeze the base, add a LoRA adapter on the attention and feed-forward projections, and
    return the trainable parameters as a list (an iterator would be spent by the optimizer)."""
    from peft import LoraConfig

    model.requires_grad_(False)
    model.add_adapter(LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=dropout, init_lora_weights="gaussian",
                                 target_modules=list(targets or LORA_TARGETS)))
    return [p for p in model.parameters() if p.requires_grad]


def drop_conditions(batch: dict, cond_dropout: float, prefix_dropout: float, generator=None) -> dict:
    """Classifier-free guidance training: each item loses its labels with probability
    ``cond_dropout`` and its stance with ``prefix_dropout`` (labels 0, prefix zeros)."""
    b = batch["shot"].shape[0]
    dev = batch["shot"].device
    drop = torch.rand(b, device=dev, generator=generator) < cond_dropout
    keep = (torch.rand(b, device=dev, generator=generator) >= prefix_dropout).to(batch["prefix"].dtype)
    return batch | {"shot": torch.where(drop, 0, batch["shot"]), "batter": torch.where(drop, 0, batch["batter"]),
                    "prefix": batch["prefix"] * keep[:, None, None]}


class NoiseRNG:
    """The generator of the training noise, timesteps and condition dropout, checkpointed with
    the run (``accelerator.register_for_checkpointing``) so a resumed run draws what the
    uninterrupted one would have (the global RNG is also drawn on by data loader iterators)."""

    def __init__(self, seed: int):
        self.generator = torch.Generator().manual_seed(seed)

    def state_dict(self) -> dict:
        return {"state": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["state"])


def denoising_loss(model, scheduler: DDPMScheduler, batch: dict, cond_dropout: float = 0.1,
                   prefix_dropout: float = 0.1, generator: torch.Generator | None = None) -> torch.Tensor:
    """``E || eps - eps_theta(sqrt(abar_t) x + sqrt(1 - abar_t) eps, t, c) ||^2`` on one batch of
    :class:`~corrkin.technique.data.SwingData` items (raw swings: standardised here). The noise,
    timesteps and dropout come from ``generator`` (a CPU one) when given."""
    core = model.module if hasattr(model, "module") else model  # unwrap DDP
    x = (batch["sample"] - core.mean) / core.std
    prefix = (batch["prefix"] - core.mean) / core.std
    dev = x.device
    cpu = {k: v.cpu() for k, v in batch.items() if k in ("shot", "batter")} | {"prefix": prefix.cpu()}
    batch = {k: v.to(dev) for k, v in drop_conditions(cpu, cond_dropout, prefix_dropout, generator).items()}
    noise = torch.randn(x.shape, generator=generator, dtype=x.dtype).to(dev)
    t = torch.randint(0, scheduler.config.num_train_timesteps, (x.shape[0],), generator=generator).to(dev)
    noisy = scheduler.add_noise(x, noise, t)
    pred = model(noisy, t, batch["shot"], batch["batter"], batch["prefix"]).sample
    return F.mse_loss(pred.float(), noise.float())


@torch.no_grad()
def sample_swings(model: SwingDenoiser, n: int, shot: int = 0, batter: int = 0, prefix: torch.Tensor | None = None,
                  guidance: float = 2.0, steps: int = 50, generator: torch.Generator | None = None,
                  train_steps: int | None = None) -> torch.Tensor:
    """``n`` swings ``(n, F, 14, 2)`` in shoulder widths, DDIM with classifier-free guidance
    (``guidance`` 1: conditional only); ``prefix (P, 14, 2)`` a stance to start from (in
    shoulder widths) or none."""
    cfg = model.config
    dev, dt = model.device, model.dtype
    sched = DDIMScheduler(num_train_timesteps=train_steps or 1000, beta_schedule="squaredcos_cap_v2",
                          prediction_type="epsilon", clip_sample=False)
    sched.set_timesteps(steps)
    if prefix is None:
        pre = torch.zeros(n, cfg.prefix_frames, cfg.channels, device=dev, dtype=dt)
    else:
        pre = model.normalise(prefix.to(dev, dt))[None].expand(n, -1, -1)
    x = torch.randn((n, cfg.frames, cfg.channels), generator=generator, device="cpu", dtype=torch.float32).to(dev, dt)
    labels = torch.tensor([shot, batter], device=dev)
    for t in sched.timesteps:
        cond = model(x, t.to(dev), labels[0].expand(n), labels[1].expand(n), pre).sample
        if guidance != 1.0:
            free = model(x, t.to(dev), torch.zeros(n, dtype=torch.long, device=dev),
                         torch.zeros(n, dtype=torch.long, device=dev), pre).sample
            cond = free + guidance * (cond - free)
        x = sched.step(cond, t, x).prev_sample
    return model.denormalise(x).float()


def to_clip(swing: np.ndarray, fps: float, name: str) -> Clip:
    """A sampled swing ``(F, 14, 2)`` as a corrkin clip in pixels (analysis, writers, renderers)."""
    px = swing * PIXELS_PER_WIDTH + np.array(FRAME_CENTRE)
    f = len(px)
    return Clip(name=name, path=name, keypoints=px[:, :13].astype(np.float32), scores=np.ones((f, 13), np.float32),
                bat=px[:, 13].astype(np.float32), bat_scores=np.ones(f, np.float32), fps=float(fps), source="sample")


def chain_lags(swings: np.ndarray, fps: float, chain: tuple[str, ...], analysis=None) -> tuple[np.ndarray, list[str]]:
    """The analysis of each swing ``(S, F, 14, 2)``: the activation lag (frames) of each link of
    ``chain`` ``(S, links)`` and the maximum-weight path (``" > "``-joined)."""
    from corrkin.analysis.engine import analyse
    from corrkin.config import AnalysisConfig
    from corrkin.io.keypoints import collate

    acfg = analysis or AnalysisConfig()
    batch = collate([to_clip(s, fps, f"s{k}") for k, s in enumerate(swings)])
    out = analyse(batch, acfg)
    t_act = out.t_act.cpu().numpy()
    idx = [NODES.index(n) for n in chain]
    lags = np.diff(t_act[:, idx], axis=1)
    paths = [" > ".join(NODES[i] for i in row if i >= 0) for row in out.path.cpu().numpy()]
    return lags, paths


def fidelity(real_lags: np.ndarray, real_paths: list[str], sample_lags: np.ndarray, sample_paths: list[str]) -> dict:
    """How close samples come to real clips: per link, the 1-Wasserstein distance between the
    lag distributions and the difference of mean lags (frames); overall, the mean of those, and
    the share of samples whose path is the real clips' most frequent path."""
    from collections import Counter

    from scipy.stats import wasserstein_distance

    w = [wasserstein_distance(real_lags[:, k], sample_lags[:, k]) for k in range(real_lags.shape[1])]
    d = [float(sample_lags[:, k].mean() - real_lags[:, k].mean()) for k in range(real_lags.shape[1])]
    top = Counter(real_paths).most_common(1)[0][0]
    return {"lag_wasserstein": w, "lag_mean_error": d, "mean_wasserstein": float(np.mean(w)),
            "mean_abs_lag_error": float(np.mean(np.abs(d))), "real_path": top,
            "path_agreement": float(np.mean([p == top for p in sample_paths]))}
