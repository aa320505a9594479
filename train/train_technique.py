"""Train the technique model: a base swing denoiser on a whole library, or a batter's LoRA.

    python train/train_technique.py data=lib/clips output=runs/base
    python train/train_technique.py data=lib/clips output=runs/lora_b mode=lora base_model=runs/base lora.batter=b
    accelerate launch train/train_technique.py data=... output=... device=cuda     # several GPUs

Read top to bottom: config -> Accelerator -> data -> model (new base, or frozen base + LoRA)
-> trainable parameters as a list -> optimizer, scheduler -> prepare -> checkpoint hooks that
write only the adapter (alpha and rank in its metadata) in LoRA mode -> resume (load_state +
skip_first_batches) -> loop -> validate -> save, reload into a fresh base, check.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import sys
from pathlib import Path

import hydra
import numpy as np
import torch
from accelerate import Accelerator
from accelerate.utils import DataLoaderConfiguration, ProjectConfiguration, set_seed
from diffusers.optimization import get_scheduler
from omegaconf import DictConfig

from corrkin.cli import CONFIG_DIR as CORRKIN_CONFIGS
from corrkin.config import as_object, register_configs
from corrkin.io.results import write_json
from corrkin.library.alignment import read_labels
from corrkin.synth import CHAIN
from corrkin.technique.data import SwingData, load_swings
from corrkin.technique.model import SwingDenoiser
from corrkin.technique.training import (
    NoiseRNG,
    add_lora,
    chain_lags,
    denoising_loss,
    noise_scheduler,
    sample_swings,
    set_stats,
)

log = logging.getLogger("train_technique")
CONFIG_DIR = CORRKIN_CONFIGS  # technique.yaml beside the commands' configs, with their run block


def checkpoints(out: Path) -> list[Path]:
    """Checkpoint folders ``checkpoints/step-<n>``, oldest first."""
    return sorted((out / "checkpoints").glob("step-*"), key=lambda p: int(p.name.split("-")[1]))


def save_checkpoint(accelerator: Accelerator, out: Path, step: int, limit: int) -> None:
    if accelerator.is_main_process:  # keep at most `limit` checkpoints, the new one included
        for old in checkpoints(out)[: max(0, len(checkpoints(out)) - limit + 1)]:
            shutil.rmtree(old)
    accelerator.save_state(str(out / "checkpoints" / f"step-{step}"))


def validate(model: SwingDenoiser, cfg, step: int, out: Path) -> dict:
    """Sample swings for every shot (and batter) label and read their chain with the analysis."""
    model.eval()
    gen = torch.Generator().manual_seed(cfg.train.seed)
    report = {"step": step, "groups": []}
    batters = [cfg.lora.batter] if cfg.mode == "lora" else list(model.config.batter_names)
    for s, shot in enumerate(model.config.shot_names, 1):
        for batter in batters:
            b = list(model.config.batter_names).index(batter) + 1 if batter in model.config.batter_names else 0
            swings = sample_swings(model, cfg.validation.samples, s, b, None, cfg.validation.guidance,
                                   cfg.validation.inference_steps, gen, cfg.train.train_timesteps)
            lags, paths = chain_lags(swings.cpu().numpy(), model.config.fps, CHAIN)
            report["groups"].append({"shot": shot, "batter": batter, "chain_lag_frames": lags.mean(0).round(3).tolist(),
                                     "path_share": float(np.mean([p == " > ".join(CHAIN) for p in paths]))})
    model.train()
    log.info("validation at step %d: %s", step, report["groups"])
    return report


def train(cfg) -> dict:
    cfg = as_object(cfg)
    out = Path(cfg.output)
    if cfg.mode not in ("base", "lora"):
        raise ValueError(f"mode must be base or lora, got {cfg.mode!r}")
    accelerator = Accelerator(
        mixed_precision=cfg.train.mixed_precision, gradient_accumulation_steps=cfg.train.grad_accum,
        project_config=ProjectConfiguration(project_dir=str(out)), cpu=cfg.device == "cpu",
        dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True, data_seed=cfg.train.seed))
    set_seed(cfg.train.seed)

    # data: every analysed clip's swing (a LoRA: one batter's)
    w = cfg.window
    swings = load_swings(cfg.data, w.frames, w.before_s, w.after_s, read_labels(cfg.labels), tuple(cfg.mirror_batters),
                         cfg.min_quality)
    swings = swings.where(exclude=tuple(cfg.exclude_batters))

    # model: a new base, or the frozen base with a LoRA adapter; trainable parameters as a list
    if cfg.mode == "base":
        model = SwingDenoiser(frames=w.frames, channels=2 * swings.swings.shape[2], prefix_frames=w.prefix_frames,
                              dim=cfg.model.dim, layers=cfg.model.layers, heads=cfg.model.heads,
                              ff_mult=cfg.model.ff_mult, shots=len(set(swings.shots)),
                              batters=len(set(swings.batters)), shot_names=tuple(sorted(set(swings.shots))),
                              batter_names=tuple(sorted(set(swings.batters))), fps=swings.fps,
                              before_s=w.before_s, after_s=w.after_s)
        set_stats(model, torch.from_numpy(swings.swings))
        params = list(model.parameters())
    else:
        if cfg.base_model is None:
            raise ValueError("mode=lora needs base_model=<the base run's output folder>")
        model = SwingDenoiser.from_pretrained(Path(cfg.base_model) / "model")
        if cfg.lora.batter is not None:
            swings = swings.where(batter=cfg.lora.batter)
            if not len(swings):
                raise ValueError(f"lora.batter={cfg.lora.batter!r}: no clips of that batter in {cfg.data}")
        params = add_lora(model, cfg.lora.rank, cfg.lora.alpha, cfg.lora.dropout)
    data = SwingData(swings, list(model.config.shot_names), list(model.config.batter_names), w.prefix_frames)
    loader = torch.utils.data.DataLoader(data, batch_size=min(cfg.train.batch_size, len(data)), shuffle=True,
                                         drop_last=True)
    optimizer = torch.optim.AdamW(params, lr=cfg.train.lr, weight_decay=cfg.train.weight_decay)
    lr_scheduler = get_scheduler(cfg.train.lr_schedule, optimizer, num_warmup_steps=cfg.train.warmup_steps,
                                 num_training_steps=cfg.train.steps)
    model, optimizer, loader, lr_scheduler = accelerator.prepare(model, optimizer, loader, lr_scheduler)
    scheduler = noise_scheduler(cfg.train.train_timesteps)
    rng = NoiseRNG(cfg.train.seed + accelerator.process_index)
    accelerator.register_for_checkpointing(rng)

    # checkpoints hold the optimizer, scheduler, RNG and data-order state, and of the model only
    # what trains: the adapter (with its LoraConfig: rank, alpha) or the whole base
    def save_model_hook(models, weights, output_dir):
        for m in models:
            m = accelerator.unwrap_model(m)
            if cfg.mode == "lora":
                m.save_lora_adapter(output_dir)
            else:
                m.save_pretrained(Path(output_dir) / "model")
            weights.pop()

    def load_model_hook(models, input_dir):
        from peft import set_peft_model_state_dict
        from safetensors.torch import load_file

        while models:
            m = accelerator.unwrap_model(models.pop())
            if cfg.mode == "lora":
                set_peft_model_state_dict(m, load_file(Path(input_dir) / "pytorch_lora_weights.safetensors"))
            else:
                m.load_state_dict(SwingDenoiser.from_pretrained(Path(input_dir) / "model").state_dict())

    accelerator.register_save_state_pre_hook(save_model_hook)
    accelerator.register_load_state_pre_hook(load_model_hook)

    # resume: the state, then the rest of the interrupted epoch
    step, steps_per_epoch = 0, max(1, len(loader) // cfg.train.grad_accum)
    if cfg.train.resume:
        path = checkpoints(out)[-1] if cfg.train.resume == "latest" and checkpoints(out) else Path(cfg.train.resume)
        if cfg.train.resume != "latest" or checkpoints(out):
            accelerator.load_state(str(path))
            step = int(path.name.split("-")[1])
            log.info("resumed from %s", path)
    first_epoch, skip = step // steps_per_epoch, (step % steps_per_epoch) * cfg.train.grad_accum

    losses = []
    model.train()
    for epoch in range(first_epoch, math.ceil(cfg.train.steps / steps_per_epoch)):
        loader.set_epoch(epoch)
        batches = accelerator.skip_first_batches(loader, skip) if epoch == first_epoch and skip else loader
        for batch in batches:
            with accelerator.accumulate(model):
                loss = denoising_loss(model, scheduler, batch, cfg.train.cond_dropout, cfg.train.prefix_dropout,
                                      rng.generator)
                accelerator.backward(loss)
                if accelerator.sync_gradients:
                    accelerator.clip_grad_norm_(params, cfg.train.max_grad_norm)
                optimizer.step()
                lr_scheduler.step()
                optimizer.zero_grad()
            if not accelerator.sync_gradients:
                continue
            step += 1
            losses.append(loss.detach().item())
            if step % cfg.train.log_every == 0:
                log.info("step %d  loss %.4f  lr %.2e", step, np.mean(losses[-cfg.train.log_every:]),
                         lr_scheduler.get_last_lr()[0])
            if step % cfg.train.checkpoint_every == 0:
                save_checkpoint(accelerator, out, step, cfg.train.checkpoints_total_limit)
            if cfg.validation.every and step % cfg.validation.every == 0 and accelerator.is_main_process:
                validate(accelerator.unwrap_model(model), cfg, step, out)
            if step >= cfg.train.steps or step == cfg.train.stop_at:
                break
        if step >= cfg.train.steps or step == cfg.train.stop_at:
            break
    if step == cfg.train.stop_at and step < cfg.train.steps:  # a time-boxed job: checkpoint, resume later
        save_checkpoint(accelerator, out, step, cfg.train.checkpoints_total_limit)
        accelerator.end_training()
        return {"steps": step, "losses": losses, "stopped": True}

    # save what trained, reload it into a fresh base, check it gives the same outputs
    accelerator.wait_for_everyone()
    result = {"steps": step, "losses": losses}
    if accelerator.is_main_process:
        model = accelerator.unwrap_model(model)
        model.eval()
        if cfg.mode == "lora":
            model.save_lora_adapter(out / "lora")
            fresh = SwingDenoiser.from_pretrained(Path(cfg.base_model) / "model")
            fresh.load_lora_adapter(out / "lora", prefix=None, weight_name="pytorch_lora_weights.safetensors")
        else:
            model.save_pretrained(out / "model")
            fresh = SwingDenoiser.from_pretrained(out / "model")
        probe = next(iter(torch.utils.data.DataLoader(data, batch_size=4)))
        n = len(probe["sample"])
        args = (torch.randn(n, w.frames, model.config.channels), torch.full((n,), 500), probe["shot"],
                probe["batter"], probe["prefix"])
        with torch.no_grad():
            same = torch.equal(model.cpu()(*args).sample, fresh.eval()(*args).sample)
        if not same:
            raise RuntimeError(f"{out}: the saved {cfg.mode} does not reload to the same outputs")
        result["validation"] = validate(model, cfg, step, out)
        write_json(out / "validation.json", result["validation"])
        with open(out / "train_log.jsonl", "a") as f:
            f.write(json.dumps({"steps": step, "loss_first": losses[:10], "loss_last": losses[-10:]}) + "\n")
    accelerator.end_training()
    return result


@hydra.main(config_path=CONFIG_DIR, config_name="technique", version_base="1.3")
def main(cfg: DictConfig) -> None:
    train(cfg)


if __name__ == "__main__":
    register_configs()
    sys.exit(main())
