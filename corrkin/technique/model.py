"""The swing denoiser: a transformer over frames, conditioned on the diffusion timestep, the
shot type and batter labels, and the stance (the swing's first frames).

A diffusers model (``ModelMixin``, ``ConfigMixin``, ``PeftAdapterMixin``): ``save_pretrained`` /
``from_pretrained`` keep the base, ``add_adapter(LoraConfig(...))``, ``save_lora_adapter`` and
``load_lora_adapter`` handle a batter's LoRA (its rank and alpha saved in the file's metadata).
Attention and feed-forward projections are plain ``nn.Linear`` layers named ``to_q``, ``to_k``,
``to_v``, ``to_out``, ``ff_in``, ``ff_out``: the LoRA targets (:data:`LORA_TARGETS`).

Shapes: ``sample (B, F, C)`` with ``C = 2 x 14`` (x, y of each node per frame, standardised by
the ``mean``/``std`` buffers set from the base's training data), ``timestep (B,)``, ``shot``,
``batter (B,)`` label indices (0: none), ``prefix (B, P, C)`` (zeros: no stance given).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.loaders.peft import PeftAdapterMixin
from diffusers.models.embeddings import TimestepEmbedding, Timesteps
from diffusers.models.modeling_utils import ModelMixin
from diffusers.utils import BaseOutput
from torch import nn

LORA_TARGETS = ["to_q", "to_k", "to_v", "to_out", "ff_in", "ff_out"]


@dataclass
class SwingDenoiserOutput(BaseOutput):
    sample: torch.Tensor  # (B, F, C) the predicted noise


class Block(nn.Module):
    """Pre-norm attention and feed-forward, each modulated by the conditioning vector
    (adaptive layer norm: shift, scale and a gate from ``cond``, the gate zero at start)."""

    def __init__(self, dim: int, heads: int, ff_mult: int):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim, elementwise_affine=False)
        self.to_q, self.to_k, self.to_v = (nn.Linear(dim, dim) for _ in range(3))
        self.to_out = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim, elementwise_affine=False)
        self.ff_in = nn.Linear(dim, ff_mult * dim)
        self.ff_out = nn.Linear(ff_mult * dim, dim)
        self.modulation = nn.Linear(dim, 6 * dim)
        nn.init.zeros_(self.modulation.weight)
        nn.init.zeros_(self.modulation.bias)

    def forward(self, h: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        b, n, d = h.shape
        shift1, scale1, gate1, shift2, scale2, gate2 = self.modulation(F.silu(cond))[:, None].chunk(6, -1)
        x = self.norm1(h) * (1 + scale1) + shift1
        q, k, v = (proj(x).view(b, n, self.heads, d // self.heads).transpose(1, 2)
                   for proj in (self.to_q, self.to_k, self.to_v))
        a = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, n, d)
        h = h + gate1 * self.to_out(a)
        x = self.norm2(h) * (1 + scale2) + shift2
        return h + gate2 * self.ff_out(F.gelu(self.ff_in(x)))


class SwingDenoiser(ModelMixin, ConfigMixin, PeftAdapterMixin):
    """Predicts the noise in a noised swing (see the module docstring)."""

    _supports_gradient_checkpointing = False

    @register_to_config
    def __init__(self, frames: int = 32, channels: int = 28, prefix_frames: int = 4, dim: int = 128,
                 layers: int = 4, heads: int = 4, ff_mult: int = 4, shots: int = 2, batters: int = 2,
                 shot_names: tuple = (), batter_names: tuple = (), fps: float = 25.0, before_s: float = 0.8,
                 after_s: float = 0.44):
        super().__init__()
        if dim % heads:
            raise ValueError(f"SwingDenoiser: dim {dim} is not a multiple of heads {heads}")
        self.time_proj = Timesteps(dim, flip_sin_to_cos=True, downscale_freq_shift=0)
        self.time_embed = TimestepEmbedding(dim, dim)
        self.shot_embed = nn.Embedding(shots + 1, dim)  # 0: no shot (classifier-free guidance)
        self.batter_embed = nn.Embedding(batters + 1, dim)  # 0: no batter
        self.proj_in = nn.Linear(channels, dim)
        self.prefix_in = nn.Linear(channels, dim)
        self.pos = nn.Parameter(torch.randn(1, prefix_frames + frames, dim) * 0.02)
        self.blocks = nn.ModuleList(Block(dim, heads, ff_mult) for _ in range(layers))
        self.norm_out = nn.LayerNorm(dim, elementwise_affine=False)
        self.proj_out = nn.Linear(dim, channels)
        nn.init.zeros_(self.proj_out.weight)
        nn.init.zeros_(self.proj_out.bias)
        # the data's per-channel mean and spread (set once from the base's training set)
        self.register_buffer("mean", torch.zeros(channels))
        self.register_buffer("std", torch.ones(channels))

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor, shot: torch.Tensor, batter: torch.Tensor,
                prefix: torch.Tensor, return_dict: bool = True):
        p = self.config.prefix_frames
        t = self.time_proj(timestep.reshape(-1).expand(sample.shape[0])).to(sample.dtype)
        cond = self.time_embed(t) + self.shot_embed(shot) + self.batter_embed(batter)
        h = torch.cat([self.prefix_in(prefix), self.proj_in(sample)], 1) + self.pos
        for block in self.blocks:
            h = block(h, cond)
        out = self.proj_out(self.norm_out(h[:, p:]))
        return SwingDenoiserOutput(sample=out) if return_dict else (out,)

    def normalise(self, swing: torch.Tensor) -> torch.Tensor:
        """``(..., F, 14, 2)`` swings in shoulder widths to the model's ``(..., F, C)``."""
        return (swing.flatten(-2) - self.mean) / self.std

    def denormalise(self, x: torch.Tensor) -> torch.Tensor:
        return (x * self.std + self.mean).unflatten(-1, (-1, 2))
