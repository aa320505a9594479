"""What sampling a technique model needs: the model loaded (a base, with a batter's adapter),
a label's index, a stance to start from. ``corrkin sample`` is :mod:`corrkin.commands.sample`."""

from __future__ import annotations

from pathlib import Path

import torch

from corrkin.technique.model import SwingDenoiser


def load_model(model: str | Path, lora: str | Path | None = None, device: str = "cpu") -> SwingDenoiser:
    """A base (``<run>/model``) with, optionally, a batter's adapter (``<run>/lora``)."""
    model = Path(model)
    net = SwingDenoiser.from_pretrained(model / "model" if (model / "model").is_dir() else model)
    if lora is not None:
        lora = Path(lora)
        lora = lora / "lora" if (lora / "lora").is_dir() else lora
        net.load_lora_adapter(lora, prefix=None, weight_name="pytorch_lora_weights.safetensors")
    return net.to(device).eval()


def label_index(names, value, what: str) -> int:
    """The model's index of a shot or batter label (0: none given, unconditional)."""
    if value is None:
        return 0
    if value not in names:
        raise ValueError(f"{what} '{value}' is not one the model knows: {list(names)}")
    return list(names).index(value) + 1


def stance(path: str | Path | None, net: SwingDenoiser) -> torch.Tensor | None:
    """The first frames of an analysed clip's swing window, as the stance to start from."""
    if path is None:
        return None
    from corrkin.technique.data import load_swings

    cfg = net.config
    swings = load_swings(path, cfg.frames, cfg.before_s, cfg.after_s)
    return torch.from_numpy(swings.swings[0, : cfg.prefix_frames])
