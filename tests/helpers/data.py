"""Small data builders shared by the tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

SEED_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "seed_keypoints"


def ragged(lengths, *shape, device="cpu", dtype=torch.float64, seed=0):
    """Random ``(B, *shape, T)`` signals padded with zeros past each length, and the lengths."""
    g = torch.Generator().manual_seed(seed)
    t = max(lengths)
    x = torch.randn(len(lengths), *shape, t, generator=g, dtype=torch.float64)
    lens = torch.tensor(lengths)
    x = torch.where(torch.arange(t) < lens.view(-1, *([1] * (x.ndim - 1))), x, 0.0)
    return x.to(device=device, dtype=dtype), lens.to(device)


def mask_from(lengths: torch.Tensor, t: int) -> torch.Tensor:
    return torch.arange(t, device=lengths.device)[None] < lengths[:, None]


def smooth_walk(rng: np.random.Generator, t: int, n: int) -> np.ndarray:
    return np.cumsum(rng.normal(size=(t, n)), 0)


def analysed_shot_library(root: Path, per_group: int, seed: int) -> Path:
    """A labelled synthetic library (:func:`corrkin.synth.make_shot_library`) in ``root/kp``,
    analysed into ``root/res``; returns the manifest."""
    from corrkin.cli import main
    from corrkin.synth import make_shot_library

    manifest = make_shot_library(root / "kp", per_group=per_group, seed=seed)
    code = main(["analyse", f"input={root / 'kp'}", f"output={root / 'res'}", "progress=false", "plots=false",
                 "io_workers=0"])
    assert code == 0, "the synthetic library did not analyse"
    return manifest
