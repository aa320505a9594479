"""Batch-invariant reductions over time.

``torch.sum`` picks its summation tree from the length of the reduced axis, so the same clip
padded to a longer batch can sum in another order and differ in the last bit. Here every sum
over frames runs over fixed blocks of ``BLOCK`` (64) frames that start at frame 0, and the block
partials are added left to right: trailing zero padding adds exact zeros, so a clip's sums are
bit-identical alone or in any batch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

BLOCK = 64


def padded_length(t: int) -> int:
    """Smallest multiple of :data:`BLOCK` that holds ``t`` frames."""
    return -(-t // BLOCK) * BLOCK


def add_blocks(partials: torch.Tensor) -> torch.Tensor:
    """Add ``partials (..., n)`` left to right over the last axis (fixed order)."""
    acc = partials[..., 0]
    for k in range(1, partials.shape[-1]):
        acc = acc + partials[..., k]
    return acc


def blocked_sum(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Sum over ``dim`` in fixed 64-frame blocks; zero padding on the right changes nothing.

    Differentiable. ``x`` is any shape; ``dim`` is removed.
    """
    x = x.movedim(dim, -1)
    t = x.shape[-1]
    if t == 0:
        return x.sum(-1)
    if t % BLOCK:
        x = F.pad(x, (0, padded_length(t) - t))
    return add_blocks(x.reshape(*x.shape[:-1], -1, BLOCK).sum(-1))


def masked_mean(x: torch.Tensor, mask: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Mean of ``x`` over ``dim`` where ``mask`` is true; 0 where the mask is empty."""
    count = blocked_sum(mask.to(x.dtype), dim)  # on the mask's own (broadcastable) shape
    return blocked_sum(torch.where(mask, x, 0.0), dim) / count.clamp_min(1)
